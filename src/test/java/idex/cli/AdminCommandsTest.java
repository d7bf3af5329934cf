package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.support.TestServer;
import idex.support.Uid2Http;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

import static idex.cli.IdexCli.idex;
import static idex.cli.IdexCli.within5s;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The admin commands against a running server's store, and the client tools against the running server: what a
 * command changes must be in effect on the server within 5 seconds, without any call into the server.
 */
class AdminCommandsTest {

    private static final String BUCKETS = "/v2/identity/buckets";
    private static final String QUERY = "{\"since_timestamp\":\"2022-06-01T13:00:00\"}";

    @TempDir
    static Path dataDir;
    static TestServer server;
    static Uid2Http http;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 32);
        http = new Uid2Http(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void firstStartWithoutATerminalLeavesTheBootstrapKeyInAnOwnerOnlyFileNotInTheOutput() throws Exception {
        Path file = dataDir.resolve("bootstrap-client.txt");
        String written = Files.readString(file);
        String key = written.lines().filter(l -> l.startsWith("key:")).findFirst().orElseThrow().split(":", 2)[1].trim();
        String secret = written.lines().filter(l -> l.startsWith("secret:")).findFirst().orElseThrow().split(":", 2)[1].trim();
        assertThat(key).startsWith("UID2-C-T-1-");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        // Captured output is no terminal, as a service's log is not: it says where the key is, never what it is.
        assertThat(server.console()).contains("Bootstrap client key (role MAPPER)").contains(file.toString())
                .doesNotContain(secret).doesNotContain(key);
        assertThat(http.call(BUCKETS, key, secret, QUERY).get("body")).hasSize(32);
    }

    @Test
    void aDbUrlPasswordComesFromAFileAndAPasswordInTheUrlIsWarnedAbout(@TempDir Path scratch) throws Exception {
        String url;
        String password;
        try (idex.store.embedded.EmbeddedPostgres pg = idex.store.embedded.EmbeddedPostgres.forAdmin(dataDir)) {
            url = pg.jdbcUrl() + "?user=" + pg.user();
            password = pg.password();
        }
        Path passwordFile = Files.createFile(scratch.resolve("db.password"), // removed with the test's directory
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        Files.writeString(passwordFile, password + "\n");
        Path elsewhere = Files.createDirectory(scratch.resolve("no-data"));

        CommandRun withFile = IdexCli.run("account", "list", "--db-url", url, "--db-password-file",
                passwordFile.toString(), "--data-dir", elsewhere.toString());
        assertThat(withFile.exitCode()).as(withFile.stderr()).isZero();
        assertThat(withFile.stderr()).doesNotContain("warning");

        CommandRun without = IdexCli.run("account", "list", "--db-url", url, "--data-dir", elsewhere.toString());
        assertThat(without.exitCode()).as("the store needs its password").isNotZero();

        CommandRun inUrl = IdexCli.run("account", "list", "--db-url", url + "&password=" + password,
                "--data-dir", elsewhere.toString());
        assertThat(inUrl.exitCode()).as(inUrl.stderr()).isZero();
        assertThat(inUrl.stderr()).contains("warning").contains("IDEX_DB_PASSWORD").contains("--db-password-file")
                .doesNotContain(password);
    }

    @Test
    void createdKeysWorkAndDisabledKeysStopWithin5Seconds() throws Exception {
        JsonNode created = Uid2Http.JSON.readTree(idex("uid2", "client", "create", "--name", "partner one", "--roles", "MAPPER",
                "--site", "42", "--json", "--data-dir", dataDir.toString()));
        String key = created.get("key").asText();
        String secret = created.get("secret").asText();
        assertThat(key).startsWith("UID2-C-T-42-").contains(".");
        assertThat(java.util.Base64.getDecoder().decode(secret)).hasSize(32);

        within5s(() -> http.callRaw(BUCKETS, key, secret, QUERY).status() == 200);

        String list = idex("uid2", "client", "list", "--data-dir", dataDir.toString());
        assertThat(list).contains(created.get("keyId").asText()).contains("partner one").doesNotContain(secret)
                .doesNotContain(key);
        // The store holds neither the key nor the secret in clear: the secret only sealed (the command found the
        // server's secrets key in the same data dir).
        String row = server.database().jdbi().withHandle(h -> h.createQuery(
                        "SELECT key_id || ' ' || key_hash || ' ' || key_salt || ' ' || secret FROM uid2_client_key"
                                + " WHERE key_id = :id")
                .bind("id", created.get("keyId").asText()).mapTo(String.class).one());
        assertThat(row).doesNotContain(key).doesNotContain(secret).contains(" v1:");
        // Nothing in the store's files (tables, indexes, WAL) holds the key or the secret in clear.
        try (java.util.stream.Stream<java.nio.file.Path> files = Files.walk(dataDir.resolve("postgres"))) {
            for (java.nio.file.Path file : (Iterable<java.nio.file.Path>) files.filter(Files::isRegularFile)::iterator) {
                String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                assertThat(bytes).as(file.toString()).doesNotContain(key).doesNotContain(secret);
            }
        }

        idex("uid2", "client", "disable", created.get("keyId").asText(), "--data-dir", dataDir.toString());
        within5s(() -> http.callRaw(BUCKETS, key, secret, QUERY).status() == 401);
        assertThat(idex("uid2", "client", "list", "--json", "--data-dir", dataDir.toString())).contains("\"disabled\":true");
    }

    @Test
    void badAdminInputIsRefusedWithAMessage() {
        assertThat(Main.run("uid2", "client", "create", "--name", "x", "--roles", "MAPPER,ADMIN", "--data-dir", dataDir.toString()))
                .isNotZero();
        assertThat(Main.run("uid2", "client", "disable", "UID2-C-T-1-nosuch", "--data-dir", dataDir.toString())).isNotZero();
        assertThat(Main.run("uid2", "salts", "rotate", "--fraction", "2", "--data-dir", dataDir.toString())).isNotZero();
        assertThat(Main.run("uid2", "salts", "import", dataDir.resolve("missing").toString(), "--data-dir", dataDir.toString()))
                .isNotZero();
        assertThat(Main.run("uid2", "optout", "add", "not-an-email", "--data-dir", dataDir.toString())).isNotZero();
    }

    @Test
    void requestCommandTalksToTheRealServer() throws Exception {
        JsonNode created = Uid2Http.JSON.readTree(idex("uid2", "client", "create", "--name", "cli", "--roles", "MAPPER", "--json",
                "--data-dir", dataDir.toString()));
        server.refreshNow();
        String key = created.get("key").asText();
        String secret = created.get("secret").asText();

        CommandRun ok = CommandRun.run(RequestCommand::new, "{\"email\":[\"user@example.com\"]}\n",
                server.url("/v2/identity/map"), key, secret);
        assertThat(ok.exitCode()).as(ok.stderr()).isZero();
        JsonNode answer = Uid2Http.JSON.readTree(ok.stdout());
        assertThat(answer.get("status").asText()).isEqualTo("success");
        assertThat(answer.get("body").get("mapped").get(0).get("identifier").asText()).isEqualTo("user@example.com");

        CommandRun binary = CommandRun.run(RequestCommand::new, QUERY, server.url(BUCKETS), key, secret, "--binary");
        assertThat(binary.exitCode()).isZero();
        assertThat(Uid2Http.JSON.readTree(binary.stdout()).get("body")).hasSize(32);

        CommandRun refused = CommandRun.run(RequestCommand::new, QUERY, server.url(BUCKETS), "UID2-C-T-1-wrong.key", secret);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.out()).isEqualTo("{\"status\":\"unauthorized\"}");

        CommandRun bad = CommandRun.run(RequestCommand::new, "{}", server.url(BUCKETS), key, secret);
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.out()).isEqualTo("{\"message\":\"missing parameter since_timestamp\",\"status\":\"client_error\"}");
    }

    @Test
    void encryptPostDecryptPipelineAsInTheSeeds() throws Exception {
        JsonNode created = Uid2Http.JSON.readTree(idex("uid2", "client", "create", "--name", "pipe", "--roles", "MAPPER", "--json",
                "--data-dir", dataDir.toString()));
        server.refreshNow();
        String key = created.get("key").asText();
        String secret = created.get("secret").asText();

        CommandRun encrypted = CommandRun.run(EncryptCommand::new, "{\"since_timestamp\": \"2022-06-01T13:00:00\"}\n", secret);
        assertThat(encrypted.exitCode()).isZero();
        // curl -d @- sends the text as application/x-www-form-urlencoded.
        Uid2Http.Answer posted = http.post(BUCKETS, key, encrypted.stdout(), "application/x-www-form-urlencoded");
        assertThat(posted.status()).isEqualTo(200);
        CommandRun decrypted = CommandRun.run(DecryptCommand::new, posted.body(), secret);
        assertThat(decrypted.exitCode()).isZero();
        assertThat(Uid2Http.JSON.readTree(decrypted.stdout()).get("body")).hasSize(32);
    }
}
