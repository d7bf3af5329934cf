package idex.exchange.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.store.embedded.EmbeddedPostgres;
import idex.json.Json;
import idex.support.Eventually;
import idex.support.ExchangeClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.Commands.idex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server process killed with SIGKILL during an upload and during processing, then started again on the same
 * store: the job ends complete with exactly the rows it was sent (none lost, none twice), or waits for its data again.
 */
class JobCrashTest {

    private static final int ROWS = 400_000;

    @TempDir
    Path dir;
    private Process server;
    private int port;

    @AfterEach
    void stopServer() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
        }
        // A killed server leaves its PostgreSQL running (the next start reuses it): stop it with the test.
        EmbeddedPostgres.stopIfUnheld(dir);
    }

    @Test
    void killedDuringUploadAndDuringProcessingTheJobStillEndsWithEveryRowOnce() throws Exception {
        JsonNode account = Json.MAPPER.readTree(idex("account", "create", "Acme", "--json", "--data-dir", dir.toString()));
        start();
        ExchangeClient acme = new ExchangeClient("http://127.0.0.1:" + port, account.get("key").asText());
        String ids = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
        JsonNode source = acme.post("/v1/endpoint", registration("CRM", "source", "push", ids)).json();
        JsonNode destination = acme.post("/v1/endpoint", registration("Ads", "destination", "pull", ids)).json();
        ExchangeClient crm = acme.withKey(source.get("key").asText());
        ExchangeClient.Answer created = crm.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + source.get("endpointId") + ",\"producerSegmentID\":7,\"destinationEndpointID\":"
                + destination.get("endpointId") + ",\"destinationSegmentName\":\"s\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"}}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long jobId = created.json().get("jobId").asLong();

        // 1. Killed while the upload streams in (and is processed as it arrives): the job still waits for data, and
        //    neither the partial upload nor the segment files its processing had begun are left.
        CountDownLatch halfway = new CountDownLatch(1);
        Thread uploader = new Thread(() -> {
            try {
                crm.upload("/v1/jobs/" + jobId + "/data", () -> new Rows(ROWS, 2_000_000, halfway));
            } catch (RuntimeException expected) {
                // the server died under it
            }
        });
        uploader.start();
        assertThat(halfway.await(60, TimeUnit.SECONDS)).isTrue();
        Eventually.await("the upload's processing to begin its first segment file", this::segmentFiles,
                n -> n > 0);
        kill();
        uploader.join(30_000);
        // 2. is about a run of the queue: this start processes uploads only once they are whole
        start("--no-follow-uploads");
        assertThat(status(crm, jobId)).isEqualTo("WAITING_TO_RECIEVE_DATA");
        try (Stream<Path> files = Files.walk(dir.resolve("files"))) {
            assertThat(files.filter(Files::isRegularFile)).isEmpty();
        }

        // 2. The whole upload, then killed while the job runs.
        ExchangeClient.Answer uploaded = crm.upload("/v1/jobs/" + jobId + "/data", () -> new Rows(ROWS, -1, null));
        assertThat(uploaded.status()).as(uploaded.body()).isEqualTo(200);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!status(crm, jobId).equals("RUNNING")) {
            assertThat(System.nanoTime()).as("the job starts running").isLessThan(deadline);
            LockSupport.parkNanos(2_000_000);
        }
        // Mid-run: its first segment file has data. (Killed at the very moment the job turned RUNNING, the store may
        // not yet have that change on disk; the job is then simply PENDING again, which proves less.)
        Eventually.await("the run to write its first segment file", this::segmentBytes, n -> n > 0);
        kill();
        start();
        deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!status(crm, jobId).equals("READY_FOR_DOWNLOAD")) {
            assertThat(System.nanoTime()).as("the job is run again to its end").isLessThan(deadline);
            assertThat(status(crm, jobId)).isNotEqualTo("ERROR");
            LockSupport.parkNanos(20_000_000);
        }
        assertThat(Files.readString(dir.resolve("server.log"))).as("the cut-off run was taken back, not lost")
                .contains("Took back 1 running job");

        JsonNode job = crm.get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(ROWS);
        assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(ROWS);
        // Every row exactly once and in order, across all the files of the finished run.
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        HexFormat hex = HexFormat.of();
        long row = 0;
        for (JsonNode name : job.get("segmentDataFiles")) {
            try (BufferedReader r = Files.newBufferedReader(dir.resolve("files/jobs/" + jobId + "/files/" + name.asText()))) {
                assertThat(r.readLine()).isEqualTo("EMAIL_SHA256,cookieId");
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    String email = "user" + row + "@example.com";
                    assertThat(line).isEqualTo(hex.formatHex(sha.digest(email.getBytes(StandardCharsets.UTF_8))) + ",c" + row);
                    row++;
                }
            }
        }
        assertThat(row).isEqualTo(ROWS);
        try (Stream<Path> files = Files.list(dir.resolve("files/jobs/" + jobId + "/files"))) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
                    .as("only the finished run's files").isEqualTo(
                            json(job.get("segmentDataFiles")).stream().sorted().toList());
        }
    }

    private static List<String> json(JsonNode array) {
        return Json.MAPPER.convertValue(array, Json.MAPPER.getTypeFactory().constructCollectionType(List.class, String.class));
    }

    private static String status(ExchangeClient c, long jobId) {
        ExchangeClient.Answer a = c.get("/v1/jobs/SEGMENT_EXPORT/" + jobId);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get(0).get("status").asText();
    }

    /** Starts the server process, on the same port each time so that clients keep working across restarts. */
    private void start(String... options) throws Exception {
        if (port == 0) {
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--data-dir", dir.toString(), "--port", Integer.toString(port),
                "--salt-buckets", "64", "--rotation-schedule", "off", "--job-stale-after", "1s",
                "--segment-file-rows", "150000"));
        command.addAll(List.of(options));
        server = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
                .start();
        ExchangeClient probe = new ExchangeClient("http://127.0.0.1:" + port, null);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                if (probe.get("/ops/healthcheck").status() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                assertThat(server.isAlive()).as("the server process runs: " + Files.readString(dir.resolve("server.log"))).isTrue();
            }
            assertThat(System.nanoTime()).as("the server starts").isLessThan(deadline);
            LockSupport.parkNanos(50_000_000);
        }
    }

    /** Bytes in segment data files on disk, of any run. */
    private long segmentBytes() {
        try (Stream<Path> files = Files.walk(dir.resolve("files"))) {
            return files.filter(p -> p.getParent().getFileName().toString().equals("files")
                    && p.toString().endsWith(".csv")).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Segment data files on disk, of any run. */
    private long segmentFiles() {
        try (Stream<Path> files = Files.walk(dir.resolve("files"))) {
            return files.filter(p -> p.getParent().getFileName().toString().equals("files")
                    && p.toString().endsWith(".csv")).count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void kill() throws InterruptedException {
        server.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        server = null;
    }

    /** A CSV of `rows` generated rows, produced as it is read; after `signalAt` bytes it counts down `signal`. */
    private static final class Rows extends InputStream {
        private final int rows;
        private final long signalAt;
        private final CountDownLatch signal;
        private byte[] chunk = "email,cookieId\n".getBytes(StandardCharsets.UTF_8);
        private int pos;
        private int next;
        private long sent;

        Rows(int rows, long signalAt, CountDownLatch signal) {
            this.rows = rows;
            this.signalAt = signalAt;
            this.signal = signal;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (pos == chunk.length) {
                if (next == rows) {
                    return -1;
                }
                StringBuilder s = new StringBuilder();
                for (int end = Math.min(rows, next + 1000); next < end; next++) {
                    s.append("user").append(next).append("@example.com,c").append(next).append('\n');
                }
                chunk = s.toString().getBytes(StandardCharsets.UTF_8);
                pos = 0;
            }
            int n = Math.min(len, chunk.length - pos);
            System.arraycopy(chunk, pos, b, off, n);
            pos += n;
            sent += n;
            if (signal != null && sent >= signalAt) {
                signal.countDown();
                if (sent > signalAt + 1_000_000) {
                    LockSupport.parkNanos(100_000_000); // hold the upload open until the kill
                }
            }
            return n;
        }
    }
}
