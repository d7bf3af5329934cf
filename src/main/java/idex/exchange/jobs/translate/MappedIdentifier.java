package idex.exchange.jobs.translate;

import idex.uid2.map.IdentityType;

/**
 * One identifier column of the output, compiled: the header column it reads, how its value is made, and where it
 * goes. {@code rawUidInput} says whether a raw UID is made from an email or a phone (null for other transforms);
 * {@code bucketColumn} is the output position of the bucket id next to a raw UID (-1 for other transforms).
 */
record MappedIdentifier(String sourceName, int sourceColumn, IdentifierTransform transform, IdentityType rawUidInput,
                        String outputName, int outputColumn, int bucketColumn) {
}
