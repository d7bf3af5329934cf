package idex.uid2.salts;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.transaction.TransactionIsolationLevel;
import org.jdbi.v3.core.result.ResultIterator;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/** Salt buckets and their settings in the database. */
public final class SaltStore {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SaltStore.class);

    /** Bucket ids start here, as on the reference operator. */
    public static final long FIRST_BUCKET_ID = 1_000_000L;
    private static final int BATCH = 5_000;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String COLUMNS = "idx, bucket_id, bucket_key, salt, previous_salt, last_updated, refresh_from,"
            + " cur_key_id, cur_key, cur_key_salt, prev_key_id, prev_key, prev_key_salt";

    private final Jdbi jdbi;
    /** A server's copy of the set in its data dir (null for admin commands, which do not keep one). */
    private final SaltSnapshotFile copy;

    public SaltStore(Jdbi jdbi) {
        this.jdbi = jdbi;
        this.copy = null;
    }

    /** A server's store of salts, which keeps a copy of the set in `copyFile` for its next start. */
    public SaltStore(Jdbi jdbi, Path copyFile) {
        this.jdbi = jdbi;
        this.copy = new SaltSnapshotFile(copyFile);
    }

    public Optional<SaltSettings> settings() {
        return jdbi.withHandle(SaltStore::settings);
    }

    static Optional<SaltSettings> settings(Handle h) {
        return h.createQuery("SELECT first_level_salt, id_prefix, id_secret, bucket_count, epoch, generation, last_rotation"
                        + " FROM uid2_salt_settings WHERE id = 1")
                .map((rs, ctx) -> new SaltSettings(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
                        rs.getLong(5), rs.getLong(6), (Long) rs.getObject(7, Long.class)))
                .findOne();
    }

    /**
     * Creates a fresh salt set when the store has none; false when one already exists. Rows are committed in
     * batches (one transaction of a million rows would hold them all at once), and the settings row, written
     * last with the snapshot, marks the set complete: a start interrupted halfway starts over. `progress` gets the
     * number of buckets created at each tenth of the way.
     */
    public boolean createIfAbsent(int count, long now, IntConsumer progress) {
        if (count <= 0 || count > SaltBuckets.MAX_BUCKETS) {
            throw new IllegalArgumentException("--salt-buckets must be between 1 and " + SaltBuckets.MAX_BUCKETS);
        }
        if (settings().isPresent()) {
            return false;
        }
        jdbi.useTransaction(h -> {
            h.createUpdate("DELETE FROM uid2_salt_snapshot").execute();
            h.createUpdate("DELETE FROM uid2_salt_bucket").execute();
        });
        SaltSnapshotMetadata meta = new SaltSnapshotMetadata(randomSalt(), "a", randomSalt());
        BucketIds bucketIds = new BucketIds(meta.idPrefix(), meta.idSecret());
        SaltBuckets.Builder[] memoryRef = {SaltBuckets.builder(count, meta.firstLevelSalt(), 1, 1)};
        int batch = 65_536;
        int tenth = 1;
        for (int from = 0; from < count; ) {
            int first = from;
            // Batches end at each tenth too, so that progress is reported at exact tenths.
            int nextTenth = tenthMark(count, tenth);
            int last = Math.min(Math.min(count, from + batch), nextTenth);
            jdbi.useTransaction(h -> {
                try (BucketWriter w = new BucketWriter(h.getConnection(), bucketIds, 1, first)) {
                    for (int i = first; i < last; i++) {
                        memoryRef[0].set(w.add(new SaltFileRow(FIRST_BUCKET_ID + i, now, randomSalt(),
                                now + SaltBuckets.PREVIOUS_SALT_LIFETIME_MS, null, null, null)));
                    }
                }
            });
            from = last;
            while (tenth <= 10 && last >= tenthMark(count, tenth)) {
                progress.accept(tenthMark(count, tenth));
                tenth++;
            }
        }
        SaltBuckets buckets = memoryRef[0].build();
        memoryRef[0] = null; // drop the builder's scratch space before the snapshot is written
        SaltSnapshots.write(jdbi, buckets);
        return jdbi.inTransaction(h -> {
            if (lockSettings(h).isPresent()) {
                return false;
            }
            writeSettings(h, meta, count, now);
            return true;
        });
    }

    /** Buckets created once `tenth` tenths are: the count's tenth rounded up (104858 of 1048576), the count at 10. */
    static int tenthMark(int count, int tenth) {
        return (int) ((count * (long) tenth + 9) / 10);
    }

    /**
     * Replaces the whole salt set, first-level salt and id secret in one transaction (a salt import). Rows arrive
     * streaming from `source`, which calls the given consumer once per row in file order.
     */
    public int replaceAll(SaltSnapshotMetadata meta, Consumer<Consumer<SaltFileRow>> source, long now) {
        int imported = jdbi.inTransaction(h -> {
            Optional<SaltSettings> old = lockSettings(h);
            h.createUpdate("DELETE FROM uid2_salt_bucket").execute();
            BucketIds bucketIds = new BucketIds(meta.idPrefix(), meta.idSecret());
            long generation = old.map(s -> s.generation() + 1).orElse(1L);
            int count;
            try (BucketWriter w = new BucketWriter(h.getConnection(), bucketIds, generation)) {
                source.accept(w::add);
                count = w.count();
            }
            if (count == 0) {
                throw new IllegalArgumentException("the snapshot holds no buckets");
            }
            if (count > SaltBuckets.MAX_BUCKETS) {
                throw new IllegalArgumentException("the snapshot holds " + count + " buckets; at most " + SaltBuckets.MAX_BUCKETS);
            }
            if (old.isEmpty()) {
                writeSettings(h, meta, count, now);
            } else {
                h.createUpdate("UPDATE uid2_salt_settings SET first_level_salt = :fls, id_prefix = :prefix, id_secret = :secret,"
                                + " bucket_count = :count, epoch = epoch + 1, generation = :gen WHERE id = 1")
                        .bind("fls", meta.firstLevelSalt()).bind("prefix", meta.idPrefix()).bind("secret", meta.idSecret())
                        .bind("count", count).bind("gen", generation).execute();
            }
            return count;
        });
        // After the import has committed: a reader falls back to the rows until the snapshot is complete.
        SaltSnapshots.write(jdbi, jdbi.inTransaction(SaltStore::loadRows));
        return imported;
    }

    /** What to do with every bucket, in position order, while the rows stream from the database. */
    public interface RowsReader {
        void read(Iterator<SaltFileRow> rows) throws IOException;
    }

    /** Streams every bucket in position order, as the reference operator's snapshot rows. */
    public void readAllRows(RowsReader reader) throws IOException {
        try (Handle h = jdbi.open()) {
            h.begin(); // PostgreSQL streams with a fetch size only inside a transaction
            try (ResultIterator<SaltFileRow> it = h.createQuery("SELECT " + COLUMNS + " FROM uid2_salt_bucket ORDER BY idx")
                    .setFetchSize(10_000)
                    .map((rs, ctx) -> new SaltFileRow(rs.getLong(2), rs.getLong(6), rs.getString(4), rs.getLong(7),
                            rs.getString(5), key(rs, 8), key(rs, 11)))
                    .iterator()) {
                reader.read(it);
            }
            h.rollback();
        }
    }

    /**
     * Loads the whole salt set into memory: the newest complete snapshot of the current epoch plus the rows rotated
     * since it, or the rows alone if there is no snapshot (and then writes one).
     */
    public SaltBuckets loadAll() {
        if (copy != null) {
            SaltBuckets fromCopy = loadFromCopy();
            if (fromCopy != null) {
                return fromCopy;
            }
        }
        // One snapshot of the store for the whole read: the parts are read one statement each, and a server writing
        // or pruning snapshots meanwhile must not take a part away between two of them.
        SaltBuckets fromSnapshot = jdbi.inTransaction(TransactionIsolationLevel.REPEATABLE_READ, h -> {
            SaltSettings s = settings(h).orElseThrow(() -> new IllegalStateException("the store has no salt buckets yet"));
            return SaltSnapshots.readNewest(h, s.epoch(), s.generation()).orElse(null);
        });
        if (fromSnapshot != null) {
            SaltSettings s = settings().orElseThrow();
            if (s.epoch() == fromSnapshot.epoch() && s.generation() != fromSnapshot.generation()) {
                fromSnapshot.apply(changedSince(fromSnapshot.generation()), s.generation());
            }
            return fromSnapshot;
        }
        // No complete snapshot (a change was interrupted before writing it): read the rows, and heal the snapshot.
        SaltBuckets fromRows = jdbi.inTransaction(SaltStore::loadRows);
        SaltSnapshots.write(jdbi, fromRows);
        return fromRows;
    }

    /**
     * The set from this server's copy and the rows rotated since, when the copy is of the store's epoch and no older
     * than the store's newest snapshot (another server may have written a newer one); null otherwise.
     */
    private SaltBuckets loadFromCopy() {
        SaltSettings s = settings().orElseThrow(() -> new IllegalStateException("the store has no salt buckets yet"));
        SaltBuckets set = copy.read(s).orElse(null);
        if (set == null) {
            return null;
        }
        long stored = jdbi.withHandle(h -> SaltSnapshots.newestGeneration(h, s.epoch(), s.generation())).orElse(-1L);
        if (set.generation() < stored) {
            return null;
        }
        if (set.generation() != s.generation()) {
            set.apply(changedSince(set.generation()), s.generation());
        }
        return set;
    }

    /** Rotated rows beyond which a server writes a new snapshot: a start then adds at most this many rows. */
    static int snapshotLag(int bucketCount) {
        return Math.max(1024, bucketCount / 20);
    }

    /**
     * Writes a snapshot of `live` (a set this process keeps current) when the stored one lags it by more than
     * {@link #snapshotLag} rotated rows. Streams the set out part by part: no second copy of it in memory. It may run
     * beside {@link SaltBuckets#apply}: a snapshot read across a change is thrown away.
     */
    public void snapshotIfBehind(SaltBuckets live) {
        long changes = live.changeCount();
        if ((changes & 1) != 0) {
            return; // a change is being applied; the next refresh looks again
        }
        long stored = jdbi.withHandle(h -> SaltSnapshots.newestGeneration(h, live.epoch(), live.generation())).orElse(-1L);
        long newest = stored == live.generation() ? stored : writeSnapshotIfLagging(live, changes, stored);
        // The copy follows the store's snapshots (a start then applies no more rows than from the store's own).
        if (copy != null && copy.generation() < newest) {
            writeCopy(live, changes);
        }
    }

    private void writeCopy(SaltBuckets live, long changes) {
        long started = System.nanoTime();
        try {
            SaltSettings settings = settings().orElseThrow();
            if (settings.epoch() == live.epoch() && copy.write(live, settings, () -> live.changeCount() == changes)) {
                LOG.info("Wrote this server's copy of the salt set (generation {}) in {} ms", live.generation(),
                        (System.nanoTime() - started) / 1_000_000);
            }
        } catch (IOException e) {
            LOG.warn("Writing this server's copy of the salt set failed (starts read the store's snapshot): {}", e.toString());
        }
    }

    /** Writes a snapshot when the stored one lags; returns the generation of the store's newest snapshot after it. */
    private long writeSnapshotIfLagging(SaltBuckets live, long changes, long stored) {
        long lag = stored < 0 ? Long.MAX_VALUE : jdbi.withHandle(h -> h.createQuery(
                        "SELECT count(*) FROM uid2_salt_bucket WHERE generation > :g AND generation <= :now")
                .bind("g", stored).bind("now", live.generation()).mapTo(Long.class).one());
        if (lag > snapshotLag(live.count())) {
            long started = System.nanoTime();
            if (!SaltSnapshots.write(jdbi, live, () -> live.changeCount() == changes)) {
                LOG.info("The salt set changed while its snapshot was written; written again later");
                return stored;
            }
            LOG.info("Wrote the salt snapshot of generation {} ({} rotated rows since the last) in {} ms",
                    live.generation(), lag == Long.MAX_VALUE ? "no snapshot" : lag, (System.nanoTime() - started) / 1_000_000);
            return live.generation();
        }
        return stored;
    }

    /** The salt set from its rows: the slow path, several seconds for a million buckets. */
    static SaltBuckets loadRows(Handle h) {
        SaltSettings s = settings(h).orElseThrow(() -> new IllegalStateException("the store has no salt buckets yet"));
        SaltBuckets.Builder builder = SaltBuckets.builder(s.bucketCount(), s.firstLevelSalt(), s.epoch(), s.generation());
        query(h, "SELECT " + COLUMNS + " FROM uid2_salt_bucket", ps -> { }, builder::set);
        return builder.build();
    }

    /** Buckets changed after a generation, for a running server to apply. */
    public List<StoredBucket> changedSince(long generation) {
        List<StoredBucket> out = new ArrayList<>();
        jdbi.useHandle(h -> query(h, "SELECT " + COLUMNS + " FROM uid2_salt_bucket WHERE generation > ?",
                ps -> ps.setLong(1, generation), out::add));
        return out;
    }

    static Optional<SaltSettings> lockSettings(Handle h) {
        // Serialises rotations and imports across processes and nodes.
        h.createQuery("SELECT id FROM uid2_salt_settings WHERE id = 1 FOR UPDATE").mapTo(Integer.class).findOne();
        return settings(h);
    }

    private static void writeSettings(Handle h, SaltSnapshotMetadata meta, int count, long now) {
        h.createUpdate("INSERT INTO uid2_salt_settings (id, first_level_salt, id_prefix, id_secret, bucket_count, epoch,"
                        + " generation, last_rotation) VALUES (1, :fls, :prefix, :secret, :count, 1, 1, NULL)")
                .bind("fls", meta.firstLevelSalt()).bind("prefix", meta.idPrefix()).bind("secret", meta.idSecret())
                .bind("count", count).execute();
    }

    interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    static void query(Handle h, String sql, Binder binder, Consumer<StoredBucket> sink) {
        Connection c = h.getConnection();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setFetchSize(10_000);
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    sink.accept(new StoredBucket(rs.getInt(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getLong(6), rs.getLong(7), key(rs, 8), key(rs, 11)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading salt buckets failed: " + e.getMessage(), e);
        }
    }

    private static KeyMaterial key(ResultSet rs, int col) throws SQLException {
        int id = rs.getInt(col);
        return rs.wasNull() ? null : new KeyMaterial(id, rs.getString(col + 1), rs.getString(col + 2));
    }

    static String randomSalt() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return Base64.getEncoder().encodeToString(b);
    }

    /** Batched inserts of bucket rows, numbering positions in arrival order. */
    private static final class BucketWriter implements AutoCloseable {
        private final PreparedStatement ps;
        private final BucketIds bucketIds;
        private final long generation;
        private int count;
        private int pending;

        BucketWriter(Connection c, BucketIds bucketIds, long generation) {
            this(c, bucketIds, generation, 0);
        }

        /** Positions are numbered from `firstIdx` in arrival order. */
        BucketWriter(Connection c, BucketIds bucketIds, long generation, int firstIdx) {
            this.count = firstIdx;
            try {
                this.ps = c.prepareStatement("INSERT INTO uid2_salt_bucket (" + COLUMNS + ", generation)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            this.bucketIds = bucketIds;
            this.generation = generation;
        }

        StoredBucket add(SaltFileRow row) {
            if (row.lastUpdated() < 0 || row.lastUpdated() > SaltBuckets.MAX_TIME) {
                throw new IllegalArgumentException("bucket " + row.id() + ": lastUpdated " + row.lastUpdated() + " is out of range");
            }
            try {
                String key = bucketIds.encode(row.id());
                ps.setInt(1, count);
                ps.setLong(2, row.id());
                ps.setString(3, key);
                ps.setString(4, row.currentSalt());
                ps.setString(5, row.previousSalt());
                ps.setLong(6, row.lastUpdated());
                ps.setLong(7, row.refreshFrom());
                setKey(8, row.currentKey());
                setKey(11, row.previousKey());
                ps.setLong(14, generation);
                ps.addBatch();
                count++;
                if (++pending == BATCH) {
                    ps.executeBatch();
                    pending = 0;
                }
                return new StoredBucket(count - 1, row.id(), key, row.currentSalt(), row.previousSalt(), row.lastUpdated(),
                        row.refreshFrom(), row.currentKey(), row.previousKey());
            } catch (SQLException e) {
                throw new IllegalStateException("writing bucket " + row.id() + " failed: " + e.getMessage(), e);
            }
        }

        private void setKey(int col, KeyMaterial k) throws SQLException {
            if (k == null) {
                ps.setNull(col, Types.INTEGER);
                ps.setNull(col + 1, Types.VARCHAR);
                ps.setNull(col + 2, Types.VARCHAR);
            } else {
                ps.setInt(col, k.keyId());
                ps.setString(col + 1, k.key());
                ps.setString(col + 2, k.salt());
            }
        }

        int count() {
            return count;
        }

        @Override
        public void close() {
            try {
                if (pending > 0) {
                    ps.executeBatch();
                }
                ps.close();
            } catch (SQLException e) {
                throw new IllegalStateException("writing salt buckets failed: " + e.getMessage(), e);
            }
        }
    }
}
