package idex.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Resolution;
import idex.exchange.identity.X1Ids;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static idex.support.ExchangeAccounts.registration;
import static idex.support.ExchangeClient.q;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The resolution rule of spec §2 (new x1Id, add, merge into the oldest, blocked merges, rejections), checked
 * through the identity API a user would inspect it with.
 */
class IdentityStoreTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\",\"unique\":true},"
            + "{\"name\":\"cookieId\"},{\"name\":\"deviceId\"},{\"name\":\"userId\"}]";

    @TempDir
    static Path dir;
    static TestServer server;
    static IdentityStore store;
    static X1Ids x1Ids;

    TestAccount account;
    TestEndpoint crm;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        store = new IdentityStore(server.database().jdbi());
        x1Ids = X1Ids.of(server.database().jdbi());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void freshAccount() {
        account = ExchangeAccounts.account(server, "acct");
        crm = ExchangeAccounts.endpoint(server, account, registration("CRM", "source", "push", IDS));
    }

    private Resolution resolve(TestEndpoint endpoint, List<List<Identifier>> records) {
        return store.resolve(account.accountId(), endpoint.endpointId(), Set.of("email"), records, System.currentTimeMillis());
    }

    private Resolution resolve(List<List<Identifier>> records) {
        return resolve(crm, records);
    }

    private static List<Identifier> rec(String... nameValues) {
        List<Identifier> r = new ArrayList<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            r.add(new Identifier(nameValues[i], nameValues[i + 1]));
        }
        return r;
    }

    /** `GET /v1/identity/{x1Id}`: the x1Id it answers with and its identifiers as "name=value". */
    private Map.Entry<String, Set<String>> inspect(long x1) {
        ExchangeClient.Answer a = account.client().get("/v1/identity/" + x1Ids.encode(x1));
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        JsonNode p = a.json().get(0);
        Set<String> ids = new HashSet<>();
        p.get("identifiers").forEach(i -> ids.add(i.get("name").asText() + "=" + i.get("value").asText()));
        return Map.entry(p.get("x1Id").asText(), ids);
    }

    private List<String> holders(String name, String value) {
        ExchangeClient.Answer a = crm.client().get("/v1/identity?" + name + "=" + q(value));
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().findValuesAsText("x1Id");
    }

    @Test
    void newRecordCreatesAnX1IdAndLaterRecordsAddToIt() {
        Resolution first = resolve(List.of(rec("email", "a@x.com", "cookieId", "c1")));
        assertThat(first.created()).isEqualTo(1);
        long x1 = first.x1s()[0];
        Resolution second = resolve(List.of(rec("cookieId", "c1", "deviceId", "d1")));
        assertThat(second.created()).isZero();
        assertThat(second.x1s()[0]).isEqualTo(x1);
        assertThat(inspect(x1).getValue()).containsExactlyInAnyOrder("email=a@x.com", "cookieId=c1", "deviceId=d1");
        assertThat(holders("deviceId", "d1")).containsExactly(x1Ids.encode(x1));
    }

    @Test
    void recordsLinkingSeveralX1IdsMergeIntoTheOldestAndAliasesStillResolve() {
        long a = resolve(List.of(rec("email", "a@x.com"))).x1s()[0];
        long b = resolve(List.of(rec("cookieId", "c2"))).x1s()[0];
        long c = resolve(List.of(rec("deviceId", "d3"))).x1s()[0];
        assertThat(a).isLessThan(b).isLessThan(c);

        Resolution link = resolve(List.of(rec("cookieId", "c2", "deviceId", "d3")));
        assertThat(link.merged()).isEqualTo(1);
        assertThat(link.x1s()[0]).isEqualTo(b);
        Resolution all = resolve(List.of(rec("email", "a@x.com", "deviceId", "d3", "userId", "u4")));
        assertThat(all.merged()).isEqualTo(1);
        assertThat(all.x1s()[0]).isEqualTo(a);

        Map.Entry<String, Set<String>> survivor = inspect(a);
        assertThat(survivor.getValue()).containsExactlyInAnyOrder("email=a@x.com", "cookieId=c2", "deviceId=d3", "userId=u4");
        // Both merged x1Ids, including c (merged first into b, then b into a), answer with the survivor.
        assertThat(inspect(b)).isEqualTo(survivor);
        assertThat(inspect(c)).isEqualTo(survivor);
        assertThat(holders("cookieId", "c2")).containsExactly(x1Ids.encode(a));
    }

    @Test
    void aMergeWithinOneBatchGivesTheSameGraphAsSeparateBatches() {
        Resolution r = resolve(List.of(rec("cookieId", "k1"), rec("deviceId", "k2"), rec("cookieId", "k1", "deviceId", "k2")));
        assertThat(r.x1s()[2]).isEqualTo(r.x1s()[0]);
        assertThat(inspect(r.x1s()[1]).getKey()).isEqualTo(x1Ids.encode(r.x1s()[0]));
        assertThat(inspect(r.x1s()[0]).getValue()).containsExactlyInAnyOrder("cookieId=k1", "deviceId=k2");
    }

    @Test
    void aMergeOverTheCapIsBlockedAndTheSharedIdentifierCanBeFoundAndDeleted() {
        List<Identifier> big = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            big.add(new Identifier("userId", "a" + i));
        }
        List<Identifier> other = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            other.add(new Identifier("userId", "b" + i));
        }
        long a = resolve(List.of(big)).x1s()[0];
        long b = resolve(List.of(other)).x1s()[0];

        Resolution link = resolve(List.of(rec("userId", "a1", "userId", "b1", "cookieId", "shared")));
        assertThat(link.merged()).as("1,100 identifiers would exceed the cap").isZero();
        assertThat(link.x1s()[0]).as("the oldest x1Id with room takes the record").isEqualTo(a);
        assertThat(inspect(a).getValue()).hasSize(602).contains("userId=b1", "cookieId=shared");
        assertThat(inspect(b).getValue()).hasSize(500).contains("userId=b1");

        assertThat(holders("userId", "b1")).containsExactly(x1Ids.encode(a), x1Ids.encode(b));
        ExchangeClient.Answer deleted = crm.client().delete("/v1/identity?userId=b1");
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.contentType()).startsWith("text/plain");
        assertThat(deleted.body()).isEqualTo("A number of updated Identities: 2");
        assertThat(holders("userId", "b1")).isEmpty();
        assertThat(inspect(b).getValue()).hasSize(499);
    }

    @Test
    void aRecordThatWouldPassTheCapOfItsOnlyMatchIsRejected() {
        List<Identifier> full = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            full.add(new Identifier("userId", "f" + i));
        }
        long x1 = resolve(List.of(full)).x1s()[0];
        Resolution r = resolve(List.of(rec("userId", "f0", "cookieId", "one-too-many"), rec("userId", "f1")));
        assertThat(r.x1s()[0]).isZero();
        assertThat(r.rejected()).hasSize(1);
        assertThat(r.rejected().get(0).index()).isZero();
        assertThat(r.rejected().get(0).reason()).contains("1000");
        assertThat(r.x1s()[1]).as("a record adding nothing new fits").isEqualTo(x1);
        assertThat(holders("cookieId", "one-too-many")).isEmpty();
    }

    @Test
    void conflictingValuesOfAUniqueIdentifierBlockTheMerge() {
        long a = resolve(List.of(rec("email", "a@x.com", "cookieId", "ca"))).x1s()[0];
        long b = resolve(List.of(rec("email", "b@x.com", "deviceId", "db"))).x1s()[0];

        Resolution r = resolve(List.of(rec("cookieId", "ca", "deviceId", "db")));
        assertThat(r.merged()).isZero();
        assertThat(r.x1s()[0]).isEqualTo(a);
        assertThat(holders("deviceId", "db")).containsExactly(x1Ids.encode(a), x1Ids.encode(b));
        assertThat(crm.client().delete("/v1/identity?deviceId=db").body()).isEqualTo("A number of updated Identities: 2");

        Resolution twice = resolve(List.of(rec("email", "c@x.com", "email", "d@x.com")));
        assertThat(twice.rejected()).singleElement().satisfies(j -> assertThat(j.reason()).contains("unique identifier 'email'"));
        Resolution conflicting = resolve(List.of(rec("email", "z@x.com", "cookieId", "ca")));
        assertThat(conflicting.x1s()[0]).as("the only match holds another email").isZero();
        assertThat(conflicting.rejected().get(0).reason()).contains("email");
    }

    @Test
    void uniqueIsJudgedByTheContributingEndpoint() {
        TestEndpoint loose = ExchangeAccounts.endpoint(server, account, registration("Loose", "source", "push",
                "[{\"name\":\"email\"},{\"name\":\"cookieId\"}]"));
        long a = resolve(List.of(rec("email", "a@x.com", "cookieId", "ca"))).x1s()[0];
        resolve(List.of(rec("email", "b@x.com", "cookieId", "cb")));
        Resolution r = store.resolve(account.accountId(), loose.endpointId(), Set.of(),
                List.of(rec("cookieId", "ca", "cookieId", "cb")), System.currentTimeMillis());
        assertThat(r.merged()).as("an endpoint that does not declare email unique merges").isEqualTo(1);
        assertThat(inspect(a).getValue()).contains("email=a@x.com", "email=b@x.com");
    }

    @Test
    void concurrentOverlappingBatchesGiveTheSameGraphAsRunningThemOneAfterTheOther() throws Exception {
        Random random = new Random(7);
        List<List<List<Identifier>>> batches = new ArrayList<>();
        for (int b = 0; b < 6; b++) {
            List<List<Identifier>> batch = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                // Sparse enough that no person nears the cap (where the order of records would matter).
                batch.add(rec("cookieId", "c" + random.nextInt(3000), "deviceId", "d" + random.nextInt(3000),
                        "userId", "u" + b + "-" + i));
            }
            batches.add(batch);
        }
        for (List<List<Identifier>> batch : batches) {
            resolve(batch);
        }
        Set<Set<String>> serial = graph(account.accountId());

        TestAccount concurrent = ExchangeAccounts.account(server, "concurrent");
        TestEndpoint endpoint = ExchangeAccounts.endpoint(server, concurrent, registration("CRM", "source", "push", IDS));
        ExecutorService pool = Executors.newFixedThreadPool(batches.size());
        try {
            List<Future<Resolution>> done = new ArrayList<>();
            for (List<List<Identifier>> batch : batches) {
                Callable<Resolution> task = () -> store.resolve(concurrent.accountId(), endpoint.endpointId(), Set.of("email"),
                        batch, System.currentTimeMillis());
                done.add(pool.submit(task));
            }
            for (Future<Resolution> f : done) {
                assertThat(f.get().rejected()).isEmpty();
            }
        } finally {
            pool.shutdown();
        }
        Set<Set<String>> parallel = graph(concurrent.accountId());
        assertThat(serial.size()).as("the batches overlap: fewer people than records").isLessThan(2400).isGreaterThan(1);
        assertThat(parallel).isEqualTo(serial);
    }

    @Test
    void accountsNeverSeeEachOthersIdentities() {
        long mine = resolve(List.of(rec("email", "same@x.com", "cookieId", "c-same"))).x1s()[0];
        TestAccount other = ExchangeAccounts.account(server, "other");
        TestEndpoint theirs = ExchangeAccounts.endpoint(server, other, registration("CRM", "source", "push", IDS));
        long their = store.resolve(other.accountId(), theirs.endpointId(), Set.of("email"),
                List.of(rec("email", "same@x.com")), System.currentTimeMillis()).x1s()[0];
        assertThat(their).isNotEqualTo(mine);

        assertThat(other.client().get("/v1/identity/" + x1Ids.encode(mine)).status()).isEqualTo(404);
        assertThat(theirs.client().get("/v1/identity/" + x1Ids.encode(mine)).status()).isEqualTo(404);
        assertThat(theirs.client().get("/v1/identity?email=" + q("same@x.com")).json().findValuesAsText("x1Id"))
                .containsExactly(x1Ids.encode(their));
        assertThat(other.client().get("/v1/identity?email=" + q("same@x.com") + "&endpointId=" + crm.endpointId()).status())
                .as("another account's endpoint does not exist").isEqualTo(404);
        assertThat(other.client().delete("/v1/identity?email=" + q("same@x.com") + "&endpointId=" + crm.endpointId()).status())
                .isEqualTo(404);
        assertThat(theirs.client().delete("/v1/identity?email=" + q("same@x.com")).body())
                .isEqualTo("A number of updated Identities: 1");
        assertThat(inspect(mine).getValue()).contains("email=same@x.com");
    }

    @Test
    void anEndpointKeySeesOnlyWhatItsEndpointContributed() {
        TestEndpoint web = ExchangeAccounts.endpoint(server, account, registration("Web", "source", "push", IDS));
        long x1 = resolve(List.of(rec("email", "e@x.com", "cookieId", "crm-cookie"))).x1s()[0];
        resolve(web, List.of(rec("email", "e@x.com", "deviceId", "web-device")));

        JsonNode all = account.client().get("/v1/identity/" + x1Ids.encode(x1)).json();
        assertThat(all.get(0).get("identifiers")).hasSize(4);
        JsonNode webView = web.client().get("/v1/identity/" + x1Ids.encode(x1)).json();
        assertThat(webView.get(0).get("identifiers").findValuesAsText("value")).containsExactlyInAnyOrder("e@x.com", "web-device");
        assertThat(webView.get(0).get("identifiers").findValuesAsText("endpointId")).containsOnly(Long.toString(web.endpointId()));

        assertThat(web.client().get("/v1/identity?cookieId=crm-cookie").json()).isEmpty();
        assertThat(web.client().get("/v1/identity?cookieId=crm-cookie&endpointId=" + crm.endpointId()).status()).isEqualTo(403);
        assertThat(web.client().delete("/v1/identity?cookieId=crm-cookie&endpointId=" + crm.endpointId()).status()).isEqualTo(403);
        assertThat(web.client().delete("/v1/identity?cookieId=crm-cookie").body()).isEqualTo("A number of updated Identities: 0");
        assertThat(holders("cookieId", "crm-cookie")).containsExactly(x1Ids.encode(x1));

        long onlyCrm = resolve(List.of(rec("userId", "crm-only"))).x1s()[0];
        assertThat(web.client().get("/v1/identity/" + x1Ids.encode(onlyCrm)).status()).isEqualTo(404);
    }

    @Test
    void identityCallsValidateTheirInput() {
        assertThat(account.client().get("/v1/identity?email=a").status()).as("account key without endpointId").isEqualTo(400);
        assertThat(account.client().get("/v1/identity?email=a").message()).contains("endpointId");
        assertThat(crm.client().get("/v1/identity").status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identity?email=a&cookieId=b").message()).contains("exactly one");
        assertThat(crm.client().get("/v1/identity?email=").status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identity?email=a&endpointId=abc").status()).isEqualTo(400);
        assertThat(crm.client().get("/v1/identity/not-an-id").status()).isEqualTo(404);
        assertThat(crm.client().get("/v1/identity/" + x1Ids.encode(999_999_999L)).status()).isEqualTo(404);
        assertThat(new ExchangeClient(server, null).get("/v1/identity?email=a").status()).isEqualTo(401);
        assertThat(crm.client().send("PATCH", "/v1/identity?email=a", null).status()).isEqualTo(405);
    }

    /** The account's identity graph: the identifier sets of its live x1s. */
    private static Set<Set<String>> graph(long accountId) {
        Map<Long, Set<String>> byX1 = new HashMap<>();
        server.database().jdbi().useHandle(h -> h.createQuery("SELECT x1, id_name, id_value FROM x1_identifier WHERE account_id = :a")
                .bind("a", accountId)
                .map((rs, ctx) -> Map.entry(rs.getLong(1), rs.getString(2) + "=" + rs.getString(3)))
                .forEach(e -> byX1.computeIfAbsent(e.getKey(), k -> new HashSet<>()).add(e.getValue())));
        return byX1.values().stream().collect(Collectors.toSet());
    }
}
