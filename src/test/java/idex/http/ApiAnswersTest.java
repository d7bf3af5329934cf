package idex.http;

import idex.json.Json;
import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.OpenApiDocument;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What every path of the server answers, whatever the feature: JSON errors (404, 405), HEAD wherever GET, request
 * metrics that requests cannot inflate, and request text refused at the edge when it is not one JSON document or not
 * text the store can give back.
 */
class ApiAnswersTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\",\"type\":\"string\"}]";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint crm;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 16);
        acme = ExchangeAccounts.account(server, "Acme");
        crm = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private record Raw(int status, HttpResponse<String> response) {
        String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        String body() {
            return response.body();
        }

        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body());
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body(), e);
            }
        }
    }

    private static Raw send(String method, String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url(path)))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        try {
            HttpRequest request = b.build();
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            OpenApiDocument.check(request, r);
            return new Raw(r.statusCode(), r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void assertJsonError(Raw r, int status, String what) {
        assertThat(r.status()).as(what + ": " + r.body()).isEqualTo(status);
        assertThat(r.header("Content-Type")).as(what).isEqualTo("application/json");
        assertThat(r.json().path("message").asText()).as(what).isNotBlank();
    }

    @Test
    void unknownPathsAndWrongMethodsAnswerJson() {
        for (String method : new String[]{"GET", "POST", "DELETE", "PUT"}) {
            for (String path : new String[]{"/", "/nope", "/v1/nope", "/v1/jobs/1/2/3/4", "/v2/nope"}) {
                Raw r = send(method, path, crm.client().key());
                assertJsonError(r, 404, method + " " + path);
                assertThat(r.json().path("message").asText()).contains(path);
            }
        }
        Raw patch = send("PATCH", "/v1/endpoint", acme.client().key());
        assertJsonError(patch, 405, "PATCH /v1/endpoint");
        assertThat(patch.header("Allow")).isEqualTo("GET, HEAD, POST, PUT");
        assertThat(patch.json().path("message").asText()).contains("GET, HEAD, POST, PUT");
        assertJsonError(send("FOO", "/v1/event", crm.client().key()), 405, "an unknown method");
        assertJsonError(send("DELETE", "/v1/jobs/segmentExport", crm.client().key()), 405, "DELETE a job category");
        Raw health = send("POST", "/ops/healthcheck", null);
        assertJsonError(health, 405, "POST /ops/healthcheck");
        assertThat(health.header("Allow")).isEqualTo("GET, HEAD");

        // The UID2 operator paths keep the operator's error shape.
        Raw uid2 = send("GET", "/v2/identity/map", null);
        assertJsonError(uid2, 405, "GET /v2/identity/map");
        assertThat(uid2.header("Allow")).isEqualTo("POST");
        assertThat(uid2.json().path("status").asText()).isEqualTo("client_error");
    }

    @Test
    void headAnswersWhereverGetDoesWithGetsHeadersAndNoBody() {
        String key = crm.client().key();
        List<String> paths = List.of("/ops/healthcheck", "/v1/endpoint", "/v1/identityfilters", "/v1/identityfilters/email",
                "/v1/identityFilters", "/v1/identity?email=someone%40example.com", "/v1/identity/nobody",
                "/v1/jobs/SEGMENT_EXPORT", "/v1/jobs/SEGMENT_EXPORT?status=DONE", "/v1/jobs/SEGMENT_EXPORT/12345",
                "/v1/scheduledjobs/SEGMENT_EXPORT", "/v1/jobs/12345/segmentDataFiles/f.csv");
        for (String path : paths) {
            Raw get = send("GET", path, key);
            Raw head = send("HEAD", path, key);
            assertThat(head.status()).as(path).isEqualTo(get.status());
            assertThat(head.header("Content-Type")).as(path).isEqualTo(get.header("Content-Type"));
            assertThat(head.header("Content-Length")).as(path).isEqualTo(get.header("Content-Length"))
                    .isEqualTo(Integer.toString(get.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length));
            assertThat(head.body()).as(path).isEmpty();
        }
        assertThat(send("HEAD", "/v1/endpoint", null).status()).isEqualTo(401);
        Raw metrics = send("HEAD", "/metrics", null);
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.body()).isEmpty();
        // Where GET is not allowed, neither is HEAD.
        Raw event = send("HEAD", "/v1/event", key);
        assertThat(event.status()).isEqualTo(405);
        assertThat(event.header("Allow")).isEqualTo("POST");
    }

    /** Each new tag value is a new series, kept for the life of the process: none may come from the request. */
    @Test
    void requestsCannotAddMetricSeries() {
        requestSeries(); // the scrape's own series exists from here on
        sendOddRequests("A");
        long series = requestSeries().size();
        sendOddRequests("B");
        List<String> after = requestSeries();
        assertThat(after).as(String.join("\n", after)).hasSize((int) series);
        assertThat(after).anyMatch(l -> l.contains("method=\"OTHER\""));
        assertThat(after).noneMatch(l -> l.contains("METHODA") || l.contains("METHODB") || l.contains("/nope"));
    }

    private static void sendOddRequests(String batch) {
        for (int i = 0; i < 20; i++) {
            assertThat(send("METHOD" + batch + i, "/v1/endpoint", null).status()).isEqualTo(405);
            assertThat(send("METHOD" + batch + i, "/nope/" + batch + i, null).status()).isEqualTo(404);
            assertThat(send("GET", "/nope/" + batch + i, null).status()).isEqualTo(404);
        }
    }

    private static List<String> requestSeries() {
        return send("GET", "/metrics", null).body().lines()
                .filter(l -> l.startsWith("http_server_requests_seconds_count{")).toList();
    }

    @Test
    void aJsonBodyWithAnythingAfterItsValueIsRefusedAndChangesNothing() {
        String registration = registration("Trailing", "source", "push", IDS);
        int endpoints = acme.client().get("/v1/endpoint").json().size();
        for (String body : new String[]{registration + " xyz", registration + "}", registration + " {}"}) {
            Answer a = acme.client().post("/v1/endpoint", body);
            assertThat(a.status()).as(body).isEqualTo(400);
            assertThat(a.message()).as(body).contains("JSON");
        }
        assertThat(acme.client().get("/v1/endpoint").json()).hasSize(endpoints);
        assertThat(acme.client().post("/v1/endpoint", registration + " {}").message()).contains("one JSON document");

        String filters = "[{\"identifierName\":\"cookieId\",\"publishFilter\":true,\"subscribeFilter\":false}]";
        assertThat(crm.client().post("/v1/identityfilters", filters + " ]").status()).isEqualTo(400);
        assertThat(crm.client().put("/v1/identityfilters", filters + " ]").status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identityfilters").json()).isEmpty();

        String event = "{\"code\":\"e\",\"timestamp\":\"2026-11-23T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"trailing-1\"}]}";
        assertThat(crm.client().post("/v1/event", event + " xyz").status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identity?cookieId=trailing-1").json()).isEmpty();
        assertThat(crm.client().post("/v1/event", event + " \n").status()).as("whitespace is not garbage").isEqualTo(200);
    }

    @Test
    void textTheStoreCannotGiveBackIsRefusedAtTheEdge() {
        // An unpaired surrogate would be stored as "?" and never be found or removed under the value sent.
        Answer event = crm.client().post("/v1/event", "{\"code\":\"e\",\"timestamp\":\"2026-11-23T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"lone\\ud800\"}]}");
        assertThat(event.status()).as(event.body()).isEqualTo(400);
        assertThat(event.message()).contains("/identifiers/0/value").contains("surrogate");
        assertThat(crm.client().get("/v1/identity?cookieId=lone%3F").json()).as("nothing stored").isEmpty();

        int endpoints = acme.client().get("/v1/endpoint").json().size();
        Answer endpoint = acme.client().post("/v1/endpoint", registration("C\\udc00RM", "source", "push", IDS));
        assertThat(endpoint.status()).as(endpoint.body()).isEqualTo(400);
        assertThat(endpoint.message()).contains("/name");
        assertThat(acme.client().get("/v1/endpoint").json()).hasSize(endpoints);
        Answer fieldName = crm.client().post("/v1/identityfilters",
                "[{\"identifierName\":\"email\",\"publishFilter\":true,\"subscribeFilter\":false,\"\\ud800\":1}]");
        assertThat(fieldName.status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identityfilters").json()).isEmpty();

        // A NUL in a query parameter: PostgreSQL text cannot hold it.
        Answer nul = crm.client().get("/v1/identity?cookieId=a%00b");
        assertThat(nul.status()).as(nul.body()).isEqualTo(400);
        assertThat(nul.message()).contains("cookieId").contains("NUL");
        assertThat(crm.client().delete("/v1/identity?cookieId=a%00b").status()).isEqualTo(400);

        // A character outside the BMP is a surrogate pair, and fine.
        Answer emoji = crm.client().post("/v1/event", "{\"code\":\"e\",\"timestamp\":\"2026-11-23T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"smile\\ud83d\\ude00\"}]}");
        assertThat(emoji.status()).as(emoji.body()).isEqualTo(200);
        assertThat(crm.client().get("/v1/identity?cookieId=smile%F0%9F%98%80").json()).hasSize(1);
    }
}
