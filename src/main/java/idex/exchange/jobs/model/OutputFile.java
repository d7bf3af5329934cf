package idex.exchange.jobs.model;

/** One segment data file a run wrote: its opaque name, its place in the output, its data rows and its size. */
public record OutputFile(String name, int seq, long rows, long bytes) {
}
