package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static idex.exchange.delivery.DeliveryFixture.all;
import static idex.exchange.delivery.DeliveryFixture.awaitLog;
import static idex.exchange.delivery.DeliveryFixture.publish;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Destinations that fail — answer 500, never answer, redirect — as a partner sees it through HTTP: the retries they
 * get, what the delivery log says, and sending again by hand. One server with a 1 s timeout and two 200 ms retries.
 */
class DeliveryFailuresTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static DeliveryFixture fx;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, new DeliverySettings(Duration.ofSeconds(1),
                DeliverySettings.schedule("200ms,200ms"), Duration.ofDays(5), 8, true, Duration.ofDays(7)));
        fx = new DeliveryFixture(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void aDestinationAnswering500IsRetriedWithTheSameWebhookIdUntilDelivered() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> n <= 2 ? 500 : 204)) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            publish(web, "signup");

            List<WebhookReceiver.Received> requests = receiver.await(3, 10);
            String webhookId = requests.get(0).header("webhook-id");
            assertThat(webhookId).startsWith("msg_");
            assertThat(requests).extracting(r -> r.header("webhook-id")).containsExactly(webhookId, webhookId, webhookId);

            JsonNode d = awaitLog(acme, dest.endpointId(), 10, "one DELIVERED delivery", all(1, "DELIVERED")).get(0);
            assertThat(d.get("webhookId").asText()).isEqualTo(webhookId);
            assertThat(d.get("attemptCount").asInt()).isEqualTo(3);
            assertThat(d.get("sourceEndpointId").asLong()).isEqualTo(web.endpointId());
            assertThat(d.get("code").asText()).isEqualTo("signup");
            JsonNode attempts = d.get("attempts");
            assertThat(attempts).hasSize(3);
            List<String> seen = new ArrayList<>();
            attempts.forEach(a -> seen.add(a.get("attempt").asInt() + ":" + a.get("httpStatus").asInt() + ":"
                    + a.get("error").asText(null)));
            assertThat(seen).containsExactly("1:500:HTTP 500", "2:500:HTTP 500", "3:204:null");
            attempts.forEach(a -> {
                assertThat(a.get("durationMs").isInt()).as(a.toString()).isTrue();
                assertThat(a.get("durationMs").asInt()).isBetween(0, 1000);
            });
            // The retries came after the schedule's waits, not at once.
            assertThat(attempts.get(1).get("at").asLong() - attempts.get(0).get("at").asLong()).isGreaterThanOrEqualTo(200);
            assertThat(attempts.get(2).get("at").asLong() - attempts.get(1).get("at").asLong()).isGreaterThanOrEqualTo(200);
            assertThat(receiver.requests()).hasSize(3);
        }
    }

    @Test
    void aDestinationThatNeverAnswersTimesOutWhileAHealthyOneKeepsReceiving() throws Exception {
        try (WebhookReceiver dead = WebhookReceiver.start().answering(n -> -1);
             WebhookReceiver healthy = WebhookReceiver.start()) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint deadDest = fx.subscribed(acme, dead.url("/dead"));
            fx.subscribed(acme, healthy.url("/live"));

            for (int i = 1; i <= 3; i++) {
                long sent = System.currentTimeMillis();
                publish(web, "signup");
                if (i == 1) {
                    dead.await(1, 5); // from here on the dead destination holds a request open
                }
                WebhookReceiver.Received r = healthy.await(i, 5).get(i - 1);
                assertThat(r.arrivedMillis() - sent).as("delivery %d to the healthy destination", i).isLessThan(2000);
            }
            assertThat(healthy.requests()).hasSize(3);

            JsonNode log = awaitLog(acme, deadDest.endpointId(), 30, "three FAILED deliveries", all(3, "FAILED"));
            for (JsonNode d : log) {
                assertThat(d.get("attempts")).hasSize(3);
                for (JsonNode a : d.get("attempts")) {
                    assertThat(a.get("httpStatus").isNull()).as(a.toString()).isTrue();
                    assertThat(a.get("error").asText()).isEqualTo("no answer within 1000 ms");
                    assertThat(a.get("durationMs").asInt()).isBetween(900, 5000);
                }
            }
            assertThat(dead.requests()).hasSize(9);
        }
    }

    @Test
    void aRedirectIsNotFollowedAndLoggedAsAFailedAttempt() throws Exception {
        try (WebhookReceiver target = WebhookReceiver.start();
             WebhookReceiver redirecting = WebhookReceiver.start().answering(n -> 302)) {
            redirecting.withAnswerHeaders(Map.of("Location", target.url("/caught")));
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, redirecting.url("/moved"));
            publish(web, "signup");

            JsonNode d = awaitLog(acme, dest.endpointId(), 10, "one FAILED delivery", all(1, "FAILED")).get(0);
            assertThat(d.get("attempts")).hasSize(3);
            for (JsonNode a : d.get("attempts")) {
                assertThat(a.get("httpStatus").asInt()).isEqualTo(302);
                assertThat(a.get("error").asText()).contains("redirects are not followed");
            }
            assertThat(redirecting.requests()).hasSize(3);
            assertThat(target.requests()).isEmpty();
        }
    }

    @Test
    void aFailedDeliveryIsSentAgainByRetryAndByRecover() throws Exception {
        AtomicBoolean up = new AtomicBoolean(false);
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> up.get() ? 204 : 500)) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            long before = System.currentTimeMillis();
            publish(web, "first");
            publish(web, "second");
            JsonNode failed = awaitLog(acme, dest.endpointId(), 15, "two FAILED deliveries", all(2, "FAILED"));
            for (JsonNode d : failed) {
                assertThat(d.get("attemptCount").asInt()).isEqualTo(3);
                assertThat(d.has("nextAttempt") && !d.get("nextAttempt").isNull()).as(d.toString()).isFalse();
            }
            assertThat(receiver.requests()).hasSize(6);
            JsonNode second = failed.get(0); // newest first
            JsonNode first = failed.get(1);
            assertThat(first.get("code").asText()).isEqualTo("first");
            long firstId = first.get("deliveryId").asLong();

            up.set(true);
            Answer retried = acme.client().post("/v1/deliveries/" + firstId + "/retry", null);
            assertThat(retried.status()).as(retried.body()).isEqualTo(200);
            assertThat(retried.json().get("deliveryId").asLong()).isEqualTo(firstId);
            assertThat(retried.json().get("status").asText()).isEqualTo("PENDING");
            assertThat(retried.json().get("queued").asInt()).isEqualTo(1);

            WebhookReceiver.Received again = receiver.await(7, 5).get(6);
            assertThat(again.header("webhook-id")).isEqualTo(first.get("webhookId").asText());
            JsonNode log = awaitLog(acme, dest.endpointId(), 10, "the retried delivery DELIVERED",
                    l -> l.get(1).get("status").asText().equals("DELIVERED"));
            assertThat(log.get(1).get("attemptCount").asInt()).isEqualTo(4);
            assertThat(log.get(1).get("attempts").get(3).get("httpStatus").asInt()).isEqualTo(204);
            assertThat(log.get(0).get("status").asText()).isEqualTo("FAILED"); // only the one asked for

            // Recovering from a time after both were created finds nothing; from before, the one still FAILED.
            Answer none = acme.client().post("/v1/deliveries/recover", "{\"endpointId\":" + dest.endpointId()
                    + ",\"since\":\"2099-01-01T00:00:00Z\"}");
            assertThat(none.status()).as(none.body()).isEqualTo(200);
            assertThat(none.json().get("queued").asInt()).isZero();
            Answer recovered = acme.client().post("/v1/deliveries/recover", "{\"endpointId\":" + dest.endpointId()
                    + ",\"since\":" + (before - 1000) + "}");
            assertThat(recovered.status()).as(recovered.body()).isEqualTo(200);
            assertThat(recovered.json().get("endpointId").asLong()).isEqualTo(dest.endpointId());
            assertThat(recovered.json().get("queued").asInt()).isEqualTo(1);

            WebhookReceiver.Received last = receiver.await(8, 5).get(7);
            assertThat(last.header("webhook-id")).isEqualTo(second.get("webhookId").asText());
            awaitLog(acme, dest.endpointId(), 10, "both DELIVERED", all(2, "DELIVERED"));
            assertThat(receiver.requests()).hasSize(8);
        }
    }

    @Test
    void theDeliveryLogRefusesWhatItCannotReadAndHidesWhatIsNotTheCallers() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            TestEndpoint otherDest = fx.subscribed(acme, receiver.url("/other"));
            publish(web, "signup");
            long deliveryId = awaitLog(acme, dest.endpointId(), 10, "one DELIVERED delivery", all(1, "DELIVERED"))
                    .get(0).get("deliveryId").asLong();
            long otherDeliveryId = awaitLog(acme, otherDest.endpointId(), 10, "one DELIVERED delivery",
                    all(1, "DELIVERED")).get(0).get("deliveryId").asLong();
            ExchangeClient account = acme.client();
            String list = "/v1/deliveries?endpointId=" + dest.endpointId();

            assertThat(account.get(list + "&status=LOST").status()).isEqualTo(400);
            assertThat(account.get(list + "&status=delivered").json().get("deliveries")).hasSize(1);
            assertThat(account.get(list + "&status=FAILED").json().get("deliveries")).isEmpty();
            assertThat(account.get(list + "&since=yesterday").status()).isEqualTo(400);
            assertThat(account.get(list + "&since=2099-01-01T00:00:00Z").json().get("deliveries")).isEmpty();
            assertThat(account.get(list + "&limit=0").status()).isEqualTo(400);
            assertThat(account.get(list + "&limit=1001").status()).isEqualTo(400);
            assertThat(account.get(list + "&limit=ten").status()).isEqualTo(400);
            assertThat(account.get(list + "&before=latest").status()).isEqualTo(400);

            assertThat(account.post("/v1/deliveries/999999999/retry", null).status()).isEqualTo(404);
            assertThat(account.post("/v1/deliveries/abc/retry", null).status()).isEqualTo(404);
            assertThat(account.post("/v1/deliveries/recover", "[]").status()).isEqualTo(400);
            assertThat(account.post("/v1/deliveries/recover", "{\"since\":0}").status()).isEqualTo(400);
            assertThat(account.post("/v1/deliveries/recover", "{\"endpointId\":" + dest.endpointId() + "}").status())
                    .isEqualTo(400);
            assertThat(account.post("/v1/deliveries/recover", "{\"endpointId\":" + dest.endpointId()
                    + ",\"since\":\"soon\"}").status()).isEqualTo(400);

            // Another account sees none of it: not the list, not the delivery, not the endpoint.
            TestAccount globex = fx.account();
            assertThat(globex.client().get(list).status()).isEqualTo(404);
            assertThat(globex.client().post("/v1/deliveries/" + deliveryId + "/retry", null).status()).isEqualTo(404);
            assertThat(globex.client().post("/v1/deliveries/recover", "{\"endpointId\":" + dest.endpointId()
                    + ",\"since\":0}").status()).isEqualTo(404);
            assertThat(globex.client().get("/v1/deliveries").json().get("deliveries")).isEmpty();

            // An endpoint key sees its own endpoint's deliveries; naming another endpoint is 403, another
            // endpoint's delivery is unknown to it.
            JsonNode own = dest.client().get("/v1/deliveries").json().get("deliveries");
            assertThat(own).hasSize(1);
            assertThat(own.get(0).get("deliveryId").asLong()).isEqualTo(deliveryId);
            assertThat(dest.client().get("/v1/deliveries?endpointId=" + otherDest.endpointId()).status()).isEqualTo(403);
            assertThat(dest.client().post("/v1/deliveries/" + otherDeliveryId + "/retry", null).status()).isEqualTo(404);
            assertThat(dest.client().post("/v1/deliveries/recover", "{\"endpointId\":" + otherDest.endpointId()
                    + ",\"since\":0}").status()).isEqualTo(403);
            Answer ownRecover = dest.client().post("/v1/deliveries/recover", "{\"since\":0}");
            assertThat(ownRecover.status()).as(ownRecover.body()).isEqualTo(200);
            assertThat(ownRecover.json().get("endpointId").asLong()).isEqualTo(dest.endpointId());
            assertThat(ownRecover.json().get("queued").asInt()).isZero(); // nothing FAILED
            assertThat(dest.client().post("/v1/deliveries/" + deliveryId + "/retry", null).status()).isEqualTo(200);
        }
    }

    @Test
    void theLogIsPagedNewestFirstWithoutOverlap() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            for (int i = 0; i < 5; i++) {
                publish(web, "e" + i);
            }
            JsonNode whole = awaitLog(acme, dest.endpointId(), 10, "five DELIVERED", all(5, "DELIVERED"));
            List<Long> expected = new ArrayList<>();
            whole.forEach(d -> expected.add(d.get("deliveryId").asLong()));
            assertThat(expected).isSortedAccordingTo((a, b) -> Long.compare(b, a));
            assertThat(whole.get(0).get("code").asText()).isEqualTo("e4");

            List<Long> paged = new ArrayList<>();
            List<Integer> pageSizes = new ArrayList<>();
            String next = "/v1/deliveries?endpointId=" + dest.endpointId() + "&limit=2";
            while (next != null) {
                Answer page = acme.client().get(next);
                assertThat(page.status()).as(page.body()).isEqualTo(200);
                page.json().get("deliveries").forEach(d -> paged.add(d.get("deliveryId").asLong()));
                pageSizes.add(page.json().get("deliveries").size());
                JsonNode nextBefore = page.json().get("nextBefore");
                next = nextBefore.isNull() ? null : "/v1/deliveries?endpointId=" + dest.endpointId() + "&limit=2&before="
                        + nextBefore.asLong();
                assertThat(pageSizes).hasSizeLessThanOrEqualTo(3);
            }
            assertThat(pageSizes).containsExactly(2, 2, 1);
            assertThat(paged).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void onThisNodePrivateNetworksAreAllowedButOnlyOverHttp() {
        TestAccount acme = fx.account();
        Answer ftp = acme.client().post("/v1/endpoint", DeliveryFixture.destinationRegistration("ftp://127.0.0.1/x", true));
        assertThat(ftp.status()).as(ftp.body()).isEqualTo(400);
        Answer loopback = acme.client().post("/v1/endpoint",
                DeliveryFixture.destinationRegistration("http://127.0.0.1:9/hooks", true));
        assertThat(loopback.status()).as(loopback.body()).isEqualTo(201);
        assertThat(loopback.json().get("signingSecret").asText()).startsWith("whsec_");
    }

    @Test
    void metricsCountAttemptsByOutcome() throws Exception {
        double deliveredBefore = attempts("delivered");
        double failedBefore = attempts("failed");
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> n == 1 ? 503 : 204)) {
            TestAccount acme = fx.account();
            TestEndpoint web = fx.source(acme);
            TestEndpoint dest = fx.subscribed(acme, receiver.url("/hooks"));
            publish(web, "signup");
            awaitLog(acme, dest.endpointId(), 10, "one DELIVERED delivery", all(1, "DELIVERED"));
        }
        // The engine counts an attempt when it records it, the same moment the log changes.
        assertThat(attempts("delivered")).isGreaterThanOrEqualTo(deliveredBefore + 1);
        assertThat(attempts("failed")).isGreaterThanOrEqualTo(failedBefore + 1);
        assertThat(scrape()).contains("idex_delivery_attempt_duration_seconds_count");
    }

    private static double attempts(String outcome) {
        Matcher m = Pattern.compile("(?m)^idex_delivery_attempts_total\\{[^}]*outcome=\"" + outcome + "\"[^}]*\\} (\\S+)$")
                .matcher(scrape());
        assertThat(m.find()).as("idex_delivery_attempts_total{outcome=%s} on /metrics", outcome).isTrue();
        return Double.parseDouble(m.group(1));
    }

    private static String scrape() {
        Answer a = new ExchangeClient(server, null).get("/metrics");
        assertThat(a.status()).isEqualTo(200);
        return a.body();
    }
}
