package idex.support;

import java.util.function.Predicate;
import java.util.function.Supplier;

/** Waits for what a server does in the background (a scheduled occurrence firing) by polling, up to a deadline. */
public final class Eventually {

    private static final long DEADLINE_NANOS = 20_000_000_000L;

    private Eventually() {
    }

    /** Reads until `done` holds and answers that reading; fails with the last reading at the deadline. */
    public static <T> T await(String what, Supplier<T> read, Predicate<T> done) {
        return await(what, java.time.Duration.ofNanos(DEADLINE_NANOS), read, done);
    }

    /** The same with another deadline: for what takes longer than a background step, e.g. a server process starting. */
    public static <T> T await(String what, java.time.Duration timeout, Supplier<T> read, Predicate<T> done) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T value = read.get();
        while (!done.test(value)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Timed out waiting for " + what + "; last seen: " + value);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("Interrupted waiting for " + what, e);
            }
            value = read.get();
        }
        return value;
    }
}
