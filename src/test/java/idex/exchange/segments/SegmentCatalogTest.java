package idex.exchange.segments;

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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** `/v1/endpoint/{endpointId}/segments` over HTTP, and the producerSegmentID check of job creation it feeds. */
class SegmentCatalogTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";
    private static final String VIP = "{\"id\":\"vip\",\"name\":\"VIP customers\",\"description\":\"Spent over 1000\","
            + "\"segment_attributes\":[{\"name\":\"tier\",\"type\":\"string\"},{\"name\":\"spend\"}]}";
    private static final String LAPSED = "{\"id\":\"lapsed\",\"name\":\"Lapsed\"}";

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestAccount other;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        other = ExchangeAccounts.account(server, "Other");
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static TestEndpoint producer(String mode) {
        String registration = registration("CRM", "source", mode, IDS);
        if (mode.equals("pull")) { // a pull producer's API: a name that never resolves, so its partner is never reached
            registration = registration.replaceFirst("\\{", "{\"url\":\"https://partner.invalid/api\",");
        }
        return ExchangeAccounts.endpoint(server, acme, registration);
    }

    private static String path(TestEndpoint e) {
        return "/v1/endpoint/" + e.endpointId() + "/segments";
    }

    private static List<String> ids(Answer a) {
        List<String> ids = new ArrayList<>();
        a.json().forEach(s -> ids.add(s.get("id").asText()));
        return ids;
    }

    @Test
    void aPushProducerAddsReplacesRemovesAndClearsItsCatalog() {
        TestEndpoint crm = producer("push");
        ExchangeClient own = crm.client();
        assertThat(own.get(path(crm)).json()).isEmpty();

        Answer added = own.post(path(crm), "[" + VIP + "]");
        assertThat(added.status()).as(added.body()).isEqualTo(201);
        JsonNode vip = added.json().get(0);
        assertThat(vip.get("name").asText()).isEqualTo("VIP customers");
        assertThat(vip.get("description").asText()).isEqualTo("Spent over 1000");
        assertThat(vip.get("segment_attributes").toString())
                .isEqualTo("[{\"name\":\"tier\",\"type\":\"string\"},{\"name\":\"spend\",\"type\":\"string\"}]");

        Answer more = acme.client().post(path(crm), "[" + LAPSED + ",{\"id\":42}]");
        assertThat(more.status()).as(more.body()).isEqualTo(201);
        assertThat(ids(more)).containsExactly("vip", "lapsed", "42");
        Answer listed = own.get(path(crm));
        assertThat(ids(listed)).containsExactly("vip", "lapsed", "42");
        assertThat(listed.json().get(1).get("description").isNull()).isTrue();
        assertThat(listed.json().get(2).get("segment_attributes")).isEmpty();

        Answer removed = own.delete(path(crm) + "/lapsed");
        assertThat(removed.status()).isEqualTo(200);
        assertThat(ids(removed)).containsExactly("vip", "42");
        Answer gone = own.delete(path(crm) + "/lapsed");
        assertThat(gone.status()).isEqualTo(404);
        assertThat(gone.message()).contains("no segment \"lapsed\"");

        Answer replaced = own.put(path(crm), "[" + LAPSED + "," + VIP + "]");
        assertThat(replaced.status()).as(replaced.body()).isEqualTo(200);
        assertThat(ids(replaced)).containsExactly("lapsed", "vip");
        assertThat(ids(own.get(path(crm)))).containsExactly("lapsed", "vip");

        Answer withSpace = own.post(path(crm), "[{\"id\":\"summer sale\"}]");
        assertThat(withSpace.status()).isEqualTo(201);
        assertThat(own.delete(path(crm) + "/summer%20sale").status()).isEqualTo(200);

        Answer cleared = own.delete(path(crm));
        assertThat(cleared.status()).isEqualTo(200);
        assertThat(cleared.json()).isEmpty();
        assertThat(own.get(path(crm)).json()).isEmpty();
        assertThat(own.put(path(crm), "[" + VIP + "]").status()).isEqualTo(200);
        assertThat(own.put(path(crm), "[]").json()).as("PUT [] clears too").isEmpty();
    }

    @Test
    void badCatalogsAreRefusedWholeNamingWhatToFix() {
        TestEndpoint crm = producer("push");
        ExchangeClient c = crm.client();
        assertThat(c.post(path(crm), "[" + VIP + "]").status()).isEqualTo(201);

        Answer taken = c.post(path(crm), "[" + LAPSED + "," + VIP + "]");
        assertThat(taken.status()).isEqualTo(409);
        assertThat(taken.message()).contains("already has segment \"vip\"").contains("Nothing was added");
        Answer twice = c.put(path(crm), "[" + LAPSED + "," + LAPSED + "]");
        assertThat(twice.status()).isEqualTo(400);
        assertThat(twice.message()).contains("\"lapsed\" appears more than once");

        assertRefused(c, crm, "[{\"name\":\"no id\"}]", "needs \"id\"");
        assertRefused(c, crm, "[{\"id\":\"\"}]", "1 to 256 characters");
        assertRefused(c, crm, "[{\"id\":\"" + "x".repeat(257) + "\"}]", "1 to 256 characters");
        assertRefused(c, crm, "[{\"id\":\"a/b\"}]", "no '/'");
        assertRefused(c, crm, "[{\"id\":true}]", "must be a string or a whole number");
        assertRefused(c, crm, "[{\"id\":\"x\\u0000y\"}]", "NUL");
        assertRefused(c, crm, "[{\"id\":\"s\",\"name\":\"a\\u0000b\"}]", "\"name\" contains U+0000 (NUL)");
        assertRefused(c, crm, "[{\"id\":\"s\",\"description\":\"" + "d".repeat(4097) + "\"}]", "more than 4096");
        assertRefused(c, crm, "[{\"id\":\"s\",\"segment_attributes\":[{\"name\":\"9lives\"}]}]", "is not valid");
        assertRefused(c, crm, "[{\"id\":\"s\",\"segment_attributes\":[{\"name\":\"a\"},{\"name\":\"a\"}]}]",
                "declares attribute \"a\" twice");
        assertRefused(c, crm, "[{\"id\":\"s\",\"segmentAttributes\":[]}]", "unknown field \"segmentAttributes\"");
        assertRefused(c, crm, "{\"id\":\"s\"}", "JSON array of segments");
        Answer empty = c.post(path(crm), "[]");
        assertThat(empty.status()).as("an empty POST (a PUT of [] clears)").isEqualTo(400);
        assertThat(empty.message()).contains("array is empty");
        String tooMany = IntStream.range(0, 1001).mapToObj(i -> "{\"id\":\"s" + i + "\"}")
                .collect(Collectors.joining(",", "[", "]"));
        assertRefused(c, crm, tooMany, "at most 1000");
        String fill = IntStream.range(0, 1000).mapToObj(i -> "{\"id\":\"s" + i + "\"}")
                .collect(Collectors.joining(",", "[", "]"));
        Answer past = c.post(path(crm), fill);
        assertThat(past.status()).isEqualTo(400);
        assertThat(past.message()).contains("holds 1 segments").contains("bound of 1000");
        assertThat(ids(c.get(path(crm)))).as("nothing changed").containsExactly("vip");
        assertThat(c.put(path(crm), fill).status()).isEqualTo(200);
        assertThat(c.get(path(crm)).json()).hasSize(1000);
    }

    private static void assertRefused(ExchangeClient c, TestEndpoint e, String body, String says) {
        for (String method : List.of("POST", "PUT")) {
            Answer a = c.send(method, path(e), body);
            assertThat(a.status()).as(method + " " + body).isEqualTo(400);
            assertThat(a.message()).as(method).contains(says);
        }
    }

    @Test
    void onlyTheEndpointOrItsAccountReachesACatalogOfAProducer() {
        TestEndpoint crm = producer("push");
        TestEndpoint sibling = producer("push");
        assertThat(crm.client().post(path(crm), "[" + VIP + "]").status()).isEqualTo(201);

        Answer otherKey = sibling.client().get(path(crm));
        assertThat(otherKey.status()).isEqualTo(403);
        assertThat(sibling.client().post(path(crm), "[" + LAPSED + "]").status()).isEqualTo(403);
        assertThat(sibling.client().delete(path(crm) + "/vip").status()).isEqualTo(403);
        Answer otherAccount = other.client().get(path(crm));
        assertThat(otherAccount.status()).isEqualTo(404);
        assertThat(otherAccount.message()).contains("no endpoint " + crm.endpointId());
        assertThat(other.client().delete(path(crm)).status()).isEqualTo(404);
        assertThat(acme.client().get("/v1/endpoint/987654321/segments").status()).isEqualTo(404);
        assertThat(acme.client().get("/v1/endpoint/abc/segments").status()).isEqualTo(404);
        assertThat(acme.client().withKey("idex_nosuchkey_secret").get(path(crm)).status()).isEqualTo(401);
        assertThat(ids(crm.client().get(path(crm)))).as("nothing changed").containsExactly("vip");

        Answer notProducer = acme.client().post(path(destination), "[" + VIP + "]");
        assertThat(notProducer.status()).isEqualTo(400);
        assertThat(notProducer.message()).contains("is not an audience source");
        assertThat(acme.client().get(path(destination)).status()).isEqualTo(400);

        TestEndpoint pulled = producer("pull");
        Answer unreachable = pulled.client().get(path(pulled));
        assertThat(unreachable.status()).as("no copy kept, and its partner cannot be asked").isEqualTo(409);
        assertThat(unreachable.message()).contains("could not be fetched from its partner");
        Answer pullWrite = pulled.client().post(path(pulled), "[" + VIP + "]");
        assertThat(pullWrite.status()).isEqualTo(400);
        assertThat(pullWrite.message()).contains("pull producer").contains("GET {url}/v1/segments");
        assertThat(pulled.client().delete(path(pulled)).status()).isEqualTo(400);
        assertThat(acme.client().get(path(crm) + "?refresh=maybe").status()).isEqualTo(400);
        assertThat(acme.client().send("PATCH", path(crm), "[]").status()).isEqualTo(405);
        assertThat(acme.client().get(path(crm) + "/vip").status()).isEqualTo(405);
    }

    @Test
    void jobCreationChecksTheSegmentAgainstANonEmptyCatalog() {
        TestEndpoint crm = producer("push");
        ExchangeClient c = crm.client();
        assertThat(export(c, crm, "\"producerSegmentID\":7").status()).as("no catalog: anything").isEqualTo(201);
        assertThat(export(c, crm, null).status()).isEqualTo(201);

        assertThat(c.post(path(crm), "[" + VIP + ",{\"id\":\"42\"}]").status()).isEqualTo(201);
        Answer unknown = export(c, crm, "\"producerSegmentID\":7");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.message()).contains("producerSegmentID \"7\" is not in the segment catalog of endpoint "
                + crm.endpointId()).contains("\"vip\", \"42\"");
        Answer none = export(c, crm, null);
        assertThat(none.status()).isEqualTo(400);
        assertThat(none.message()).contains("names no producerSegmentID").contains("\"vip\", \"42\"");
        assertThat(export(c, crm, "\"producerSegmentIDString\":\"gold\"").status()).isEqualTo(400);

        Answer byNumber = export(c, crm, "\"producerSegmentID\":42");
        assertThat(byNumber.status()).as(byNumber.body()).isEqualTo(201);
        assertThat(export(c, crm, "\"producerSegmentIDString\":\"vip\"").status()).isEqualTo(201);
        assertThat(export(acme.client(), crm, "\"producerSegmentIDString\":\"42\"").status()).isEqualTo(201);

        Answer importUnknown = c.post("/v1/jobs/identityImport", "{\"producerEndpointID\":" + crm.endpointId()
                + ",\"producerSegmentIDString\":\"gold\"}");
        assertThat(importUnknown.status()).isEqualTo(400);
        assertThat(importUnknown.message()).contains("\"gold\" is not in the segment catalog");
        assertThat(c.post("/v1/jobs/identityImport", "{\"producerEndpointID\":" + crm.endpointId() + "}").status())
                .as("an identity import need not name a segment").isEqualTo(201);

        assertThat(c.delete(path(crm)).status()).isEqualTo(200);
        assertThat(export(c, crm, "\"producerSegmentID\":7").status()).as("cleared: anything again").isEqualTo(201);
    }

    @Test
    void aPullProducersCatalogSavedAsItsPartnerAnsweredIsListedAndChecked() {
        TestEndpoint pulled = producer("pull");
        SegmentCatalogStore store = new SegmentCatalogStore(server.database().jdbi());
        assertThat(store.updated(acme.accountId(), pulled.endpointId())).isEmpty();
        // What the pull-producer side does with a partner's GET {url}/v1/segments answer.
        store.replace(acme.accountId(), pulled.endpointId(), List.of(new Segment("p-1", "Partner one", null,
                List.of(new SegmentAttribute("score", "number")))), CatalogSource.PARTNER, 1_234L);
        assertThat(store.updated(acme.accountId(), pulled.endpointId())).contains(1_234L);
        assertThat(store.list(other.accountId(), pulled.endpointId())).as("another account's view").isEmpty();

        // Stale, but its partner cannot be asked: the kept copy is listed (a refresh asked for would be 409).
        Answer listed = pulled.client().get(path(pulled));
        assertThat(listed.status()).as(listed.body()).isEqualTo(200);
        assertThat(listed.body()).isEqualTo("[{\"id\":\"p-1\",\"name\":\"Partner one\",\"description\":null,"
                + "\"segment_attributes\":[{\"name\":\"score\",\"type\":\"number\"}]}]");
        Answer unknown = export(pulled.client(), pulled, "\"producerSegmentIDString\":\"p-2\"");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.message()).contains("\"p-1\"");
        assertThat(export(pulled.client(), pulled, "\"producerSegmentIDString\":\"p-1\"").status()).isEqualTo(201);
    }

    /** A segment export from `producer` to the destination, with `segment` (a JSON field, or null for none). */
    private static Answer export(ExchangeClient c, TestEndpoint producer, String segment) {
        return c.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":" + producer.endpointId()
                + (segment == null ? "" : "," + segment) + ",\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"seg\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"email\"},\"attributeMappings\":{}}");
    }
}
