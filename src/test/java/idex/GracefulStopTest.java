package idex;

import idex.store.embedded.EmbeddedPostgres;
import idex.support.ExchangeClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `idex serve` as a process, its output going to a file as under a service manager, stopped with SIGTERM: the log
 * reads cleanly (no stack trace, no colour escapes) and the process exits as a stopped service does.
 */
class GracefulStopTest {

    @TempDir
    Path dir;
    private Process server;

    @AfterEach
    void cleanUp() throws InterruptedException {
        if (server != null && server.isAlive()) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
        }
        // Only a killed server leaves its PostgreSQL running; after a graceful stop this finds nothing to do.
        EmbeddedPostgres.stopIfUnheld(dir);
    }

    @Test
    void sigtermStopsTheServerWithACleanLog() throws Exception {
        Path log = dir.resolve("server.log");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        server = new ProcessBuilder(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--data-dir", dir.resolve("data").toString(), "--port",
                Integer.toString(port), "--salt-buckets", "64", "--access-log"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        awaitHealthy(new ExchangeClient("http://127.0.0.1:" + port, null), log);

        server.destroy(); // SIGTERM
        assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("the server stops").isTrue();

        String text = Files.readString(log);
        // 143 = 128 + SIGTERM: the JVM's exit status after its shutdown hooks ran; 0 if main returned first
        assertThat(server.exitValue()).as(text).isIn(0, 143);
        assertThat(text).contains("idex listening on", "GET /ops/healthcheck 200", "idex stopped");
        assertThat(text).as("no stack trace").doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(text).as("no ANSI escapes in a log that is not a terminal").doesNotContain("\u001b");
    }

    private void awaitHealthy(ExchangeClient client, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            try {
                if (client.get("/ops/healthcheck").status() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                assertThat(server.isAlive()).as("the server process runs: " + Files.readString(log)).isTrue();
            }
            assertThat(System.nanoTime()).as("the server starts").isLessThan(deadline);
            LockSupport.parkNanos(50_000_000);
        }
    }
}
