package idex.exchange.jobs.model;

import idex.exchange.jobs.translate.SkippedRows;

/**
 * What a finished processing run records on its job: the three counts of spec §4.3, the rows skipped by reason
 * (`sourceRecords` = `translatedRecords` + `skipped.total()`) and its errorDetails.
 */
public record RunResult(long sourceRecords, long translatedRecords, long destinationRecords, SkippedRows skipped,
                        String errorDetails) {

    public RunResult {
        if (sourceRecords != translatedRecords + skipped.total()) {
            // a row counted neither way would vanish from the job's answer: never record counts that do not add up
            throw new IllegalStateException(sourceRecords + " rows read, " + translatedRecords + " translated and "
                    + skipped.total() + " skipped " + skipped.byKey());
        }
    }
}
