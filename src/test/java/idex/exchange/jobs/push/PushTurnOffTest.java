package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.support.Eventually;
import idex.support.ExchangeClient;
import idex.support.SegmentPartner;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
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

    /** Waits of 100 ms, 200 ms, 2.5 s, then an hour; turned off after 2 s of failures only. */
    private static final DeliverySettings SETTINGS = new DeliverySettings(Duration.ofSeconds(5),
            DeliverySettings.schedule("100ms,200ms,2500ms,1h"), Duration.ofSeconds(2), 8, true, Duration.ofDays(7));

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, JobSettings.DEFAULT.withRowsPerFile(3), SETTINGS);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aDestinationFailingTooLongIsTurnedOffAndAPutResumesItsJobs() throws Exception {
        AtomicBoolean accepting = new AtomicBoolean();
        // Failing from the first file attempt, the destination is turned off by the fourth attempt (2.8 s on), long
        // before the last retry would end the job in ERROR. REPLACE: its first file (the PUT) goes alone, so every
        // attempt is one request.
        try (SegmentPartner partner = SegmentPartner.start().answeringData(n -> accepting.get() ? 200 : 503)) {
            PushDestinationTest.Share s = share(server, partner);
            ExchangeClient account = s.account().client();
            String endpoint = "/v1/endpoint?endpointId=" + s.push().endpointId();
            long jobId = export(s.source(), s.push(), "paused", "REPLACE");

            JsonNode off = Eventually.await("the push destination turned off", () -> account.get(endpoint).json(),
                    e -> e.path("endpointTypes").path("audience").path("destination").has("disabledReason"));
            JsonNode destination = off.get("endpointTypes").get("audience").get("destination");
            assertThat(destination.get("disabledReason").asText()).contains("failed for 2000 ms", "PUT");
            assertThat(destination.get("enabled").asBoolean()).as("still the destination of its jobs").isTrue();

            // The job waits without a next attempt: neither failing nor sent.
            JsonNode entry = Eventually.await("the file's entry waiting with no next attempt",
                    () -> account.get("/v1/deliveries?endpointId=" + s.push().endpointId()).json().get("deliveries").get(0),
                    e -> e.get("kind").asText().equals("segmentFile") && e.has("nextAttempt")
                            && e.get("nextAttempt").isNull());
            assertThat(entry.get("status").asText()).isEqualTo("PENDING");
            int tried = partner.dataRequests().size();
            assertThat(tried).as("turned off at the latest by the fourth attempt, 2.8 s on").isBetween(1, 4);
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

    @Test
    void aCallThatWorksStartsTheFailureStreakAfresh() throws Exception {
        // File 1 (REPLACE's PUT, alone) fails three times (0 s, 0.1 s, 0.3 s) and is accepted at the fourth attempt
        // (2.8 s on); file 2 then fails once: counted from the first failure of file 1, every call would have failed
        // for over 2 s.
        try (SegmentPartner partner = SegmentPartner.start().answeringFiles((id, n) ->
                id.endsWith("-0001.csv") ? (n <= 3 ? 503 : 200) : id.endsWith("-0002.csv") && n == 1 ? 503 : 200)) {
            PushDestinationTest.Share s = share(server, partner);
            long jobId = export(s.source(), s.push(), "streaks", "REPLACE");
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            assertThat(partner.dataRequests("-0001.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(503, 503, 503, 200);
            assertThat(partner.dataRequests("-0002.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(503, 200);
            assertThat(partner.dataRequests("-0003.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            assertThat(s.account().client().get("/v1/endpoint?endpointId=" + s.push().endpointId()).json()
                    .get("endpointTypes").get("audience").get("destination").has("disabledReason")).isFalse();
        }
    }
}
