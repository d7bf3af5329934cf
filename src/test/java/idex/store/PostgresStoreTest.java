package idex.store;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.exchange.filters.IdentityFilterRules;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestVectors;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;
import idex.uid2.clients.IssuedClientKey;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Resolution;
import idex.exchange.identity.X1Ids;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** The same store code on a real PostgreSQL (17, started by the test): migrations, salts, keys, rotation, restart. */
class PostgresStoreTest {

    static EmbeddedPostgres postgres;
    static String url;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
        url = postgres.getJdbcUrl("postgres", "postgres");
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        postgres.close();
    }

    @Test
    void theOperatorRunsOnPostgres() {
        StoreLocation store = StoreLocation.of(url, null);
        try (TestServer server = TestServer.start(store, Uid2Scope.UID2, IdentityEnvironment.TEST, 40)) {
            // No terminal: the bootstrap key goes to an owner-only file in the node's data dir (the test servers of an
            // external store share one, as nodes share their secrets key), and the output says only where.
            assertThat(server.console()).contains("Bootstrap client key").contains("bootstrap-client.txt")
                    .contains("idex uid2 client create");
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            assertThat(http.call("/v2/identity/buckets", key.key(), key.secret(), "{\"since_timestamp\":0}").get("body")).hasSize(40);

            // Import the reference test salts through the admin command, against the same database.
            assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(), "--db-url", url)).isZero();
            server.refreshNow();
            JsonNode mapped = http.call("/v2/identity/map", key.key(), key.secret(), "{\"email\":[\"user@example.com\"]}")
                    .get("body").get("mapped").get(0);
            assertThat(mapped.get("advertising_id").asText()).isEqualTo("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf");
            assertThat(mapped.get("bucket_id").asText()).isEqualTo("bv3WM92zaA");

            // The snapshot dates all but one bucket in the future; only b1aZVGl7aB (2026-08-17) is old enough to rotate.
            long oneMinuteAgo = System.currentTimeMillis() / 1000 - 60;
            String since = "{\"since_timestamp\":" + oneMinuteAgo + "}";
            assertThat(http.call("/v2/identity/buckets", key.key(), key.secret(), since).get("body").findValuesAsText("bucket_id"))
                    .doesNotContain("b1aZVGl7aB");
            assertThat(Main.run("uid2", "salts", "rotate", "--fraction", "0.4", "--min-age-days", "0", "--db-url", url)).isZero();
            server.refreshNow();
            JsonNode rotated = http.call("/v2/identity/buckets", key.key(), key.secret(), since);
            assertThat(rotated.get("body").findValuesAsText("bucket_id"))
                    .containsExactlyInAnyOrder("b1aZVGl7aB", "bKaoveQoPR", "bv3WM92zaA", "bl5yy6kr58", "be58Mjz13q");

            server.restart();
            Uid2Http again = new Uid2Http(server);
            assertThat(again.call("/v2/identity/buckets", key.key(), key.secret(), since).get("body")).isEqualTo(rotated.get("body"));
            assertThat(again.call("/v2/identity/map", key.key(), key.secret(), "{\"email\":[\"user@example.com\"]}")
                    .get("body").get("mapped").get(0).get("advertising_id").asText())
                    .isEqualTo("ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf");
        }
    }

    /** Identity filters on PostgreSQL, in a database of their own (the test above expects a store never started). */
    @Test
    void identityFiltersRunOnPostgres() throws SQLException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE filters");
        }
        StoreLocation store = StoreLocation.of(postgres.getJdbcUrl("postgres", "filters"), null);
        try (TestServer server = TestServer.start(store, Uid2Scope.UID2, IdentityEnvironment.TEST, 4)) {
            TestAccount acme = ExchangeAccounts.account(server, "Acme");
            String ids = "[{\"name\":\"email\"},{\"name\":\"cookieId\"}]";
            TestEndpoint source = ExchangeAccounts.endpoint(server, acme, registration("S", "source", "push", ids));
            TestEndpoint destination = ExchangeAccounts.endpoint(server, acme, registration("D", "destination", "pull", ids));
            ExchangeClient s = source.client();
            String path = "/v1/identityfilters";

            assertThat(s.post(path, "[{\"identifierName\":\"email\",\"publishFilter\":true},"
                    + "{\"identifierName\":\"cookieId\",\"subscribeFilter\":true}]").status()).isEqualTo(201);
            assertThat(s.post(path, "[{\"identifierName\":\"userId\",\"publishFilter\":true},"
                    + "{\"identifierName\":\"email\",\"publishFilter\":true}]").status()).isEqualTo(409);
            assertThat(s.put(path, "[{\"identifierName\":\"cookieId\",\"publishFilter\":true},"
                    + "{\"identifierName\":\"userId\",\"publishFilter\":true}]").status()).isEqualTo(400);
            assertThat(s.put(path, "[{\"identifierName\":\"cookieId\",\"publishFilter\":true}]").status()).isEqualTo(200);
            JsonNode list = s.get(path).json();
            assertThat(list.findValuesAsText("identifierName")).containsExactly("email", "cookieId");
            assertThat(list.get(1).get("publishFilter").asBoolean()).isTrue();
            assertThat(list.get(1).get("subscribeFilter").asBoolean()).isFalse();
            assertThat(s.get(path + "/userId").body()).isEqualTo("{\"message\":\"Invalid request\"}");
            assertThat(acme.client().post(path + "?endpointId=" + destination.endpointId(),
                    "[{\"identifierName\":\"phone\",\"subscribeFilter\":true}]").status()).isEqualTo(201);

            IdentityFilterRules rules = new IdentityFilterRules(server.database().jdbi());
            assertThat(rules.between(acme.accountId(), source.endpointId(), destination.endpointId()).names())
                    .containsExactlyInAnyOrder("email", "cookieId", "phone");
            assertThat(s.delete(path + "/email").body()).isEqualTo("true");
            assertThat(s.delete(path + "/email").status()).isEqualTo(404);
            assertThat(rules.between(acme.accountId(), source.endpointId(), destination.endpointId()).names())
                    .containsExactlyInAnyOrder("cookieId", "phone");
        }
    }

    /** The identity store's resolution (lock, UNNEST lookups, merges) and the identity API on PostgreSQL. */
    @Test
    void identityStoreRunsOnPostgres() throws Exception {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE identity");
        }
        StoreLocation store = StoreLocation.of(postgres.getJdbcUrl("postgres", "identity"), null);
        try (TestServer server = TestServer.start(store, Uid2Scope.UID2, IdentityEnvironment.TEST, 4)) {
            TestAccount acme = ExchangeAccounts.account(server, "Acme");
            TestEndpoint crm = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push",
                    "[{\"name\":\"email\",\"unique\":true},{\"name\":\"cookieId\"}]"));
            IdentityStore identities = new IdentityStore(server.database().jdbi());
            X1Ids x1Ids = X1Ids.of(server.database().jdbi());
            long now = System.currentTimeMillis();
            Resolution first = identities.resolve(acme.accountId(), crm.endpointId(), Set.of("email"), List.of(
                    List.of(new Identifier("email", "a@x.com")), List.of(new Identifier("cookieId", "c1"))), now);
            Resolution link = identities.resolve(acme.accountId(), crm.endpointId(), Set.of("email"), List.of(
                    List.of(new Identifier("email", "a@x.com"), new Identifier("cookieId", "c1"))), now);
            assertThat(link.merged()).isEqualTo(1);
            assertThat(link.x1s()[0]).isEqualTo(first.x1s()[0]);

            JsonNode alias = crm.client().get("/v1/identity/" + x1Ids.encode(first.x1s()[1])).json();
            assertThat(alias.get(0).get("x1Id").asText()).isEqualTo(x1Ids.encode(first.x1s()[0]));
            assertThat(alias.get(0).get("identifiers")).hasSize(2);
            assertThat(crm.client().get("/v1/identity?cookieId=c1").json().findValuesAsText("x1Id"))
                    .containsExactly(x1Ids.encode(first.x1s()[0]));
            assertThat(crm.client().delete("/v1/identity?cookieId=c1").body()).isEqualTo("A number of updated Identities: 1");
            assertThat(crm.client().get("/v1/identity?cookieId=c1").json()).isEmpty();
        }
    }

    @Test
    void eventsFeedTheIdentityStoreOnPostgres() throws SQLException {
        // A database of its own, so that the operator test above still sees a first start.
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE events");
        }
        String eventsUrl = postgres.getJdbcUrl("postgres", "events");
        try (TestServer server = TestServer.start(StoreLocation.of(eventsUrl, null), Uid2Scope.UID2, IdentityEnvironment.TEST, 40)) {
            TestAccount account = ExchangeAccounts.account(server, "Events on PostgreSQL");
            TestEndpoint web = ExchangeAccounts.endpoint(server, account, ExchangeAccounts.registration("Web", "none", null,
                    "[{\"name\":\"email\",\"unique\":true},{\"name\":\"cookieId\"}]"));
            String ts = "\"timestamp\":\"2026-11-23T10:00:00.123+01:00\"";
            // Two people, then an event that joins them, then a unique conflict: one transaction, one answer.
            String batch = "{\"events\":["
                    + "{\"code\":\"a\"," + ts + ",\"identifiers\":[{\"name\":\"email\",\"value\":\"pg@example.com\"}]},"
                    + "{\"code\":\"b\"," + ts + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"pg-cookie\"}]},"
                    + "{\"code\":\"c\"," + ts + ",\"identifiers\":[{\"name\":\"email\",\"value\":\"pg@example.com\"},"
                    + "{\"name\":\"cookieId\",\"value\":\"pg-cookie\"}]},"
                    + "{\"code\":\"d\"," + ts + ",\"identifiers\":[{\"name\":\"email\",\"value\":\"other@example.com\"},"
                    + "{\"name\":\"cookieId\",\"value\":\"pg-cookie\"}]}]}";
            ExchangeClient.Answer a = web.client().post("/v1/event", batch);
            assertThat(a.status()).as(a.body()).isEqualTo(200);
            JsonNode x1s = a.json().get("x1Ids");
            String x1 = x1s.get(0).asText();
            assertThat(x1s.get(1).asText()).isEqualTo(x1);
            assertThat(x1s.get(2).asText()).isEqualTo(x1);
            assertThat(x1s.get(3).isNull()).isTrue();
            assertThat(a.json().get("rejected").findValuesAsText("index")).containsExactly("3");
            JsonNode person = web.client().get("/v1/identity/" + x1).json().get(0);
            assertThat(person.get("identifiers").findValuesAsText("value")).containsExactlyInAnyOrder("pg@example.com", "pg-cookie");

            // PostgreSQL cannot store U+0000: such a value is a 400 naming the event, not a failed transaction.
            ExchangeClient.Answer nul = web.client().post("/v1/event", "{\"code\":\"e\"," + ts
                    + ",\"identifiers\":[{\"name\":\"cookieId\",\"value\":\"a\\u0000b\"}]}");
            assertThat(nul.status()).isEqualTo(400);
            assertThat(nul.json().get("index").asInt()).isZero();
        }
    }
}
