package idex.uid2.salts;

import org.jdbi.v3.core.Handle;

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
import java.util.Enumeration;
import java.util.List;
import java.util.Optional;

/**
 * The salt set as a binary snapshot in `uid2_salt_snapshot`, in parts of at most 8 MB so that neither database
 * nor driver ever handles one huge value. Written in the transaction of every change to the salt set.
 */
final class SaltSnapshots {

    private static final int PART_SIZE = 8 * 1024 * 1024;

    private SaltSnapshots() {
    }

    static void write(Handle h, SaltBuckets buckets) {
        h.createUpdate("DELETE FROM uid2_salt_snapshot").execute();
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new PartWriter(h, buckets), 1 << 16))) {
            buckets.writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the salt snapshot failed", e);
        }
    }

    /** The stored snapshot if it is of exactly this epoch and generation. */
    static Optional<SaltBuckets> read(Handle h, long epoch, long generation) {
        List<Integer> parts = h.createQuery("SELECT part FROM uid2_salt_snapshot WHERE epoch = :e AND generation = :g ORDER BY part")
                .bind("e", epoch).bind("g", generation).mapTo(Integer.class).list();
        if (parts.isEmpty()) {
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
                byte[] data = h.createQuery("SELECT data FROM uid2_salt_snapshot WHERE part = :p")
                        .bind("p", parts.get(next++)).mapTo(byte[].class).one();
                return new ByteArrayInputStream(data);
            }
        };
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(new SequenceInputStream(streams), 1 << 16))) {
            return Optional.of(SaltBuckets.readFrom(in));
        } catch (IOException e) {
            throw new UncheckedIOException("reading the salt snapshot failed", e);
        }
    }

    /** Buffers up to one part, then inserts it. */
    private static final class PartWriter extends OutputStream {
        private final Handle h;
        private final SaltBuckets buckets;
        private final ByteArrayOutputStream part = new ByteArrayOutputStream(PART_SIZE);
        private int partNo;

        PartWriter(Handle h, SaltBuckets buckets) {
            this.h = h;
            this.buckets = buckets;
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
                flushPart();
            }
        }

        private void flushPart() {
            h.createUpdate("INSERT INTO uid2_salt_snapshot (part, epoch, generation, data) VALUES (:p, :e, :g, :d)")
                    .bind("p", partNo++).bind("e", buckets.epoch()).bind("g", buckets.generation())
                    .bind("d", part.toByteArray()).execute();
            part.reset();
        }
    }
}
