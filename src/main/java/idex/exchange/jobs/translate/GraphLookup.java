package idex.exchange.jobs.translate;

import idex.exchange.identity.Identifier;

import java.util.List;

/**
 * Identity-graph translation's access to the identity store, as an interface so that translation stays free of
 * database code. Batched, because one query per row would not sustain millions of rows per minute.
 */
@FunctionalInterface
public interface GraphLookup {

    /**
     * For each row, the distinct values of identifier {@code destinationIdentifier} held by the person (x1Id) that
     * holds any of the row's source identifiers.
     *
     * @param rows one entry per row, never empty: the row's source identifiers (the producer's declared names,
     *             trimmed non-empty values)
     * @return index-aligned with {@code rows}; an empty list where no person matches
     */
    List<List<String>> destinationValues(List<List<Identifier>> rows, String destinationIdentifier);
}
