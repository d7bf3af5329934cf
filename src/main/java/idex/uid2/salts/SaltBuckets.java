package idex.uid2.salts;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * Every salt bucket of the deployment in memory. Salts and bucket ids are packed into flat arrays so that 1,048,576
 * buckets cost about 130 MB and no per-bucket objects. An index sorted by `last_updated` answers "which buckets
 * changed since T" by binary search.
 *
 * <p>A rotation is applied in place ({@link #apply}), costing memory in proportion to what rotated: holding a second
 * whole set for each change needed twice the heap and ran a default server out of memory. Readers never lock: each
 * stripe of 64 buckets has a stamp that a writer makes odd while it changes a bucket, and a reader retries a read
 * that overlapped one (a seqlock, as {@link java.util.concurrent.locks.StampedLock}'s optimistic reads), so a bucket
 * is always read whole, old or new. The time index is immutable and replaced after a change; an answer that lists
 * buckets takes one index and reads `last_updated` from it, so it is consistent in itself. Only one thread changes
 * a set (LiveSalts serialises refreshes).
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
    private volatile long generation;
    private final int count;
    private final long[] ids;
    private final byte[] salts;          // count * 44 ASCII bytes; hasSalt says which are present
    private volatile byte[] previousSalts;  // idem, hasPrevious; allocated on the first bucket that has one
    private final boolean[] hasSalt;
    private final boolean[] hasPrevious;
    private volatile KeyMaterial[] currentKeys;   // null entries for salt buckets
    private volatile KeyMaterial[] previousKeys;
    private final long[] lastUpdated;
    private final long[] refreshFrom;
    private final byte[] keyText;        // bucket ids as sent on the wire, concatenated
    private final int[] keyOffsets;      // count + 1 offsets into keyText
    private volatile TimeIndex index;
    private final long[] stamps;         // one seqlock stamp per stripe of buckets; odd while a bucket changes
    private final java.util.concurrent.atomic.AtomicLong applies = new java.util.concurrent.atomic.AtomicLong();

    private static final VarHandle STAMPS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int STRIPE_SHIFT = 6;

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
        this.index = new TimeIndex(byTime, b.generation);
        this.stamps = new long[(b.count >>> STRIPE_SHIFT) + 1];
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

    /**
     * Reads the bucket's current secret (or its previous one) whole: either copies its salt into `into.salt` or sets
     * `into.key`. Returns false when it has none (a previous secret after a first rotation of a fresh set, e.g.).
     */
    public boolean readSecret(int idx, boolean previous, Secret into) {
        int stripe = idx >>> STRIPE_SHIFT;
        while (true) {
            long stamp = readBegin(stripe);
            boolean found;
            KeyMaterial key = null;
            byte[] source = previous ? previousSalts : salts;
            boolean salted = previous ? hasPrevious[idx] : hasSalt[idx];
            if (salted && source != null) {
                System.arraycopy(source, idx * SALT_LENGTH, into.salt, 0, SALT_LENGTH);
                found = true;
            } else {
                KeyMaterial[] keys = previous ? previousKeys : currentKeys;
                key = keys == null ? null : keys[idx];
                found = key != null;
                salted = false;
            }
            if (readValid(stripe, stamp)) {
                into.isSalt = salted;
                into.key = key;
                return found;
            }
        }
    }

    /** A bucket's secret as {@link #readSecret} reads it: a salt (44 ASCII bytes) or a raw UID v4 key. */
    public static final class Secret {
        public final byte[] salt = new byte[SALT_LENGTH];
        public boolean isSalt;
        public KeyMaterial key;
    }

    public boolean hasPrevious(int idx, long now) {
        int stripe = idx >>> STRIPE_SHIFT;
        while (true) {
            long stamp = readBegin(stripe);
            KeyMaterial[] keys = previousKeys;
            boolean has = (hasPrevious[idx] || keys != null && keys[idx] != null)
                    && now < lastUpdated[idx] + PREVIOUS_SALT_LIFETIME_MS;
            if (readValid(stripe, stamp)) {
                return has;
            }
        }
    }

    public long lastUpdated(int idx) {
        int stripe = idx >>> STRIPE_SHIFT;
        while (true) {
            long stamp = readBegin(stripe);
            long value = lastUpdated[idx];
            if (readValid(stripe, stamp)) {
                return value;
            }
        }
    }

    public long refreshFrom(int idx) {
        int stripe = idx >>> STRIPE_SHIFT;
        while (true) {
            long stamp = readBegin(stripe);
            long value = refreshFrom[idx];
            if (readValid(stripe, stamp)) {
                return value;
            }
        }
    }

    private long readBegin(int stripe) {
        long stamp;
        while (((stamp = (long) STAMPS.getAcquire(stamps, stripe)) & 1) != 0) {
            Thread.onSpinWait();
        }
        return stamp;
    }

    private boolean readValid(int stripe, long stamp) {
        VarHandle.acquireFence(); // the reads above complete before the stamp is read again
        return (long) STAMPS.getVolatile(stamps, stripe) == stamp;
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

    /** The time index of the set as it is now; it does not change under its holder. */
    public TimeIndex timeIndex() {
        return index;
    }

    /** Every bucket ordered by `last_updated`, as of one generation of the set. Immutable. */
    public static final class TimeIndex {
        private final long[] byTime;         // (lastUpdated << 21 | idx), ascending
        private final long generation;

        private TimeIndex(long[] byTime, long generation) {
            this.byTime = byTime;
            this.generation = generation;
        }

        public long generation() {
            return generation;
        }

        public int count() {
            return byTime.length;
        }

        /** Rank of the first bucket with last_updated >= sinceMillis; count() when none. */
        public int firstRankAtOrAfter(long sinceMillis) {
            if (sinceMillis <= 0) {
                return 0;
            }
            if (sinceMillis > MAX_TIME) {
                return byTime.length;
            }
            long probe = sinceMillis << IDX_BITS;
            int pos = Arrays.binarySearch(byTime, probe);
            return pos >= 0 ? pos : -pos - 1;
        }

        /** The bucket index at a rank (ascending last_updated). */
        public int idxAtRank(int rank) {
            return (int) (byTime[rank] & IDX_MASK);
        }

        /** The bucket's last_updated as of this index. */
        public long lastUpdatedAtRank(int rank) {
            return byTime[rank] >>> IDX_BITS;
        }
    }

    /**
     * Applies changed buckets (a rotation) in place and moves the set to `newGeneration`. Memory: the changes, and a
     * new time index (8 bytes a bucket) once the last change is in. The caller is the set's only writer.
     */
    public void apply(List<StoredBucket> changes, long newGeneration) {
        applies.incrementAndGet(); // odd: a whole-set reader (writeTo) running now must discard what it read
        try {
            applyChanges(changes, newGeneration);
        } finally {
            applies.incrementAndGet();
        }
    }

    /**
     * A count of changes applied, odd while one is being applied: a reader of the whole set that sees the same even
     * value before and after it read has read one generation.
     */
    public long changeCount() {
        return applies.get();
    }

    private void applyChanges(List<StoredBucket> changes, long newGeneration) {
        for (StoredBucket b : changes) {
            int i = b.idx();
            if (i < 0 || i >= count) {
                throw new IllegalArgumentException("bucket index " + i + " outside 0.." + (count - 1));
            }
            if (ids[i] != b.id()) {
                throw new IllegalArgumentException("bucket " + b.id() + " changed position; reload the whole set");
            }
            if (b.lastUpdated() < 0 || b.lastUpdated() > MAX_TIME) {
                throw new IllegalArgumentException("bucket " + b.id() + ": last_updated out of range");
            }
            checkSalt(b.salt());
            checkSalt(b.previousSalt());
        }
        if (previousSalts == null && changes.stream().anyMatch(b -> b.previousSalt() != null)) {
            previousSalts = new byte[count * SALT_LENGTH];
        }
        if (currentKeys == null && changes.stream().anyMatch(b -> b.currentKey() != null)) {
            currentKeys = new KeyMaterial[count];
        }
        if (previousKeys == null && changes.stream().anyMatch(b -> b.previousKey() != null)) {
            previousKeys = new KeyMaterial[count];
        }
        for (StoredBucket b : changes) {
            int i = b.idx();
            int stripe = i >>> STRIPE_SHIFT;
            long stamp = (long) STAMPS.getAndAdd(stamps, stripe, 1L); // odd: readers of this stripe retry
            hasSalt[i] = Builder.putSalt(salts, i, b.salt());
            hasPrevious[i] = b.previousSalt() != null && Builder.putSalt(previousSalts, i, b.previousSalt());
            if (currentKeys != null) {
                currentKeys[i] = b.currentKey();
            }
            if (previousKeys != null) {
                previousKeys[i] = b.previousKey();
            }
            lastUpdated[i] = b.lastUpdated();
            refreshFrom[i] = b.refreshFrom();
            STAMPS.setRelease(stamps, stripe, stamp + 2);
        }
        generation = newGeneration;
        index = new TimeIndex(sortedByTime(lastUpdated), newGeneration);
    }

    private static void checkSalt(String salt) {
        if (salt != null && salt.length() != SALT_LENGTH) {
            throw new IllegalArgumentException("salt must be 44 characters of base64");
        }
    }

    private static long[] sortedByTime(long[] lastUpdated) {
        long[] byTime = new long[lastUpdated.length];
        for (int i = 0; i < byTime.length; i++) {
            byTime[i] = (lastUpdated[i] << IDX_BITS) | i;
        }
        Arrays.sort(byTime); // in place: parallelSort would need a second array of the same size
        return byTime;
    }

    private static final int FORMAT = 0x49445331; // "IDS1"

    /**
     * Writes the whole set in the compact form `SaltSnapshots` stores; `readFrom` reads it back. What it writes is
     * one generation only if {@link #changeCount} was even and the same before and after.
     */
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
        writeInts(out, keyOffsets);
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
        readInts(in, b.keyOffsets);
        b.currentKeys = readKeys(in, count);
        b.previousKeys = readKeys(in, count);
        b.set = count;
        return b.build();
    }

    /** Values per chunk of the bulk codecs below: a server start decodes millions of them, so not one call each. */
    private static final int CHUNK = 8192;

    /** Moves `n` values from index `from` of an array into a chunk's buffer, or out of it. */
    private interface ChunkCopy {
        void copy(ByteBuffer chunk, int from, int n);
    }

    /** As {@link DataOutputStream#writeLong} each, big-endian, a chunk at a time. */
    private static void writeLongs(DataOutputStream out, long[] values) throws IOException {
        writeChunks(out, values.length, Long.BYTES, (chunk, from, n) -> chunk.asLongBuffer().put(values, from, n));
    }

    private static void readLongs(DataInputStream in, long[] into) throws IOException {
        readChunks(in, into.length, Long.BYTES, (chunk, from, n) -> chunk.asLongBuffer().get(into, from, n));
    }

    /** As {@link DataOutputStream#writeInt} each, big-endian, a chunk at a time. */
    private static void writeInts(DataOutputStream out, int[] values) throws IOException {
        writeChunks(out, values.length, Integer.BYTES, (chunk, from, n) -> chunk.asIntBuffer().put(values, from, n));
    }

    private static void readInts(DataInputStream in, int[] into) throws IOException {
        readChunks(in, into.length, Integer.BYTES, (chunk, from, n) -> chunk.asIntBuffer().get(into, from, n));
    }

    private static void writeChunks(DataOutputStream out, int count, int width, ChunkCopy fill) throws IOException {
        byte[] chunk = new byte[CHUNK * width];
        for (int done = 0; done < count; done += CHUNK) {
            int n = Math.min(CHUNK, count - done);
            fill.copy(ByteBuffer.wrap(chunk), done, n);
            out.write(chunk, 0, n * width);
        }
    }

    private static void readChunks(DataInputStream in, int count, int width, ChunkCopy drain) throws IOException {
        byte[] chunk = new byte[CHUNK * width];
        for (int done = 0; done < count; done += CHUNK) {
            int n = Math.min(CHUNK, count - done);
            in.readFully(chunk, 0, n * width);
            drain.copy(ByteBuffer.wrap(chunk), done, n);
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
            return new SaltBuckets(this, sortedByTime(lastUpdated));
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
