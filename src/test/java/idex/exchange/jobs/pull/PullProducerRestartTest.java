package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** A restart while a pull producer's job is being polled resumes polling that job; no second partner job starts. */
class PullProducerRestartTest {

    @TempDir
    Path dir;

    @Test
    void aRestartResumesPollingThePartnersJob() throws Exception {
        TestServer server = TestServer.startWithPulls(dir, PullProducerTest.deliverySettings(),
                new PullSettings(Duration.ofMinutes(5), Duration.ofMillis(50), Duration.ofMillis(200)));
        try (FakePullPartner partner = new FakePullPartner().readyAfter(-1)
                .data("all", "email,cookieId\nann@example.com,c1\n")) {
            TestAccount acme = ExchangeAccounts.account(server, "Acme");
            TestEndpoint destination = ExchangeAccounts.endpoint(server, acme,
                    registration("Ads", "destination", "pull", "[{\"name\":\"cookieId\"}]"));
            TestEndpoint producer = ExchangeAccounts.endpoint(server, acme, PullProducerTest.withUrl(
                    registration("Partner", "source", "pull", "[{\"name\":\"email\"},{\"name\":\"cookieId\"}]"),
                    partner.url()));
            partner.secret(producer.registration().get("signingSecret").asText());
            var created = producer.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                    + producer.endpointId() + ",\"producerSegmentID\":7,\"destinationEndpointID\":"
                    + destination.endpointId() + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"cat\","
                    + "\"shareAction\":\"ADD\",\"updateIdentities\":false,"
                    + "\"identityMappings\":{\"cookieId\":\"cookieId\"}}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            long jobId = created.json().get("jobId").asLong();

            Eventually.await("two polls", () -> partner.count("GET", "/v1/jobs/"), n -> n >= 2);
            server.restart();
            long before = partner.count("GET", "/v1/jobs/");
            Eventually.await("polls after the restart", () -> partner.count("GET", "/v1/jobs/"), n -> n > before);
            partner.readyAfter(0);

            JsonNode job = Eventually.await("the job ready", () -> acme.client()
                            .get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0),
                    j -> j.get("status").asText().equals("READY_FOR_DOWNLOAD"));
            assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(1);
            assertThat(partner.count("POST", "/v1/jobs")).as("one partner job, polled across the restart").isEqualTo(1);
            assertThat(partner.badSignatures()).isZero();
        } finally {
            server.close();
        }
    }
}
