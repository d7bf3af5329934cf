package idex.uid2;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.store.embedded.EmbeddedPostgres;
import idex.support.Uid2Http;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static idex.support.Commands.idex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default deployment as a new user runs it: 1,048,576 salt buckets, the server in its own JVM with exactly the
 * heap options of the `./idex` launcher, ten rotations of 1 % through the admin command while identity-map and
 * bucket requests are served. Each rotation must be answered by `/v2/identity/buckets` within 5 s, no request may
 * fail, and the server must never run out of memory (it did after one or two rotations when each change built a
 * second whole salt set).
 */
class RotationAtFullScaleTest {

    private static final int BUCKETS = 1_048_576;
    private static final int ROTATED = (int) Math.ceil(BUCKETS * 0.01);
    private static final Pattern ROTATED_AT = Pattern.compile("Rotated (\\d+) salt buckets at (\\S+)\\.");

    @TempDir
    Path dir;
    private Process server;

    @AfterEach
    void stop() throws InterruptedException {
        if (server != null) {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
        }
        EmbeddedPostgres.stopIfUnheld(dir.resolve("data"));
    }

    @Test
    void tenRotationsOfOnePercentAreEachAnsweredWithin5sUnderTheLaunchersHeap() throws Exception {
        Path data = dir.resolve("data");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(launcherJavaOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port), "--rotation-schedule", "off"));
        Path log = dir.resolve("server.log");
        server = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        String base = "http://127.0.0.1:" + port;
        Uid2Http http = new Uid2Http(base);
        awaitHealthy(http, log);

        JsonNode key = Uid2Http.JSON.readTree(idex("uid2", "client", "create", "--name", "load", "--roles", "MAPPER",
                "--json", "--data-dir", data.toString()));
        String k = key.get("key").asText();
        String secret = key.get("secret").asText();
        awaitKey(http, k, secret);

        // Requests served all along: identity maps and recent-bucket polls, as partners send them.
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger served = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread load = new Thread(() -> {
            int n = 0;
            while (running.get()) {
                String body = n++ % 2 == 0 ? "{\"email\":[\"user" + n + "@example.com\",\"other" + n + "@example.org\"]}"
                        : "{\"since_timestamp\":" + (System.currentTimeMillis() / 1000 - 60) + "}";
                String path = body.startsWith("{\"email") ? "/v2/identity/map" : "/v2/identity/buckets";
                Uid2Http.Answer a = http.callRaw(path, k, secret, body);
                if (a.status() != 200) {
                    failures.add(path + " → " + a.status() + " " + a.text());
                }
                served.incrementAndGet();
            }
        }, "load");
        load.start();
        try {
            List<Long> answeredMs = new ArrayList<>();
            for (int round = 1; round <= 10; round++) {
                String out = idex("uid2", "salts", "rotate", "--fraction", "0.01", "--min-age-days", "0",
                        "--data-dir", data.toString());
                long committed = System.nanoTime();
                Matcher m = ROTATED_AT.matcher(out);
                assertThat(m.find()).as(out).isTrue();
                assertThat(Integer.parseInt(m.group(1))).isEqualTo(ROTATED);
                Instant at = Instant.parse(m.group(2));
                long answered = awaitRotationAnswered(http, k, secret, at, committed);
                answeredMs.add(answered);
                assertThat(answered).as("round %d answered after %d ms", round, answered).isLessThanOrEqualTo(5_000);
                assertThat(server.isAlive()).as(Files.readString(log)).isTrue();
            }
            System.out.println("RotationAtFullScaleTest: rotations answered after " + answeredMs + " ms; "
                    + served.get() + " requests served meanwhile");
        } finally {
            running.set(false);
            load.join(30_000);
        }
        assertThat(failures).isEmpty();
        assertThat(served.get()).isPositive();
        assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError").contains("Applied " + ROTATED + " rotated");
    }

    /** Milliseconds from the rotation's commit until `/v2/identity/buckets` lists every bucket it rotated. */
    private static long awaitRotationAnswered(Uid2Http http, String key, String secret, Instant at, long committed) {
        String since = "{\"since_timestamp\":" + at.getEpochSecond() + "}";
        while (true) {
            JsonNode body = http.call("/v2/identity/buckets", key, secret, since).get("body");
            int rotatedNow = 0;
            for (JsonNode b : body) {
                long updated = java.time.LocalDateTime.parse(b.get("last_updated").asText())
                        .toInstant(java.time.ZoneOffset.UTC).toEpochMilli();
                if (updated == at.toEpochMilli()) {
                    rotatedNow++;
                }
            }
            long elapsed = (System.nanoTime() - committed) / 1_000_000;
            if (rotatedNow >= ROTATED || elapsed > 10_000) {
                return rotatedNow >= ROTATED ? elapsed : Long.MAX_VALUE;
            }
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
        }
    }

    /** The JVM options the `./idex` launcher gives the server by default (read from the script, to stay in step). */
    static List<String> launcherJavaOptions() throws Exception {
        Path script = Path.of("idex");
        Matcher m = Pattern.compile("IDEX_JAVA_OPTS:-([^}]*)}").matcher(Files.readString(script));
        assertThat(m.find()).as("the launcher's default JVM options").isTrue();
        return List.of(m.group(1).trim().split("\\s+"));
    }

    private void awaitHealthy(Uid2Http http, Path log) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(15).toNanos();
        while (true) {
            try {
                if (http.get("/ops/healthcheck").status() == 200) {
                    return;
                }
            } catch (AssertionError notYet) {
                assertThat(server.isAlive()).as("the server runs: %s", Files.readString(log)).isTrue();
            }
            assertThat(System.nanoTime()).as("the server starts").isLessThan(deadline);
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
    }

    /** Admin commands pick up the server's keys within a second or two. */
    private static void awaitKey(Uid2Http http, String key, String secret) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String recent = "{\"since_timestamp\":" + (System.currentTimeMillis() / 1000 + 3600) + "}";
        while (http.callRaw("/v2/identity/buckets", key, secret, recent).status() != 200) {
            assertThat(System.nanoTime()).as("the new key works").isLessThan(deadline);
            LockSupport.parkNanos(Duration.ofMillis(100).toNanos());
        }
    }
}
