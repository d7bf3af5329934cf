package idex.uid2.salts;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Every salt bucket of the deployment in memory, immutable: readers never lock, and a change produces a new
 * instance. Salts and bucket ids are packed into flat arrays so that 1,048,576 buckets cost about 130 MB and no
 * per-bucket objects. An index sorted by `last_updated` answers "which buckets changed since T" by binary search.
 */
public final class SaltBuckets {

    /** Length of a salt as text: base64 of 32 bytes. */
    public static final int SALT_LENGTH = 44;
    /** Most buckets a deployment may have: the time index packs the bucket index into 21 bits. */
    public static final int MAX_BUCKETS = 1 << 21;
    /** Latest last_updated the time index can hold (2109-05-15): 42 bits of milliseconds. */
    public static final long MAX_TIME = (1L << 42) - 1;
    /** How long a previous salt keeps answering after a rotation. */
    public static final long PREVIOUS_SALT_LIFETIME_MS = 90L * 24 * 3600 * 1000;

    private static final int IDX_BITS = 21;
    /** Longest wire bucket id (prefix and Hashids text) a set may use. */
    private static final int KEY_STRIDE = 32;
    private static final long IDX_MASK = (1L << IDX_BITS) - 1;

    private final byte[] firstLevelSalt;
    private final long epoch;
    private final long generation;
    private final int count;
    private final long[] ids;
    private final byte[] salts;          // count * 44 ASCII bytes; hasSalt says which are present
    private final byte[] previousSalts;  // idem, hasPrevious
    private final boolean[] hasSalt;
    private final boolean[] hasPrevious;
    private final KeyMaterial[] currentKeys;   // null entries for salt buckets
    private final KeyMaterial[] previousKeys;
    private final long[] lastUpdated;
    private final long[] refreshFrom;
    private final byte[] keyText;        // bucket ids as sent on the wire, concatenated
    private final int[] keyOffsets;      // count + 1 offsets into keyText
    private final long[] byTime;         // (lastUpdated << 21 | idx), ascending

    private SaltBuckets(Builder b, long[] byTime) {
        this.firstLevelSalt = b.firstLevelSalt;
        this.epoch = b.epoch;
        this.generation = b.generation;
        this.count = b.count;
        this.ids = b.ids;
        this.salts = b.salts;
        this.previousSalts = b.previousSalts;
        this.hasSalt = b.hasSalt;
        this.hasPrevious = b.hasPrevious;
        this.currentKeys = b.currentKeys;
        this.previousKeys = b.previousKeys;
        this.lastUpdated = b.lastUpdated;
        this.refreshFrom = b.refreshFrom;
        this.keyText = b.keyText;
        this.keyOffsets = b.keyOffsets;
        this.byTime = byTime;
    }

    public static Builder builder(int count, String firstLevelSalt, long epoch, long generation) {
        return new Builder(count, firstLevelSalt, epoch, generation);
    }

    public int count() {
        return count;
    }

    public long epoch() {
        return epoch;
    }

    public long generation() {
        return generation;
    }

    /** The first-level salt as ASCII bytes; callers must not modify it. */
    public byte[] firstLevelSalt() {
        return firstLevelSalt;
    }

    public long id(int idx) {
        return ids[idx];
    }

    public boolean hasSalt(int idx) {
        return hasSalt[idx];
    }

    /** Copies the bucket's salt text (44 ASCII bytes) into `out`. */
    public void copySalt(int idx, byte[] out) {
        System.arraycopy(salts, idx * SALT_LENGTH, out, 0, SALT_LENGTH);
    }

    public boolean hasPrevious(int idx, long now) {
        return (hasPrevious[idx] || previousKeys != null && previousKeys[idx] != null)
                && now < lastUpdated[idx] + PREVIOUS_SALT_LIFETIME_MS;
    }

    public boolean hasPreviousSalt(int idx) {
        return hasPrevious[idx];
    }

    public void copyPreviousSalt(int idx, byte[] out) {
        System.arraycopy(previousSalts, idx * SALT_LENGTH, out, 0, SALT_LENGTH);
    }

