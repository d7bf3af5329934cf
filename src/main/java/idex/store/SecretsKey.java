package idex.store;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/**
 * The key that seals secrets the store must keep (UID2 client secrets), so that a copy of the store alone reveals
 * none of them. A 256-bit AES key, from the environment variable {@value #ENV} (standard base64 of 32 bytes) or else
 * from the owner-only file {@value #FILE_NAME} in the data dir, created on first use. Values are sealed with
 * AES-256-GCM (random 12-byte IV, 128-bit tag) and the caller's associated data, which binds a sealed value to its
 * place (table, column, row) so that it cannot be moved to another row; stored as {@code v1:base64(iv‖ciphertext‖tag)}.
 */
public final class SecretsKey {

    public static final String ENV = "IDEX_SECRETS_KEY";
    public static final String FILE_NAME = "secrets.key";
    /** What a sealed value starts with; a stored value without it is from before sealing (plain). */
    public static final String PREFIX = "v1:";

    private static final int KEY_BYTES = 32;
    private static final int IV_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final SecretKeySpec key;
    /** Where the key came from, for messages: the file's path or the variable's name. */
    private final String source;
    private final boolean fromFile;

    private SecretsKey(byte[] raw, String source, boolean fromFile) {
        if (raw.length != KEY_BYTES) {
            throw new IllegalArgumentException("a secrets key is " + KEY_BYTES + " bytes, not " + raw.length);
        }
        this.key = new SecretKeySpec(raw, "AES");
        this.source = source;
        this.fromFile = fromFile;
    }

    /** The key of a node whose data dir is `dataDir`: {@value #ENV} if set, else the data dir's file. */
    public static SecretsKey load(Path dataDir) {
        return load(System.getenv(ENV), dataDir);
    }

    /** As {@link #load(Path)}, with the environment variable's value given (null or empty: not set). */
    public static SecretsKey load(String envValue, Path dataDir) {
        if (envValue != null && !envValue.isEmpty()) {
            return fromBase64(envValue, ENV);
        }
        if (dataDir == null) {
            throw new IllegalStateException("No place for the secrets key: give a data dir (where " + FILE_NAME
                    + " is kept) or set " + ENV + " to the base64 of 32 random bytes");
        }
        return fromFile(dataDir);
    }

