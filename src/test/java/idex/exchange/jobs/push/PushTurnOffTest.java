package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.support.Eventually;
import idex.support.ExchangeClient;
import idex.support.SegmentPartner;
import idex.support.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static idex.exchange.jobs.push.PushDestinationTest.awaitStatus;
import static idex.exchange.jobs.push.PushDestinationTest.export;
import static idex.exchange.jobs.push.PushDestinationTest.pushRegistration;
import static idex.exchange.jobs.push.PushDestinationTest.share;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A push destination every call to which failed for `--delivery-disable-after` is turned off as an event destination
 * is: its GET says why, its delivering jobs wait without attempts, and a PUT of its registration resumes them.
 */
class PushTurnOffTest {

    @Test
    void aDestinationFailingTooLongIsTurnedOffAndAPutResumesItsJobs(@TempDir Path dir) throws Exception {
        AtomicBoolean accepting = new AtomicBoolean();
        // Waits of 100, 200 and 400 ms then a long one: failing from the first file attempt, the destination is turned
        // off at the second or third attempt (250 ms on), long before the last retry would end the job in ERROR.
        try (TestServer server = TestServer.startWithDelivery(dir, JobSettings.DEFAULT.withRowsPerFile(3),
                new DeliverySettings(Duration.ofSeconds(5), DeliverySettings.schedule("100ms,200ms,400ms,1h"),
                        Duration.ofMillis(250), 8, true, Duration.ofDays(7)));
             SegmentPartner partner = SegmentPartner.start().answeringData(n -> accepting.get() ? 200 : 503)) {
            PushDestinationTest.Share s = share(server, partner);
            ExchangeClient account = s.account().client();
            String endpoint = "/v1/endpoint?endpointId=" + s.push().endpointId();
            long jobId = export(s.source(), s.push(), "paused", "ADD");

            JsonNode off = Eventually.await("the push destination turned off", () -> account.get(endpoint).json(),
                    e -> e.path("endpointTypes").path("audience").path("destination").has("disabledReason"));
            JsonNode destination = off.get("endpointTypes").get("audience").get("destination");
            assertThat(destination.get("disabledReason").asText()).contains("failed for 250 ms", "PUT");
            assertThat(destination.get("enabled").asBoolean()).as("still the destination of its jobs").isTrue();

            // The job waits without a next attempt: neither failing nor sent.
            JsonNode entry = Eventually.await("the file's entry waiting with no next attempt",
                    () -> account.get("/v1/deliveries?endpointId=" + s.push().endpointId()).json().get("deliveries").get(0),
                    e -> e.get("kind").asText().equals("segmentFile") && e.has("nextAttempt")
                            && e.get("nextAttempt").isNull());
            assertThat(entry.get("status").asText()).isEqualTo("PENDING");
            int tried = partner.dataRequests().size();
            assertThat(tried).isBetween(2, 3);
            assertThat(entry.get("attemptCount").asInt()).isEqualTo(tried);
            JsonNode waiting = s.push().client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
            assertThat(waiting.get("status").asText()).isEqualTo("RUNNING");
            assertThat(waiting.get("subStatus").asText()).isEqualTo("DELIVERING");
            // A second export to it while it is off waits too, without a call.
            long second = export(s.source(), s.push(), "paused", "ADD");
            Eventually.await("the second export delivering", () -> s.push().client()
                    .get("/v1/jobs/SEGMENT_EXPORT/" + second).json().get(0),
                    j -> "DELIVERING".equals(j.path("subStatus").asText(null)));
            ExchangeClient.Answer retry = account.post("/v1/deliveries/" + entry.get("deliveryId") + "/retry", null);
            assertThat(retry.status()).as("not in ERROR: nothing to re-open").isEqualTo(409);
            assertThat(partner.dataRequests()).hasSize(tried);

            accepting.set(true);
            ExchangeClient.Answer put = s.push().client().put("/v1/endpoint", pushRegistration("Push", partner.url()));
            assertThat(put.status()).as(put.body()).isEqualTo(200);
            assertThat(put.json().get("endpointTypes").get("audience").get("destination").has("disabledReason"))
                    .isFalse();
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            awaitStatus(s.push().client(), second, "COMPLETE");
            assertThat(partner.dataRequests()).hasSize(tried + 6);
            assertThat(account.get(endpoint).json().get("endpointTypes").get("audience").get("destination")
                    .has("disabledReason")).isFalse();
        }
    }
}
