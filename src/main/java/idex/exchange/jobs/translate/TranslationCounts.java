package idex.exchange.jobs.translate;

/**
 * The job's counts (spec §4.3): rows received, rows for which a destination identifier was produced, rows written
 * for the destination; plus the rows skipped as bad (part of `sourceRecords`).
 */
public record TranslationCounts(long sourceRecords, long translatedRecords, long destinationRecords, long badRecords) {

    /** The counts of two parts of one upload together. */
    public TranslationCounts plus(TranslationCounts o) {
        return new TranslationCounts(sourceRecords + o.sourceRecords, translatedRecords + o.translatedRecords,
                destinationRecords + o.destinationRecords, badRecords + o.badRecords);
    }
}
