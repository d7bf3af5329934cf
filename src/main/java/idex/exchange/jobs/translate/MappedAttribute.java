package idex.exchange.jobs.translate;

/** One attribute column of the output, compiled: the header column it copies and its output position. */
record MappedAttribute(String sourceName, int sourceColumn, String outputName, int outputColumn) {
}
