package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static idex.cli.IdexCli.idex;
import static idex.cli.IdexCli.within5s;
import static org.assertj.core.api.Assertions.assertThat;

/** `idex account …` and `idex key …` against a running server's store: keys work, and revoked keys stop within 5 s. */
class AccountCommandsTest {

    @TempDir
    static Path dataDir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 32);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    @Test
    void anAccountKeyFromTheCommandLineWorksAndARevokedKeyStopsWithin5Seconds() throws Exception {
        JsonNode created = json(idex("account", "create", "Acme Corp", "--json", "--data-dir", dataDir.toString()));
        long accountId = created.get("accountId").asLong();
        assertThat(created.get("key").asText()).startsWith("idex_");
        ExchangeClient account = new ExchangeClient(server, created.get("key").asText());
        within5s(() -> account.get("/v1/endpoint").status() == 200);

        assertThat(idex("account", "list", "--data-dir", dataDir.toString())).contains("Acme Corp");
        assertThat(json(idex("account", "list", "--json", "--data-dir", dataDir.toString())).findValuesAsText("name"))
                .contains("Acme Corp");

        ExchangeAccounts.TestEndpoint endpoint = ExchangeAccounts.endpoint(server,
                new ExchangeAccounts.TestAccount(accountId, account),
                ExchangeAccounts.registration("CRM", "source", "push", "[{\"name\":\"email\"}]"));
        JsonNode second = json(idex("key", "create", "--account", Long.toString(accountId), "--endpoint",
                Long.toString(endpoint.endpointId()), "--json", "--data-dir", dataDir.toString()));
        ExchangeClient endpointKey = new ExchangeClient(server, second.get("key").asText());
        within5s(() -> endpointKey.get("/v1/endpoint").status() == 200);
        assertThat(endpointKey.get("/v1/endpoint").json().get("endpointId").asLong()).isEqualTo(endpoint.endpointId());

        String keys = idex("key", "list", "--account", Long.toString(accountId), "--data-dir", dataDir.toString());
        assertThat(keys).contains(second.get("keyId").asText()).doesNotContain(second.get("key").asText());

        idex("key", "revoke", second.get("keyId").asText(), "--data-dir", dataDir.toString());
        within5s(() -> endpointKey.get("/v1/endpoint").status() == 401);
        assertThat(account.get("/v1/endpoint").status()).as("other keys still work").isEqualTo(200);
        assertThat(idex("key", "list", "--account", Long.toString(accountId), "--data-dir", dataDir.toString()))
                .contains("revoked");
    }

    @Test
    void keysAreStoredOnlyAsHashes() throws Exception {
        JsonNode created = json(idex("account", "create", "Hashed", "--json", "--data-dir", dataDir.toString()));
        String key = created.get("key").asText();
        String secretPart = key.substring(key.lastIndexOf('_') + 1);
        long rowsWithKey = server.database().jdbi().withHandle(h -> h.createQuery(
                        "SELECT COUNT(*) FROM exchange_key WHERE key_hash LIKE :k OR key_salt LIKE :k OR key_id LIKE :k")
                .bind("k", "%" + secretPart + "%").mapTo(Long.class).one());
        assertThat(rowsWithKey).isZero();
    }

    @Test
    void mistakesPrintOneLineAndFail() {
        assertThat(idex.Main.run("key", "create", "--account", "999999", "--data-dir", dataDir.toString())).isEqualTo(1);
        assertThat(idex.Main.run("key", "revoke", "nosuchkey", "--data-dir", dataDir.toString())).isEqualTo(1);
        assertThat(idex.Main.run("account", "create", " ", "--data-dir", dataDir.toString())).isEqualTo(1);
    }
}
