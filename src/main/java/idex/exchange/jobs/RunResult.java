package idex.exchange.jobs;

/** What a finished processing run records on its job: the three counts of spec §4.3 and its errorDetails. */
public record RunResult(long sourceRecords, long translatedRecords, long destinationRecords, String errorDetails) {
}
