package idex.exchange.jobs.translate;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Rows skipped by a run, counted by {@link SkipReason}. Mutable, one per thread; combined with {@link #add}. */
public final class SkippedRows {

    private static final SkipReason[] REASONS = SkipReason.values();
    private final long[] counts = new long[REASONS.length];

    public void count(SkipReason reason) {
        counts[reason.ordinal()]++;
    }

    public void count(SkipReason reason, long rows) {
        counts[reason.ordinal()] += rows;
    }

    /** Adds another part's counts to these. */
    public SkippedRows add(SkippedRows other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        return this;
    }

    public long total() {
        return Arrays.stream(counts).sum();
    }

    public long of(SkipReason reason) {
        return counts[reason.ordinal()];
    }

    /** The reasons that skipped rows, in the enum's order, by their keys: the job's `skippedRecords`. */
    public Map<String, Long> byKey() {
        Map<String, Long> out = new LinkedHashMap<>();
        for (SkipReason r : REASONS) {
            if (counts[r.ordinal()] > 0) {
                out.put(r.key(), counts[r.ordinal()]);
            }
        }
        return out;
    }

    public SkippedRows copy() {
        SkippedRows c = new SkippedRows();
        c.add(this);
        return c;
    }
}
