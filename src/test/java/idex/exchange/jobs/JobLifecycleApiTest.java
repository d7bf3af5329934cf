package idex.exchange.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** Creating segment exports and identity imports, finding them, failing and completing them (seed 004). */
class JobLifecycleApiTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final String DEST_IDS = "[{\"name\":\"workEmail\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint source;
    static TestEndpoint destination;
    static TestEndpoint otherSource;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", DEST_IDS));
        otherSource = ExchangeAccounts.endpoint(server, acme, registration("Web", "source", "push", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String export(long producer, long dest, String mappings) {
        return "{\"producerEndpointID\":" + producer + ",\"producerSegmentID\":45311,\"destinationEndpointID\":" + dest
                + ",\"destinationSegmentName\":\"myDestSegName\",\"exportCategory\":\"mycat2\",\"shareAction\":\"ADD\","
                + "\"updateIdentities\":false,\"identityMappings\":" + mappings + ",\"attributeMappings\":{}}";
    }

    @Test
    void aSegmentExportWaitsForDataAndIsFoundByStatus() {
        ExchangeClient.Answer created = source.client().post("/v1/jobs/segmentExport",
                export(source.endpointId(), destination.endpointId(), "{\"email\":\"workEmail\"}"));
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        JsonNode job = created.json();
        long jobId = job.get("jobId").asLong();
        assertThat(job.get("status").asText()).isEqualTo("WAITING_TO_RECIEVE_DATA");
        assertThat(job.get("jobName").asText()).isEqualTo("EXPORT_SEGMENT");
        assertThat(job.get("jobCategory").asText()).isEqualTo("SEGMENT_EXPORT");
        assertThat(job.get("producerEndpointID").asLong()).isEqualTo(source.endpointId());
        assertThat(job.get("destinationEndpointID").asLong()).isEqualTo(destination.endpointId());
        assertThat(job.get("identityMappings").get("email").asText()).isEqualTo("workEmail");
        assertThat(job.get("accountId").asLong()).isEqualTo(acme.accountId());

        JsonNode waiting = source.client().get("/v1/jobs/SEGMENT_EXPORT?status=WAITING_TO_RECIEVE_DATA").json();
        assertThat(waiting.findValuesAsText("jobId")).contains(Long.toString(jobId));
        assertThat(waiting.get(0).has("started")).as("extraFields not asked").isFalse();
        // The seeds also spell it WAITING_TO_RECEIVE_DATA: read either way, answered in the seed answers' spelling.
        JsonNode receive = source.client().get("/v1/jobs/SEGMENT_EXPORT?status=WAITING_TO_RECEIVE_DATA").json();
        assertThat(receive.findValuesAsText("jobId")).contains(Long.toString(jobId));
        assertThat(receive.findValuesAsText("status")).containsOnly("WAITING_TO_RECIEVE_DATA");
        JsonNode extra = acme.client().get("/v1/jobs/SEGMENT_EXPORT?endpointId=" + source.endpointId()
                + "&extraFields=true&includeProducerSegmentIDString=true").json();
        assertThat(extra.get(0).has("started")).isTrue();
        assertThat(extra.get(0).get("producerSegmentIDString").asText()).isEqualTo("45311");
        assertThat(destination.client().get("/v1/jobs/SEGMENT_EXPORT").json().findValuesAsText("jobId")).contains(Long.toString(jobId));
        assertThat(otherSource.client().get("/v1/jobs/SEGMENT_EXPORT").json().findValuesAsText("jobId"))
                .doesNotContain(Long.toString(jobId));
        assertThat(source.client().get("/v1/jobs/SEGMENT_EXPORT?status=NOTFOUND").json()).isEmpty();

        JsonNode one = source.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json();
        assertThat(one).hasSize(1);
        assertThat(one.get(0).get("jobId").asLong()).isEqualTo(jobId);
        assertThat(source.client().get("/v1/jobs/IDENTITY_IMPORT/" + jobId).status()).isEqualTo(404);
        assertThat(otherSource.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).status()).isEqualTo(404);
        assertThat(source.client().get("/v1/jobs/EXPORT/" + jobId).status()).isEqualTo(400);
        assertThat(source.client().get("/v1/jobs/SEGMENT_EXPORT?status=DONE").status()).isEqualTo(400);
    }

    @Test
    void theSourceFailsAWaitingJobOnceAndCompletingIsOnlyForReadyJobs() {
        long jobId = source.client().post("/v1/jobs/segmentExport",
                export(source.endpointId(), destination.endpointId(), "{\"email\":\"EMAIL_SHA256\"}")).json().get("jobId").asLong();
        assertThat(destination.client().put("/v1/jobs/" + jobId + "/status/complete", null).body()).isEqualTo("false");
        assertThat(source.client().put("/v1/jobs/" + jobId + "/status/fail", "{}").status()).isEqualTo(400);
        assertThat(destination.client().put("/v1/jobs/" + jobId + "/status/fail", "{\"errorMessage\":\"x\"}").status()).isEqualTo(403);
        assertThat(source.client().put("/v1/jobs/" + jobId + "/status/fail", "{\"errorMessage\":\"export aborted\"}").body())
                .isEqualTo("true");
        assertThat(source.client().put("/v1/jobs/" + jobId + "/status/fail", "{\"errorMessage\":\"again\"}").body())
                .isEqualTo("false");
        JsonNode job = source.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
        assertThat(job.get("status").asText()).isEqualTo("ERROR");
        assertThat(job.get("errorDetails").asText()).isEqualTo("export aborted");
        assertThat(job.get("ended").asLong()).isPositive();
    }

    @Test
    void invalidJobsAreRefusedWithWhatToFix() {
        String path = "/v1/jobs/segmentExport";
        ExchangeClient c = source.client();
        int before = acme.client().get("/v1/jobs/SEGMENT_EXPORT").json().size();
        assertThat(c.post(path, export(source.endpointId(), destination.endpointId(), "{\"phone\":\"workEmail\"}")).message())
                .contains("\"phone\" is not an identifier");
        assertThat(c.post(path, export(source.endpointId(), destination.endpointId(), "{\"email\":\"mobile\"}")).message())
                .contains("neither an identifier");
        assertThat(c.post(path, export(source.endpointId(), otherSource.endpointId(), "{\"email\":\"EMAIL_SHA256\"}")).message())
                .contains("not an audience destination");
        assertThat(c.post(path, export(source.endpointId(), 999_999, "{\"email\":\"EMAIL_SHA256\"}")).status()).isEqualTo(404);
        assertThat(c.post(path, export(otherSource.endpointId(), destination.endpointId(), "{\"email\":\"EMAIL_SHA256\"}")).status())
                .isEqualTo(403);
        assertThat(acme.client().post(path, export(destination.endpointId(), destination.endpointId(), "{\"email\":\"EMAIL_SHA256\"}"))
                .message()).contains("not an audience source");
        assertThat(c.post(path, "{\"producerEndpointID\":" + source.endpointId() + ",\"destinationEndpointID\":"
                + destination.endpointId() + "}").message()).contains("identityMappings");
        assertThat(c.post(path, "{\"producerEndpointId\":1}").message()).contains("Unknown field \"producerEndpointId\"");
        assertThat(c.post(path, "{\"destinationEndpointID\":" + destination.endpointId() + ",\"shareAction\":\"MERGE\","
                + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\"}}").message()).contains("ADD, REPLACE or REMOVE");
        assertThat(c.post("/v1/jobs/identityImport", "{\"destinationEndpointID\":1,\"identityMappings\":{\"email\":\"email\"}}")
                .message()).contains("no destination");
        assertThat(c.post(path, "{\"producerEndpointID\":" + source.endpointId() + ",\"destinationEndpointID\":"
                + destination.endpointId() + ",\"destinationSegmentName\":\"a\\u0000b\",\"identityMappings\":{\"email\":\"EMAIL_SHA256\"}}")
                .message()).contains("\"destinationSegmentName\" contains U+0000");
        assertThat(acme.client().get("/v1/jobs/SEGMENT_EXPORT").json()).as("nothing was created").hasSize(before);
    }

    @Test
    void anIdentityImportNeedsNoDestination() {
        ExchangeClient.Answer a = acme.client().post("/v1/jobs/identityImport", "{\"producerEndpointID\":" + source.endpointId()
                + ",\"identityMappings\":{\"email\":\"email\",\"cookieId\":\"cookieId\"}}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(a.json().get("jobName").asText()).isEqualTo("IMPORT_IDENTITY");
        assertThat(a.json().get("destinationEndpointID").isNull()).isTrue();
        assertThat(acme.client().get("/v1/jobs/IDENTITY_IMPORT").json()).hasSize(1);
    }

    private static long waitingExport() {
        return source.client().post("/v1/jobs/segmentExport",
                export(source.endpointId(), destination.endpointId(), "{\"email\":\"EMAIL_SHA256\"}")).json().get("jobId").asLong();
    }

    private static String status(long jobId) {
        return acme.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0).get("status").asText();
    }

    @Test
    void anUploadMovesTheJobToPendingOnce() throws Exception {
        long jobId = waitingExport();
        byte[] csv = "email,firstName\nann@example.com,Ann\nbob@example.com,Bob\n".getBytes(StandardCharsets.UTF_8);
        ExchangeClient.Answer a = source.client().upload("/v1/jobs/" + jobId + "/data", csv, false);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.body()).isEqualTo(Long.toString(jobId));
        assertThat(status(jobId)).isIn("PENDING", "RUNNING", "READY_FOR_DOWNLOAD");
        ExchangeClient.Answer again = source.client().upload("/v1/jobs/" + jobId + "/data", csv, false);
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.message()).contains("WAITING_TO_RECIEVE_DATA");
        try (var files = Files.walk(server.filesDir())) {
            assertThat(files.filter(f -> f.toString().endsWith(".part"))).isEmpty();
        }
    }

    @Test
    void aGzipUploadIsAccepted() throws Exception {
        long jobId = waitingExport();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write("email\nann@example.com\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(source.client().upload("/v1/jobs/" + jobId + "/data", bytes.toByteArray(), true).status()).isEqualTo(200);
    }

    @Test
    void aFileThatIsNotAUsableCsvIsRefusedAndTheJobKeepsWaiting() {
        long jobId = waitingExport();
        String path = "/v1/jobs/" + jobId + "/data";
        ExchangeClient c = source.client();
        assertThat(c.upload(path, new byte[]{1, 2, 0, 3, 4}, false).message()).contains("binary");
        assertThat(c.upload(path, new byte[0], false).message()).contains("empty");
        assertThat(c.upload(path, "phone,firstName\n1,Ann\n".getBytes(StandardCharsets.UTF_8), false).message())
                .contains("names none of endpoint");
        assertThat(c.upload(path, new byte[]{'e', 'm', 'a', 'i', 'l', '\n', (byte) 0xC3, (byte) 0x28, '\n'}, false).message())
                .contains("UTF-8");
        assertThat(c.upload(path, "email\na@x.com\n".getBytes(StandardCharsets.UTF_8), true).message()).contains("gzip");
        assertThat(destination.client().upload(path, "email\na@x.com\n".getBytes(StandardCharsets.UTF_8), false).status())
                .isEqualTo(403);
        assertThat(otherSource.client().upload(path, "email\na@x.com\n".getBytes(StandardCharsets.UTF_8), false).status())
                .isEqualTo(404);
        assertThat(c.upload("/v1/jobs/987654321/data", "email\na@x.com\n".getBytes(StandardCharsets.UTF_8), false).status())
                .isEqualTo(404);
        assertThat(new ExchangeClient(server, null).upload(path, "email\n".getBytes(StandardCharsets.UTF_8), false).status())
                .isEqualTo(401);
        assertThat(status(jobId)).isEqualTo("WAITING_TO_RECIEVE_DATA");
    }
}
