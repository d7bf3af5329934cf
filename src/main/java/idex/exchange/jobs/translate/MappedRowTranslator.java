package idex.exchange.jobs.translate;

import idex.exchange.identity.ValueNormalizer;

import idex.uid2.map.IdentityMapper;
import idex.uid2.map.IdentityType;

import java.io.IOException;

/**
 * Translation by {@code identityMappings}: each input row gives at most one output row, written as soon as it is
 * translated. Also serves an IDENTITY_IMPORT (no mapped columns: rows are only checked and counted).
 */
final class MappedRowTranslator extends RowTranslator {

    private final MappedIdentifier[] identifiers;
    private final MappedAttribute[] attributes;
    private final String[] attributeValues;
    private final Digests digests = Digests.borrow();
    private boolean finished;
    private final UidSnapshot uids;
    private final IdentityMapper mapper;

    MappedRowTranslator(RowTranslation translation, UidSnapshot uids, OutputRows out) {
        super(translation, out);
        this.identifiers = translation.mappedIdentifiers();
        this.attributes = translation.mappedAttributes();
        this.attributeValues = new String[attributes.length];
        boolean needsUids = translation.needsUids();
        this.uids = needsUids ? uids : null;
        this.mapper = needsUids ? new IdentityMapper(uids.scope().scopeBit(), uids.environment().envBits()) : null;
    }

    /** The digests go back to their pool (once): this translator translates no more rows. */
    @Override
    public void finish() {
        if (!finished) {
            finished = true;
            digests.giveBack();
        }
    }

    @Override
    String translateUsable(String[] fields) throws IOException {
        if (identifiers.length == 0) {
            if (translation.everyIdentifierWithheld()) {
                skip(SkipReason.WITHHELD_BY_IDENTITY_FILTERS);
            }
            return null; // an import (its rows are counted as they are placed), or nothing may be sent
        }
        boolean anyIdentifier = false;
        boolean anyValue = false;
        for (MappedIdentifier m : identifiers) {
            String value = fields[m.sourceColumn()].trim();
            row[m.outputColumn()] = "";
            if (m.bucketColumn() >= 0) {
                row[m.bucketColumn()] = "";
            }
            if (value.isEmpty()) {
                continue; // no value is not an error: the row may carry another identifier
            }
            anyValue = true;
            String problem = transform(m, value);
            if (problem != null) {
                return problem;
            }
            anyIdentifier |= !row[m.outputColumn()].isEmpty();
        }
        if (!anyIdentifier) {
            // nothing identifies the row for the destination: a value that maps to nothing is an opted-out one
            skip(anyValue ? SkipReason.OPTED_OUT : SkipReason.NO_MAPPED_IDENTIFIER_VALUE);
            return null;
        }
        for (int k = 0; k < attributes.length; k++) {
            attributeValues[k] = fields[attributes[k].sourceColumn()];
        }
        copyAttributes(attributeValues);
        out.write(row);
        produced(1);
        return null;
    }

    /** Puts the translated value (and bucket) into the output row; answers why the value is bad, or null. */
    private String transform(MappedIdentifier m, String value) {
        int o = m.outputColumn();
        switch (m.transform()) {
            case COPY -> row[o] = value;
            case EMAIL_SHA256 -> row[o] = digests.emailSha256Hex(value); // value is trimmed
            case PHONE_SHA256 -> {
                String phone = ValueNormalizer.e164(value);
                if (phone == null) {
                    return notAPhone(m);
                }
                row[o] = digests.sha256Hex(phone);
            }
            case SHA256 -> row[o] = digests.sha256Hex(value);
            case SHA1 -> row[o] = digests.sha1Hex(value);
            case MD5 -> row[o] = digests.md5Hex(value);
            case UID2, EUID -> {
                return rawUid(m, value);
            }
            default -> throw new IllegalStateException("unhandled transform " + m.transform());
        }
        return null;
    }

    /**
     * The raw UID exactly as /v2/identity/map would answer it: an email goes through the UID2 operator's own
     * normalisation (which differs from EMAIL_SHA256's: gmail.com dots and '+' suffixes are dropped); a phone is
     * first brought to E.164 as for PHONE_SHA256, then mapped. An opted-out identity produces nothing.
     */
    private String rawUid(MappedIdentifier m, String value) {
        String input = value;
        if (m.rawUidInput() == IdentityType.PHONE) {
            input = ValueNormalizer.e164(value);
            if (input == null) {
                return notAPhone(m);
            }
        }
        IdentityMapper.Outcome outcome = mapper.map(input, m.rawUidInput(), false, uids.salts(), uids.optOuts(), false, 0L);
        if (outcome == IdentityMapper.Outcome.INVALID) {
            return "column " + m.sourceName() + ": not a valid email address";
        }
        if (outcome == IdentityMapper.Outcome.MAPPED && mapper.currentUid != null) {
            row[m.outputColumn()] = mapper.currentUid;
            row[m.bucketColumn()] = uids.salts().bucketKey(mapper.bucketIdx);
        }
        // OPTOUT (or a bucket with neither salt nor key): the identifier produces nothing
        return null;
    }

    private static String notAPhone(MappedIdentifier m) {
        return "column " + m.sourceName() + ": not a phone number in E.164 form ('+' and 10 to 15 digits)";
    }
}