    public KeyMaterial currentKey(int idx) {
        return currentKeys == null ? null : currentKeys[idx];
    }

    public KeyMaterial previousKey(int idx) {
        return previousKeys == null ? null : previousKeys[idx];
    }

    public long lastUpdated(int idx) {
        return lastUpdated[idx];
    }

    public long refreshFrom(int idx) {
        return refreshFrom[idx];
    }

    public String bucketKey(int idx) {
        return new String(keyText, keyOffsets[idx], keyOffsets[idx + 1] - keyOffsets[idx], StandardCharsets.US_ASCII);
    }

    /** Appends the wire bucket id's ASCII bytes to `out` at `pos`; returns the new position. */
    public int writeBucketKey(int idx, byte[] out, int pos) {
        int from = keyOffsets[idx];
        int len = keyOffsets[idx + 1] - from;
        System.arraycopy(keyText, from, out, pos, len);
        return pos + len;
    }

    public int bucketKeyLength(int idx) {
        return keyOffsets[idx + 1] - keyOffsets[idx];
    }

    /** Rank in the time index of the first bucket with last_updated >= sinceMillis; count() when none. */
    public int firstRankAtOrAfter(long sinceMillis) {
        if (sinceMillis <= 0) {
            return 0;
        }
        if (sinceMillis > MAX_TIME) {
            return count;
        }
        long probe = sinceMillis << IDX_BITS;
        int pos = Arrays.binarySearch(byTime, probe);
        return pos >= 0 ? pos : -pos - 1;
    }

    /** The bucket index at a rank of the time index (ascending last_updated). */
    public int idxAtRank(int rank) {
        return (int) (byTime[rank] & IDX_MASK);
    }

    /** A new instance with the given buckets replaced, as a running server applies a rotation. */
    public SaltBuckets withChanges(List<StoredBucket> changes, long newGeneration) {
        Builder b = new Builder(this, newGeneration);
        for (StoredBucket s : changes) {
            b.set(s);
        }
        return b.build();
    }

    private static final int FORMAT = 0x49445331; // "IDS1"

    /** Writes the whole set in the compact form `SaltSnapshots` stores; `readFrom` reads it back. */
    public void writeTo(DataOutputStream out) throws IOException {
        out.writeInt(FORMAT);
        out.writeInt(count);
        out.writeLong(epoch);
        out.writeLong(generation);
        out.writeUTF(new String(firstLevelSalt, StandardCharsets.US_ASCII));
        writeLongs(out, ids);
        writeLongs(out, lastUpdated);
        writeLongs(out, refreshFrom);
        byte[] flags = new byte[count];
        for (int i = 0; i < count; i++) {
            flags[i] = (byte) ((hasSalt[i] ? 1 : 0) | (hasPrevious[i] ? 2 : 0));
        }
        out.write(flags);
        out.write(salts);
        out.writeBoolean(previousSalts != null);
        if (previousSalts != null) {
            out.write(previousSalts);
        }
        out.writeInt(keyText.length);
        out.write(keyText);
        for (int offset : keyOffsets) {
            out.writeInt(offset);
        }
        writeKeys(out, currentKeys);
        writeKeys(out, previousKeys);
    }

    public static SaltBuckets readFrom(DataInputStream in) throws IOException {
        if (in.readInt() != FORMAT) {
            throw new IOException("not a salt snapshot of this version");
        }
        int count = in.readInt();
        long epoch = in.readLong();
        long generation = in.readLong();
        Builder b = new Builder(count, in.readUTF(), epoch, generation, false);
        readLongs(in, b.ids);
        readLongs(in, b.lastUpdated);
        readLongs(in, b.refreshFrom);
        byte[] flags = new byte[count];
        in.readFully(flags);
        for (int i = 0; i < count; i++) {
            b.hasSalt[i] = (flags[i] & 1) != 0;
            b.hasPrevious[i] = (flags[i] & 2) != 0;
        }
        in.readFully(b.salts);
        if (in.readBoolean()) {
            b.previousSalts = new byte[count * SALT_LENGTH];
            in.readFully(b.previousSalts);
        }
        b.keyText = new byte[in.readInt()];
        in.readFully(b.keyText);
        b.keyOffsets = new int[count + 1];
        for (int i = 0; i <= count; i++) {
            b.keyOffsets[i] = in.readInt();
        }
        b.currentKeys = readKeys(in, count);
        b.previousKeys = readKeys(in, count);
        b.set = count;
        return b.build();
    }

