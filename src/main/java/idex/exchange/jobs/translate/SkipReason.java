package idex.exchange.jobs.translate;

/**
 * Why a row of an upload produced nothing for the destination (or, for an import, was not placed). Every row a run
 * reads is either translated or skipped for exactly one of these, so that a job's counts add up:
 * `sourceRecordCount = translatedRecordCount + skippedRecordCount`. The first three are bad rows, listed with their
 * line in errorDetails; the others are rows that are fine but identify no one for the destination.
 */
public enum SkipReason {
    WRONG_COLUMN_COUNT("wrongColumnCount"),
    NO_IDENTIFIER_VALUE("noIdentifierValue"),
    INVALID_IDENTIFIER_VALUE("invalidIdentifierValue"),
    /** The row has identifier values, but none in a column the job's mappings read. */
    NO_MAPPED_IDENTIFIER_VALUE("noMappedIdentifierValue"),
    /** Mapping to raw UIDs: every identifier of the row has opted out. */
    OPTED_OUT("optedOut"),
    /** Graph translation: no one in the identity store holds the row's identifiers and a destination identifier. */
    NOT_IN_IDENTITY_GRAPH("notInIdentityGraph"),
    /** Identity filters withhold every identifier the job would send. */
    WITHHELD_BY_IDENTITY_FILTERS("withheldByIdentityFilters"),
    /** Import: the identity store's rule could not place the row's record (spec §2). */
    REJECTED_BY_IDENTITY_STORE("rejectedByIdentityStore");

    private final String key;

    SkipReason(String key) {
        this.key = key;
    }

    /** The reason's name in the job's `skippedRecords`. */
    public String key() {
        return key;
    }
}
