package idex.http;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of request bodies the whole process may hold in memory at once. A buffered JSON body costs several times
 * its size again while it is parsed and handled, so a few dozen large bodies at once would exhaust a small heap
 * (24 event batches of 16 MiB did, under -Xmx320m); each large body reserves its size here until its answer is sent,
 * and one that does not fit is refused with 503 and Retry-After instead. Small bodies are never refused: they are
 * what keeps a busy server usable.
 */
public final class BodyBudget {

    /** Bodies up to this size pass without a reservation. */
    public static final int SMALL_BODY = 64 * 1024;
    /** Seconds a refused client is told to wait (Retry-After). */
    public static final int RETRY_AFTER_SECONDS = 2;

    private final long bytes;
    private final AtomicLong reserved = new AtomicLong();

    public BodyBudget(long bytes) {
        if (bytes < SMALL_BODY) {
            throw new IllegalArgumentException("a body budget of " + bytes + " bytes is too small");
        }
        this.bytes = bytes;
    }

    /**
     * An eighth of the heap: with the several-fold cost of parsing, the bodies in flight then stay within about half
     * of it (under -Xmx320m, two 16 MiB bodies at once).
     */
    public static BodyBudget ofHeap() {
        return new BodyBudget(Math.max(Runtime.getRuntime().maxMemory() / 8, 2L * SMALL_BODY));
    }

    public long bytes() {
        return bytes;
    }

    /** Reserves `n` more bytes; false (nothing reserved) when they do not fit. */
    boolean tryReserve(long n) {
        while (true) {
            long now = reserved.get();
            if (now + n > bytes) {
                return false;
            }
            if (reserved.compareAndSet(now, now + n)) {
                return true;
            }
        }
    }

    void release(long n) {
        reserved.addAndGet(-n);
    }

    /** Bytes reserved now. */
    public long reserved() {
        return reserved.get();
    }

    /** The answer to a body that does not fit now: 503 with Retry-After; the message names the budget. */
    public ApiError busy() {
        return new ApiError(503, "The server is holding as many large request bodies as it may at once ("
                + bytes / (1024 * 1024) + " MiB): send this request again in a few seconds (Retry-After), or send"
                + " smaller ones.");
    }
}