    private static void writeLongs(DataOutputStream out, long[] values) throws IOException {
        for (long v : values) {
            out.writeLong(v);
        }
    }

    private static void readLongs(DataInputStream in, long[] into) throws IOException {
        for (int i = 0; i < into.length; i++) {
            into[i] = in.readLong();
        }
    }

    private static void writeKeys(DataOutputStream out, KeyMaterial[] keys) throws IOException {
        int n = 0;
        if (keys != null) {
            for (KeyMaterial k : keys) {
                n += k == null ? 0 : 1;
            }
        }
        out.writeInt(n);
        for (int i = 0; n > 0 && i < keys.length; i++) {
            if (keys[i] != null) {
                out.writeInt(i);
                out.writeInt(keys[i].keyId());
                out.writeUTF(keys[i].key());
                out.writeUTF(keys[i].salt());
            }
        }
    }

    private static KeyMaterial[] readKeys(DataInputStream in, int count) throws IOException {
        int n = in.readInt();
        if (n == 0) {
            return null;
        }
        KeyMaterial[] keys = new KeyMaterial[count];
        for (int k = 0; k < n; k++) {
            int idx = in.readInt();
            keys[idx] = new KeyMaterial(in.readInt(), in.readUTF(), in.readUTF());
        }
        return keys;
    }

    /** Collects buckets by position, then builds the time index once. */
    public static final class Builder {
        private final byte[] firstLevelSalt;
        private final long epoch;
        private final long generation;
        private final int count;
        private final long[] ids;
        private final byte[] salts;
        private byte[] previousSalts;
        private final boolean[] hasSalt;
        private final boolean[] hasPrevious;
        private KeyMaterial[] currentKeys;
        private KeyMaterial[] previousKeys;
        private final long[] lastUpdated;
        private final long[] refreshFrom;
        private byte[] keyText;
        private int[] keyOffsets;
        private final byte[] pendingKeys;   // wire ids at a fixed stride while building from scratch
        private final byte[] pendingKeyLengths;
        private int set;

        private Builder(int count, String firstLevelSalt, long epoch, long generation) {
            this(count, firstLevelSalt, epoch, generation, true);
        }

        private Builder(int count, String firstLevelSalt, long epoch, long generation, boolean collectKeys) {
            if (count <= 0 || count > MAX_BUCKETS) {
                throw new IllegalArgumentException("bucket count must be between 1 and " + MAX_BUCKETS);
            }
            this.firstLevelSalt = firstLevelSalt.getBytes(StandardCharsets.US_ASCII);
            this.epoch = epoch;
            this.generation = generation;
            this.count = count;
            this.ids = new long[count];
            this.salts = new byte[count * SALT_LENGTH];
            this.previousSalts = null; // allocated on the first bucket that has one: fresh sets have none
            this.hasSalt = new boolean[count];
            this.hasPrevious = new boolean[count];
            this.lastUpdated = new long[count];
            this.refreshFrom = new long[count];
            this.pendingKeys = collectKeys ? new byte[count * KEY_STRIDE] : null;
            this.pendingKeyLengths = collectKeys ? new byte[count] : null;
        }

