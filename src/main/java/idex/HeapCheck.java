package idex;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says at start when the JVM's heap is too small for the salt set and what the server does with it, so that a
 * server started as `java -jar idex.jar` on a small machine tells what it needs instead of failing later with
 * OutOfMemoryError in the middle of a rotation. The `idex` launcher's `-Xmx320m` holds 1,048,576 buckets with room
 * for rotations, full answers and jobs (BENCHMARKS.md).
 */
final class HeapCheck {

    private static final Logger LOG = LoggerFactory.getLogger(HeapCheck.class);
    /** Bytes a bucket costs once it has rotated (current and previous salt, times, ids, index). */
    static final long BYTES_PER_BUCKET = 170;
    /** Everything else a busy server holds: caches, buffers, requests and jobs in flight. */
    static final long BASELINE = 96L << 20;

    private HeapCheck() {
    }

    static long neededBytes(int buckets) {
        return BASELINE + BYTES_PER_BUCKET * buckets;
    }

    /** Logs a warning naming the -Xmx to use when `maxHeap` is below what `buckets` need; true when it is enough. */
    static boolean warnIfShort(int buckets, long maxHeap) {
        long needed = neededBytes(buckets);
        if (maxHeap >= needed) {
            return true;
        }
        LOG.warn("The JVM heap ({} MB) is smaller than the {} MB that {} salt buckets need with rotations and full"
                        + " answers; start with -Xmx{}m or more (the ./idex launcher does), or use fewer --salt-buckets",
                maxHeap >> 20, needed >> 20, buckets, Math.max(320, (needed >> 20) + 32));
        return false;
    }
}
