package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.standardwebhooks.Webhook;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.Eventually;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Events delivered to real receivers on loopback: the payload, its identifiers, its signature. */
class EventDeliveryTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"crmId\",\"type\":\"string\"}]";
    private static final AtomicInteger SEQ = new AtomicInteger();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, new DeliverySettings(Duration.ofSeconds(5),
                DeliverySettings.schedule("100ms,200ms,300ms"), Duration.ofDays(5), 8, true, Duration.ofDays(7)));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static TestAccount account() {
        return ExchangeAccounts.account(server, "Delivery" + SEQ.incrementAndGet());
    }

    static TestEndpoint source(TestAccount account, String name) {
        return ExchangeAccounts.endpoint(server, account, "{\"name\":\"" + name + "\",\"endpointTypes\":{\"event\":"
                + "{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}");
    }

    static TestEndpoint destination(TestAccount account, String url, int batchSize) {
        return ExchangeAccounts.endpoint(server, account, "{\"name\":\"Receiver\",\"endpointTypes\":{\"event\":"
                + "{\"destination\":{\"enabled\":true,\"url\":\"" + url + "\",\"batchSize\":" + batchSize + "}}},"
                + "\"identifiers\":" + IDS + "}");
    }

    static long subscribe(TestAccount account, long destination, String codes) {
        Answer a = account.client().post("/v1/subscriptions", "{\"destinationEndpointId\":" + destination
                + ",\"eventCodes\":" + codes + "}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("subscriptionId").asLong();
    }

    static Map<String, List<String>> lowerCase(WebhookReceiver.Received r) {
        Map<String, List<String>> headers = new java.util.HashMap<>();
        r.headers().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v));
        return headers;
    }

    @Test
    void anAcceptedEventReachesItsSubscriberWithEveryFieldSigned() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint crm = source(acme, "CRM");
            TestEndpoint dest = destination(acme, receiver.url("/hooks"), 1);
            String secret = dest.registration().get("signingSecret").asText();
            assertThat(secret).startsWith("whsec_");
            subscribe(acme, dest.endpointId(), "[\"signup\"]");

            // Another endpoint contributes an identifier of the same person first.
            Answer c = crm.client().post("/v1/event", "{\"code\":\"import\",\"timestamp\":\"2026-12-01T09:00:00Z\","
                    + "\"identifiers\":[{\"name\":\"email\",\"value\":\"ann@example.com\"},{\"name\":\"crmId\",\"value\":\"C-7\"}]}");
            assertThat(c.status()).as(c.body()).isEqualTo(200);
            Answer a = web.client().post("/v1/event", "{\"code\":\"signup\",\"timestamp\":\"2026-12-03T10:15:30+01:00\","
                    + "\"channel\":\"web\",\"identifiers\":[{\"name\":\"email\",\"value\":\"ann@example.com\"}],"
                    + "\"attributes\":[{\"name\":\"plan\",\"value\":\"gold\",\"type\":\"string\"},"
                    + "{\"name\":\"seats\",\"value\":12,\"type\":\"number\"}]}");
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            String x1Id = a.json().get("x1Ids").get(0).asText();

            WebhookReceiver.Received r = receiver.await(1, 20).get(0);
            assertThat(r.path()).isEqualTo("/hooks");
            JsonNode e = r.json();
            assertThat(e.get("eventId").isIntegralNumber()).isTrue();
            assertThat(e.get("provider").asText()).startsWith("Delivery");
            assertThat(e.get("source").asText()).isEqualTo("Web");
            assertThat(e.get("sourceEndpointId").asLong()).isEqualTo(web.endpointId());
            assertThat(e.get("channel").asText()).isEqualTo("web");
            assertThat(e.get("code").asText()).isEqualTo("signup");
            assertThat(e.get("timestamp").asText()).isEqualTo("2026-12-03T10:15:30+01:00");
            assertThat(e.get("x1Id").asText()).isEqualTo(x1Id);
            List<String> identifiers = new ArrayList<>();
            e.get("identifiers").forEach(i -> identifiers.add(i.get("name").asText() + "=" + i.get("value").asText()));
            assertThat(identifiers).containsExactly("crmId=C-7", "email=ann@example.com");
            assertThat(e.get("attributes").toString())
                    .isEqualTo("[{\"name\":\"plan\",\"value\":\"gold\",\"type\":\"string\"},"
                            + "{\"name\":\"seats\",\"value\":12,\"type\":\"number\"}]");

            assertThat(r.header("webhook-id")).startsWith("msg_");
            new Webhook(secret).verify(new String(r.body(), StandardCharsets.UTF_8), lowerCase(r));
            assertThat(receiver.requests()).hasSize(1); // the "import" code is not subscribed
        }
    }

    /** Sends one event of `code` about a person of its own, so that events never share identifiers by chance. */
    static long send(TestEndpoint source, String code) {
        Answer a = source.client().post("/v1/event", "{\"code\":\"" + code + "\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"email\",\"value\":\"p" + SEQ.incrementAndGet() + "@example.com\"}]}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get("x1Ids").get(0).asLong();
    }

    /** The events a request carried: one, or a batch's. */
    static List<JsonNode> events(WebhookReceiver.Received r) {
        JsonNode json = r.json();
        List<JsonNode> events = new ArrayList<>();
        if (json.has("events")) {
            json.get("events").forEach(events::add);
        } else {
            events.add(json);
        }
        return events;
    }

    /** Every event a receiver got so far, as "code" strings in arrival order. */
    static List<String> codes(WebhookReceiver receiver) {
        List<String> codes = new ArrayList<>();
        receiver.requests().forEach(r -> events(r).forEach(e -> codes.add(e.get("code").asText())));
        return codes;
    }

    /** The destination's delivery log: the outbox is written with the event, so it already shows what is owed. */
    static JsonNode deliveries(TestAccount account, long destination) {
        Answer a = account.client().get("/v1/deliveries?endpointId=" + destination);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get("deliveries");
    }

    static void filter(TestEndpoint endpoint, String name, boolean publish, boolean subscribe) {
        Answer a = endpoint.client().post("/v1/identityfilters", "[{\"identifierName\":\"" + name
                + "\",\"publishFilter\":" + publish + ",\"subscribeFilter\":" + subscribe + "}]");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
    }

    static TestEndpoint declaring(TestAccount account, String name, String... identifiers) {
        StringBuilder ids = new StringBuilder("[");
        for (String id : identifiers) {
            ids.append(ids.length() > 1 ? "," : "").append("{\"name\":\"").append(id).append("\",\"type\":\"string\"}");
        }
        return ExchangeAccounts.endpoint(server, account, "{\"name\":\"" + name + "\",\"endpointTypes\":{\"event\":"
                + "{\"source\":{\"enabled\":true}}},\"identifiers\":" + ids + "]}");
    }

    @Test
    void identityFiltersOfTheSourceTheDestinationAndOtherContributorsWithholdTheirIdentifiers() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = declaring(acme, "Web", "email", "phone", "loyalty");
            TestEndpoint crm = declaring(acme, "CRM", "email", "crmId", "accountNo");
            TestEndpoint ads = declaring(acme, "Ads", "email", "cookie");
            TestEndpoint dest = destination(acme, receiver.url("/filtered"), 1);
            filter(web, "phone", true, false);     // the source withholds its phone numbers
            filter(dest, "crmId", false, true);    // the destination wants no CRM ids, whoever gave them
            filter(ads, "cookie", true, false);    // Ads withholds its cookies wherever they travel
            subscribe(acme, dest.endpointId(), "[\"signup\"]");

            Answer c = crm.client().post("/v1/event", "{\"code\":\"import\",\"timestamp\":\"2026-12-01T09:00:00Z\","
                    + "\"identifiers\":[{\"name\":\"email\",\"value\":\"bob@example.com\"},"
                    + "{\"name\":\"crmId\",\"value\":\"C-8\"},{\"name\":\"accountNo\",\"value\":\"A-1\"}]}");
            assertThat(c.status()).as(c.body()).isEqualTo(200);
            Answer d = ads.client().post("/v1/event", "{\"code\":\"view\",\"timestamp\":\"2026-12-01T09:05:00Z\","
                    + "\"identifiers\":[{\"name\":\"email\",\"value\":\"bob@example.com\"},"
                    + "{\"name\":\"cookie\",\"value\":\"K-9\"}]}");
            assertThat(d.status()).as(d.body()).isEqualTo(200);
            Answer a = web.client().post("/v1/event", "{\"code\":\"signup\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                    + "\"identifiers\":[{\"name\":\"email\",\"value\":\"bob@example.com\"},"
                    + "{\"name\":\"phone\",\"value\":\"+15550100\"},{\"name\":\"loyalty\",\"value\":\"L-1\"}]}");
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            // One person: the event's x1 holds all six identifiers, so what is missing was withheld on the way out.
            assertThat(a.json().get("x1Ids").get(0)).isEqualTo(c.json().get("x1Ids").get(0));

            JsonNode e = receiver.await(1, 20).get(0).json();
            List<String> identifiers = new ArrayList<>();
            e.get("identifiers").forEach(i -> identifiers.add(i.get("name").asText() + "=" + i.get("value").asText()));
            assertThat(identifiers).containsExactlyInAnyOrder("accountNo=A-1", "email=bob@example.com", "loyalty=L-1");
        }
    }

    @Test
    void aBatchingDestinationGetsEveryEventOnceInSignedBatchesOfAtMostItsSize() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint dest = destination(acme, receiver.url("/batches"), 3);
            String secret = dest.registration().get("signingSecret").asText();
            subscribe(acme, dest.endpointId(), "[\"*\"]");
            StringBuilder events = new StringBuilder("{\"events\":[");
            for (int i = 0; i < 7; i++) {
                events.append(i > 0 ? "," : "").append("{\"code\":\"step").append(i)
                        .append("\",\"timestamp\":\"2026-12-03T10:00:00Z\",\"identifiers\":[{\"name\":\"email\",")
                        .append("\"value\":\"b").append(i).append("@example.com\"}]}");
            }
            Answer a = web.client().post("/v1/event", events + "]}");
            assertThat(a.status()).as(a.body()).isEqualTo(200);

            // Every delivery settled at its first attempt: nothing more will be sent, so the count below is final.
            Eventually.await("7 deliveries delivered at the first attempt", () -> deliveries(acme, dest.endpointId()),
                    log -> log.size() == 7 && allDeliveredOnce(log));
            List<WebhookReceiver.Received> requests = receiver.requests();
            List<Long> eventIds = new ArrayList<>();
            Set<String> codes = new HashSet<>();
            Set<String> webhookIds = new HashSet<>();
            for (WebhookReceiver.Received r : requests) {
                JsonNode batch = r.json().get("events");
                assertThat(batch.isArray()).as(r.json().toString()).isTrue();
                assertThat(batch.size()).isBetween(1, 3);
                batch.forEach(e -> {
                    eventIds.add(e.get("eventId").asLong());
                    codes.add(e.get("code").asText());
                });
                new Webhook(secret).verify(new String(r.body(), StandardCharsets.UTF_8), lowerCase(r));
                assertThat(webhookIds.add(r.header("webhook-id"))).as("each batch is its own message").isTrue();
            }
            assertThat(eventIds).hasSize(7).doesNotHaveDuplicates();
            // All seven were owed at once (one request accepted them), so they went out together, not one by one.
            assertThat(requests.size()).isBetween(3, 6);
            assertThat(codes).containsExactlyInAnyOrder("step0", "step1", "step2", "step3", "step4", "step5", "step6");
            Set<Long> logged = new HashSet<>();
            deliveries(acme, dest.endpointId()).forEach(l -> logged.add(l.get("eventId").asLong()));
            assertThat(logged).containsExactlyInAnyOrderElementsOf(eventIds);
        }
    }

    private static boolean allDeliveredOnce(JsonNode log) {
        for (JsonNode l : log) {
            if (!l.get("status").asText().equals("DELIVERED") || l.get("attemptCount").asInt() != 1) {
                return false;
            }
        }
        return true;
    }

    @Test
    void afterARotationDeliveriesCarryTwoSignaturesOneByEachSecret() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestAccount other = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint dest = destination(acme, receiver.url("/rotated"), 1);
            String oldSecret = dest.registration().get("signingSecret").asText();
            subscribe(acme, dest.endpointId(), "[\"*\"]");
            send(web, "before");
            WebhookReceiver.Received before = receiver.await(1, 20).get(0);
            assertThat(before.header("webhook-signature")).doesNotContain(" ");

            String path = "/v1/endpoint/" + dest.endpointId() + "/signingSecret";
            Answer rotated = acme.client().post(path, null);
            assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
            String newSecret = rotated.json().get("signingSecret").asText();
            assertThat(newSecret).startsWith("whsec_").isNotEqualTo(oldSecret);
            assertThat(rotated.json().get("previousSecretValidUntil").asLong())
                    .isGreaterThan(System.currentTimeMillis() + Duration.ofHours(23).toMillis());
            // Neither refusal may rotate: a third secret would push the old one out of the next delivery.
            Answer foreign = other.client().post(path, null);
            assertThat(foreign.status()).as(foreign.body()).isEqualTo(404);
            Answer notDestination = acme.client().post("/v1/endpoint/" + web.endpointId() + "/signingSecret", null);
            assertThat(notDestination.status()).as(notDestination.body()).isEqualTo(400);

            send(web, "after");
            WebhookReceiver.Received after = receiver.await(2, 20).get(1);
            assertThat(after.json().get("code").asText()).isEqualTo("after");
            assertThat(after.header("webhook-signature").split(" ")).hasSize(2).allMatch(s -> s.startsWith("v1,"));
            String body = new String(after.body(), StandardCharsets.UTF_8);
            new Webhook(oldSecret).verify(body, lowerCase(after));
            new Webhook(newSecret).verify(body, lowerCase(after));
            assertThatThrownBy(() -> new Webhook(randomSecret()).verify(body, lowerCase(after)))
                    .as("a secret never issued does not verify").isInstanceOf(Exception.class);
        }
    }

    private static String randomSecret() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return "whsec_" + Base64.getEncoder().encodeToString(key);
    }

    @Test
    void onlySubscribedCodesAreDeliveredAndAStarTakesThemAll() throws Exception {
        try (WebhookReceiver signups = WebhookReceiver.start(); WebhookReceiver all = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint signupOnly = destination(acme, signups.url("/signups"), 1);
            TestEndpoint everything = destination(acme, all.url("/all"), 1);
            subscribe(acme, signupOnly.endpointId(), "[\"signup\"]");
            subscribe(acme, everything.endpointId(), "[\"*\"]");
            send(web, "login");
            send(web, "purchase");
            send(web, "signup");

            Eventually.await("every code at the * subscriber", () -> codes(all), c -> c.size() == 3);
            assertThat(codes(all)).containsExactlyInAnyOrder("login", "purchase", "signup");
            signups.await(1, 20);
            assertThat(codes(signups)).containsExactly("signup");
            assertThat(deliveries(acme, signupOnly.endpointId())).hasSize(1);
        }
    }

    @Test
    void aSubscriptionNamingASourceTakesOnlyThatSourcesEvents() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint crm = source(acme, "CRM");
            TestEndpoint dest = destination(acme, receiver.url("/web-only"), 1);
            Answer s = acme.client().post("/v1/subscriptions", "{\"destinationEndpointId\":" + dest.endpointId()
                    + ",\"sourceEndpointId\":" + web.endpointId() + ",\"eventCodes\":[\"*\"]}");
            assertThat(s.status()).as(s.body()).isEqualTo(201);
            send(crm, "signup");
            send(web, "signup"); // the control: sent after the other source's, matching

            JsonNode e = receiver.await(1, 20).get(0).json();
            assertThat(e.get("sourceEndpointId").asLong()).isEqualTo(web.endpointId());
            assertThat(e.get("source").asText()).isEqualTo("Web");
            assertThat(deliveries(acme, dest.endpointId())).hasSize(1);
            assertThat(receiver.requests()).hasSize(1);
        }
    }

    @Test
    void aDeletedSubscriptionStopsDeliveries() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(); WebhookReceiver control = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint dest = destination(acme, receiver.url("/dropped"), 1);
            TestEndpoint kept = destination(acme, control.url("/kept"), 1);
            long subscription = subscribe(acme, dest.endpointId(), "[\"*\"]");
            subscribe(acme, kept.endpointId(), "[\"*\"]");
            send(web, "first");
            receiver.await(1, 20);

            Answer deleted = acme.client().delete("/v1/subscriptions/" + subscription);
            assertThat(deleted.status()).as(deleted.body()).isEqualTo(200);
            send(web, "second");
            Eventually.await("both events at the control", () -> codes(control), c -> c.size() == 2);

            assertThat(codes(receiver)).containsExactly("first");
            assertThat(deliveries(acme, dest.endpointId())).hasSize(1);
        }
    }

    @Test
    void anotherAccountsEventsNeverReachThisAccountsDestination() throws Exception {
        try (WebhookReceiver ours = WebhookReceiver.start(); WebhookReceiver theirs = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestAccount globex = account();
            TestEndpoint acmeWeb = source(acme, "Web");
            TestEndpoint globexWeb = source(globex, "Web");
            TestEndpoint acmeDest = destination(acme, ours.url("/acme"), 1);
            TestEndpoint globexDest = destination(globex, theirs.url("/globex"), 1);
            subscribe(acme, acmeDest.endpointId(), "[\"*\"]");
            subscribe(globex, globexDest.endpointId(), "[\"*\"]");
            // The other account's subscription is rejected outright: its destination is not in that account.
            Answer foreign = globex.client().post("/v1/subscriptions", "{\"destinationEndpointId\":"
                    + acmeDest.endpointId() + ",\"eventCodes\":[\"*\"]}");
            assertThat(foreign.status()).as(foreign.body()).isEqualTo(404);

            send(globexWeb, "signup");
            theirs.await(1, 20); // the other account's event went out, to its own destination
            send(acmeWeb, "signup");
            JsonNode e = ours.await(1, 20).get(0).json();

            assertThat(e.get("sourceEndpointId").asLong()).isEqualTo(acmeWeb.endpointId());
            assertThat(ours.requests()).hasSize(1);
            assertThat(deliveries(acme, acmeDest.endpointId())).hasSize(1);
            assertThat(theirs.requests()).hasSize(1);
            assertThat(theirs.requests().get(0).json().get("provider").asText())
                    .isNotEqualTo(e.get("provider").asText());
        }
    }

    @Test
    void twoSubscriptionsOfOneDestinationDeliverAnEventOnce() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            TestEndpoint dest = destination(acme, receiver.url("/twice-subscribed"), 1);
            subscribe(acme, dest.endpointId(), "[\"signup\"]");
            subscribe(acme, dest.endpointId(), "[\"*\"]");
            send(web, "signup");
            send(web, "login"); // the control: matches only the second subscription

            Eventually.await("the login event", () -> codes(receiver), c -> c.contains("login"));
            assertThat(deliveries(acme, dest.endpointId())).hasSize(2);
            assertThat(codes(receiver)).containsExactlyInAnyOrder("signup", "login");
        }
    }

    @Test
    void aDestinationItsOwnerTurnedOffReceivesNothingAndKeepsItsUrl() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(); WebhookReceiver control = WebhookReceiver.start()) {
            TestAccount acme = account();
            TestEndpoint web = source(acme, "Web");
            String url = receiver.url("/off");
            TestEndpoint dest = destination(acme, url, 1);
            TestEndpoint kept = destination(acme, control.url("/on"), 1);
            subscribe(acme, dest.endpointId(), "[\"*\"]");
            subscribe(acme, kept.endpointId(), "[\"*\"]");

            // A destination-only endpoint is paused, not left without a role: its URL stays.
            Answer off = dest.client().put("/v1/endpoint", "{\"name\":\"Receiver\",\"endpointTypes\":{\"event\":"
                    + "{\"destination\":{\"enabled\":false,\"url\":\"" + url + "\"}}},"
                    + "\"identifiers\":" + IDS + "}");
            assertThat(off.status()).as(off.body()).isEqualTo(200);
            send(web, "signup");
            control.await(1, 20);

            assertThat(receiver.requests()).isEmpty();
            assertThat(deliveries(acme, dest.endpointId())).isEmpty();
            Answer shown = acme.client().get("/v1/endpoint?endpointId=" + dest.endpointId());
            assertThat(shown.status()).as(shown.body()).isEqualTo(200);
            JsonNode destination = shown.json().path("endpointTypes").path("event").path("destination");
            assertThat(destination.path("enabled").asBoolean(true)).as(shown.body()).isFalse();
            assertThat(destination.path("url").asText()).isEqualTo(url);
        }
    }

    /** DELIVERED deliveries of a destination, from the delivery log. */
    static int deliveredCount(TestAccount account, long destination) {
        Answer r = account.client().get("/v1/deliveries?endpointId=" + destination + "&status=DELIVERED&limit=200");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("deliveries").size();
    }

    @Test
    void eachEventAnsweredWithoutABodyIsSentOnceAndRecordedDelivered() throws Exception {
        // A 204 can end before the sender's answer callback runs; the attempt must still be recorded, or its lane slot
        // stays taken and the message is sent again when its lease ends.
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            int events = 100;
            deliverInOneRequest(receiver, "once-", events);
            assertThat(receiver.requests()).as("requests: one per event, none again after a lease ran out").hasSize(events);
        }
    }

    @Test
    void aDestinationNeverHasMoreRequestsInFlightThanItsConcurrency() throws Exception {
        // The engine claims up to twice the concurrency ahead; only the concurrency may be on the wire at once.
        try (WebhookReceiver receiver = WebhookReceiver.start().holding(Duration.ofMillis(100))) {
            int events = 40;
            deliverInOneRequest(receiver, "window-", events);
            assertThat(receiver.mostAtOnce()).as("requests in flight at once (--delivery-concurrency 8)")
                    .isBetween(2, 8);
            assertThat(receiver.requests()).as("one request per event").hasSize(events);
        }
    }

    /**
     * Posts `events` events of new people (crmIds `prefix` + n) in one request to a destination subscribed to them, one
     * event a message; waits until `receiver` has them all and the log shows each DELIVERED.
     */
    private void deliverInOneRequest(WebhookReceiver receiver, String prefix, int events) throws Exception {
        TestAccount acme = account();
        TestEndpoint web = source(acme, "Web");
        TestEndpoint dest = destination(acme, receiver.url("/hooks"), 1);
        subscribe(acme, dest.endpointId(), "[\"*\"]");
        StringBuilder batch = new StringBuilder("{\"events\":[");
        for (int i = 0; i < events; i++) { // one request: the engine sends them concurrently
            batch.append(i == 0 ? "" : ",").append("{\"code\":\"visit\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                    + "\"identifiers\":[{\"name\":\"crmId\",\"value\":\"").append(prefix).append(i).append("\"}]}");
        }
        Answer a = web.client().post("/v1/event", batch.append("]}").toString());
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        receiver.await(events, 60);
        idex.support.Eventually.await("every delivery recorded DELIVERED", Duration.ofSeconds(30),
                () -> deliveredCount(acme, dest.endpointId()), n -> n == events);
    }
}