    /** A key given as text, e.g. the environment variable's value; `source` names it in messages. */
    public static SecretsKey fromBase64(String base64, String source) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            raw = null;
        }
        if (raw == null || raw.length != KEY_BYTES) {
            throw new IllegalArgumentException(source + " is not a secrets key: it must be the standard base64 of "
                    + KEY_BYTES + " random bytes (44 characters), e.g. from `openssl rand -base64 32`");
        }
        return new SecretsKey(raw, source, false);
    }

    /** A key from its 32 bytes (tests, tools); `source` names it in messages. */
    public static SecretsKey of(byte[] raw, String source) {
        return new SecretsKey(raw.clone(), source, false);
    }

    /**
     * The key in `dataDir`/{@value #FILE_NAME}, created (owner-only, complete or not at all) if there is none yet.
     * Two processes creating it at once agree on one key: the file appears by a hard link, which unlike a rename
     * never replaces a file a racing creator put there first.
     */
    public static SecretsKey fromFile(Path dataDir) {
        Path dir = OwnerOnly.directory(dataDir);
        Path file = dir.resolve(FILE_NAME);
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                create(dir, file);
            }
            if (OwnerOnly.posix(file)) {
                Set<PosixFilePermission> mode = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
                if (!mode.equals(OWNER_ONLY)) {
                    Files.setPosixFilePermissions(file, OWNER_ONLY);
                }
            }
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            byte[] raw;
            try {
                raw = Base64.getDecoder().decode(text.strip());
            } catch (IllegalArgumentException e) {
                raw = null;
            }
            if (raw == null || raw.length != KEY_BYTES) {
                throw new IllegalStateException(file + " is not a secrets key (expected the base64 of " + KEY_BYTES
                        + " bytes); restore it from the backup kept apart from the store");
            }
            return new SecretsKey(raw, file.toString(), true);
        } catch (IOException e) {
            throw new IllegalStateException("Cannot read or create the secrets key " + file + ": " + e, e);
        }
    }

    private static void create(Path dir, Path file) throws IOException {
        byte[] raw = new byte[KEY_BYTES];
        RANDOM.nextBytes(raw);
        byte[] text = (Base64.getEncoder().encodeToString(raw) + "\n").getBytes(StandardCharsets.US_ASCII);
        Path temp = Files.createTempFile(dir, FILE_NAME + ".", ".tmp", OwnerOnly.fileAttributes(dir));
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(text);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.createLink(file, temp);
            } catch (FileAlreadyExistsException raced) {
                // another process created it meanwhile: its key is the key
            } catch (UnsupportedOperationException | IOException noLinks) {
                // a file system without hard links: an atomic rename, unless a racing creator got there first
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
                    } catch (AtomicMoveNotSupportedException e) {
                        throw new IOException("cannot create " + file + " atomically", e);
                    }
                }
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory(dir);
    }

    /** Makes the new file's directory entry durable where the platform allows it (secrets sealed later depend on it). */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException notSupported) {
            // e.g. Windows: directories cannot be opened; the file itself is synced
        }
    }

    /** Where the key came from: the file's path, or the environment variable's name. */
    public String source() {
        return source;
    }

    /** True if `stored` is a sealed value (else it is from before sealing, in plain text). */
    public static boolean isSealed(String stored) {
        return stored != null && stored.startsWith(PREFIX);
    }

    /** Seals `plain`, bound to `boundTo` (e.g. table, column and row id): the text to store. */
    public String seal(byte[] plain, String boundTo) {
        byte[] iv = new byte[IV_BYTES];
        RANDOM.nextBytes(iv);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            c.updateAAD(boundTo.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = c.doFinal(plain);
            return PREFIX + Base64.getEncoder().encodeToString(ByteBuffer.allocate(IV_BYTES + sealed.length)
                    .put(iv).put(sealed).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e, e);
        }
    }

    /**
     * Opens what {@link #seal} made for the same `boundTo`. `what` names the value in the message of the
     * {@link CannotOpen} thrown when it does not open: sealed with another key, moved from another row, or damaged.
     */
    public byte[] open(String stored, String boundTo, String what) {
        if (!isSealed(stored)) {
            throw new CannotOpen(what + " is not a sealed value (no " + PREFIX + " prefix)");
        }
        byte[] all;
        try {
            all = Base64.getDecoder().decode(stored.substring(PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new CannotOpen(what + " is damaged: its sealed text is not base64");
        }
        if (all.length < IV_BYTES + TAG_BITS / 8) {
            throw new CannotOpen(what + " is damaged: its sealed text is too short");
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, all, 0, IV_BYTES));
            c.updateAAD(boundTo.getBytes(StandardCharsets.UTF_8));
            return c.doFinal(all, IV_BYTES, all.length - IV_BYTES);
        } catch (AEADBadTagException e) {
            throw new CannotOpen(what + " cannot be opened with the key in " + source + ": "
                    + (fromFile ? "was the data dir's " + FILE_NAME + " replaced, or is this not the data dir (or the "
                    + ENV + ") of the node that sealed it? Restore the original key; every node on one database needs"
                    + " the same one" : "is " + ENV + " the key these secrets were sealed with (the first node's "
                    + FILE_NAME + " or " + ENV + ")? Every node on one database needs the same one"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is not available: " + e, e);
        }
    }

    /** A sealed value that does not open with this key; the message says which key was tried and what to check. */
    public static final class CannotOpen extends IllegalStateException {
        CannotOpen(String message) {
            super(message);
        }
    }

    @Override
    public String toString() {
        return "SecretsKey(" + source + ")";
    }
}
