package idex.uid2;

import idex.store.OwnerOnly;
import idex.store.SecretsKey;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.ClientKey;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.EnumSet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Client secrets are sealed in the store under the data dir's key: a copy of the store alone reveals none. */
class ClientSecretsAtRestTest {

    private static final String PATH = "/v2/identity/buckets";
    private static final String QUERY = "{\"since_timestamp\":\"2022-06-01T13:00:00\"}";

    @TempDir
    Path dataDir;

    private static String storedSecret(TestServer server, String keyId) {
        return server.database().jdbi().withHandle(h -> h.createQuery(
                        "SELECT secret FROM uid2_client_key WHERE key_id = :id")
                .bind("id", keyId).mapTo(String.class).one());
    }

    private static void assertWorks(TestServer server, IssuedClientKey key) {
        var body = new Uid2Http(server).call(PATH, key.key(), key.secret(), QUERY);
        assertThat(body.get("status").asText()).isEqualTo("success");
    }

    private static ClientKey listed(TestServer server, String keyId) {
        return server.keyStore().list().stream().filter(k -> k.keyId().equals(keyId)).findFirst().orElseThrow();
    }

    @Test
    void theStoreHoldsOnlyTheSealedSecretAndTheKeyWorks() {
        try (TestServer server = TestServer.start(dataDir, 8)) {
            IssuedClientKey key = server.createMapperKey();

            String stored = storedSecret(server, key.keyId());
            byte[] secret = Base64.getDecoder().decode(key.secret());
            assertThat(stored).startsWith("v1:")
                    .isNotEqualTo(key.secret())
                    .doesNotContain(key.secret())
                    .doesNotContain(Base64.getUrlEncoder().withoutPadding().encodeToString(secret))
                    .doesNotContain(new String(secret, StandardCharsets.ISO_8859_1));
            // The bootstrap key is sealed as well.
            int plain = server.database().jdbi().withHandle(h -> h.createQuery(
                    "SELECT COUNT(*) FROM uid2_client_key WHERE secret NOT LIKE 'v1:%'").mapTo(Integer.class).one());
            assertThat(plain).isZero();
            assertThat(listed(server, key.keyId()).secret()).isEqualTo(secret);
            assertWorks(server, key);
        }
    }

    @Test
    void aPlainSecretFromAnOlderIdexIsReadableAndSealedAtTheNextStart() {
        try (TestServer server = TestServer.start(dataDir, 8)) {
            IssuedClientKey key = server.createMapperKey();
            // As an idex from before sealing stored it.
            server.database().jdbi().useHandle(h -> h.createUpdate(
                            "UPDATE uid2_client_key SET secret = :plain WHERE key_id = :id")
                    .bind("plain", key.secret()).bind("id", key.keyId()).execute());
            assertThat(listed(server, key.keyId()).secret()).isEqualTo(Base64.getDecoder().decode(key.secret()));

            server.restart();
            assertThat(storedSecret(server, key.keyId())).startsWith("v1:").doesNotContain(key.secret());
            assertWorks(server, key);
            assertThat(server.keyStore().sealPlainSecrets()).isZero();
        }
    }

    @Test
    void theKeyFileIsOwnerOnly() throws Exception {
        try (TestServer server = TestServer.start(dataDir, 8)) {
            Path file = dataDir.resolve(SecretsKey.FILE_NAME);
            if (System.getenv(SecretsKey.ENV) == null) {
                assertThat(file).exists();
            }
            if (Files.exists(file) && OwnerOnly.posix(file)) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                        .isEqualTo("rw-------");
            }
        }
    }

    @Test
    void aReplacedKeyFileStopsTheServerWithAClearMessage() throws Exception {
        IssuedClientKey key;
        try (TestServer server = TestServer.start(dataDir, 8)) {
            key = server.createMapperKey();
            SecretsKey wrong = SecretsKey.of(new byte[32], SecretsKey.ENV);
            ClientKeyStore withWrongKey = new ClientKeyStore(server.database().jdbi(), wrong);
            assertThatThrownBy(withWrongKey::list)
                    .isInstanceOf(SecretsKey.CannotOpen.class)
                    .hasMessageContaining("cannot be opened with the key in IDEX_SECRETS_KEY");
            // A node with another key adds no secret the others could not open.
            assertThatThrownBy(() -> withWrongKey.create("stray", EnumSet.of(Role.MAPPER),
                    1, DeploymentSettings.resolve(server.database().jdbi(), null, null, false), 1L))
                    .isInstanceOf(SecretsKey.CannotOpen.class);
        }
        if (System.getenv(SecretsKey.ENV) != null) {
            return; // the key is not the file here
        }
        Path file = dataDir.resolve(SecretsKey.FILE_NAME);
        String original = Files.readString(file);
        Files.delete(file);
        assertThatThrownBy(() -> TestServer.start(dataDir, 8))
                .isInstanceOf(SecretsKey.CannotOpen.class)
                .hasMessageContaining("cannot be opened with the key in " + file)
                .hasMessageContaining("was the data dir's secrets.key replaced");

        Files.delete(file); // the one the failed start made
        Files.writeString(file, original);
        try (TestServer server = TestServer.start(dataDir, 8)) {
            assertWorks(server, key);
        }
    }
}
