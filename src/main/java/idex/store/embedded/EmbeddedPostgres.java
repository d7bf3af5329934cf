package idex.store.embedded;

import idex.store.OwnerOnly;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;

/**
 * The default store: a PostgreSQL cluster in `<data-dir>/postgres`, started and stopped by idex.
 *
 * <ul>
 * <li>No open door. It listens on 127.0.0.1 only, on a port picked at each start, and accepts one role, `idex`,
 *     with SCRAM-SHA-256 and a random password kept in `<data-dir>/postgres.password` (0600). No Unix socket. The
 *     data dir is owner-only (0700), so no other local user can read the password, the cluster or the lock.</li>
 * <li>Durable. PostgreSQL's own defaults: every commit is in the WAL and fsync'd before the client hears of it.</li>
 * <li>Root. PostgreSQL refuses to run as root; started by root, idex runs initdb, pg_ctl and the server in a user
 *     namespace of their own (`unshare -U`), where they hold no capability over anything outside, and files keep the
 *     owner root.</li>
 * <li>One owner. The process that holds the lock on `<data-dir>/idex.lock` (a server for its lifetime, or an admin
 *     command while no server runs) starts the cluster, or reuses one left running by a process that was killed,
 *     and the server stops it when it stops. An admin command that finds the lock taken connects to the running
 *     cluster and leaves it alone.</li>
 * </ul>
 */
