package idex.uid2.buckets;

import idex.uid2.salts.SaltBuckets;

import java.util.Arrays;

/**
 * The success document of `POST /v2/identity/buckets`, written from the time index: every bucket from a rank to
 * the end, as `{"body":[{"bucket_id":…,"last_updated":…},…],"status":"success"}`.
 */
final class BucketListJson {

    private static final byte[] OPEN = "{\"body\":[".getBytes();
    private static final byte[] CLOSE = "],\"status\":\"success\"}".getBytes();
    private static final byte[] ID = "{\"bucket_id\":\"".getBytes();
    private static final byte[] UPDATED = "\",\"last_updated\":\"".getBytes();
    private static final byte[] END = "\"}".getBytes();
    private static final int FIXED = ID.length + UPDATED.length + UtcMillisFormat.LENGTH + END.length + 1;
    /** Size of one streamed piece: large enough to amortise a write, small enough to stay off the loop's back. */
    private static final int PIECE = 64 * 1024;

    private final SaltBuckets buckets;
    private final SaltBuckets.TimeIndex index;
    private final int end;
    private int rank;
    private boolean opened;
    private boolean closed;
    private long written;

    /** Entries from `fromRank` of `index` on; bucket ids from `buckets`, last_updated from the index itself. */
    BucketListJson(SaltBuckets buckets, SaltBuckets.TimeIndex index, int fromRank) {
        this.buckets = buckets;
        this.index = index;
        this.rank = fromRank;
        this.end = index.count();
    }

    int remaining() {
        return end - rank;
    }

    /** The whole document at once, for small answers. */
    byte[] whole() {
        int size = OPEN.length + CLOSE.length;
        for (int r = rank; r < end; r++) {
            size += FIXED + buckets.bucketKeyLength(index.idxAtRank(r));
        }
        byte[] out = new byte[size];
        int pos = fill(out, 0, Integer.MAX_VALUE);
        return pos == out.length ? out : Arrays.copyOf(out, pos);
    }

    /** The next piece of the document, or null when it has all been produced. */
    byte[] next() {
        if (closed) {
            return null;
        }
        byte[] out = new byte[PIECE];
        int pos = fill(out, 0, PIECE);
        return pos == out.length ? out : Arrays.copyOf(out, pos);
    }

    /** Every remaining entry, each with a leading comma; `offsets[i]` receives where the i-th one starts. */
    byte[] entriesWithLeadingCommas(int[] offsets) {
        int size = 0;
        for (int r = rank; r < end; r++) {
            size += FIXED + buckets.bucketKeyLength(index.idxAtRank(r));
        }
        byte[] out = new byte[size];
        int pos = 0;
        int i = 0;
        for (; rank < end; rank++) {
            offsets[i++] = pos;
            out[pos++] = ',';
            pos = entry(rank, out, pos);
        }
        offsets[i] = pos;
        return pos == out.length ? out : Arrays.copyOf(out, pos);
    }

    private int entry(int rank, byte[] out, int pos) {
        System.arraycopy(ID, 0, out, pos, ID.length);
        pos = buckets.writeBucketKey(index.idxAtRank(rank), out, pos + ID.length);
        System.arraycopy(UPDATED, 0, out, pos, UPDATED.length);
        pos = UtcMillisFormat.write(index.lastUpdatedAtRank(rank), out, pos + UPDATED.length);
        System.arraycopy(END, 0, out, pos, END.length);
        return pos + END.length;
    }

    private int fill(byte[] out, int pos, int limit) {
        if (!opened) {
            System.arraycopy(OPEN, 0, out, pos, OPEN.length);
            pos += OPEN.length;
            opened = true;
        }
        // Leave room for the longest entry plus the closing bytes.
        int room = limit - FIXED - 64 - CLOSE.length;
        while (rank < end && pos <= room) {
            if (written++ > 0) {
                out[pos++] = ',';
            }
            pos = entry(rank, out, pos);
            rank++;
        }
        if (rank == end) {
            System.arraycopy(CLOSE, 0, out, pos, CLOSE.length);
            pos += CLOSE.length;
            closed = true;
        }
        return pos;
    }
}
