package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static idex.exchange.delivery.DeliveryFixture.all;
import static idex.exchange.delivery.DeliveryFixture.awaitLog;
import static idex.exchange.delivery.DeliveryFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `Retry-After` on 429 and 503: honoured when sooner than the schedule's step, capped by it when later. The schedule
 * here waits 30 s before the one retry, so a retry within seconds can only come from the header.
 */
class DeliveryRetryAfterTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static DeliveryFixture fx;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, new DeliverySettings(Duration.ofSeconds(5),
                DeliverySettings.schedule("30s"), Duration.ofDays(5), 8, true, Duration.ofDays(7)));
        fx = new DeliveryFixture(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void a429WithRetryAfterZeroIsRetriedWellBeforeTheScheduleStep() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> n == 1 ? 429 : 204)
                .withAnswerHeaders(Map.of("Retry-After", "0"))) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            publish(web, "signup");

            List<WebhookReceiver.Received> requests = receiver.await(2, 5);
            assertThat(requests.get(1).arrivedMillis() - requests.get(0).arrivedMillis()).isLessThan(3000);
            assertThat(requests.get(1).header("webhook-id")).isEqualTo(requests.get(0).header("webhook-id"));
            JsonNode d = awaitLog(acme, dest.endpointId(), 5, "one DELIVERED", all(1, "DELIVERED")).get(0);
            assertThat(d.get("attempts").get(0).get("httpStatus").asInt()).isEqualTo(429);
            assertThat(d.get("attempts").get(1).get("httpStatus").asInt()).isEqualTo(204);
        }
    }

    @Test
    void withoutRetryAfterOrWithALaterOneTheRetryWaitsTheScheduleStep() throws Exception {
        try (WebhookReceiver plain = WebhookReceiver.start().answering(n -> 500);
             WebhookReceiver later = WebhookReceiver.start().answering(n -> 503)
                     .withAnswerHeaders(Map.of("Retry-After", "3600"))) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint plainDest = fx.subscribed(acme, plain.url("/plain"));
            TestEndpoint laterDest = fx.subscribed(acme, later.url("/later"));
            publish(web, "signup");

            for (TestEndpoint dest : List.of(plainDest, laterDest)) {
                JsonNode d = awaitLog(acme, dest.endpointId(), 5, "a first failed attempt",
                        log -> log.size() == 1 && log.get(0).get("attemptCount").asInt() == 1).get(0);
                assertThat(d.get("status").asText()).isEqualTo("PENDING");
                long at = d.get("attempts").get(0).get("at").asLong();
                assertThat(d.get("nextAttempt").asLong() - at).as(d.toString()).isEqualTo(30_000);
            }
        }
    }
}