public final class EmbeddedPostgres implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedPostgres.class);
    public static final String ROLE = "idex";
    private static final String DATABASE = "postgres";
    /** How long a server waits for an admin command that holds the data dir to finish. */
    private static final Duration SERVER_LOCK_WAIT = Duration.ofSeconds(30);
    /** How long an admin command waits for the cluster of a server that is starting. */
    private static final Duration READY_WAIT = Duration.ofSeconds(60);

    private final Path dataDir;
    private final Path cluster;
    private final PostgresBinaries binaries;
    private final String password;
    private final int port;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final boolean stopOnClose;

    private EmbeddedPostgres(Path dataDir, PostgresBinaries binaries, String password, int port, FileChannel lockFile,
                             FileLock lock, boolean stopOnClose) {
        this.dataDir = dataDir;
        this.cluster = dataDir.resolve("postgres");
        this.binaries = binaries;
        this.password = password;
        this.port = port;
        this.lockFile = lockFile;
        this.lock = lock;
        this.stopOnClose = stopOnClose;
    }

    /** For `idex serve`: holds the data dir for the server's lifetime, starting (or reusing) the cluster. */
    public static EmbeddedPostgres forServer(Path dataDir) {
        Prepared p = prepare(dataDir);
        long deadline = System.nanoTime() + SERVER_LOCK_WAIT.toNanos();
        boolean told = false;
        FileLock lock;
        while ((lock = tryLock(p.lockFile)) == null) {
            String holder = holder(p.lockFile);
            if (holder.startsWith(Holder.SERVER.word) || System.nanoTime() > deadline) {
                close(p.lockFile);
                throw new IllegalStateException("Another idex " + (holder.isEmpty() ? "process" : holder)
                        + " holds data dir " + p.dir + "; stop it first, or give this server its own --data-dir"
                        + " (several nodes share one PostgreSQL through --db-url)");
            }
            if (!told) {
                LOG.info("Waiting for the idex {} that holds data dir {} to finish", holder.isEmpty() ? "process" : holder, p.dir);
                told = true;
            }
            pause(200);
        }
        markHolder(p.lockFile, Holder.SERVER);
        return own(p, lock, true);
    }

    /** What the lock file says of the process that holds it: "server (pid N)", "admin command (pid N)" or "". */
    private enum Holder {
        SERVER("server"), ADMIN("admin command");

        final String word;

        Holder(String word) {
            this.word = word;
        }
    }

    private static void markHolder(FileChannel lockFile, Holder holder) {
        try {
            lockFile.truncate(0);
            lockFile.write(java.nio.ByteBuffer.wrap((holder.word + " (pid " + ProcessHandle.current().pid() + ")")
                    .getBytes(StandardCharsets.UTF_8)), 0);
        } catch (IOException e) {
            LOG.debug("Cannot note the holder in the lock file: {}", e.toString());
        }
    }

    private static String holder(FileChannel lockFile) {
        try {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(200);
            int n = lockFile.read(buf, 0);
            return n <= 0 ? "" : new String(buf.array(), 0, n, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * For an admin command: the running server's cluster if a server holds the data dir, else this process holds it
     * while the command runs (starting the cluster if needed, and stopping what it started).
     */
    public static EmbeddedPostgres forAdmin(Path dataDir) {
        Prepared p = prepare(dataDir);
        FileLock lock = tryLock(p.lockFile);
        if (lock != null) {
            markHolder(p.lockFile, Holder.ADMIN);
            return own(p, lock, false);
        }
        close(p.lockFile);
        Path cluster = p.dir.resolve("postgres");
        long deadline = System.nanoTime() + READY_WAIT.toNanos();
        while (true) {
            Integer port = readyPort(cluster);
            if (port != null) {
                return new EmbeddedPostgres(p.dir, p.binaries, p.password, port, null, null, false);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Another idex process holds data dir " + p.dir
                        + " but its PostgreSQL did not become ready");
            }
            pause(200);
        }
    }

    /**
     * Stops the cluster of `dataDir` if it runs while no idex process holds the data dir (one left by a killed
     * server). Returns false when a process holds it.
     */
    public static boolean stopIfUnheld(Path dataDir) {
        Prepared p = prepare(dataDir);
        FileLock lock = tryLock(p.lockFile);
        if (lock == null) {
            close(p.lockFile);
            return false;
        }
        try {
            Path cluster = p.dir.resolve("postgres");
            if (Files.exists(cluster.resolve("postmaster.pid"))) {
                pgCtl(p.binaries, List.of("stop", "-D", cluster.toString(), "-m", "fast", "-w", "-t", "120"), true);
            }
            return true;
        } finally {
            release(lock, p.lockFile);
        }
    }

    private record Prepared(Path dir, PostgresBinaries binaries, String password, FileChannel lockFile) {
    }

    private static Prepared prepare(Path dataDir) {
        Path dir = OwnerOnly.directory(dataDir);
        if (Files.exists(dir.resolve("idex.mv.db")) && !Files.exists(dir.resolve("postgres"))) {
            throw new IllegalStateException(dir + " holds an H2 store (idex.mv.db) of an earlier idex. This idex keeps"
                    + " its data in an embedded PostgreSQL; start it on a new --data-dir (docs/operations.md)");
        }
        try {
            PostgresBinaries binaries = PostgresBinaries.unpacked(PostgresBinaries.defaultCache());
            String password = password(dir.resolve("postgres.password"));
            FileChannel lockFile = FileChannel.open(dir.resolve("idex.lock"), java.util.Set.of(StandardOpenOption.CREATE,
                    StandardOpenOption.READ, StandardOpenOption.WRITE), OwnerOnly.fileAttributes(dir));
            return new Prepared(dir, binaries, password, lockFile);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot prepare the store in " + dir + ": " + e.getMessage(), e);
        }
    }

    private static EmbeddedPostgres own(Prepared p, FileLock lock, boolean server) {
        try {
            Path cluster = p.dir.resolve("postgres");
            if (!Files.exists(cluster.resolve("PG_VERSION"))) {
                initdb(p.binaries, p.dir, p.password);
            }
            Integer running = readyPort(cluster);
            if (running != null && reachable(running, p.password)) {
                LOG.info("Reusing the PostgreSQL left running on port {} in {}", running, cluster);
                // a leftover of an admin command or a killed server: the server owns it from now on
                return new EmbeddedPostgres(p.dir, p.binaries, p.password, running, p.lockFile, lock, server);
            }
            if (Files.exists(cluster.resolve("postmaster.pid"))) {
                // a cluster that runs but does not answer us: stop it before starting our own
                pgCtl(p.binaries, List.of("stop", "-D", cluster.toString(), "-m", "immediate", "-w", "-t", "60"), true);
            }
            int port = start(p.binaries, cluster);
            cheapenPasswordHash(cluster, port, p.password);
            return new EmbeddedPostgres(p.dir, p.binaries, p.password, port, p.lockFile, lock, true);
        } catch (RuntimeException e) {
            release(lock, p.lockFile);
            throw e;
        }
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE;
    }

    public String user() {
        return ROLE;
    }

    public String password() {
        return password;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Stops the cluster if this process owns it and is the one to stop it; releases the data dir. */
    @Override
    public void close() {
        try {
            if (stopOnClose && lock != null) {
                pgCtl(binaries, List.of("stop", "-D", cluster.toString(), "-m", "fast", "-w", "-t", "120"), false);
            }
        } finally {
            release(lock, lockFile);
        }
    }

    // ---- cluster set-up and control -------------------------------------------------------------------------------

    private static void initdb(PostgresBinaries binaries, Path dir, String password) {
        Path staging = dir.resolve("postgres.init");
        try {
            deleteTree(staging);
            Path pwFile = dir.resolve("postgres.password");
            List<String> cmd = new ArrayList<>(List.of(binaries.bin("initdb").toString(), "-D", staging.toString(),
                    "-U", ROLE, "--auth=scram-sha-256", "--pwfile=" + pwFile, "-E", "UTF-8", "--no-locale"));
            run(binaries, cmd, "initdb");
            // Only we connect, over loopback TCP, with the password. No Unix socket (a socket in /tmp is a door).
            Files.writeString(staging.resolve("pg_hba.conf"),
                    "# idex: one role, loopback only, password (SCRAM-SHA-256)\n"
                            + "host " + DATABASE + " " + ROLE + " 127.0.0.1/32 scram-sha-256\n");
            Files.writeString(staging.resolve("postgresql.conf"), String.join("\n",
                    "",
                    "# idex: the embedded store",
                    "listen_addresses = '127.0.0.1'",
                    "unix_socket_directories = ''",
                    "password_encryption = 'scram-sha-256'",
                    "scram_iterations = 1",
                    "fsync = on",
                    "synchronous_commit = on",
                    "full_page_writes = on",
                    "max_connections = 60",
                    "logging_collector = on",
                    "log_directory = 'log'",
                    "log_filename = 'postgresql-%a.log'",
                    "log_rotation_age = '1d'",
                    "log_rotation_size = 0",
                    "log_truncate_on_rotation = on",
                    "log_file_mode = 0600",
                    ""), StandardOpenOption.APPEND);
            // The cluster appears whole or not at all: a start killed during initdb begins again.
            Files.move(staging, dir.resolve("postgres"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            LOG.info("Created the PostgreSQL cluster of the embedded store in {}", dir.resolve("postgres"));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the store in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Starts the cluster on a free loopback port; returns the port. */
    private static int start(PostgresBinaries binaries, Path cluster) {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int port = freePort();
            try {
                pgCtl(binaries, List.of("start", "-D", cluster.toString(), "-l", cluster.resolve("startup.log").toString(),
                        "-o", "-p " + port, "-w", "-t", "600", "-s"), false);
                return port;
            } catch (IllegalStateException e) {
                last = e; // most often the port was taken in between: try another
            }
        }
        throw last;
    }

    /**
     * Stores the role's password again as a SCRAM hash of one PBKDF2 iteration, once per cluster (initdb hashed it
     * with 4,096). Iterations slow down guessing a weak password; this one is 192 random bits, so they protect
     * nothing and only cost every new connection, on both sides, a tenth of the main thread's start-up CPU.
     */
    private static void cheapenPasswordHash(Path cluster, int port, String password) {
        Path done = cluster.resolve("idex-scram-iterations");
        if (Files.exists(done)) {
            return;
        }
        Properties props = new Properties();
        props.setProperty("user", ROLE);
        props.setProperty("password", password);
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, props);
             var st = c.createStatement()) {
            st.execute("SET scram_iterations = 1");
            st.execute("ALTER ROLE " + ROLE + " PASSWORD '" + password.replace("'", "''") + "'");
            OwnerOnly.writeNewFile(done, new byte[0]);
        } catch (SQLException | IOException e) {
            LOG.debug("Keeping the password hash initdb made: {}", e.toString()); // correct, only slower
        }
    }

    /** The port of a cluster that reports itself ready in its postmaster.pid, or null. */
    static Integer readyPort(Path cluster) {
        try {
            List<String> lines = Files.readAllLines(cluster.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            if (lines.size() < 8 || !lines.get(7).trim().equals("ready")) {
                return null;
            }
            long pid = Long.parseLong(lines.get(0).trim());
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                return Integer.parseInt(lines.get(3).trim());
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static boolean reachable(int port, String password) {
        Properties props = new Properties();
        props.setProperty("user", ROLE);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + DATABASE, props)) {
            return c.isValid(5);
        } catch (SQLException e) {
            return false;
        }
    }

    private static void pgCtl(PostgresBinaries binaries, List<String> args, boolean quiet) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.bin("pg_ctl").toString());
        cmd.addAll(args);
        try {
            run(binaries, cmd, "pg_ctl " + args.get(0));
        } catch (IllegalStateException e) {
            if (!quiet) {
                throw e;
            }
            LOG.warn("{}", e.getMessage());
        }
    }

    /** Runs a PostgreSQL program to its end, as an unprivileged user when this process is root. */
    private static void run(PostgresBinaries binaries, List<String> command, String what) {
        List<String> cmd = new ArrayList<>();
        if (OwnerOnly.currentUid() == 0) {
            cmd.addAll(List.of("unshare", "-U"));
        }
        cmd.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("LC_ALL", "C");
        pb.environment().put("TZ", "UTC");
        try {
            Process process = pb.start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = process.waitFor();
            if (exit != 0) {
                String hint = OwnerOnly.currentUid() == 0 && output.contains("unshare")
                        ? " (run as root, idex runs PostgreSQL in a user namespace of its own with `unshare -U`;"
                        + " where that is not allowed, run idex as an ordinary user)" : "";
                throw new IllegalStateException(what + " failed (exit " + exit + ")" + hint + ": " + tail(output)
                        + startupLog(command));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(what + " could not run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        }
    }

    private static String startupLog(List<String> command) {
        int i = command.indexOf("-l");
        if (i < 0) {
            return "";
        }
        try {
            return "\n" + tail(Files.readString(Path.of(command.get(i + 1))));
        } catch (IOException e) {
            return "";
        }
    }

    private static String tail(String text) {
        String t = text.strip();
        return t.length() <= 2000 ? t : "…" + t.substring(t.length() - 2000);
    }

    private static String password(Path file) throws IOException {
        if (!Files.exists(file)) {
            byte[] random = new byte[24];
            new SecureRandom().nextBytes(random);
            Path staging = file.resolveSibling(file.getFileName() + ".new");
            Files.deleteIfExists(staging);
            OwnerOnly.writeNewFile(staging, Base64.getUrlEncoder().withoutPadding().encodeToString(random)
                    .getBytes(StandardCharsets.US_ASCII));
            try {
                Files.move(staging, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                Files.deleteIfExists(staging);
            }
        }
        return Files.readString(file, StandardCharsets.US_ASCII).strip();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static FileLock tryLock(FileChannel channel) {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException e) {
            return null; // held by this very process (a test, or an admin command run in the server's JVM)
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void release(FileLock lock, FileChannel channel) {
        try {
            if (lock != null) {
                lock.release();
            }
        } catch (IOException ignored) {
            // the channel's close below releases it too
        }
        close(channel);
    }

    private static void close(FileChannel channel) {
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // nothing left to do with a lock file we are done with
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
