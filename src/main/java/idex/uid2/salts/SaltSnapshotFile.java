package idex.uid2.salts;

import idex.store.OwnerOnly;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;

/**
 * The server's own copy of the salt set in its data dir (owner-only, like the store), so that a start reads one file
 * instead of a hundred MB of `bytea` through the store: that read was a third of a start's wall time. The store's
 * snapshot stays the source of truth, which several servers share; the copy is used only when it is of this store
 * (a digest of its random id secret and first-level salt: a data dir may be pointed at another store), of its epoch,
 * no newer than its generation and no older than its snapshot, and whole (a CRC-32C trailer). Anything else, a
 * missing or damaged copy included, means the store's snapshot is read, as before.
 */
final class SaltSnapshotFile {

    private static final Logger LOG = LoggerFactory.getLogger(SaltSnapshotFile.class);

    private static final int FORMAT = 0x49445843; // "IDXC"
    private static final int MARK_LENGTH = 32;

    private final Path file;
    /** The generation of the copy on disk as this process last read or wrote it; -1 when there is none usable. */
    private volatile long generation = -1;

    SaltSnapshotFile(Path file) {
        this.file = file;
    }

    /** What tells this store's salt sets from another's, without writing its id secret down a second time. */
    static byte[] markOf(SaltSettings settings) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(settings.idSecret().getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(settings.firstLevelSalt().getBytes(StandardCharsets.UTF_8));
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    long generation() {
        return generation;
    }

    /** The copy, if it is whole, of the store `settings` describe, of their epoch and at most their generation. */
    Optional<SaltBuckets> read(SaltSettings settings) {
        return read(settings, settings.generation());
    }

    /** The same, at a generation of at most `maxGeneration`. */
    Optional<SaltBuckets> read(SaltSettings settings, long maxGeneration) {
        long epoch = settings.epoch();
        CRC32C crc = new CRC32C();
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
             DataInputStream in = new DataInputStream(new CheckedInputStream(raw, crc))) {
            byte[] mark = new byte[MARK_LENGTH];
            if (in.readInt() != FORMAT) {
                return Optional.empty();
            }
            in.readFully(mark);
            if (!MessageDigest.isEqual(mark, markOf(settings))) {
                return Optional.empty(); // the copy of another store's set
            }
            SaltBuckets set = SaltBuckets.readFrom(in);
            long computed = crc.getValue();
            long stored = new DataInputStream(raw).readLong();
            if (stored != computed || raw.read() != -1) {
                LOG.warn("The salt set's copy {} is damaged; reading the store's snapshot instead", file);
                return Optional.empty();
            }
            if (set.epoch() != epoch || set.generation() > maxGeneration) {
                return Optional.empty(); // another salt set was imported, or the copy is from elsewhere
            }
            generation = set.generation();
            return Optional.of(set);
        } catch (NoSuchFileException first) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.warn("The salt set's copy {} is unreadable ({}); reading the store's snapshot instead", file, e.toString());
            return Optional.empty();
        }
    }

    /**
     * Replaces the copy with `set`, written to a temporary file, forced to disk and renamed over the old one, so
     * that a crash leaves the old copy or the new one. `stillValid` is asked once the set has been read: when it says
     * false (the set changed meanwhile) nothing is replaced. Returns whether the copy was replaced.
     */
    boolean write(SaltBuckets set, SaltSettings settings, BooleanSupplier stillValid) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, OwnerOnly.fileAttributes(temp));
        boolean replaced = false;
        try {
            try (FileOutputStream fos = new FileOutputStream(temp.toFile());
                 BufferedOutputStream buffered = new BufferedOutputStream(fos, 1 << 16)) {
                CRC32C crc = new CRC32C();
                DataOutputStream out = new DataOutputStream(new CheckedOutputStream(buffered, crc));
                out.writeInt(FORMAT);
                out.write(markOf(settings));
                set.writeTo(out);
                out.flush();
                new DataOutputStream(buffered).writeLong(crc.getValue());
                buffered.flush();
                if (!stillValid.getAsBoolean()) {
                    return false;
                }
                fos.getFD().sync();
            }
            try {
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            replaced = true;
            generation = set.generation();
            return true;
        } finally {
            if (!replaced) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
