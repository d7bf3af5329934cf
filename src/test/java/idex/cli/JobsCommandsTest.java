package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.jobs.store.JobFiles;
import idex.json.Json;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.ReadyJobs.csv;
import static idex.support.ReadyJobs.files;
import static idex.support.ReadyJobs.readyExport;
import static idex.support.ReadyJobs.waitingExport;
import static org.assertj.core.api.Assertions.assertThat;

/** `idex jobs list|upload|download` against a running server, as an operator or an endpoint would use them. */
class JobsCommandsTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";

    @TempDir
    static Path dataDir;
    @TempDir
    Path work;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 32);
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** `idex jobs …` with the server's URL and a key. */
    private static CommandRun jobs(String key, String... args) {
        return IdexCli.against(server, key, new String[]{"jobs"}, args);
    }

    private static String status(long jobId) {
        return acme.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0).get("status").asText();
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(work.resolve(name), content);
    }

    @Test
    void listShowsTheJobsOfACategoryAndStatus() throws Exception {
        long waiting = waitingExport(source, destination);
        long ready = readyExport(server, source, destination, files("a.csv", csv(3, 1)));

        CommandRun all = jobs(acme.client().key(), "list");
        assertThat(all.exitCode()).as(all.stderr()).isZero();
        assertThat(all.out()).startsWith("JOB").contains(waiting + " ").contains(ready + " ")
                .contains("WAITING_TO_RECIEVE_DATA").contains("READY_FOR_DOWNLOAD");

        CommandRun readyOnly = jobs(destination.client().key(), "list", "--status", "READY_FOR_DOWNLOAD", "--json");
        assertThat(readyOnly.exitCode()).as(readyOnly.stderr()).isZero();
        JsonNode listed = Json.MAPPER.readTree(readyOnly.out());
        assertThat(listed.findValuesAsText("jobId")).contains(Long.toString(ready)).doesNotContain(Long.toString(waiting));
        assertThat(listed.findValuesAsText("status")).containsOnly("READY_FOR_DOWNLOAD");

        CommandRun badStatus = jobs(acme.client().key(), "list", "--status", "DONE");
        assertThat(badStatus.exitCode()).isEqualTo(1);
        assertThat(badStatus.stderr()).contains("HTTP 400").contains("Unknown job status 'DONE'");
        assertThat(jobs(acme.client().key(), "list", "--category", "IDENTITY_IMPORT").out().lines()).hasSize(1);
    }

    @Test
    void anUploadIsStreamedAndTheJobGoesPending() throws Exception {
        long jobId = waitingExport(source, destination);
        byte[] content = "email,firstName\nann@example.com,Ann\nbob@example.com,Bob\n".getBytes(StandardCharsets.UTF_8);
        CommandRun run = jobs(source.client().key(), "upload", Long.toString(jobId), write("ann.csv", content).toString());
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.out()).isEqualTo("uploaded " + content.length + " bytes of ann.csv to job " + jobId + "\n");
        assertThat(status(jobId)).isNotEqualTo("WAITING_TO_RECIEVE_DATA");

        CommandRun again = jobs(source.client().key(), "upload", Long.toString(jobId), work.resolve("ann.csv").toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr()).contains("HTTP 409").contains("not WAITING_TO_RECIEVE_DATA");
    }

    @Test
    void anUploadIsGzippedOnTheFlyOrSentAsGzipWhenTheFileIs() throws Exception {
        byte[] content = csvWithEmails(20_000);
        long onTheFly = waitingExport(source, destination);
        CommandRun gz = jobs(source.client().key(), "upload", Long.toString(onTheFly),
                write("big.csv", content).toString(), "--gzip");
        assertThat(gz.exitCode()).as(gz.stderr()).isZero();
        assertThat(gz.out()).contains("(gzipped on the fly)");
        assertThat(status(onTheFly)).isNotEqualTo("WAITING_TO_RECIEVE_DATA");

        ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(compressed)) {
            out.write(content);
        }
        long asIs = waitingExport(source, destination);
        CommandRun file = jobs(source.client().key(), "upload", Long.toString(asIs),
                write("big.csv.gz", compressed.toByteArray()).toString());
        assertThat(file.exitCode()).as(file.stderr()).isZero();
        assertThat(file.out()).contains("(gzip)");
        assertThat(status(asIs)).isNotEqualTo("WAITING_TO_RECIEVE_DATA");
    }

    @Test
    void aRefusedUploadSaysWhyBeforeSendingALargeFile() throws Exception {
        long jobId = waitingExport(source, destination);
        Path big = write("big.csv", csvWithEmails(400_000)); // about 12 MB
        CommandRun wrongEndpoint = jobs(destination.client().key(), "upload", Long.toString(jobId), big.toString());
        assertThat(wrongEndpoint.exitCode()).isEqualTo(1);
        assertThat(wrongEndpoint.stderr()).contains("HTTP 403").contains("source endpoint");
        CommandRun unknown = jobs(source.client().key(), "upload", "987654321", big.toString());
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).contains("HTTP 404").contains("There is no job 987654321");
        CommandRun badKey = jobs("idex_nosuchkey_secret", "upload", Long.toString(jobId), big.toString());
        assertThat(badKey.exitCode()).isEqualTo(1);
        assertThat(badKey.stderr()).contains("HTTP 401").contains("--key");
        assertThat(status(jobId)).isEqualTo("WAITING_TO_RECIEVE_DATA");

        CommandRun noFile = jobs(source.client().key(), "upload", Long.toString(jobId), work.resolve("nope.csv").toString());
        assertThat(noFile.exitCode()).isEqualTo(2);
        assertThat(noFile.stderr()).contains("No readable file");
        CommandRun noKey = IdexCli.run("jobs", "upload", Long.toString(jobId), big.toString(), "--url", server.url(""),
                "--key", " ");
        assertThat(noKey.exitCode()).isEqualTo(2);
        assertThat(noKey.stderr()).contains("--key or the IDEX_KEY");
    }

    @Test
    void downloadWritesEveryFileThenCompletesTheJob() throws Exception {
        byte[] first = csv(20_000, 2);
        byte[] second = csv(10, 3);
        long jobId = readyExport(server, source, destination, files("part-1.csv", first, "part-2.csv", second));
        Path into = work.resolve("out");

        CommandRun run = jobs(destination.client().key(), "download", Long.toString(jobId), into.toString());
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(Files.readAllBytes(into.resolve("part-1.csv"))).isEqualTo(first);
        assertThat(Files.readAllBytes(into.resolve("part-2.csv"))).isEqualTo(second);
        try (Stream<Path> left = Files.list(into)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("part-1.csv", "part-2.csv");
        }
        assertThat(run.out()).contains("part-1.csv: " + first.length + " bytes")
                .contains("job " + jobId + ": 2 file(s), " + (first.length + second.length) + " bytes")
                .contains("job " + jobId + " is COMPLETE");
        assertThat(status(jobId)).isEqualTo("COMPLETE");
        assertThat(new JobFiles(server.filesDir()).outputDir(jobId)).doesNotExist();

        CommandRun again = jobs(destination.client().key(), "download", Long.toString(jobId), into.toString());
        assertThat(again.exitCode()).isEqualTo(1);
        assertThat(again.stderr()).contains("is COMPLETE, not READY_FOR_DOWNLOAD");
    }

    @Test
    void aCutDownloadResumesFromItsPartFile() throws Exception {
        byte[] content = csv(50_000, 4);
        byte[] whole = csv(5, 5);
        byte[] tooLong = csv(5, 6);
        long jobId = readyExport(server, source, destination,
                files("cut.csv", content, "whole.csv", whole, "stale.csv", tooLong));
        Path into = Files.createDirectories(work.resolve("resume"));
        int cut = 1_000_003;
        Files.write(into.resolve("cut.csv.part"), Arrays.copyOf(content, cut));
        Files.write(into.resolve("whole.csv.part"), whole);
        byte[] longer = Arrays.copyOf(tooLong, tooLong.length + 10); // not this file: started over
        Files.write(into.resolve("stale.csv.part"), longer);

        CommandRun run = jobs(acme.client().key(), "download", Long.toString(jobId), into.toString(), "--no-complete");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        assertThat(run.out()).contains("cut.csv: " + content.length + " bytes (resumed at " + cut + ")")
                .contains("whole.csv: " + whole.length + " bytes (already whole)")
                .doesNotContain("is COMPLETE");
        assertThat(Files.readAllBytes(into.resolve("cut.csv"))).isEqualTo(content);
        assertThat(Files.readAllBytes(into.resolve("whole.csv"))).isEqualTo(whole);
        assertThat(Files.readAllBytes(into.resolve("stale.csv"))).isEqualTo(tooLong);
        try (Stream<Path> parts = Files.list(into)) {
            assertThat(parts.filter(p -> p.toString().endsWith(".part"))).isEmpty();
        }
        assertThat(status(jobId)).as("--no-complete").isEqualTo("READY_FOR_DOWNLOAD");

        CommandRun rerun = jobs(acme.client().key(), "download", Long.toString(jobId), into.toString());
        assertThat(rerun.exitCode()).as(rerun.stderr()).isZero();
        assertThat(rerun.out()).contains("cut.csv: already in").contains("is COMPLETE");
        assertThat(status(jobId)).isEqualTo("COMPLETE");
    }

    @Test
    void downloadErrorsSayWhatIsWrong() throws Exception {
        String into = work.resolve("x").toString();
        CommandRun unknown = jobs(destination.client().key(), "download", "987654321", into);
        assertThat(unknown.exitCode()).isEqualTo(1);
        assertThat(unknown.stderr()).contains("HTTP 404").contains("There is no job 987654321");

        long waiting = waitingExport(source, destination);
        CommandRun notReady = jobs(destination.client().key(), "download", Long.toString(waiting), into);
        assertThat(notReady.exitCode()).isEqualTo(1);
        assertThat(notReady.stderr()).contains("is WAITING_TO_RECIEVE_DATA, not READY_FOR_DOWNLOAD");

        long ready = readyExport(server, source, destination, files("a.csv", csv(2, 7)));
        CommandRun producer = jobs(source.client().key(), "download", Long.toString(ready), into);
        assertThat(producer.exitCode()).isEqualTo(1);
        assertThat(producer.stderr()).contains("HTTP 403");
        CommandRun badKey = jobs("idex_nosuchkey_secret", "download", Long.toString(ready), into);
        assertThat(badKey.exitCode()).isEqualTo(1);
        assertThat(badKey.stderr()).contains("HTTP 401");
        assertThat(status(ready)).isEqualTo("READY_FOR_DOWNLOAD");

        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        CommandRun unreachable = IdexCli.run("jobs", "list", "--url", "http://127.0.0.1:" + closedPort, "--key", "k");
        assertThat(unreachable.exitCode()).isEqualTo(3);
        assertThat(unreachable.stderr()).contains("Could not connect to http://127.0.0.1:" + closedPort);
        CommandRun badUrl = IdexCli.run("jobs", "list", "--url", "ftp://example.com", "--key", "k");
        assertThat(badUrl.exitCode()).isEqualTo(2);
        assertThat(badUrl.stderr()).contains("--url");
    }

    /** A CSV the producer's declared identifiers accept: an email column. */
    private static byte[] csvWithEmails(int rows) {
        StringBuilder b = new StringBuilder("email,firstName\n");
        for (int i = 0; i < rows; i++) {
            b.append("person").append(i).append("@example.com,Name").append(i).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
