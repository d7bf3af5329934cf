package idex.uid2.salts;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;

/**
 * The salt set as a binary snapshot in `uid2_salt_snapshot`, in parts of 1 MB so that neither database nor
 * driver ever handles one huge value. Written after every change to the salt set has committed.
 */
final class SaltSnapshots {

    private static final int PART_SIZE = 1024 * 1024;

    private SaltSnapshots() {
    }

    /**
     * Stores the snapshot of `buckets`, then removes every other. Each part commits on its own: one transaction of
     * a hundred MB strains the embedded store, and a reader ignores a snapshot until all its parts are there.
     */
    static void write(Jdbi jdbi, SaltBuckets buckets) {
        write(jdbi, buckets, () -> true);
    }

    /**
     * The same for a set that may change while it is read: `stillValid` is asked once everything has been read, just
     * before the last part (which makes the snapshot complete) is inserted; if it answers false the parts written are
     * removed and nothing is stored. Returns whether the snapshot was stored.
     */
    static boolean write(Jdbi jdbi, SaltBuckets buckets, java.util.function.BooleanSupplier stillValid) {
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM uid2_salt_snapshot WHERE epoch = :e AND generation = :g")
                .bind("e", buckets.epoch()).bind("g", buckets.generation()).execute());
        int parts = countParts(buckets);
        PartWriter writer = new PartWriter(jdbi, buckets, parts, stillValid);
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(writer, 1 << 16))) {
            buckets.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the salt snapshot failed", e);
        }
        if (writer.abandoned) {
            jdbi.useHandle(h -> h.createUpdate("DELETE FROM uid2_salt_snapshot WHERE epoch = :e AND generation = :g")
                    .bind("e", buckets.epoch()).bind("g", buckets.generation()).execute());
            return false;
        }
        // Older snapshots only: another node may already have written a newer one.
        jdbi.useHandle(h -> h.createUpdate("DELETE FROM uid2_salt_snapshot WHERE epoch < :e OR (epoch = :e AND generation < :g)")
                .bind("e", buckets.epoch()).bind("g", buckets.generation()).execute());
        return true;
    }

    private static int countParts(SaltBuckets buckets) {
        CountingStream counter = new CountingStream();
        try (DataOutputStream out = new DataOutputStream(counter)) {
            buckets.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return (int) ((counter.count + PART_SIZE - 1) / PART_SIZE);
    }

    /** The generation of the newest complete snapshot of `epoch` at or below `maxGeneration`. */
    static Optional<Long> newestGeneration(Handle h, long epoch, long maxGeneration) {
        return h.createQuery("SELECT generation FROM uid2_salt_snapshot WHERE epoch = :e AND generation <= :g"
                        + " GROUP BY generation HAVING count(*) = max(parts) ORDER BY generation DESC LIMIT 1")
                .bind("e", epoch).bind("g", maxGeneration).mapTo(Long.class).findOne();
    }

    /** The newest complete snapshot of `epoch` at or below `maxGeneration`, if there is one. */
    static Optional<SaltBuckets> readNewest(Handle h, long epoch, long maxGeneration) {
        Optional<Long> newest = newestGeneration(h, epoch, maxGeneration);
        return newest.isEmpty() ? Optional.empty() : read(h, epoch, newest.get());
    }

    /** The stored snapshot if all of it, of exactly this epoch and generation, is there. */
    static Optional<SaltBuckets> read(Handle h, long epoch, long generation) {
        List<int[]> parts = h.createQuery("SELECT part, parts FROM uid2_salt_snapshot WHERE epoch = :e AND generation = :g"
                        + " ORDER BY part")
                .bind("e", epoch).bind("g", generation).map((rs, ctx) -> new int[]{rs.getInt(1), rs.getInt(2)}).list();
        if (parts.isEmpty() || parts.size() != parts.get(0)[1]) {
            return Optional.empty();
        }
        Enumeration<InputStream> streams = new Enumeration<>() {
            int next;

            @Override
            public boolean hasMoreElements() {
                return next < parts.size();
            }

            @Override
            public InputStream nextElement() {
                byte[] data = h.createQuery("SELECT data FROM uid2_salt_snapshot WHERE epoch = :e AND generation = :g AND part = :p")
                        .bind("e", epoch).bind("g", generation).bind("p", parts.get(next++)[0])
                        .map((rs, ctx) -> rs.getBytes(1)).one();
                return new ByteArrayInputStream(data);
            }
        };
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new SequenceInputStream(streams), 1 << 16))) {
            return Optional.of(SaltBuckets.readFrom(in));
        } catch (IOException e) {
            throw new UncheckedIOException("reading the salt snapshot failed", e);
        }
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /** A byte buffer read in place, without the copy `toByteArray` makes. */
    private static final class PartBuffer extends ByteArrayOutputStream {
        PartBuffer() {
            super(PART_SIZE);
        }

        InputStream asInput() {
            return new ByteArrayInputStream(buf, 0, count);
        }
    }

    /** Buffers up to one part, then inserts it. */
    private static final class PartWriter extends OutputStream {
        private final Jdbi jdbi;
        private final SaltBuckets buckets;
        private final int parts;
        private final java.util.function.BooleanSupplier stillValid;
        private final PartBuffer part = new PartBuffer();
        private int partNo;
        boolean abandoned;

        PartWriter(Jdbi jdbi, SaltBuckets buckets, int parts, java.util.function.BooleanSupplier stillValid) {
            this.jdbi = jdbi;
            this.buckets = buckets;
            this.parts = parts;
            this.stillValid = stillValid;
        }

        @Override
        public void write(int b) {
            part.write(b);
            if (part.size() >= PART_SIZE) {
                flushPart();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            while (len > 0) {
                int n = Math.min(len, PART_SIZE - part.size());
                part.write(b, off, n);
                off += n;
                len -= n;
                if (part.size() >= PART_SIZE) {
                    flushPart();
                }
            }
        }

        @Override
        public void close() {
            if (part.size() > 0) {
                if (!stillValid.getAsBoolean()) {
                    abandoned = true; // the set changed while it was read: the last part is never inserted
                    return;
                }
                flushPart();
            }
        }

        private void flushPart() {
            jdbi.useHandle(h -> {
                try (PreparedStatement ps = h.getConnection().prepareStatement(
                        "INSERT INTO uid2_salt_snapshot (epoch, generation, part, parts, data) VALUES (?, ?, ?, ?, ?)"
                                + " ON CONFLICT DO NOTHING")) {
                    ps.setLong(1, buckets.epoch());
                    ps.setLong(2, buckets.generation());
                    ps.setInt(3, partNo++);
                    ps.setInt(4, parts);
                    ps.setBinaryStream(5, part.asInput(), part.size());
                    ps.executeUpdate();
                } catch (SQLException e) {
                    throw new IllegalStateException("writing the salt snapshot failed: " + e.getMessage(), e);
                }
            });
            part.reset();
        }
    }
}
