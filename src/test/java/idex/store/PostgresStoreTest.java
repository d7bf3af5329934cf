package idex.store;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.SharedFiles;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;
import idex.uid2.clients.IssuedClientKey;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

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
            assertThat(server.console()).contains("Bootstrap client key");
            IssuedClientKey key = server.createMapperKey();
            server.refreshNow();
            Uid2Http http = new Uid2Http(server);
            assertThat(http.call("/v2/identity/buckets", key.key(), key.secret(), "{\"since_timestamp\":0}").get("body")).hasSize(40);

            // Import the reference test salts through the admin command, against the same database.
            assertThat(Main.run("uid2", "salts", "import", SharedFiles.vectors("uid2-test-salts").toString(), "--db-url", url)).isZero();
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
