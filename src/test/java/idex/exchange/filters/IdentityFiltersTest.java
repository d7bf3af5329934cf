package idex.exchange.filters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.ExchangeClient.Answer;
import idex.support.OpenApiDocument;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** `/v1/identityfilters` over HTTP (seed 003, spec §3), with the key and account rules of spec §1. */
class IdentityFiltersTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\",\"type\":\"string\"}]";
    private static final String PATH = "/v1/identityfilters";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestAccount other;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        other = ExchangeAccounts.account(server, "Other");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static TestEndpoint source(TestAccount account) {
        return ExchangeAccounts.endpoint(server, account, registration("Source", "source", "push", IDS));
    }

    private static TestEndpoint destination(TestAccount account) {
        return ExchangeAccounts.endpoint(server, account, registration("Destination", "destination", "pull", IDS));
    }

    private static String filter(String name, boolean publish, boolean subscribe) {
        return "{\"identifierName\":\"" + name + "\",\"publishFilter\":" + publish + ",\"subscribeFilter\":" + subscribe + "}";
    }

    private static String array(String... filters) {
        return "[" + String.join(",", filters) + "]";
    }

    /** name → [publishFilter, subscribeFilter] of an endpoint's list, read with its own key. */
    private static Map<String, List<Boolean>> filtersOf(TestEndpoint e) {
        Answer a = e.client().get(PATH);
        assertThat(a.status()).isEqualTo(200);
        Map<String, List<Boolean>> m = new LinkedHashMap<>();
        for (JsonNode f : a.json()) {
            assertThat(f.get("endpointId").asLong()).isEqualTo(e.endpointId());
            m.put(f.get("identifierName").asText(), List.of(f.get("publishFilter").asBoolean(), f.get("subscribeFilter").asBoolean()));
        }
        return m;
    }

    /** The seed's heading spells the path `identityFilters`: every call works there too, on the same filters. */
    @Test
    void theSeedsSpellingIdentityFiltersRoutesLikeIdentityfilters() {
        String alias = "/v1/identityFilters";
        TestEndpoint e = source(acme);
        ExchangeClient c = e.client();
        assertThat(c.post(alias, array(filter("email", true, false), filter("cookieId", false, true))).status())
                .isEqualTo(201);
        assertThat(c.get(alias).json()).isEqualTo(c.get(PATH).json());
        assertThat(c.get(alias).json()).hasSize(2);
        assertThat(c.get(alias + "/email").json().get(0).get("publishFilter").asBoolean()).isTrue();
        Answer replaced = c.put(alias, array(filter("email", false, true)));
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        assertThat(filtersOf(e)).containsEntry("email", List.of(false, true));
        assertThat(c.delete(alias + "/email").body()).isEqualTo("true");
        assertThat(filtersOf(e)).containsOnlyKeys("cookieId");
        assertThat(acme.client().get(alias + "?endpointId=" + e.endpointId()).json()).hasSize(1);
        Answer wrongMethod = c.send("PATCH", alias, "[]");
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.message()).contains("GET, HEAD, POST, PUT");
    }

    @Test
    void anEndpointKeyAddsListsGetsReplacesAndDeletesItsFilters() {
        TestEndpoint e = source(acme);
        ExchangeClient c = e.client();
        assertThat(c.get(PATH).json().isEmpty()).isTrue();

        Answer added = c.post(PATH, array(filter("email", true, false), filter("cookieId", false, true)));
        assertThat(added.status()).isEqualTo(201);
        assertThat(added.contentType()).startsWith("application/json");
        JsonNode list = added.json();
        assertThat(list).hasSize(2);
        JsonNode email = list.get(0);
        assertThat(email.get("endpointFilterId").isIntegralNumber()).as("ids are JSON numbers").isTrue();
        assertThat(email.get("endpointId").isIntegralNumber()).isTrue();
        assertThat(email.get("endpointId").asLong()).isEqualTo(e.endpointId());
        assertThat(email.get("identifierName").asText()).isEqualTo("email");
        assertThat(email.get("publishFilter").asBoolean()).isTrue();
        assertThat(email.get("subscribeFilter").asBoolean()).isFalse();
        assertThat(list.get(1).get("endpointFilterId").asLong()).isNotEqualTo(email.get("endpointFilterId").asLong());
        assertThat(fieldNames(email)).containsExactly("endpointFilterId", "endpointId", "identifierName",
                "publishFilter", "subscribeFilter");

        Answer all = c.get(PATH);
        assertThat(all.status()).isEqualTo(200);
        assertThat(all.json()).isEqualTo(list);

        Answer one = c.get(PATH + "/email");
        assertThat(one.status()).isEqualTo(200);
        assertThat(one.json()).hasSize(1);
        assertThat(one.json().get(0)).isEqualTo(email);

        Answer replaced = c.put(PATH, array(filter("email", true, true)));
        assertThat(replaced.status()).isEqualTo(200);
        assertThat(replaced.json()).hasSize(1);
        assertThat(replaced.json().get(0).get("endpointFilterId").asLong())
                .as("a replaced filter keeps its id").isEqualTo(email.get("endpointFilterId").asLong());
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(true, true)),
                Map.entry("cookieId", List.of(false, true)));

        Answer deleted = c.delete(PATH + "/email");
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.contentType()).startsWith("application/json");
        assertThat(deleted.body()).isEqualTo("true");
        assertThat(filtersOf(e)).containsOnlyKeys("cookieId");
        assertThat(c.delete(PATH + "/email").status()).isEqualTo(404);

        // Once deleted, the identifier can be filtered again with POST.
        assertThat(c.post(PATH, array(filter("email", false, true))).status()).isEqualTo(201);
        assertThat(filtersOf(e)).containsEntry("email", List.of(false, true));
    }

    @Test
    void getOfAnIdentifierWithoutFilterIsInvalidRequestAndDeleteIs404() {
        TestEndpoint e = source(acme);
        e.client().post(PATH, array(filter("email", true, false)));

        Answer none = e.client().get(PATH + "/cookieId");
        assertThat(none.status()).isEqualTo(400);
        assertThat(none.contentType()).startsWith("application/json");
        assertThat(none.body()).isEqualTo("{\"message\":\"Invalid request\"}");

        Answer gone = e.client().delete(PATH + "/cookieId");
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.message()).contains("cookieId").contains("GET /v1/identityfilters");

        Answer malformed = e.client().get(PATH + "/" + ExchangeClient.q("not a name"));
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.message()).contains("use a letter");
        assertThat(e.client().delete(PATH + "/" + ExchangeClient.q("9lives")).status()).isEqualTo(400);
        assertThat(filtersOf(e)).containsOnlyKeys("email");
    }

    @Test
    void missingFlagsAreFalse() {
        TestEndpoint e = destination(acme);
        Answer a = e.client().post(PATH, "[{\"identifierName\":\"email\",\"subscribeFilter\":true},"
                + "{\"identifierName\":\"cookieId\",\"publishFilter\":true,\"subscribeFilter\":null}]");
        assertThat(a.status()).isEqualTo(201);
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(false, true)),
                Map.entry("cookieId", List.of(true, false)));
    }

    @Test
    void aGetAnswerCanBeSentBackWithPut() {
        TestEndpoint e = source(acme);
        JsonNode created = e.client().post(PATH, array(filter("email", true, false))).json();
        ((ObjectNode) created.get(0)).put("subscribeFilter", true);
        assertThat(e.client().put(PATH, created.toString()).status()).isEqualTo(200);
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(true, true)));

        long otherId = e.endpointId() + 1000;
        Answer elsewhere = e.client().put(PATH, "[{\"endpointId\":" + otherId + ",\"identifierName\":\"email\",\"publishFilter\":true}]");
        assertThat(elsewhere.status()).isEqualTo(400);
        assertThat(elsewhere.message()).contains("endpointId");
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(true, true)));
    }

    @Test
    void postAddsAllOrNone() {
        TestEndpoint e = source(acme);
        assertThat(e.client().post(PATH, array(filter("email", true, false))).status()).isEqualTo(201);

        Answer conflict = e.client().post(PATH, array(filter("cookieId", true, false), filter("email", false, true)));
        assertThat(conflict.status()).isEqualTo(409);
        assertThat(conflict.message()).contains("\"email\"").contains("PUT").doesNotContain("cookieId");
        assertThat(filtersOf(e)).as("nothing of a refused request is stored")
                .containsExactly(Map.entry("email", List.of(true, false)));

        Answer twice = e.client().post(PATH, array(filter("cookieId", true, false), filter("cookieId", false, true)));
        assertThat(twice.status()).isEqualTo(400);
        assertThat(twice.message()).contains("\"cookieId\"").contains("more than once");
        assertThat(filtersOf(e)).containsOnlyKeys("email");
    }

    @Test
    void putReplacesAllOrNone() {
        TestEndpoint e = source(acme);
        e.client().post(PATH, array(filter("email", true, false)));

        Answer missing = e.client().put(PATH, array(filter("email", false, true), filter("cookieId", true, false)));
        assertThat(missing.status()).isEqualTo(400);
        assertThat(missing.message()).contains("\"cookieId\"").contains("POST").doesNotContain("\"email\"");
        assertThat(filtersOf(e)).as("the existing filter is unchanged")
                .containsExactly(Map.entry("email", List.of(true, false)));

        Answer off = e.client().put(PATH, array(filter("email", false, false)));
        assertThat(off.status()).isEqualTo(400);
        assertThat(off.message()).contains("set publishFilter or subscribeFilter to true");
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(true, false)));
    }

    @Test
    void invalidBodiesAreRefusedWithWhatToFixAndChangeNothing() {
        TestEndpoint e = source(acme);
        e.client().post(PATH, array(filter("email", true, false)));
        Map<String, String> bodies = new LinkedHashMap<>();
        bodies.put("", "needs a JSON body");
        bodies.put("[{\"identifierName\":", "not valid JSON");
        bodies.put(filter("cookieId", true, false), "JSON array");
        bodies.put("[]", "at least one filter");
        bodies.put("[\"cookieId\"]", "must be an object");
        bodies.put("[{\"publishFilter\":true}]", "needs \"identifierName\"");
        bodies.put("[{\"identifierName\":\"\",\"publishFilter\":true}]", "needs \"identifierName\"");
        bodies.put("[{\"identifierName\":42,\"publishFilter\":true}]", "use a letter");
        bodies.put("[{\"identifierName\":\"has space\",\"publishFilter\":true}]", "use a letter");
        bodies.put("[{\"identifierName\":\"x" + "y".repeat(128) + "\",\"publishFilter\":true}]", "up to 127");
        bodies.put("[{\"identifierName\":\"cookieId\",\"publishFilter\":\"true\"}]", "must be true or false");
        bodies.put("[{\"identifierName\":\"cookieId\",\"subscribeFilter\":1}]", "must be true or false");
        bodies.put("[{\"identifierName\":\"cookieId\",\"publisherFilter\":true}]", "unknown field \"publisherFilter\"");
        bodies.put("[" + filter("cookieId", false, false) + "]", "set publishFilter or subscribeFilter to true");
        bodies.put("[{\"identifierName\":\"cookieId\"}]", "set publishFilter or subscribeFilter to true");
        bodies.put(array(filter("cookieId", true, false), "{\"identifierName\":\"phone\"}"),
                "set publishFilter or subscribeFilter to true");
        String many = array(IntStream.range(0, 1001).mapToObj(i -> filter("id" + i, true, false))
                .toArray(String[]::new));
        bodies.put(many, "at most 1000");
        for (Map.Entry<String, String> b : bodies.entrySet()) {
            for (String method : List.of("POST", "PUT")) {
                Answer a = e.client().send(method, PATH, b.getKey());
                assertThat(a.status()).as(method + " " + b.getKey()).isEqualTo(400);
                assertThat(a.contentType()).startsWith("application/json");
                assertThat(a.message()).as(method + " " + b.getKey()).contains(b.getValue());
            }
        }
        assertThat(filtersOf(e)).containsExactly(Map.entry("email", List.of(true, false)));
    }

    @Test
    void everyCallNeedsAKey() {
        ExchangeClient anonymous = new ExchangeClient(server, null);
        ExchangeClient unknown = new ExchangeClient(server, "idex_nope_nope");
        for (ExchangeClient c : List.of(anonymous, unknown)) {
            assertThat(c.get(PATH).status()).isEqualTo(401);
            assertThat(c.get(PATH + "/email").status()).isEqualTo(401);
            assertThat(c.post(PATH, array(filter("email", true, false))).status()).isEqualTo(401);
            assertThat(c.put(PATH, array(filter("email", true, false))).status()).isEqualTo(401);
            Answer a = c.delete(PATH + "/email");
            assertThat(a.status()).isEqualTo(401);
            assertThat(a.message()).contains("Authorization: Bearer");
        }
    }

    @Test
    void otherMethodsAre405WithAllow() throws Exception {
        TestEndpoint e = source(acme);
        Answer list = e.client().send("DELETE", PATH, null);
        assertThat(list.status()).isEqualTo(405);
        assertThat(e.client().send("PATCH", PATH, "[]").status()).isEqualTo(405);
        Answer one = e.client().send("PUT", PATH + "/email", array(filter("email", true, false)));
        assertThat(one.status()).isEqualTo(405);
        assertThat(e.client().send("POST", PATH + "/email", "[]").status()).isEqualTo(405);
        assertThat(allow(PATH, "DELETE")).isEqualTo("GET, HEAD, POST, PUT");
        assertThat(allow(PATH + "/email", "PUT")).isEqualTo("GET, HEAD, DELETE");
        assertThat(e.client().get(PATH).json().isEmpty()).as("a refused method stores nothing").isTrue();
    }

    /** The Allow header of a 405 (ExchangeClient.Answer does not keep headers). */
    private static String allow(String path, String method) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url(path)))
                .method(method, HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<Void> r = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding());
        OpenApiDocument.check(request, r);
        assertThat(r.statusCode()).isEqualTo(405);
        return r.headers().firstValue("Allow").orElse(null);
    }

    @Test
    void anAccountKeyNamesAnEndpointOfItsAccount() {
        TestEndpoint e = source(acme);
        TestEndpoint theirs = source(other);
        ExchangeClient account = acme.client();

        Answer unnamed = account.get(PATH);
        assertThat(unnamed.status()).isEqualTo(400);
        assertThat(unnamed.message()).contains("endpointId");
        assertThat(account.post(PATH, array(filter("email", true, false))).status()).isEqualTo(400);
        assertThat(account.put(PATH, array(filter("email", true, false))).status()).isEqualTo(400);
        assertThat(account.get(PATH + "/email").status()).isEqualTo(400);
        assertThat(account.delete(PATH + "/email").status()).isEqualTo(400);
        assertThat(account.get(PATH + "?endpointId=abc").message()).contains("positive whole number");

        String mine = "?endpointId=" + e.endpointId();
        assertThat(account.post(PATH + mine, array(filter("email", true, false))).status()).isEqualTo(201);
        assertThat(filtersOf(e)).as("the endpoint's own key sees what the account key added")
                .containsExactly(Map.entry("email", List.of(true, false)));
        assertThat(account.put(PATH + mine, array(filter("email", false, true))).status()).isEqualTo(200);
        assertThat(account.get(PATH + "/email" + mine).json().get(0).get("subscribeFilter").asBoolean()).isTrue();
        assertThat(account.get(PATH + mine).json()).hasSize(1);
        assertThat(account.delete(PATH + "/email" + mine).body()).isEqualTo("true");
        assertThat(filtersOf(e)).isEmpty();

        // Another account's endpoint, and an unknown one, answer as if they did not exist.
        theirs.client().post(PATH, array(filter("email", true, false)));
        for (long id : new long[]{theirs.endpointId(), 999_999}) {
            String named = "?endpointId=" + id;
            Answer a = account.get(PATH + named);
            assertThat(a.status()).isEqualTo(404);
            assertThat(a.message()).contains("no endpoint " + id);
            assertThat(account.get(PATH + "/email" + named).status()).isEqualTo(404);
            assertThat(account.post(PATH + named, array(filter("cookieId", true, false))).status()).isEqualTo(404);
            assertThat(account.put(PATH + named, array(filter("email", false, true))).status()).isEqualTo(404);
            assertThat(account.delete(PATH + "/email" + named).status()).isEqualTo(404);
        }
        assertThat(filtersOf(theirs)).containsExactly(Map.entry("email", List.of(true, false)));
    }

    @Test
    void anEndpointKeyNeverReachesAnotherEndpoint() {
        TestEndpoint e = source(acme);
        TestEndpoint neighbour = destination(acme);
        neighbour.client().post(PATH, array(filter("email", false, true), filter("cookieId", false, true)));
        e.client().post(PATH, array(filter("email", true, false)));

        assertThat(filtersOf(e)).as("its own list shows only its filters")
                .containsExactly(Map.entry("email", List.of(true, false)));
        assertThat(e.client().get(PATH + "/cookieId").body()).isEqualTo("{\"message\":\"Invalid request\"}");

        String named = "?endpointId=" + neighbour.endpointId();
        List<Answer> refused = List.of(
                e.client().get(PATH + named),
                e.client().get(PATH + "/email" + named),
                e.client().post(PATH + named, array(filter("phone", true, false))),
                e.client().put(PATH + named, array(filter("email", true, true))),
                e.client().delete(PATH + "/email" + named));
        for (Answer a : refused) {
            assertThat(a.status()).isEqualTo(403);
            assertThat(a.message()).contains("endpoint " + neighbour.endpointId());
        }
        // Its own id is allowed, and works like no id at all.
        assertThat(e.client().get(PATH + "?endpointId=" + e.endpointId()).json()).hasSize(1);

        // Its writes never touch the neighbour's filters of the same name.
        assertThat(e.client().put(PATH, array(filter("email", false, true))).status()).isEqualTo(200);
        assertThat(e.client().delete(PATH + "/email").status()).isEqualTo(200);
        assertThat(e.client().delete(PATH + "/cookieId").status()).isEqualTo(404);
        assertThat(filtersOf(neighbour)).containsExactly(Map.entry("email", List.of(false, true)),
                Map.entry("cookieId", List.of(false, true)));
    }

    @Test
    void accountsWithTheSameIdentifierNamesNeverSeeEachOthersFilters() {
        TestEndpoint a = source(acme);
        TestEndpoint b = source(other);
        assertThat(a.client().post(PATH, array(filter("email", true, false))).status()).isEqualTo(201);
        assertThat(b.client().post(PATH, array(filter("email", false, true))).status())
                .as("the same identifier in another account is no conflict").isEqualTo(201);

        assertThat(a.client().put(PATH, array(filter("email", true, true))).status()).isEqualTo(200);
        assertThat(filtersOf(b)).containsExactly(Map.entry("email", List.of(false, true)));
        assertThat(b.client().delete(PATH + "/email").status()).isEqualTo(200);
        assertThat(filtersOf(a)).containsExactly(Map.entry("email", List.of(true, true)));
        assertThat(b.client().put(PATH, array(filter("email", true, false))).status())
                .as("b's filter is gone even though a's of the same name exists").isEqualTo(400);
        assertThat(b.client().get(PATH + "/email").status()).isEqualTo(400);

        // Keys of one account cannot name the other's endpoint: an endpoint key 403, an account key 404.
        assertThat(b.client().get(PATH + "?endpointId=" + a.endpointId()).status()).isEqualTo(403);
        assertThat(other.client().get(PATH + "?endpointId=" + a.endpointId()).status()).isEqualTo(404);
        assertThat(other.client().delete(PATH + "/email?endpointId=" + a.endpointId()).status()).isEqualTo(404);
        assertThat(filtersOf(a)).containsExactly(Map.entry("email", List.of(true, true)));
    }

    @Test
    void filtersCreatedThroughTheApiDecideWhatLeavesOnARoute() {
        TestEndpoint crm = source(acme);
        TestEndpoint ads = destination(acme);
        TestEndpoint web = destination(acme);
        TestEndpoint foreign = destination(other);
        crm.client().post(PATH, array(filter("email", true, false), filter("crmId", false, true)));
        ads.client().post(PATH, array(filter("cookieId", false, true), filter("phone", true, false)));
        // The same names filtered in another account change nothing here.
        foreign.client().post(PATH, array(filter("userId", true, true)));
        acme.client().post(PATH + "?endpointId=" + web.endpointId(), array(filter("userId", false, true)));

        IdentityFilterRules rules = new IdentityFilterRules(server.database().jdbi());
        WithheldIdentifiers toAds = rules.between(acme.accountId(), crm.endpointId(), ads.endpointId());
        assertThat(toAds.names()).containsExactlyInAnyOrder("email", "cookieId");
        assertThat(rules.between(acme.accountId(), crm.endpointId(), web.endpointId()).names())
                .containsExactlyInAnyOrder("email", "userId");
        assertThat(rules.between(acme.accountId(), ads.endpointId(), crm.endpointId()).names())
                .as("the other direction: ads publishes, crm subscribes").containsExactlyInAnyOrder("phone", "crmId");
        assertThat(rules.between(other.accountId(), crm.endpointId(), ads.endpointId()).isEmpty())
                .as("another account's id never picks up these filters").isTrue();

        Map<String, String> record = new LinkedHashMap<>();
        record.put("email", "a@example.com");
        record.put("cookieId", "c1");
        record.put("userId", "u1");
        assertThat(toAds.strip(record)).containsExactly(Map.entry("userId", "u1"));

        // A change through the API is what the next delivery sees.
        crm.client().delete(PATH + "/email");
        assertThat(rules.between(acme.accountId(), crm.endpointId(), ads.endpointId()).names()).containsExactly("cookieId");
    }

    private static List<String> fieldNames(JsonNode o) {
        List<String> names = new ArrayList<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
