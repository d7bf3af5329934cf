package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** `/v1/eventtype` and `/v1/subscriptions` over HTTP: declaring codes, subscribing destinations, account scoping. */
class EventSubscriptionsTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";
    private static final AtomicInteger SEQ = new AtomicInteger();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static TestAccount account() {
        return ExchangeAccounts.account(server, "Account" + SEQ.incrementAndGet());
    }

    /** An event source (every test registration is one). */
    private static TestEndpoint source(TestAccount account) {
        return ExchangeAccounts.endpoint(server, account, registration("Source", "none", null, IDS));
    }

    private static TestEndpoint destination(TestAccount account, String destinationJson) {
        return ExchangeAccounts.endpoint(server, account, "{\"name\":\"Receiver\",\"endpointTypes\":{\"event\":"
                + "{\"destination\":" + destinationJson + "}},\"identifiers\":" + IDS + "}");
    }

    private static TestEndpoint destination(TestAccount account) {
        return destination(account, "{\"enabled\":true,\"url\":\"https://receiver.example/events\"}");
    }

    private static String subscription(long destination, Long source, String codes) {
        return "{\"destinationEndpointId\":" + destination + (source == null ? "" : ",\"sourceEndpointId\":" + source)
                + ",\"eventCodes\":" + codes + "}";
    }

    private static List<String> codes(JsonNode types) {
        List<String> codes = new ArrayList<>();
        types.forEach(t -> codes.add(t.get("endpointId").asLong() + ":" + t.get("code").asText()));
        return codes;
    }

    @Test
    void anEventSourceDeclaresTypesAndEachKeySeesWhatItShould() {
        TestAccount acme = account();
        TestEndpoint web = source(acme);
        TestEndpoint app = source(acme);

        Answer a = web.client().post("/v1/eventtype", "{\"code\":\"signup\",\"name\":\"Sign-up\",\"description\":\"A new user\"}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(a.json().get("endpointId").asLong()).isEqualTo(web.endpointId());
        assertThat(a.json().get("code").asText()).isEqualTo("signup");
        assertThat(a.json().get("name").asText()).isEqualTo("Sign-up");
        assertThat(a.json().get("description").asText()).isEqualTo("A new user");
        assertThat(web.client().post("/v1/eventtype", "{\"code\":\"purchase\"}").status()).isEqualTo(201);
        Answer byAccount = acme.client().post("/v1/eventtype?endpointId=" + app.endpointId(), "{\"code\":\"login\"}");
        assertThat(byAccount.status()).as(byAccount.body()).isEqualTo(201);
        assertThat(byAccount.json().get("endpointId").asLong()).isEqualTo(app.endpointId());

        assertThat(codes(web.client().get("/v1/eventtype").json()))
                .containsExactly(web.endpointId() + ":signup", web.endpointId() + ":purchase");
        assertThat(codes(app.client().get("/v1/eventtype").json())).containsExactly(app.endpointId() + ":login");
        assertThat(codes(acme.client().get("/v1/eventtype").json())).containsExactly(web.endpointId() + ":signup",
                web.endpointId() + ":purchase", app.endpointId() + ":login");
        assertThat(codes(acme.client().get("/v1/eventtype?endpointId=" + app.endpointId()).json()))
                .containsExactly(app.endpointId() + ":login");
        assertThat(web.client().get("/v1/eventtype?endpointId=" + app.endpointId()).status()).isEqualTo(403);
        assertThat(acme.client().post("/v1/eventtype", "{\"code\":\"x\"}").status()).isEqualTo(400);

        // Declaring stays optional: an undeclared code is taken as before.
        Answer event = web.client().post("/v1/event", "{\"code\":\"undeclared\",\"timestamp\":\"2026-11-23T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"email\",\"value\":\"u" + SEQ.incrementAndGet() + "@example.com\"}]}");
        assertThat(event.status()).as(event.body()).isEqualTo(200);
    }

    @Test
    void aCodeDeclaredTwiceByOneEndpointIs409AndAnotherEndpointMayDeclareIt() {
        TestAccount acme = account();
        TestEndpoint web = source(acme);
        TestEndpoint app = source(acme);
        assertThat(web.client().post("/v1/eventtype", "{\"code\":\"signup\",\"name\":\"First\"}").status()).isEqualTo(201);

        Answer again = web.client().post("/v1/eventtype", "{\"code\":\"signup\",\"name\":\"Second\"}");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.message()).contains("already declared", "signup");
        assertThat(web.client().get("/v1/eventtype").json().get(0).get("name").asText()).isEqualTo("First");
        assertThat(app.client().post("/v1/eventtype", "{\"code\":\"signup\"}").status()).isEqualTo(201);
    }

    @Test
    void onlyAnEventSourceDeclaresTypes() {
        TestAccount acme = account();
        TestEndpoint receiver = destination(acme);
        Answer a = receiver.client().post("/v1/eventtype", "{\"code\":\"signup\"}");
        assertThat(a.status()).isEqualTo(403);
        assertThat(a.message()).contains("not an event source");
        assertThat(acme.client().get("/v1/eventtype").json()).isEmpty();
    }

    @Test
    void badEventTypesAre400AndStoreNothing() {
        TestAccount acme = account();
        TestEndpoint web = source(acme);
        String tooLong = "a".repeat(129);
        for (String body : List.of("[]", "{}", "{\"code\":\"\"}", "{\"code\":12}", "{\"code\":\"sign up\"}",
                "{\"code\":\"" + tooLong + "\"}", "{\"code\":\"1st\"}", "{\"code\":\"signup\",\"colour\":\"red\"}",
                "{\"code\":\"signup\",\"name\":5}", "{\"code\":\"signup\",\"description\":\"" + "d".repeat(4097) + "\"}",
                "not json")) {
            Answer a = web.client().post("/v1/eventtype", body);
            assertThat(a.status()).as(body).isEqualTo(400);
            assertThat(a.message()).as(body).isNotBlank();
        }
        assertThat(web.client().get("/v1/eventtype").json()).isEmpty();
    }

    @Test
    void subscriptionsAreCreatedListedAndDeleted() {
        TestAccount acme = account();
        TestEndpoint web = source(acme);
        TestEndpoint receiver = destination(acme);

        Answer every = receiver.client().post("/v1/subscriptions", subscription(receiver.endpointId(), null, "[\"*\"]"));
        assertThat(every.status()).as(every.body()).isEqualTo(201);
        long everyId = every.json().get("subscriptionId").asLong();
        assertThat(every.json().get("destinationEndpointId").asLong()).isEqualTo(receiver.endpointId());
        assertThat(every.json().get("sourceEndpointId").isNull()).isTrue();
        assertThat(every.json().get("eventCodes").toString()).isEqualTo("[\"*\"]");

        Answer named = acme.client().post("/v1/subscriptions",
                subscription(receiver.endpointId(), web.endpointId(), "[\"signup\",\"purchase\"]"));
        assertThat(named.status()).as(named.body()).isEqualTo(201);
        long namedId = named.json().get("subscriptionId").asLong();
        assertThat(named.json().get("sourceEndpointId").asLong()).isEqualTo(web.endpointId());
        assertThat(named.json().get("eventCodes").toString()).isEqualTo("[\"signup\",\"purchase\"]");

        assertThat(ids(acme.client().get("/v1/subscriptions").json())).containsExactly(everyId, namedId);
        assertThat(ids(receiver.client().get("/v1/subscriptions").json())).containsExactly(everyId, namedId);
        // The named source sees the subscription naming it, not the one for every source.
        assertThat(ids(web.client().get("/v1/subscriptions").json())).containsExactly(namedId);
        assertThat(ids(acme.client().get("/v1/subscriptions?endpointId=" + web.endpointId()).json()))
                .containsExactly(namedId);
        assertThat(acme.client().get("/v1/subscriptions").json().get(1)).isEqualTo(named.json());

        Answer bySource = web.client().delete("/v1/subscriptions/" + namedId);
        assertThat(bySource.status()).isEqualTo(403);
        assertThat(receiver.client().delete("/v1/subscriptions/" + namedId).status()).isEqualTo(200);
        assertThat(receiver.client().delete("/v1/subscriptions/" + namedId).status()).isEqualTo(404);
        assertThat(acme.client().delete("/v1/subscriptions/" + everyId).status()).isEqualTo(200);
        assertThat(acme.client().get("/v1/subscriptions").json()).isEmpty();
        assertThat(acme.client().delete("/v1/subscriptions/abc").status()).isEqualTo(404);
        assertThat(acme.client().delete("/v1/subscriptions/0").status()).isEqualTo(404);
    }

    @Test
    void anEndpointKeySubscribesOnlyItsOwnEndpoint() {
        TestAccount acme = account();
        TestEndpoint receiver = destination(acme);
        TestEndpoint web = source(acme);
        Answer a = web.client().post("/v1/subscriptions", subscription(receiver.endpointId(), null, "[\"*\"]"));
        assertThat(a.status()).isEqualTo(403);
        assertThat(a.message()).contains("endpoint " + web.endpointId());
        assertThat(acme.client().get("/v1/subscriptions").json()).isEmpty();
    }

    @Test
    void theDestinationMustBeAnEnabledEventDestinationWithAUrl() {
        TestAccount acme = account();
        TestEndpoint web = source(acme);
        TestEndpoint noUrl = destination(acme, "{\"enabled\":true}");

        Answer notDestination = acme.client().post("/v1/subscriptions", subscription(web.endpointId(), null, "[\"*\"]"));
        assertThat(notDestination.status()).isEqualTo(400);
        assertThat(notDestination.message()).contains("destinationEndpointId " + web.endpointId(), "not an event destination");

        Answer missingUrl = acme.client().post("/v1/subscriptions", subscription(noUrl.endpointId(), null, "[\"*\"]"));
        assertThat(missingUrl.status()).isEqualTo(400);
        assertThat(missingUrl.message()).contains("destinationEndpointId " + noUrl.endpointId(),
                "endpointTypes.event.destination.url");

        TestEndpoint receiver = destination(acme);
        Answer sourceNotSource = acme.client().post("/v1/subscriptions",
                subscription(receiver.endpointId(), noUrl.endpointId(), "[\"*\"]"));
        assertThat(sourceNotSource.status()).isEqualTo(400);
        assertThat(sourceNotSource.message()).contains("sourceEndpointId " + noUrl.endpointId(), "not an event source");
        assertThat(acme.client().get("/v1/subscriptions").json()).isEmpty();
    }

    @Test
    void anotherAccountsIdsAre404AndNothingLeaks() {
        TestAccount acme = account();
        TestAccount other = account();
        TestEndpoint receiver = destination(acme);
        TestEndpoint web = source(acme);
        assertThat(web.client().post("/v1/eventtype", "{\"code\":\"signup\"}").status()).isEqualTo(201);
        long id = acme.client().post("/v1/subscriptions", subscription(receiver.endpointId(), null, "[\"*\"]"))
                .json().get("subscriptionId").asLong();
        TestEndpoint otherReceiver = destination(other);
        TestEndpoint otherSource = source(other);

        assertThat(other.client().get("/v1/subscriptions").json()).isEmpty();
        assertThat(other.client().get("/v1/eventtype").json()).isEmpty();
        assertThat(other.client().get("/v1/eventtype?endpointId=" + web.endpointId()).status()).isEqualTo(404);
        assertThat(other.client().get("/v1/subscriptions?endpointId=" + receiver.endpointId()).status()).isEqualTo(404);
        assertThat(other.client().post("/v1/eventtype?endpointId=" + web.endpointId(), "{\"code\":\"x\"}").status())
                .isEqualTo(404);
        assertThat(other.client().delete("/v1/subscriptions/" + id).status()).isEqualTo(404);
        assertThat(otherReceiver.client().delete("/v1/subscriptions/" + id).status()).isEqualTo(404);
        assertThat(other.client().post("/v1/subscriptions", subscription(receiver.endpointId(), null, "[\"*\"]"))
                .status()).isEqualTo(404);
        assertThat(other.client().post("/v1/subscriptions",
                subscription(otherReceiver.endpointId(), web.endpointId(), "[\"*\"]")).status()).isEqualTo(404);
        assertThat(otherReceiver.client().post("/v1/subscriptions",
                subscription(otherReceiver.endpointId(), web.endpointId(), "[\"*\"]")).status()).isEqualTo(404);

        assertThat(ids(acme.client().get("/v1/subscriptions").json())).containsExactly(id);
        assertThat(other.client().get("/v1/subscriptions").json()).isEmpty();
        assertThat(codes(otherSource.client().get("/v1/eventtype").json())).isEmpty();
    }

    @Test
    void badSubscriptionsAre400AndStoreNothing() {
        TestAccount acme = account();
        TestEndpoint receiver = destination(acme);
        long d = receiver.endpointId();
        for (String body : List.of("[]", "{}", "{\"eventCodes\":[\"*\"]}",
                "{\"destinationEndpointId\":\"" + d + "\",\"eventCodes\":[\"*\"]}",
                "{\"destinationEndpointId\":0,\"eventCodes\":[\"*\"]}",
                "{\"destinationEndpointId\":-3,\"eventCodes\":[\"*\"]}",
                "{\"destinationEndpointId\":1.5,\"eventCodes\":[\"*\"]}",
                subscription(d, null, "[]"), subscription(d, null, "\"*\""), "{\"destinationEndpointId\":" + d + "}",
                subscription(d, null, "[\"signup\",\"signup\"]"), subscription(d, null, "[\"*\",\"signup\"]"),
                subscription(d, null, "[\"*\",\"*\"]"), subscription(d, null, "[\"\"]"), subscription(d, null, "[7]"),
                subscription(d, null, "[null]"), subscription(d, null, "[\"sign up\"]"),
                subscription(d, null, "[\"" + "a".repeat(129) + "\"]"),
                "{\"destinationEndpointId\":" + d + ",\"sourceEndpointId\":\"x\",\"eventCodes\":[\"*\"]}",
                "{\"destinationEndpointId\":" + d + ",\"eventCodes\":[\"*\"],\"channel\":\"web\"}", "nope")) {
            Answer a = acme.client().post("/v1/subscriptions", body);
            assertThat(a.status()).as(body).isEqualTo(400);
            assertThat(a.message()).as(body).isNotBlank();
        }
        Answer duplicate = acme.client().post("/v1/subscriptions", subscription(d, null, "[\"signup\",\"signup\"]"));
        assertThat(duplicate.message()).contains("\"signup\" more than once");
        Answer mixed = acme.client().post("/v1/subscriptions", subscription(d, null, "[\"*\",\"signup\"]"));
        assertThat(mixed.message()).contains("stands alone");
        assertThat(acme.client().get("/v1/subscriptions").json()).isEmpty();
    }

    private static List<Long> ids(JsonNode subscriptions) {
        List<Long> ids = new ArrayList<>();
        subscriptions.forEach(s -> ids.add(s.get("subscriptionId").asLong()));
        return ids;
    }
}
