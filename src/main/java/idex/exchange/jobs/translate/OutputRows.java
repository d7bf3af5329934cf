package idex.exchange.jobs.translate;

import java.io.IOException;

/** Where translated rows go (the destination's CSV files), one row at a time in the order of the output header. */
@FunctionalInterface
public interface OutputRows {

    /**
     * Writes one row. The array is reused for the next row (no allocation per row on the hot path), so it must be
     * consumed or copied before returning. Empty cells are "" (never null).
     */
    void write(String[] row) throws IOException;
}
