package idex.exchange.jobs.pull;

import java.time.Duration;
import java.util.Objects;

/**
 * How this node pulls the data of pull producers' jobs: how long a partner's job may take to become ready before the
 * exchange's job ends in ERROR, and the waits between two polls of its status (the first wait, doubling up to the
 * longest). One HTTP call's own time is bounded by the delivery timeout, as every call to a partner is.
 */
public record PullSettings(Duration timeout, Duration firstWait, Duration longestWait) {

    public static final PullSettings DEFAULT = new PullSettings(Duration.ofHours(24), Duration.ofSeconds(1),
            Duration.ofMinutes(1));

    public PullSettings {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(firstWait, "firstWait");
        Objects.requireNonNull(longestWait, "longestWait");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the pull timeout must be positive");
        }
        if (firstWait.toMillis() < 1 || longestWait.compareTo(firstWait) < 0) {
            throw new IllegalArgumentException("the waits between polls must be positive, the longest at least the first");
        }
    }

    public PullSettings withTimeout(Duration d) {
        return new PullSettings(d, firstWait, longestWait);
    }

    /** The wait after one of `previousMs` (0 before the first poll): the first wait, then doubling to the longest. */
    long nextWaitMs(long previousMs) {
        if (previousMs <= 0) {
            return firstWait.toMillis();
        }
        return Math.min(longestWait.toMillis(), previousMs * 2);
    }
}
