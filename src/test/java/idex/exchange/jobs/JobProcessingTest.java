package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.engine.JobProcessor;
import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.Eventually;
import idex.support.ExchangeClient;
import idex.support.LogLines;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** Processing of uploaded jobs: translation, counts, errorDetails, split files, the identity store, recovery. */
class JobProcessingTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final String DEST_IDS = "[{\"name\":\"workEmail\",\"type\":\"email\"},{\"name\":\"cookieId\"},"
            + "{\"name\":\"adId\"}]";
    private static final int ROWS_PER_FILE = 3;

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64, JobSettings.DEFAULT.withRowsPerFile(ROWS_PER_FILE));
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", DEST_IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static String export(TestEndpoint from, TestEndpoint to, String mappings, boolean updateIdentities) {
        return "{\"producerEndpointID\":" + from.endpointId() + ",\"producerSegmentID\":45311,\"destinationEndpointID\":"
                + to.endpointId() + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"cat\",\"shareAction\":\"ADD\","
                + "\"updateIdentities\":" + updateIdentities + "," + mappings + "}";
    }

    static long create(TestEndpoint from, String body) {
        ExchangeClient.Answer a = from.client().post("/v1/jobs/segmentExport", body);
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("jobId").asLong();
    }

    static void upload(TestEndpoint from, long jobId, String csv) {
        ExchangeClient.Answer a = from.client().upload("/v1/jobs/" + jobId + "/data", csv.getBytes(StandardCharsets.UTF_8), false);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
    }

    /** Polls the job until it reaches `status` (processing runs in the background), failing after 20 s. */
    static JsonNode awaitStatus(ExchangeClient client, String category, long jobId, String status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode job;
        do {
            job = client.get("/v1/jobs/" + category + "/" + jobId).json().get(0);
            if (job.get("status").asText().equals(status)) {
                return job;
            }
            LockSupport.parkNanos(10_000_000); // poll, don't spin: processing shares the CPU
        } while (System.nanoTime() < deadline);
        throw new AssertionError("job " + jobId + " did not reach " + status + ": " + job);
    }

    static List<String> fileLines(long jobId, JsonNode job) throws IOException {
        List<String> lines = new ArrayList<>();
        for (JsonNode name : job.get("segmentDataFiles")) {
            lines.addAll(Files.readAllLines(server.filesDir().resolve("jobs/" + jobId + "/files/" + name.asText())));
        }
        return lines;
    }

    /** Everything the identity store holds about the person with this email. */
    static JsonNode person(TestEndpoint e, String email) {
        JsonNode found = e.client().get("/v1/identity?email=" + email).json();
        assertThat(found).hasSize(1);
        return e.client().get("/v1/identity/" + found.get(0).get("x1Id").asText()).json();
    }

    static String sha256(String s) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void anExportTranslatesCountsAndListsBadRows() throws Exception {
        long jobId = create(source, export(source, destination,
                "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"},"
                        + "\"attributeMappings\":{\"firstName\":\"firstName\"}", false));
        upload(source, jobId, """
                email,cookieId,firstName,shoeSize
                 Ann@Example.com ,c1,Ann,38
                bob@example.com,,"Bob, Jr.",44
                short,row
                ,,Nobody,40
                ,c3,,41
                """);
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(5);
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(3);
        assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(3);
        assertThat(job.get("errorDetails").asText())
                .contains("shoeSize")
                .contains("2 rows were skipped")
                .contains("line 4: wrong column count")
                .contains("line 5: no identifier value");
        assertThat(job.get("segmentDataFiles")).hasSize(1);
        assertThat(job.get("segmentDataFiles").get(0).asText()).matches("[A-Za-z0-9_-]+-0001\\.csv");
        assertThat(fileLines(jobId, job)).containsExactly(
                "EMAIL_SHA256,cookieId,firstName",
                sha256("ann@example.com") + ",c1,Ann",
                sha256("bob@example.com") + ",,\"Bob, Jr.\"",
                ",c3,");
        assertThat(server.filesDir().resolve("jobs/" + jobId).toFile().list())
                .as("the upload is gone once processed").containsExactly("files");
    }

    @Test
    void bigOutputsAreSplitWithAHeaderInEveryFile() throws Exception {
        long jobId = create(source, export(source, destination, "\"identityMappings\":{\"email\":\"workEmail\"}", false));
        StringBuilder csv = new StringBuilder("email\n");
        for (int i = 1; i <= 7; i++) {
            csv.append("p").append(i).append("@example.com\n");
        }
        upload(source, jobId, csv.toString());
        JsonNode job = awaitStatus(destination.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(job.get("segmentDataFiles")).hasSize(3);
        List<String> lines = fileLines(jobId, job);
        assertThat(lines.stream().filter("workEmail"::equals)).hasSize(3);
        assertThat(lines.stream().filter(l -> !l.equals("workEmail")))
                .containsExactly("p1@example.com", "p2@example.com", "p3@example.com", "p4@example.com",
                        "p5@example.com", "p6@example.com", "p7@example.com");
        assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(7);
    }

    @Test
    void graphTranslationSendsTheDestinationsIdentifiersOfKnownPeopleOnly() throws Exception {
        TestEndpoint dest = ExchangeAccounts.endpoint(server, acme, registration("Graph", "destination", "pull", DEST_IDS));
        // The destination told the exchange which adIds belong to whom (via its events).
        String events = "{\"events\":["
                + "{\"code\":\"seen\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"g1\"},{\"name\":\"adId\",\"value\":\"AD-1\"}]},"
                + "{\"code\":\"seen\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"g1\"},{\"name\":\"adId\",\"value\":\"AD-2\"}]},"
                + "{\"code\":\"seen\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"g2\"},{\"name\":\"adId\",\"value\":\"AD-3\"}]}]}";
        assertThat(dest.client().post("/v1/event", events).status()).isEqualTo(200);
        long jobId = create(source, export(source, dest,
                "\"sourceIdentifiers\":[\"cookieId\"],\"destinationIdentifier\":\"adId\","
                        + "\"attributeMappings\":{\"firstName\":\"firstName\"}", false));
        upload(source, jobId, "cookieId,firstName\ng1,Ann\nunknown,Bob\ng2,Cy\n");
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(fileLines(jobId, job)).containsExactly("adId,firstName", "AD-1,Ann", "AD-2,Ann", "AD-3,Cy");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(3);
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(2);
        assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(3);
    }

    @Test
    void graphTranslationNeverSendsAnIdentifierThatItsContributorPublishFilters() throws Exception {
        TestAccount shop = ExchangeAccounts.account(server, "Shop");
        String ids = "[{\"name\":\"cookieId\"},{\"name\":\"deviceId\"}]";
        TestEndpoint app = ExchangeAccounts.endpoint(server, shop, registration("App", "event", null, ids));
        TestEndpoint crm = ExchangeAccounts.endpoint(server, shop, registration("CRM", "source", "push", ids));
        TestEndpoint ads = ExchangeAccounts.endpoint(server, shop, registration("Ads", "destination", "pull", ids));
        // The app's deviceIds must never leave the exchange, whoever exports the people they belong to.
        assertThat(app.client().post("/v1/identityfilters",
                "[{\"identifierName\":\"deviceId\",\"publishFilter\":true}]").status()).isEqualTo(201);
        String seen = "{\"code\":\"seen\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"identifiers\":"
                + "[{\"name\":\"cookieId\",\"value\":\"%s\"},{\"name\":\"deviceId\",\"value\":\"%s\"}]}";
        assertThat(app.client().post("/v1/event", "{\"events\":[" + seen.formatted("k1", "APP-DEV-1") + ","
                + seen.formatted("k2", "SHARED-DEV") + "]}").status()).isEqualTo(200);
        assertThat(crm.client().post("/v1/event", "{\"events\":[" + seen.formatted("k1", "CRM-DEV-1") + ","
                + seen.formatted("k2", "SHARED-DEV") + "]}").status()).isEqualTo(200);

        long jobId = create(crm, export(crm, ads,
                "\"sourceIdentifiers\":[\"cookieId\"],\"destinationIdentifier\":\"deviceId\"", false));
        upload(crm, jobId, "cookieId\nk1\nk2\n");
        JsonNode job = awaitStatus(crm.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        // The CRM contributed SHARED-DEV too: what it sources may go; what only the app contributed may not.
        assertThat(fileLines(jobId, job)).containsExactly("deviceId", "CRM-DEV-1", "SHARED-DEV");
    }

    @Test
    void identityFiltersKeepWithheldIdentifiersOutOfTheFiles() throws Exception {
        TestEndpoint from = ExchangeAccounts.endpoint(server, acme, registration("Filtered", "source", "push", IDS));
        assertThat(from.client().post("/v1/identityfilters",
                "[{\"identifierName\":\"cookieId\",\"publishFilter\":true}]").status()).isEqualTo(201);
        long jobId = create(from, export(from, destination,
                "\"identityMappings\":{\"email\":\"workEmail\",\"cookieId\":\"cookieId\"}", false));
        upload(from, jobId, "email,cookieId\na@example.com,secret-cookie\n");
        JsonNode job = awaitStatus(from.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        List<String> lines = fileLines(jobId, job);
        assertThat(lines).containsExactly("workEmail", "a@example.com");
        assertThat(String.join("\n", lines)).doesNotContain("secret-cookie").doesNotContain("cookieId");
    }

    @Test
    void updateIdentitiesSpawnsAPopulateJobThatFeedsTheIdentityStore() {
        TestAccount other = ExchangeAccounts.account(server, "Other");
        TestEndpoint from = ExchangeAccounts.endpoint(server, other, registration("CRM", "source", "push", IDS));
        TestEndpoint to = ExchangeAccounts.endpoint(server, other, registration("Ads", "destination", "pull", DEST_IDS));
        long jobId = create(from, export(from, to, "\"identityMappings\":{\"email\":\"workEmail\"}", true));
        upload(from, jobId, "email,cookieId\nzed@example.com,z1\nyan@example.com,y1\n");
        awaitStatus(from.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        JsonNode populate = null;
        while (System.nanoTime() < deadline) {
            JsonNode all = other.client().get("/v1/jobs/SEGMENT_POPULATE_DB?extraFields=true").json();
            if (all.size() == 1 && all.get(0).get("status").asText().equals("COMPLETE")) {
                populate = all.get(0);
                break;
            }
            LockSupport.parkNanos(10_000_000); // poll, don't spin: processing shares the CPU
        }
        assertThat(populate).as("a COMPLETE SEGMENT_POPULATE_DB job").isNotNull();
        assertThat(populate.get("jobName").asText()).isEqualTo("POPULATE_DB");
        assertThat(populate.get("sourceRecordCount").asLong()).isEqualTo(2);
        assertThat(populate.get("translatedRecordCount").asLong()).isEqualTo(2);
        assertThat(person(from, "zed@example.com").toString()).contains("\"z1\"");
        assertThat(source.client().get("/v1/identity?email=zed@example.com").json())
                .as("another account never sees it").isEmpty();
    }

    @Test
    void anIdentityImportResolvesRowsAndCompletes() {
        TestAccount other = ExchangeAccounts.account(server, "Importer");
        TestEndpoint from = ExchangeAccounts.endpoint(server, other, registration("CRM", "source", "push", IDS));
        ExchangeClient.Answer created = from.client().post("/v1/jobs/identityImport",
                "{\"producerEndpointID\":" + from.endpointId() + ",\"producerSegmentID\":1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long jobId = created.json().get("jobId").asLong();
        upload(from, jobId, "email,cookieId\nann@example.com,a1\nann@example.com,a2\nbad,row,extra\n");
        JsonNode job = awaitStatus(from.client(), "IDENTITY_IMPORT", jobId, "COMPLETE");
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(3);
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(2);
        assertThat(job.get("errorDetails").asText()).contains("line 4: wrong column count");
        assertThat(person(from, "ann@example.com").toString()).contains("\"a1\"").contains("\"a2\"");
        assertThat(server.filesDir().resolve("jobs/" + jobId)).doesNotExist();
    }

    @Test
    void eachFinishedRunLogsOneLineWithItsRowsAndDuration() {
        try (LogLines log = LogLines.of(JobProcessor.class)) {
            long exportId = create(source, export(source, destination,
                    "\"identityMappings\":{\"email\":\"workEmail\"}", true));
            // a row to export, one with no email (nothing to export, but a cookieId to store), one with nothing at all
            upload(source, exportId, "email,cookieId\na@example.com,c1\n,c2\n,\n");
            awaitStatus(source.client(), "SEGMENT_EXPORT", exportId, "READY_FOR_DOWNLOAD");
            // the export spawned its SEGMENT_POPULATE_DB job, which runs next
            long populateId = server.database().jdbi().withHandle(h -> h.createQuery(
                    "SELECT job_id FROM exchange_job WHERE parent_job_id = :id").bind("id", exportId).mapTo(Long.class).one());
            Eventually.await("the runs' lines", () -> finished(log, exportId, populateId), lines -> lines.size() == 2);

            assertThat(finished(log, exportId, populateId)).satisfiesExactly(
                    line -> assertThat(line).matches("Job " + exportId + " \\(SEGMENT_EXPORT\\) finished"
                            + "( while its upload arrived)? in \\d+ ms: 3 rows in, 1 out, 1 skipped"),
                    line -> assertThat(line).matches("Job " + populateId + " \\(SEGMENT_POPULATE_DB\\) finished"
                            + " in \\d+ ms: 3 rows in, 2 out, 1 skipped"));
        }
    }

    private static List<String> finished(LogLines log, long... jobIds) {
        List<String> lines = new ArrayList<>();
        for (long id : jobIds) {
            log.messages().stream().filter(m -> m.startsWith("Job " + id + " (") && m.contains(" finished")).forEach(lines::add);
        }
        return lines;
    }

    @Test
    void aFileThatStopsBeingUtf8FailsTheJobWithTheLine() {
        long jobId = create(source, export(source, destination, "\"identityMappings\":{\"email\":\"workEmail\"}", false));
        StringBuilder csv = new StringBuilder("email\n");
        for (int i = 0; i < 5000; i++) {
            csv.append("person").append(i).append("@example.com\n"); // past the 64 KiB the upload check reads
        }
        byte[] head = csv.toString().getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[head.length + 4];
        System.arraycopy(head, 0, body, 0, head.length);
        body[head.length] = (byte) 0xC3;
        body[head.length + 1] = (byte) 0x28;
        body[head.length + 2] = '\n';
        body[head.length + 3] = '\n';
        assertThat(source.client().upload("/v1/jobs/" + jobId + "/data", body, false).status()).isEqualTo(200);
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        assertThat(job.get("errorDetails").asText()).contains("not valid UTF-8");
        assertThat(job.get("segmentDataFiles")).isEmpty();
    }

    @Test
    void aRowOfMoreFieldsThanARecordMayHoldFailsTheJobWithTheLine() {
        long jobId = create(source, export(source, destination, "\"identityMappings\":{\"email\":\"workEmail\"}", false));
        String csv = "email\nann@example.com\nbob@example.com" + ",".repeat(20_000) + "\n";
        assertThat(source.client().upload("/v1/jobs/" + jobId + "/data", csv.getBytes(StandardCharsets.UTF_8), false)
                .status()).isEqualTo(200);
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        assertThat(job.get("errorDetails").asText()).contains("not readable CSV after line")
                .contains("the row starting at line 3 has more than 16384 fields");
        assertThat(job.get("segmentDataFiles")).isEmpty();
    }

    @Test
    void aRunCutOffByACrashIsTakenBackAndRunAgainAtTheNextStart() throws Exception {
        long jobId = create(source, export(source, destination, "\"identityMappings\":{\"email\":\"workEmail\"}", false));
        // A node that died mid-run: RUNNING under its claim, a heartbeat long ago, some of its output on disk.
        Path upload = server.filesDir().resolve("jobs/" + jobId + "/upload-crashed.csv");
        Files.createDirectories(upload.getParent());
        Files.writeString(upload, "email\nx@example.com\ny@example.com\n");
        Path stray = server.filesDir().resolve("jobs/" + jobId + "/files/half-0001.csv");
        Files.createDirectories(stray.getParent());
        Files.writeString(stray, "workEmail\nx@example.com\n");
        server.database().jdbi().useHandle(h -> h.createUpdate("UPDATE exchange_job SET status = 'RUNNING',"
                + " claimed_by = 'dead-node', heartbeat = 0, attempts = 1, upload_file = 'upload-crashed.csv'"
                + " WHERE job_id = :id").bind("id", jobId).execute());
        server.restart();
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(fileLines(jobId, job)).containsExactly("workEmail", "x@example.com", "y@example.com");
        assertThat(stray).as("the cut-off run's file is gone").doesNotExist();
        assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(2);
    }

    @Test
    void aJobWhoseRunsKeepBeingCutOffEndsInError() {
        long jobId = create(source, export(source, destination, "\"identityMappings\":{\"email\":\"workEmail\"}", false));
        server.database().jdbi().useHandle(h -> h.createUpdate("UPDATE exchange_job SET status = 'RUNNING',"
                + " claimed_by = 'dead-node', heartbeat = 0, attempts = 3 WHERE job_id = :id").bind("id", jobId).execute());
        server.restart();
        JsonNode job = awaitStatus(source.client(), "SEGMENT_EXPORT", jobId, "ERROR");
        assertThat(job.get("errorDetails").asText()).contains("cut off 3 times");
    }
}
