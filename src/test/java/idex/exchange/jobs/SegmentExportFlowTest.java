package idex.exchange.jobs;

import idex.exchange.jobs.model.JobSettings;
import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.IssuedClientKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static idex.exchange.jobs.JobProcessingTest.awaitStatus;
import static idex.exchange.jobs.JobProcessingTest.sha256;
import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seed 004's whole flow through HTTP: a push source creates a segment export, finds its job waiting, uploads; the
 * job becomes READY_FOR_DOWNLOAD; the pull destination downloads every file, deletes one, completes the job.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SegmentExportFlowTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";

    TestServer server;
    TestAccount acme;
    TestEndpoint source;
    TestEndpoint destination;

    /** How the server processes jobs: a subclass runs the same flow another way. */
    JobSettings settings() {
        return JobSettings.DEFAULT.withRowsPerFile(2);
    }

    @BeforeAll
    void start(@TempDir Path dir) {
        server = TestServer.start(dir, 64, settings());
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    void stop() {
        server.close();
    }

    @Test
    void aPushSourceExportsAndAPullDestinationDownloadsDeletesAndCompletes() throws Exception {
        ExchangeClient src = source.client();
        ExchangeClient dst = destination.client();
        ExchangeClient.Answer created = src.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":" + source.endpointId()
                + ",\"producerSegmentID\":45311,\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"myDestSegName\",\"destinationSegmentDescription\":\"d\","
                + "\"exportCategory\":\"mycat2\",\"shareAction\":\"REPLACE\",\"updateIdentities\":false,"
                + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"},"
                + "\"attributeMappings\":{\"firstName\":\"firstName\"}}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);

        JsonNode waiting = src.get("/v1/jobs/SEGMENT_EXPORT?status=WAITING_TO_RECIEVE_DATA").json();
        assertThat(waiting).hasSize(1);
        long jobId = waiting.get(0).get("jobId").asLong();
        ExchangeClient.Answer uploaded = src.upload("/v1/jobs/" + jobId + "/data", ("email,cookieId,firstName\n"
                + "ann@example.com,c1,Ann\nBOB@example.com,c2,Bob\n,c3,Cy\nbroken\ndee@example.com,,Dee\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), false);
        assertThat(uploaded.status()).isEqualTo(200);
        assertThat(uploaded.body()).isEqualTo(Long.toString(jobId));

        JsonNode ready = awaitStatus(dst, "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        assertThat(dst.get("/v1/jobs/SEGMENT_EXPORT?status=READY_FOR_DOWNLOAD").json().findValuesAsText("jobId"))
                .containsExactly(Long.toString(jobId));
        assertThat(ready.get("shareAction").asText()).isEqualTo("REPLACE");
        assertThat(ready.get("segmentDataFormat").asText()).isEqualTo("text/csv");
        assertThat(ready.get("sourceRecordCount").asLong()).isEqualTo(5);
        assertThat(ready.get("translatedRecordCount").asLong()).isEqualTo(4);
        assertThat(ready.get("destinationRecordCount").asLong()).isEqualTo(4);
        assertThat(ready.get("errorDetails").asText()).contains("line 5: wrong column count");
        List<String> names = new ArrayList<>();
        ready.get("segmentDataFiles").forEach(n -> names.add(n.asText()));
        assertThat(names).hasSize(2);

        List<String> rows = new ArrayList<>();
        for (String name : names) {
            ExchangeClient.Answer file = dst.get("/v1/jobs/" + jobId + "/segmentDataFiles/" + name);
            assertThat(file.status()).isEqualTo(200);
            assertThat(file.contentType()).startsWith("text/csv");
            List<String> lines = file.body().lines().toList();
            assertThat(lines.get(0)).isEqualTo("EMAIL_SHA256,cookieId,firstName");
            rows.addAll(lines.subList(1, lines.size()));
        }
        assertThat(rows).containsExactly(sha256("ann@example.com") + ",c1,Ann", sha256("bob@example.com") + ",c2,Bob",
                ",c3,Cy", sha256("dee@example.com") + ",,Dee");
        assertThat(src.get("/v1/jobs/" + jobId + "/segmentDataFiles/" + names.get(0)).status())
                .as("the source does not download").isEqualTo(403);

        assertThat(dst.delete("/v1/jobs/" + jobId + "/segmentDataFiles/" + names.get(0)).status()).isEqualTo(200);
        assertThat(dst.get("/v1/jobs/" + jobId + "/segmentDataFiles/" + names.get(0)).status()).isEqualTo(404);
        assertThat(dst.get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0).get("segmentDataFiles").toString())
                .doesNotContain(names.get(0)).contains(names.get(1));

        assertThat(dst.put("/v1/jobs/" + jobId + "/status/complete", null).body()).isEqualTo("true");
        JsonNode complete = dst.get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
        assertThat(complete.get("status").asText()).isEqualTo("COMPLETE");
        assertThat(complete.get("segmentDataFiles")).isEmpty();
        assertThat(dst.get("/v1/jobs/" + jobId + "/segmentDataFiles/" + names.get(1)).status())
                .as("a completed job has nothing to download").isEqualTo(409);
        assertThat(server.filesDir().resolve("jobs/" + jobId + "/files")).doesNotExist();
        assertThat(dst.put("/v1/jobs/" + jobId + "/status/complete", null).body()).isEqualTo("false");
    }

    @Test
    void aUid2ExportCarriesTheSameRawUidsAndBucketsAsTheIdentityMap() {
        ExchangeClient src = source.client();
        long jobId = src.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":" + source.endpointId()
                + ",\"producerSegmentID\":1,\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"uids\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"UID2\"}}").json().get("jobId").asLong();
        src.upload("/v1/jobs/" + jobId + "/data", "email\nAnn@Example.com\nzoe@example.org\n"
                .getBytes(java.nio.charset.StandardCharsets.UTF_8), false);
        JsonNode ready = awaitStatus(src, "SEGMENT_EXPORT", jobId, "READY_FOR_DOWNLOAD");
        List<String> rows = new ArrayList<>();
        ready.get("segmentDataFiles").forEach(n -> rows.addAll(destination.client()
                .get("/v1/jobs/" + jobId + "/segmentDataFiles/" + n.asText()).body().lines().toList()));
        assertThat(rows.get(0)).isEqualTo("UID2,UID2_BUCKET");

        IssuedClientKey mapper = server.createMapperKey();
        JsonNode mapped = new Uid2Http(server).call("/v2/identity/map", mapper.key(), mapper.secret(),
                "{\"email\":[\"ann@example.com\",\"zoe@example.org\"]}").get("body").get("mapped");
        assertThat(rows.subList(1, rows.size())).containsExactly(
                mapped.get(0).get("advertising_id").asText() + "," + mapped.get(0).get("bucket_id").asText(),
                mapped.get(1).get("advertising_id").asText() + "," + mapped.get(1).get("bucket_id").asText());
    }
}
