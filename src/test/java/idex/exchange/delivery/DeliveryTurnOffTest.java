package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static idex.exchange.delivery.DeliveryFixture.all;
import static idex.exchange.delivery.DeliveryFixture.awaitLog;
import static idex.exchange.delivery.DeliveryFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A destination failing every attempt for longer than `disableAfter` (1 s here, with many 200 ms retries so that
 * deliveries are still pending then) is turned off; enabling it again resumes what it missed.
 */
class DeliveryTurnOffTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static DeliveryFixture fx;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, new DeliverySettings(Duration.ofSeconds(2),
                DeliverySettings.schedule(String.join(",", Collections.nCopies(40, "200ms"))), Duration.ofSeconds(1),
                8, true, Duration.ofDays(7)));
        fx = new DeliveryFixture(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aDestinationFailingTooLongIsTurnedOffAndResumesWhenEnabledAgain() throws Exception {
        AtomicBoolean up = new AtomicBoolean(false);
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> up.get() ? 204 : 500);
             WebhookReceiver healthy = WebhookReceiver.start()) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            fx.subscribed(acme, healthy.url("/live"));
            publish(web, "first");

            JsonNode off = awaitRegistration(acme, dest.endpointId(), 15,
                    e -> !e.path("endpointTypes").path("event").path("destination").path("enabled").asBoolean(true));
            JsonNode destination = off.get("endpointTypes").get("event").get("destination");
            assertThat(destination.get("disabledReason").asText()).contains("every delivery attempt failed for 1 s")
                    .contains("PUT /v1/endpoint");
            int attemptsWhenOff = receiver.requests().size();
            assertThat(attemptsWhenOff).isGreaterThanOrEqualTo(2);
            JsonNode first = DeliveryFixture.log(acme, dest.endpointId()).get(0);
            assertThat(first.get("status").asText()).isEqualTo("PENDING"); // the schedule is far from done
            assertThat(first.get("attemptCount").asInt()).isEqualTo(attemptsWhenOff);

            // An event accepted while it is off is not queued for it (it receives nothing while off).
            long sent = System.currentTimeMillis();
            publish(web, "second");
            // The turned-off destination, with a delivery still pending, does not stall delivery to the others.
            WebhookReceiver.Received live = healthy.await(2, 5).get(1);
            assertThat(live.json().get("code").asText()).isEqualTo("second");
            assertThat(live.arrivedMillis() - sent).isLessThan(2000);
            up.set(true);
            long enabling = System.currentTimeMillis();
            Answer enabled = dest.client().put("/v1/endpoint",
                    DeliveryFixture.destinationRegistration(receiver.url("/hooks"), true));
            assertThat(enabled.status()).as(enabled.body()).isEqualTo(200);
            JsonNode onAgain = enabled.json().get("endpointTypes").get("event").get("destination");
            assertThat(onAgain.get("enabled").asBoolean()).isTrue();
            assertThat(onAgain.has("disabledReason")).as(onAgain.toString()).isFalse();

            // The pending delivery resumes: its next attempt comes after the PUT, none came while it was off.
            JsonNode log = awaitLog(acme, dest.endpointId(), 10, "the pending delivery DELIVERED", all(1, "DELIVERED"));
            JsonNode attempts = log.get(0).get("attempts");
            assertThat(log.get(0).get("code").asText()).isEqualTo("first");
            assertThat(attempts).hasSize(attemptsWhenOff + 1);
            JsonNode last = attempts.get(attempts.size() - 1);
            assertThat(last.get("httpStatus").asInt()).isEqualTo(204);
            assertThat(last.get("at").asLong()).isGreaterThanOrEqualTo(enabling);
            assertThat(attempts.get(attempts.size() - 2).get("at").asLong()).isLessThanOrEqualTo(off.get("updated").asLong());
            assertThat(receiver.requests()).hasSize(attemptsWhenOff + 1);
            assertThat(receiver.requests().get(attemptsWhenOff).json().get("code").asText()).isEqualTo("first");
            JsonNode registration = acme.client().get("/v1/endpoint?endpointId=" + dest.endpointId()).json();
            assertThat(registration.get("endpointTypes").get("event").get("destination").has("disabledReason")).isFalse();
        }
    }

    private static JsonNode awaitRegistration(TestAccount account, long endpointId, int seconds,
                                              java.util.function.Predicate<JsonNode> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        JsonNode last;
        do {
            Answer a = account.client().get("/v1/endpoint?endpointId=" + endpointId);
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            last = a.json();
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("within " + seconds + " s the registration did not change as expected: " + last);
    }
}
