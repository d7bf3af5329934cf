package idex.store;

import idex.store.embedded.EmbeddedPostgres;
import idex.support.ExchangeAccounts;
import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The embedded store, seen by a hostile local user while a server runs: nothing listens beyond loopback, the
 * store's port admits no one without the password kept in the owner-only data dir, and no file of the data dir
 * can be read by another user (tried as `nobody` when the test runs as root; checked by mode otherwise).
 */
class EmbeddedStoreSecurityTest {

    @TempDir
    Path parent;

    @Test
    void theStoreAdmitsOnlyTheOwnerAndTheDataDirIsOwnerOnly() throws Exception {
        Path dataDir = parent.resolve("data");
        try (TestServer server = TestServer.start(dataDir, 8)) {
            ExchangeAccounts.account(server, "Acme"); // some data, with a key hash, in the store
            server.createMapperKey();
            Path cluster = dataDir.resolve("postgres");
            long postmaster = Long.parseLong(Files.readAllLines(cluster.resolve("postmaster.pid")).get(0).trim());
            int storePort = Integer.parseInt(Files.readAllLines(cluster.resolve("postmaster.pid")).get(3).trim());

            // Every socket the server and its PostgreSQL listen on is on loopback (the configured host).
            List<String> listening = listeningAddresses(Set.of(ProcessHandle.current().pid(), postmaster));
            assertThat(listening).isNotEmpty().allSatisfy(a -> assertThat(a).startsWith("127.0.0.1:"));
            assertThat(listening).contains("127.0.0.1:" + storePort, "127.0.0.1:" + server.port());

            // No way in without the owner's password: not as idex, not as postgres, not without a password.
            for (String[] credentials : new String[][]{{EmbeddedPostgres.ROLE, ""}, {EmbeddedPostgres.ROLE, "guess"},
                    {"postgres", ""}, {"sa", ""}}) {
                assertThatThrownBy(() -> connect(storePort, credentials[0], credentials[1]))
                        .as("connecting as %s", credentials[0]).isInstanceOf(SQLException.class);
            }
            String password = Files.readString(dataDir.resolve("postgres.password")).strip();
            connect(storePort, EmbeddedPostgres.ROLE, password); // the owner's credential works

            // Every directory 0700 and every file 0600, PostgreSQL's own included.
            if (OwnerOnly.posix(dataDir)) {
                List<String> open = new ArrayList<>();
                try (Stream<Path> all = Files.walk(dataDir)) {
                    all.forEach(p -> {
                        try {
                            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
                            if (mode.stream().anyMatch(m -> m.name().startsWith("GROUP") || m.name().startsWith("OTHERS"))) {
                                open.add(dataDir.relativize(p) + " " + PosixFilePermissions.toString(mode));
                            }
                        } catch (IOException gone) {
                            // a file PostgreSQL removed while we walked
                        }
                    });
                }
                assertThat(open).as("files of the data dir that others may use").isEmpty();
            }

            // As another user: not a byte of the data dir, the password or the cluster can be read.
            assumeTrue(OwnerOnly.currentUid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv")),
                    "switching to another user needs root and setpriv");
            for (Path target : List.of(dataDir.resolve("postgres.password"), cluster.resolve("global/pg_control"),
                    cluster.resolve("postgresql.conf"))) {
                assertThat(asNobody("cat", target.toString())).as("nobody reads %s", target).isNotZero();
            }
            assertThat(asNobody("ls", dataDir.toString())).as("nobody lists the data dir").isNotZero();
            assertThat(asNobody("cat", "/etc/hostname")).as("the probe itself works").isZero();
        }
    }

    @Test
    void aDataDirThatOthersCanWriteIsRefused() throws IOException {
        Path dataDir = Files.createDirectory(parent.resolve("shared"));
        assumeTrue(OwnerOnly.posix(dataDir));
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> TestServer.start(dataDir, 8))
                .hasMessageContaining(dataDir.toAbsolutePath().normalize() + " is writable by other users")
                .hasMessageContaining("chmod 700");
        try (Stream<Path> left = Files.list(dataDir)) {
            assertThat(left).as("nothing is created in a refused data dir").isEmpty();
        }
    }

    @Test
    void aDataDirThatOthersCanReadIsMadeOwnerOnly() throws IOException {
        Path dataDir = Files.createDirectory(parent.resolve("readable"));
        assumeTrue(OwnerOnly.posix(dataDir));
        Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TestServer server = TestServer.start(dataDir, 8)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir))).isEqualTo("rwx------");
        }
    }

    private static void connect(int port, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", props).close();
    }

    private static int asNobody(String... command) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
        cmd.addAll(List.of(command));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    /** "addr:port" of every TCP socket in LISTEN state that one of `pids` holds (Linux /proc). */
    private static List<String> listeningAddresses(Set<Long> pids) throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/net/tcp")), "needs Linux /proc");
        Set<String> inodes = new HashSet<>();
        for (long pid : pids) {
            Path fds = Path.of("/proc", Long.toString(pid), "fd");
            try (Stream<Path> list = Files.list(fds)) {
                list.forEach(fd -> {
                    try {
                        String link = Files.readSymbolicLink(fd).toString();
                        if (link.startsWith("socket:[")) {
                            inodes.add(link.substring(8, link.length() - 1));
                        }
                    } catch (IOException closed) {
                        // closed while listed
                    }
                });
            }
        }
        List<String> out = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.isReadable(file)) {
                continue;
            }
            for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII).subList(1, Files.readAllLines(file).size())) {
                String[] f = line.trim().split("\\s+");
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    out.add(address(f[1]));
                }
            }
        }
        return out;
    }

    /**
     * /proc/net/tcp's "0100007F:1F90" as "127.0.0.1:8080"; an IPv4-mapped IPv6 address as its IPv4 address; other
     * IPv6 addresses as their hex.
     */
    private static String address(String hex) {
        String[] parts = hex.split(":");
        int port = Integer.parseInt(parts[1], 16);
        String v4 = parts[0].startsWith("0000000000000000FFFF0000") ? parts[0].substring(24) : parts[0];
        if (v4.length() != 8) {
            return parts[0] + ":" + port;
        }
        long ip = Long.parseLong(v4, 16);
        return (ip & 0xff) + "." + ((ip >> 8) & 0xff) + "." + ((ip >> 16) & 0xff) + "." + ((ip >> 24) & 0xff) + ":" + port;
    }
}
