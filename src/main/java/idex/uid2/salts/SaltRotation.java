package idex.uid2.salts;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The rotation policy of the reference operator: rotate the oldest eligible buckets (at least `minAge` old), a
 * fraction of the set at a time, so that with the default 1/365 a day every bucket rotates about once a year.
 * A rotated bucket gets a new salt; what it had (salt or key material) becomes its previous identity.
 */
public final class SaltRotation {

    public static final double DEFAULT_FRACTION = 1.0 / 365;
    public static final int DEFAULT_MIN_AGE_DAYS = 30;
    private static final long DAY_MS = 24L * 3600 * 1000;

    /** What a rotation did. */
    public record Result(int rotated, long rotatedAt, List<Long> bucketIds, long epoch, long generation) {
    }

    private final Jdbi jdbi;

    public SaltRotation(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    public Result rotate(double fraction, int minAgeDays, long now) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new IllegalArgumentException("--fraction must be greater than 0 and at most 1");
        }
        if (minAgeDays < 0) {
            throw new IllegalArgumentException("--min-age-days must not be negative");
        }
        Result result = jdbi.inTransaction(h -> {
            SaltSettings s = SaltStore.lockSettings(h)
                    .orElseThrow(() -> new IllegalStateException("the store has no salt buckets yet"));
            int wanted = (int) Math.ceil(s.bucketCount() * fraction);
            long eligibleBefore = now - minAgeDays * DAY_MS;
            List<StoredBucket> chosen = new ArrayList<>(wanted);
            SaltStore.query(h, "SELECT idx, bucket_id, bucket_key, salt, previous_salt, last_updated, refresh_from,"
                            + " cur_key_id, cur_key, cur_key_salt, prev_key_id, prev_key, prev_key_salt"
                            + " FROM uid2_salt_bucket WHERE last_updated <= ? ORDER BY last_updated, idx LIMIT ?",
                    ps -> {
                        ps.setLong(1, eligibleBefore);
                        ps.setInt(2, wanted);
                    }, chosen::add);
            long generation = s.generation() + 1;
            List<Long> ids = new ArrayList<>(chosen.size());
            update(h, chosen, now, generation);
            for (StoredBucket b : chosen) {
                ids.add(b.id());
            }
            h.createUpdate("UPDATE uid2_salt_settings SET generation = :gen, last_rotation = :now WHERE id = 1")
                    .bind("gen", generation).bind("now", now).execute();
            return new Result(chosen.size(), now, ids, s.epoch(), generation);
        });
        // No new snapshot here: a reader adds the rotated rows to the last snapshot, and a server that has applied
        // the rotation writes one from its live set when the rows it would add grow (SaltStore.snapshotIfBehind).
        return result;
    }

    private static void update(Handle h, List<StoredBucket> chosen, long now, long generation) {
        try (PreparedStatement ps = h.getConnection().prepareStatement("UPDATE uid2_salt_bucket SET salt = ?, previous_salt = ?,"
                + " last_updated = ?, refresh_from = ?, cur_key_id = NULL, cur_key = NULL, cur_key_salt = NULL,"
                + " prev_key_id = ?, prev_key = ?, prev_key_salt = ?, generation = ? WHERE idx = ?")) {
            int pending = 0;
            for (StoredBucket b : chosen) {
                ps.setString(1, SaltStore.randomSalt());
                ps.setString(2, b.salt());
                ps.setLong(3, now);
                ps.setLong(4, now + SaltBuckets.PREVIOUS_SALT_LIFETIME_MS);
                KeyMaterial k = b.currentKey();
                ps.setObject(5, k == null ? null : k.keyId(), java.sql.Types.INTEGER);
                ps.setString(6, k == null ? null : k.key());
                ps.setString(7, k == null ? null : k.salt());
                ps.setLong(8, generation);
                ps.setInt(9, b.idx());
                ps.addBatch();
                if (++pending == 1000) {
                    ps.executeBatch();
                    pending = 0;
                }
            }
            if (pending > 0) {
                ps.executeBatch();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("rotating salt buckets failed: " + e.getMessage(), e);
        }
    }
}
