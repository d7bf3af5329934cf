package idex.uid2.map;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collection;

/**
 * Opted-out identities as first-level hashes, for the current first-level salt. Lookups binary-search the first
 * 8 bytes, then compare the whole hash: no allocation on the hot path, and fast for lists of any size.
 */
public final class OptOutList {

    private final long[] prefixes;
    private final byte[][] hashes;
    private final long firstLevelSaltEpoch;

    private OptOutList(long[] prefixes, byte[][] hashes, long firstLevelSaltEpoch) {
        this.prefixes = prefixes;
        this.hashes = hashes;
        this.firstLevelSaltEpoch = firstLevelSaltEpoch;
    }

    /** Builds the list from identity hashes, hashing each with the first-level salt of salt epoch `epoch`. */
    public static OptOutList of(Collection<byte[]> identityHashes, byte[] firstLevelSalt, long epoch) {
        IdentityHasher hasher = IdentityHasher.forThread();
        byte[][] flhs = new byte[identityHashes.size()][];
        int n = 0;
        for (byte[] ih : identityHashes) {
            flhs[n++] = hasher.firstLevelHash(ih, firstLevelSalt).clone();
        }
        Arrays.sort(flhs, Arrays::compareUnsigned);
        long[] prefixes = new long[n];
        for (int i = 0; i < n; i++) {
            prefixes[i] = prefix(flhs[i]);
        }
        return new OptOutList(prefixes, flhs, epoch);
    }

    public long epoch() {
        return firstLevelSaltEpoch;
    }

    public int size() {
        return hashes.length;
    }

    public boolean contains(byte[] firstLevelHash) {
        long p = prefix(firstLevelHash);
        int i = lowerBound(p);
        for (; i < prefixes.length && prefixes[i] == p; i++) {
            if (Arrays.equals(hashes[i], 0, 32, firstLevelHash, 0, 32)) {
                return true;
            }
        }
        return false;
    }

    /** Prefixes are compared as unsigned so that their order matches the hashes' order. */
    private int lowerBound(long p) {
        int lo = 0;
        int hi = prefixes.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(prefixes[mid], p) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static long prefix(byte[] hash) {
        return ByteBuffer.wrap(hash, 0, 8).getLong();
    }
}
