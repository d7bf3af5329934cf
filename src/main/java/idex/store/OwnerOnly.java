package idex.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Files and directories that only the user running idex may read or write (0700 / 0600), and the check that a
 * directory idex keeps data in is not open to others. Assumes a hostile local user: on a POSIX file system nothing
 * idex creates is readable by another account, and a data dir that another account can write is refused, since
 * whoever can write it can swap the store, its binaries' cache or its keys.
 */
public final class OwnerOnly {

    private static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");

    private OwnerOnly() {
    }

    /** True where the file system has POSIX permissions (everywhere idex is supported but Windows). */
    public static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    public static FileAttribute<?>[] dirAttributes(Path path) {
        return posix(path) ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(DIR)} : new FileAttribute<?>[0];
    }

    public static FileAttribute<?>[] fileAttributes(Path path) {
        return posix(path) ? new FileAttribute<?>[]{PosixFilePermissions.asFileAttribute(FILE)} : new FileAttribute<?>[0];
    }

    /**
     * Creates `dir` (and missing parents) owner-only, or checks an existing one: it must belong to this user and no
     * one else may write it; group or other read access is taken away. Returns the directory.
     */
    public static Path directory(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        try {
            if (!Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
                if (abs.getParent() != null) {
                    Files.createDirectories(abs.getParent());
                }
                try {
                    Files.createDirectory(abs, dirAttributes(abs));
                } catch (FileAlreadyExistsException raced) {
                    // made by another process meanwhile: checked below like any existing directory
                }
            }
            if (!Files.isDirectory(abs, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalStateException(abs + " is not a directory");
            }
            if (!posix(abs)) {
                return abs;
            }
            int owner = (Integer) Files.getAttribute(abs, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            if (owner != currentUid()) {
                throw new IllegalStateException(abs + " belongs to another user (uid " + owner
                        + "); idex keeps its data only in a directory of its own user");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(abs, LinkOption.NOFOLLOW_LINKS);
            if (mode.contains(PosixFilePermission.GROUP_WRITE) || mode.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new IllegalStateException(abs + " is writable by other users (mode "
                        + PosixFilePermissions.toString(mode) + "); make it owner-only first: chmod 700 " + abs);
            }
            if (!mode.equals(DIR)) {
                Files.setPosixFilePermissions(abs, DIR);
            }
            return abs;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare directory " + abs + ": " + e.getMessage(), e);
        }
    }

    /** Writes `text` to a new owner-only file (replacing none: the caller checks absence), synced to disk. */
    public static void writeNewFile(Path file, byte[] content) throws IOException {
        Files.write(Files.createFile(file, fileAttributes(file)), content);
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    /** The numeric id of the user running this process (0 on a system without one). */
    public static int currentUid() {
        return UID;
    }

    private static final int UID = readUid();

    private static int readUid() {
        try {
            Path probe = Files.createTempFile("idex-uid", ".probe");
            try {
                return (Integer) Files.getAttribute(probe, "unix:uid");
            } finally {
                Files.deleteIfExists(probe);
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return 0;
        }
    }
}
