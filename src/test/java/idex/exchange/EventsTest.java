package idex.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.ExchangeClient.q;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/** `POST /v1/event` (spec §6): events from event sources feed the identity store, a request whole or not at all. */
class EventsTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestAccount other;
    static TestEndpoint web;

    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\",\"unique\":true},"
            + "{\"name\":\"cookieId\",\"type\":\"string\"},{\"name\":\"userId\",\"type\":\"string\"}]";
    private static final String TS = "2026-11-23T10:00:00Z";

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        other = ExchangeAccounts.account(server, "Other");
        web = ExchangeAccounts.endpoint(server, acme, registration("Web", "none", null, IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void singleEventIsStoredWithTrimmedValuesAndVisibleToBothKeys() {
        String email = fresh("single") + "@example.com";
        String cookie = fresh("c");
        String body = "{\"code\":\"purchase\",\"timestamp\":\"2026-11-23T10:00:00.123+01:00\",\"channel\":\"web\","
                + "\"identifiers\":[{\"name\":\"email\",\"value\":\"  " + email + " \"},{\"name\":\"cookieId\",\"value\":\""
                + cookie + "\"}],\"attributes\":[{\"name\":\"amount\",\"value\":12.5,\"type\":\"number\"},"
                + "{\"name\":\"firstName\",\"value\":\"Ada\"},{\"name\":\"member\",\"value\":true}]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(a.json().get("received").asInt()).isEqualTo(1);
        assertThat(a.json().get("rejected")).isEmpty();
        String x1 = a.json().get("x1Ids").get(0).asText();
        assertThat(x1).isNotBlank();

        assertThat(x1IdsHolding(acme.client(), "email", email, web.endpointId())).containsExactly(x1);
        assertThat(x1IdsHolding(web.client(), "cookieId", cookie, null)).containsExactly(x1);
        JsonNode person = web.client().get("/v1/identity/" + x1).json().get(0);
        assertThat(person.get("identifiers").findValuesAsText("value")).containsExactlyInAnyOrder(email, cookie);

        // A later event with the same email lands on the same x1Id and adds its new identifier there.
        String user = fresh("u");
        Answer again = web.client().post("/v1/event", single("login", ids("email", email, "userId", user)));
        assertThat(again.json().get("x1Ids").get(0).asText()).isEqualTo(x1);
        assertThat(x1IdsHolding(web.client(), "userId", user, null)).containsExactly(x1);
    }

    @Test
    void batchOfEventsSharingIdentifiersResolvesToOneX1Id() {
        String email = fresh("batch") + "@example.com";
        String cookie = fresh("c");
        String user = fresh("u");
        String stranger = fresh("stranger") + "@example.com";
        String body = "{\"events\":[" + event("view", ids("email", email, "cookieId", cookie)) + ","
                + event("cart", ids("cookieId", cookie, "userId", user)) + ","
                + event("buy", ids("userId", user)) + ","
                + event("view", ids("email", stranger)) + "]}";
        Answer a = acme.client().post("/v1/event?endpointId=" + web.endpointId(), body);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        JsonNode x1s = a.json().get("x1Ids");
        assertThat(a.json().get("received").asInt()).isEqualTo(4);
        assertThat(x1s).hasSize(4);
        assertThat(x1s.get(1).asText()).isEqualTo(x1s.get(0).asText());
        assertThat(x1s.get(2).asText()).isEqualTo(x1s.get(0).asText());
        assertThat(x1s.get(3).asText()).isNotEqualTo(x1s.get(0).asText());

        JsonNode person = web.client().get("/v1/identity/" + x1s.get(0).asText()).json().get(0);
        assertThat(person.get("identifiers").findValuesAsText("value")).containsExactlyInAnyOrder(email, cookie, user);
        assertThat(x1IdsHolding(web.client(), "email", stranger, null)).containsExactly(x1s.get(3).asText());
    }

    @Test
    void anEventThatJoinsTwoEarlierOnesAnswersTheSurvivingX1IdForAllOfThem() {
        String email = fresh("join") + "@example.com";
        String cookie = fresh("c");
        String body = "{\"events\":[" + event("a", ids("email", email)) + "," + event("b", ids("cookieId", cookie)) + ","
                + event("c", ids("email", email, "cookieId", cookie)) + "]}";
        JsonNode x1s = web.client().post("/v1/event", body).json().get("x1Ids");
        assertThat(x1s.get(0).asText()).isEqualTo(x1s.get(1).asText()).isEqualTo(x1s.get(2).asText());
        assertThat(x1IdsHolding(web.client(), "cookieId", cookie, null)).containsExactly(x1s.get(0).asText());
    }

    @Test
    void compoundBatchAppliesTheTopIdentifiersToEveryEvent() {
        String email = fresh("compound") + "@example.com";
        String cookie = fresh("c");
        String body = "{\"identifiers\":" + ids("email", email, "cookieId", cookie) + ",\"events\":["
                + "{\"code\":\"view\",\"timestamp\":\"" + TS + "\"},"
                + "{\"code\":\"cart\",\"timestamp\":\"2026-11-23T10:01:00+05:30\",\"channel\":\"app\"},"
                + "{\"code\":\"buy\",\"timestamp\":\"2026-11-23T10:02:00.5Z\",\"attributes\":[{\"name\":\"sku\",\"value\":\"A-1\"}]}]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        JsonNode x1s = a.json().get("x1Ids");
        assertThat(a.json().get("received").asInt()).isEqualTo(3);
        assertThat(x1s).hasSize(3);
        String x1 = x1s.get(0).asText();
        assertThat(List.of(x1s.get(1).asText(), x1s.get(2).asText())).containsOnly(x1);
        assertThat(x1IdsHolding(acme.client(), "email", email, web.endpointId())).containsExactly(x1);
        assertThat(x1IdsHolding(acme.client(), "cookieId", cookie, web.endpointId())).containsExactly(x1);
    }

    @Test
    void compoundBatchRefusesAnEventWithItsOwnIdentifiers() {
        String email = fresh("own") + "@example.com";
        String cookie = fresh("c");
        String body = "{\"identifiers\":" + ids("email", email) + ",\"events\":["
                + "{\"code\":\"view\",\"timestamp\":\"" + TS + "\"},"
                + event("cart", ids("cookieId", cookie)) + "]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("index").asInt()).isEqualTo(1);
        assertThat(a.message()).startsWith("event 1: ").contains("compound batch").contains("remove them");
        assertThat(x1IdsHolding(web.client(), "email", email, null)).isEmpty();
        assertThat(x1IdsHolding(web.client(), "cookieId", cookie, null)).isEmpty();
    }

    @Test
    void compoundBatchWithBadTopIdentifiersIsRefusedWithoutAnIndex() {
        String body = "{\"identifiers\":[{\"name\":\"phone\",\"value\":\"+15551234567\"}],\"events\":["
                + "{\"code\":\"view\",\"timestamp\":\"" + TS + "\"}]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("compound batch's \"identifiers\"").contains("'phone'").contains("email, cookieId, userId");
        assertThat(a.json().has("index")).isFalse();
    }

    static Stream<Arguments> badEvents() {
        String good = "[{\"name\":\"cookieId\",\"value\":\"%COOKIE%\"}]";
        String ok = "\"code\":\"buy\",\"timestamp\":\"" + TS + "\"";
        return Stream.of(
                arguments("missing code", "{\"timestamp\":\"" + TS + "\",\"identifiers\":" + good + "}", "\"code\" is missing"),
                arguments("blank code", "{\"code\":\"  \",\"timestamp\":\"" + TS + "\",\"identifiers\":" + good + "}", "\"code\" is empty"),
                arguments("long code", "{\"code\":\"" + "x".repeat(129) + "\",\"timestamp\":\"" + TS + "\",\"identifiers\":" + good + "}",
                        "at most 128"),
                arguments("numeric code", "{\"code\":42,\"timestamp\":\"" + TS + "\",\"identifiers\":" + good + "}",
                        "\"code\" must be a string, not the number 42"),
                arguments("missing timestamp", "{\"code\":\"buy\",\"identifiers\":" + good + "}", "\"timestamp\" is missing"),
                arguments("timestamp without offset", "{\"code\":\"buy\",\"timestamp\":\"2026-11-23T10:00:00\",\"identifiers\":" + good + "}",
                        "not an ISO-8601 date and time with an offset"),
                arguments("date only", "{\"code\":\"buy\",\"timestamp\":\"2026-11-23\",\"identifiers\":" + good + "}",
                        "not an ISO-8601"),
                arguments("space instead of T", "{\"code\":\"buy\",\"timestamp\":\"2026-11-23 10:00:00Z\",\"identifiers\":" + good + "}",
                        "not an ISO-8601"),
                arguments("impossible date", "{\"code\":\"buy\",\"timestamp\":\"2026-02-30T10:00:00Z\",\"identifiers\":" + good + "}",
                        "not an ISO-8601"),
                arguments("words", "{\"code\":\"buy\",\"timestamp\":\"yesterday\",\"identifiers\":" + good + "}", "'yesterday'"),
                arguments("epoch millis", "{\"code\":\"buy\",\"timestamp\":1795000000000,\"identifiers\":" + good + "}",
                        "must be an ISO-8601 string"),
                arguments("numeric channel", "{" + ok + ",\"channel\":5,\"identifiers\":" + good + "}", "\"channel\" must be a string"),
                arguments("attributes object", "{" + ok + ",\"attributes\":{\"a\":1},\"identifiers\":" + good + "}",
                        "\"attributes\" must be an array"),
                arguments("attribute without name", "{" + ok + ",\"attributes\":[{\"value\":1}],\"identifiers\":" + good + "}",
                        "attributes[0].name"),
                arguments("attribute object value", "{" + ok + ",\"attributes\":[{\"name\":\"a\",\"value\":{}}],\"identifiers\":" + good + "}",
                        "attributes[0].value (\"a\") must be a string, a number or true/false, not an object"),
                arguments("attribute null value", "{" + ok + ",\"attributes\":[{\"name\":\"a\",\"value\":null}],\"identifiers\":" + good + "}",
                        "not null"),
                arguments("attribute twice", "{" + ok + ",\"attributes\":[{\"name\":\"a\",\"value\":1},{\"name\":\"a\",\"value\":2}],"
                        + "\"identifiers\":" + good + "}", "given twice"),
                arguments("no identifiers", "{" + ok + "}", "\"identifiers\" is missing"),
                arguments("empty identifiers", "{" + ok + ",\"identifiers\":[]}", "\"identifiers\" is empty"),
                arguments("identifiers not an array", "{" + ok + ",\"identifiers\":\"a@b.c\"}", "\"identifiers\" must be an array"),
                arguments("undeclared identifier", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"%COOKIE%\"},"
                        + "{\"name\":\"Email\",\"value\":\"a@b.c\"}]}", "identifiers[1].name 'Email' is not an identifier this endpoint declared"),
                arguments("blank value", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"   \"}]}", "is empty"),
                arguments("missing value", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\"}]}", "must be a string and is missing"),
                arguments("numeric value", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":123}]}", "put numbers in quotes"),
                arguments("long value", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"" + "v".repeat(513) + "\"}]}",
                        "has 513 characters"),
                arguments("control character", "{" + ok + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"a\\u0000b\"}]}",
                        "control character"),
                arguments("NUL in code", "{\"code\":\"a\\u0000b\",\"timestamp\":\"" + TS + "\",\"identifiers\":" + good + "}",
                        "\"code\" contains U+0000"),
                arguments("NUL in an attribute value", "{" + ok + ",\"attributes\":[{\"name\":\"a\",\"value\":\"a\\u0000b\"}],"
                        + "\"identifiers\":" + good + "}", "attributes[0].value (\"a\") contains U+0000"),
                arguments("not an object", "\"buy\"", "not an event object"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badEvents")
    void aBadEventRefusesTheWholeBatchWithItsIndexAndStoresNothing(String kind, String badEvent, String expected) {
        String email0 = fresh("ok0") + "@example.com";
        String email1 = fresh("ok1") + "@example.com";
        String cookie = fresh("bad");
        String body = "{\"events\":[" + event("view", ids("email", email0)) + "," + event("view", ids("email", email1)) + ","
                + badEvent.replace("%COOKIE%", cookie) + "]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).as(a.body()).isEqualTo(400);
        assertThat(a.json().get("index").asInt()).isEqualTo(2);
        assertThat(a.message()).startsWith("event 2: ").contains(expected);
        assertThat(x1IdsHolding(web.client(), "email", email0, null)).isEmpty();
        assertThat(x1IdsHolding(web.client(), "email", email1, null)).isEmpty();
        assertThat(x1IdsHolding(web.client(), "cookieId", cookie, null)).isEmpty();
    }

    @Test
    void aBadSingleEventIsIndexZero() {
        String email = fresh("one") + "@example.com";
        Answer a = web.client().post("/v1/event", "{\"code\":\"buy\",\"timestamp\":\"2026-11-23T10:00\",\"identifiers\":"
                + ids("email", email) + "}");
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.json().get("index").asInt()).isZero();
        assertThat(a.message()).startsWith("event 0: \"timestamp\"");
        assertThat(x1IdsHolding(web.client(), "email", email, null)).isEmpty();
    }

    @Test
    void limitsAreInclusiveAndValuesAreStoredTrimmed() {
        String value = fresh("limit");
        value = value + "v".repeat(512 - value.length());
        Answer a = web.client().post("/v1/event", "{\"code\":\"" + "c".repeat(128) + "\",\"timestamp\":\"" + TS + "\","
                + "\"identifiers\":[{\"name\":\"userId\",\"value\":\" \\t " + value + "  \"}]}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        assertThat(x1IdsHolding(web.client(), "userId", value, null)).containsExactly(a.json().get("x1Ids").get(0).asText());
    }

    @Test
    void recordsTheResolutionRuleCannotPlaceAreRejectedButTheRestAreStored() {
        String emailA = fresh("uA") + "@example.com";
        String emailB = fresh("uB") + "@example.com";
        String emailC = fresh("uC") + "@example.com";
        String cookie = fresh("c");
        String firstOfMany = fresh("many");
        StringBuilder many = new StringBuilder("[");
        for (int i = 0; i < 1001; i++) {
            many.append(i == 0 ? "" : ",").append("{\"name\":\"cookieId\",\"value\":\"")
                    .append(i == 0 ? firstOfMany : firstOfMany + "-" + i).append("\"}");
        }
        many.append("]");
        String body = "{\"events\":["
                + event("a", ids("email", emailA, "cookieId", cookie)) + ","
                // email is unique for this endpoint: the cookie's x1Id already has another email.
                + event("b", ids("email", emailB, "cookieId", cookie)) + ","
                + event("c", ids("email", emailB, "email", emailC)) + ","
                + event("d", many.toString()) + ","
                + event("e", ids("email", emailC)) + "]}";
        Answer a = web.client().post("/v1/event", body);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        JsonNode answer = a.json();
        assertThat(answer.get("received").asInt()).isEqualTo(5);
        JsonNode x1s = answer.get("x1Ids");
        assertThat(x1s.get(0).isTextual()).isTrue();
        assertThat(x1s.get(1).isNull()).isTrue();
        assertThat(x1s.get(2).isNull()).isTrue();
        assertThat(x1s.get(3).isNull()).isTrue();
        assertThat(x1s.get(4).isTextual()).isTrue();
        assertThat(answer.get("rejected").findValuesAsText("index")).containsExactly("1", "2", "3");
        assertThat(answer.get("rejected").get(0).get("reason").asText()).contains("'email'");
        assertThat(answer.get("rejected").get(1).get("reason").asText()).contains("two values of the unique identifier 'email'");
        assertThat(answer.get("rejected").get(2).get("reason").asText()).contains("at most 1000");

        assertThat(x1IdsHolding(web.client(), "email", emailB, null)).isEmpty();
        assertThat(x1IdsHolding(web.client(), "cookieId", firstOfMany, null)).isEmpty();
        assertThat(x1IdsHolding(web.client(), "email", emailC, null)).containsExactly(x1s.get(4).asText());
    }

    @Test
    void accountsAreIsolated() {
        TestEndpoint theirs = ExchangeAccounts.endpoint(server, other, registration("Their web", "none", null, IDS));
        String email = fresh("shared") + "@example.com";
        String cookie = fresh("c");
        String event = single("view", ids("email", email, "cookieId", cookie));
        String mine = web.client().post("/v1/event", event).json().get("x1Ids").get(0).asText();
        String their = theirs.client().post("/v1/event", event).json().get("x1Ids").get(0).asText();
        assertThat(mine).isNotEqualTo(their);

        assertThat(x1IdsHolding(web.client(), "email", email, null)).containsExactly(mine);
        assertThat(x1IdsHolding(theirs.client(), "email", email, null)).containsExactly(their);
        assertThat(web.client().get("/v1/identity/" + their).status()).isEqualTo(404);
        assertThat(acme.client().get("/v1/identity/" + their).status()).isEqualTo(404);
        assertThat(other.client().get("/v1/identity/" + mine).status()).isEqualTo(404);
        JsonNode ours = acme.client().get("/v1/identity/" + mine).json().get(0);
        assertThat(ours.get("identifiers").findValuesAsText("endpointId")).containsOnly(Long.toString(web.endpointId()));
        // Neither account can send events as the other's endpoint.
        assertThat(acme.client().post("/v1/event?endpointId=" + theirs.endpointId(), event).status()).isEqualTo(404);
        assertThat(web.client().post("/v1/event?endpointId=" + theirs.endpointId(), event).status()).isEqualTo(403);
    }

    @Test
    void onlyKnownKeysOfEventSourcesMaySend() {
        String email = fresh("keys") + "@example.com";
        String event = single("view", ids("email", email));
        assertThat(new ExchangeClient(server, null).post("/v1/event", event).status()).isEqualTo(401);
        assertThat(new ExchangeClient(server, "idex_nope_nope").post("/v1/event", event).status()).isEqualTo(401);

        String audienceOnly = "{\"name\":\"Files\",\"endpointTypes\":{\"audience\":{\"source\":{\"enabled\":true,"
                + "\"producerType\":\"push\"}}},\"identifiers\":" + IDS + "}";
        TestEndpoint files = ExchangeAccounts.endpoint(server, acme, audienceOnly);
        Answer a = files.client().post("/v1/event", event);
        assertThat(a.status()).isEqualTo(403);
        assertThat(a.message()).contains("not an event source").contains("endpointTypes.event.source");
        assertThat(acme.client().post("/v1/event?endpointId=" + files.endpointId(), event).status()).isEqualTo(403);
        assertThat(web.client().post("/v1/event?endpointId=" + files.endpointId(), event).status()).isEqualTo(403);

        Answer noEndpoint = acme.client().post("/v1/event", event);
        assertThat(noEndpoint.status()).isEqualTo(400);
        assertThat(noEndpoint.message()).contains("?endpointId=");
        assertThat(acme.client().post("/v1/event?endpointId=987654321", event).status()).isEqualTo(404);
        assertThat(web.client().send("GET", "/v1/event", null).status()).isEqualTo(405);
        assertThat(x1IdsHolding(web.client(), "email", email, null)).isEmpty();
    }

    @Test
    void malformedBodiesAre400() {
        assertThat(web.client().post("/v1/event", "{\"code\":").message()).contains("not valid JSON");
        assertThat(web.client().post("/v1/event", "[]").message()).contains("must be a JSON object");
        assertThat(web.client().post("/v1/event", "{\"events\":[]}").message()).contains("\"events\" is empty");
        assertThat(web.client().post("/v1/event", "{\"events\":{}}").message()).contains("\"events\" must be an array");
        Answer misplaced = web.client().post("/v1/event", "{\"code\":\"buy\",\"events\":[" + event("x", ids("userId", "u")) + "]}");
        assertThat(misplaced.status()).isEqualTo(400);
        assertThat(misplaced.message()).contains("inside each of its \"events\"");
    }

    @Test
    void batchesOverTenThousandEventsAreRefusedWithAdviceToSplit() {
        String email = fresh("big") + "@example.com";
        StringBuilder body = new StringBuilder("{\"events\":[").append(event("view", ids("email", email)));
        for (int i = 1; i <= 10_000; i++) {
            body.append(',').append(event("view", ids("userId", "u" + i)));
        }
        body.append("]}");
        Answer a = web.client().post("/v1/event", body.toString());
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("10001 events").contains("at most 10000").contains("split");
        assertThat(x1IdsHolding(web.client(), "email", email, null)).isEmpty();
    }

    @Test
    void aBatchOfExactlyTenThousandEventsIsTaken() {
        String prefix = fresh("tenk");
        StringBuilder body = new StringBuilder("{\"events\":[");
        for (int i = 0; i < 10_000; i++) {
            body.append(i == 0 ? "" : ",").append(event("view", ids("userId", prefix + "-" + (i % 5000))));
        }
        body.append("]}");
        Answer a = web.client().post("/v1/event", body.toString());
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        JsonNode x1s = a.json().get("x1Ids");
        assertThat(x1s).hasSize(10_000);
        assertThat(x1s.get(7).asText()).isEqualTo(x1s.get(5007).asText()).isNotEqualTo(x1s.get(8).asText());
        assertThat(x1IdsHolding(web.client(), "userId", prefix + "-4999", null)).containsExactly(x1s.get(4999).asText());
    }

    @Test
    void bodiesOverSixteenMebibytesAre413AndTheConnectionIsClosed() throws IOException {
        // A raw connection, so that the test sees exactly what the server does: it answers from Content-Length,
        // before any of the body arrives, and closes the connection rather than wait for a body it will not read.
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(30_000);
            String head = "POST /v1/event HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                    + web.registration().get("key").asText() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + (16 * 1024 * 1024 + 1) + "\r\n\r\n";
            socket.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            // Reading to the end proves the close: a server waiting for the body would time this read out.
            String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 413").contains("16 MiB");
        }
        assertThat(web.client().post("/v1/event", single("view", ids("userId", fresh("after")))).status()).isEqualTo(200);
    }

    // --- helpers -------------------------------------------------------------------------------------------------

    /** The x1Ids that `GET /v1/identity?{name}={value}` answers (the endpoint key's own, or the named endpoint's). */
    private static List<String> x1IdsHolding(ExchangeClient client, String name, String value, Long endpointId) {
        Answer a = client.get("/v1/identity?" + q(name) + "=" + q(value) + (endpointId == null ? "" : "&endpointId=" + endpointId));
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        List<String> x1s = new ArrayList<>();
        a.json().forEach(p -> x1s.add(p.get("x1Id").asText()));
        return x1s;
    }

    private static String fresh(String prefix) {
        return prefix + "-" + SEQ.incrementAndGet() + "-" + System.nanoTime();
    }

    /** `[{"name":n1,"value":v1},…]` from name, value pairs. */
    private static String ids(String... nameValues) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < nameValues.length; i += 2) {
            b.append(i == 0 ? "" : ",").append("{\"name\":\"").append(nameValues[i]).append("\",\"value\":\"")
                    .append(nameValues[i + 1]).append("\"}");
        }
        return b.append("]").toString();
    }

    private static String event(String code, String identifiersJson) {
        return "{\"code\":\"" + code + "\",\"timestamp\":\"" + TS + "\",\"identifiers\":" + identifiersJson + "}";
    }

    private static String single(String code, String identifiersJson) {
        return event(code, identifiersJson);
    }
}
