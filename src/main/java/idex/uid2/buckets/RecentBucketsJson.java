package idex.uid2.buckets;

import idex.uid2.salts.SaltBuckets;

/**
 * The newest buckets' list entries, formatted once per generation of the salt set: clients poll with a recent `since_timestamp`, so
 * nearly every answer is a suffix of this text, copied instead of formatted again (formatting was most of the
 * cost of an answer). Each entry is stored with a leading comma; the first entry of an answer skips it.
 */
final class RecentBucketsJson {

    /** The newest this many buckets are kept formatted: about 3 weeks of daily rotation of 2^20 buckets, ~5 MB. */
    static final int SIZE = 65_536;
    private static final byte[] OPEN = "{\"body\":[".getBytes();
    private static final byte[] CLOSE = "],\"status\":\"success\"}".getBytes();

    private final SaltBuckets.TimeIndex index;
    private final int firstRank;
    private final byte[] text;
    private final int[] offsets;

    private RecentBucketsJson(SaltBuckets.TimeIndex index, int firstRank, byte[] text, int[] offsets) {
        this.index = index;
        this.firstRank = firstRank;
        this.text = text;
        this.offsets = offsets;
    }

    static RecentBucketsJson of(SaltBuckets buckets, SaltBuckets.TimeIndex index) {
        int firstRank = Math.max(0, index.count() - SIZE);
        int n = index.count() - firstRank;
        BucketListJson entries = new BucketListJson(buckets, index, firstRank);
        int[] offsets = new int[n + 1];
        byte[] text = entries.entriesWithLeadingCommas(offsets);
        return new RecentBucketsJson(index, firstRank, text, offsets);
    }

    boolean isFor(SaltBuckets.TimeIndex current) {
        return index == current;
    }

    boolean covers(int rank) {
        return rank >= firstRank;
    }

    /** The whole success document for every bucket from `rank` on. */
    byte[] document(int rank) {
        int from = offsets[rank - firstRank];
        int to = text.length;
        int len = to - from;
        if (len > 0) {
            from++; // the first entry's comma
            len--;
        }
        byte[] out = new byte[OPEN.length + len + CLOSE.length];
        System.arraycopy(OPEN, 0, out, 0, OPEN.length);
        System.arraycopy(text, from, out, OPEN.length, len);
        System.arraycopy(CLOSE, 0, out, OPEN.length + len, CLOSE.length);
        return out;
    }
}