        private Builder(SaltBuckets from, long generation) {
            this.firstLevelSalt = from.firstLevelSalt;
            this.epoch = from.epoch;
            this.generation = generation;
            this.count = from.count;
            this.ids = from.ids.clone();
            this.salts = from.salts.clone();
            this.previousSalts = from.previousSalts == null ? null : from.previousSalts.clone();
            this.hasSalt = from.hasSalt.clone();
            this.hasPrevious = from.hasPrevious.clone();
            this.currentKeys = from.currentKeys == null ? null : from.currentKeys.clone();
            this.previousKeys = from.previousKeys == null ? null : from.previousKeys.clone();
            this.lastUpdated = from.lastUpdated.clone();
            this.refreshFrom = from.refreshFrom.clone();
            this.keyText = from.keyText;
            this.keyOffsets = from.keyOffsets;
            this.pendingKeys = null;
            this.pendingKeyLengths = null;
            this.set = count;
        }

        public Builder set(StoredBucket b) {
            int i = b.idx();
            if (i < 0 || i >= count) {
                throw new IllegalArgumentException("bucket index " + i + " outside 0.." + (count - 1));
            }
            if (b.lastUpdated() < 0 || b.lastUpdated() > MAX_TIME) {
                throw new IllegalArgumentException("bucket " + b.id() + ": last_updated out of range");
            }
            if (pendingKeys != null) {
                String key = b.key();
                if (key.length() == 0 || key.length() > KEY_STRIDE) {
                    throw new IllegalArgumentException("bucket " + b.id() + ": wire id must be 1 to " + KEY_STRIDE + " characters");
                }
                if (pendingKeyLengths[i] == 0) {
                    set++;
                }
                pendingKeyLengths[i] = (byte) key.length();
                for (int c = 0; c < key.length(); c++) {
                    pendingKeys[i * KEY_STRIDE + c] = (byte) key.charAt(c);
                }
            } else if (ids[i] != b.id()) {
                throw new IllegalArgumentException("bucket " + b.id() + " changed position; reload the whole set");
            }
            ids[i] = b.id();
            hasSalt[i] = putSalt(salts, i, b.salt());
            if (b.previousSalt() != null && previousSalts == null) {
                previousSalts = new byte[count * SALT_LENGTH];
            }
            hasPrevious[i] = b.previousSalt() != null && putSalt(previousSalts, i, b.previousSalt());
            if (b.currentKey() != null || currentKeys != null) {
                if (currentKeys == null) {
                    currentKeys = new KeyMaterial[count];
                }
                currentKeys[i] = b.currentKey();
            }
            if (b.previousKey() != null || previousKeys != null) {
                if (previousKeys == null) {
                    previousKeys = new KeyMaterial[count];
                }
                previousKeys[i] = b.previousKey();
            }
            lastUpdated[i] = b.lastUpdated();
            refreshFrom[i] = b.refreshFrom();
            return this;
        }

        private static boolean putSalt(byte[] into, int i, String salt) {
            if (salt == null) {
                return false;
            }
            if (salt.length() != SALT_LENGTH) {
                throw new IllegalArgumentException("salt must be 44 characters of base64");
            }
            for (int k = 0; k < SALT_LENGTH; k++) {
                into[i * SALT_LENGTH + k] = (byte) salt.charAt(k);
            }
            return true;
        }

        public SaltBuckets build() {
            if (set != count) {
                throw new IllegalStateException("only " + set + " of " + count + " buckets were loaded");
            }
            if (pendingKeys != null) {
                packKeys();
            }
            long[] byTime = new long[count];
            for (int i = 0; i < count; i++) {
                byTime[i] = (lastUpdated[i] << IDX_BITS) | i;
            }
            Arrays.parallelSort(byTime);
            return new SaltBuckets(this, byTime);
        }

        private void packKeys() {
            int total = 0;
            for (byte length : pendingKeyLengths) {
                total += length;
            }
            keyText = new byte[total];
            keyOffsets = new int[count + 1];
            int pos = 0;
            for (int i = 0; i < count; i++) {
                keyOffsets[i] = pos;
                System.arraycopy(pendingKeys, i * KEY_STRIDE, keyText, pos, pendingKeyLengths[i]);
                pos += pendingKeyLengths[i];
            }
            keyOffsets[count] = pos;
        }
    }
}
