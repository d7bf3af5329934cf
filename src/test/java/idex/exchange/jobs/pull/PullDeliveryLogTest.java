package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.DeliveryLogs;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A pull producer's calls in the delivery log (`GET /v1/deliveries`), against real partners on loopback: one
 * `pullJob` entry for the partner's job (its start, failed calls and the final READY or FAILED poll, not the polls
 * that answer "not ready yet") and one `pullFile` entry per data file downloaded.
 */
class PullDeliveryLogTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final String CSV = "email,cookieId,firstName\nann@example.com,c1,Ann\n";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        // The pull timeout ends the never-ready producer's job; the others must be done well within it, even on a
        // loaded machine (6 s was too short for four polls there).
        server = TestServer.startWithPulls(dir, PullProducerTest.deliverySettings(),
                new PullSettings(Duration.ofSeconds(15), Duration.ofMillis(50), Duration.ofMillis(200)));
        acme = ExchangeAccounts.account(server, "PullLog");
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static TestEndpoint producer(FakePullPartner partner, String name) {
        TestEndpoint p = ExchangeAccounts.endpoint(server, acme, PullProducerTest.withUrl(registration(name, "source",
                "pull", IDS), partner.url()));
        partner.secret(p.registration().path("signingSecret").asText());
        return p;
    }

    private static long export(TestEndpoint producer) {
        ExchangeClient.Answer a = producer.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + producer.endpointId() + ",\"producerSegmentID\":45311,\"destinationEndpointID\":"
                + destination.endpointId() + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"cat\","
                + "\"shareAction\":\"ADD\",\"updateIdentities\":false,\"identityMappings\":{\"email\":"
                + "\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"},\"attributeMappings\":{\"firstName\":\"firstName\"}}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("jobId").asLong();
    }

    private static JsonNode awaitJob(long jobId, String status) {
        return Eventually.await("job " + jobId + " " + status, Duration.ofSeconds(60),
                () -> acme.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0),
                j -> j.get("status").asText().equals(status));
    }

    private static JsonNode log(TestEndpoint producer) {
        return DeliveryLogs.entries(acme.client(), "?endpointId=" + producer.endpointId());
    }

    @Test
    void aProducerReadyAfterAFewPollsShowsItsJobAndEachDataFile() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().refusingStarts(503).readyAfter(3)
                .data("part-1", CSV).data("part-2", CSV)) {
            TestEndpoint producer = producer(partner, "Ready");
            long jobId = export(producer);
            awaitJob(jobId, "READY_FOR_DOWNLOAD");
            assertThat(partner.count("GET", "/v1/jobs/p-")).as("three polls not ready, one READY, two files")
                    .isEqualTo(6);

            JsonNode log = log(producer);
            assertThat(log).hasSize(3);
            assertThat(log).extracting(e -> e.get("kind").asText()).containsExactly("pullFile", "pullFile", "pullJob");
            assertThat(log).extracting(e -> e.get("deliveryId").asLong()).isSortedAccordingTo((a, b) -> Long.compare(b, a));
            assertThat(log).allSatisfy(e -> {
                assertThat(e.get("jobId").asLong()).isEqualTo(jobId);
                assertThat(e.get("endpointId").asLong()).isEqualTo(producer.endpointId());
                assertThat(e.get("status").asText()).isEqualTo("DELIVERED");
                assertThat(e.has("nextAttempt")).isFalse();
            });
            assertThat(log.get(0).get("fileName").asText()).isEqualTo("part-2");
            assertThat(log.get(1).get("fileName").asText()).isEqualTo("part-1");
            assertThat(DeliveryLogs.statuses(log.get(1))).containsExactly(200);

            JsonNode pullJob = log.get(2);
            assertThat(pullJob.has("fileName")).isFalse();
            // The refused start, the start, the READY poll: the polls that answered RUNNING are not attempts.
            assertThat(DeliveryLogs.statuses(pullJob)).containsExactly(503, 201, 200);
            assertThat(pullJob.get("attemptCount").asInt()).isEqualTo(3);
            JsonNode refused = pullJob.get("attempts").get(0);
            assertThat(refused.get("error").asText()).contains("HTTP 503", "no segment like that here");
            assertThat(pullJob.get("attempts").get(2).get("error").isNull()).isTrue();

            ExchangeClient.Answer retry = acme.client().post("/v1/deliveries/" + pullJob.get("deliveryId").asLong()
                    + "/retry", null);
            assertThat(retry.status()).as(retry.body()).isEqualTo(409);
            assertThat(retry.body()).contains("pull producer");

            String metrics = server.metrics();
            assertThat(metrics).containsPattern("idex_delivery_attempts_total\\{kind=\"pullFile\",outcome=\"delivered\"} [1-9]")
                    .containsPattern("idex_delivery_attempts_total\\{kind=\"pullJob\",outcome=\"failed\"} [1-9]");
        }
    }

    @Test
    void aProducerNeverReadyShowsItsStartOnlyAndFailsAtTheTimeout() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().readyAfter(-1)) {
            TestEndpoint producer = producer(partner, "Never");
            long jobId = export(producer);
            JsonNode job = awaitJob(jobId, "ERROR");
            assertThat(job.get("errorDetails").asText()).contains("pull timeout");
            assertThat(partner.count("GET", "/v1/jobs/p-")).as("polled all along").isGreaterThan(5);

            JsonNode log = log(producer);
            assertThat(log).hasSize(1);
            assertThat(log.get(0).get("status").asText()).isEqualTo("FAILED");
            assertThat(DeliveryLogs.statuses(log.get(0))).as("the start only: polls answering RUNNING are no attempts")
                    .containsExactly(201);
        }
    }

    @Test
    void aProducerWhoseJobFailedShowsItFailedWithThePartnersMessage() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().failing("the segment was deleted")) {
            TestEndpoint producer = producer(partner, "Failing");
            long jobId = export(producer);
            awaitJob(jobId, "ERROR");

            JsonNode log = log(producer);
            assertThat(log).hasSize(1);
            JsonNode pullJob = log.get(0);
            assertThat(pullJob.get("kind").asText()).isEqualTo("pullJob");
            assertThat(pullJob.get("status").asText()).isEqualTo("FAILED");
            assertThat(DeliveryLogs.statuses(pullJob)).containsExactly(201, 200);
            assertThat(pullJob.get("attempts").get(1).get("error").asText()).contains("FAILED", "the segment was deleted");

            ExchangeClient.Answer failed = acme.client().get("/v1/deliveries?status=FAILED&endpointId="
                    + producer.endpointId());
            assertThat(failed.json().get("deliveries")).hasSize(1);
            assertThat(acme.client().get("/v1/deliveries?status=DELIVERED&endpointId=" + producer.endpointId())
                    .json().get("deliveries")).isEmpty();
        }
    }
}
