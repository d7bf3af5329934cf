package idex.uid2;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.store.StoreLocation;
import idex.support.TestVectors;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.IssuedClientKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** `POST /v2/identity/map` and `/v3/identity/map` on the reference test salts. */
class IdentityMapTest {

    private static final String V2 = "/v2/identity/map";
    private static final String V3 = "/v3/identity/map";
    private static final String USER_UID = "ICALImfE94kkoCsBn79kNqDk485MeuvZ3bHUdsmPcKIf";
    private static final String JANE_UID = "Kg0tfFnzQyU0GU1I0pCpDYMO/RdPaplrPnmdveS9mDk=";

    @TempDir
    static Path dataDir;
    static TestServer server;
    static Uid2Http http;
    static IssuedClientKey key;

    @BeforeAll
    static void start() {
        // Fixed time, so that "rotated less than 90 days ago" stays true for the snapshot's buckets.
        server = TestServer.startAt(java.time.Instant.parse("2026-11-23T00:00:00Z").toEpochMilli(), dataDir, 8);
        assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(),
                "--data-dir", dataDir.toString())).isZero();
        key = server.createMapperKey();
        http = new Uid2Http(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode call(String path, String json) {
        return http.call(path, key.key(), key.secret(), json);
    }

    private static void assertError(String path, String json, String message) {
        Uid2Http.Answer a = http.callRaw(path, key.key(), key.secret(), json);
        assertThat(a.status()).as(json).isEqualTo(400);
        assertThat(a.text()).as(json).isEqualTo("{\"message\":\"" + message + "\",\"status\":\"client_error\"}");
    }

    @Test
    void v2MapsEmailsAndExplainsTheRest() {
        JsonNode body = call(V2, "{\"email\":[\"user@example.com\",\"bad\",\"Jane.Doe+x@Gmail.com\",\"optout@example.com\"]}").get("body");
        assertThat(body.get("mapped").toString()).isEqualTo("[{\"identifier\":\"user@example.com\",\"advertising_id\":\""
                + USER_UID + "\",\"bucket_id\":\"bv3WM92zaA\"},{\"identifier\":\"Jane.Doe+x@Gmail.com\",\"advertising_id\":\""
                + JANE_UID + "\",\"bucket_id\":\"b1aZVGl7aB\"}]");
        assertThat(body.get("unmapped").toString()).isEqualTo("[{\"identifier\":\"bad\",\"reason\":\"invalid identifier\"},"
                + "{\"identifier\":\"optout@example.com\",\"reason\":\"optout\"}]");
    }

    @Test
    void v2OmitsUnmappedWhenEverythingMaps() {
        JsonNode body = call(V2, "{\"email\":[\"user@example.com\"]}").get("body");
        assertThat(body.has("unmapped")).isFalse();
    }

    @Test
    void hashesInBase64OrHexMapLikeTheEmail() throws Exception {
        byte[] hash = MessageDigest.getInstance("SHA-256").digest("user@example.com".getBytes(StandardCharsets.UTF_8));
        String b64 = Base64.getEncoder().encodeToString(hash);
        String hex = HexFormat.of().formatHex(hash);
        JsonNode body = call(V2, "{\"email_hash\":[\"" + b64 + "\",\"" + hex + "\",\"tooshort\"]}").get("body");
        assertThat(body.get("mapped").get(0).get("advertising_id").asText()).isEqualTo(USER_UID);
        assertThat(body.get("mapped").get(0).get("identifier").asText()).isEqualTo(b64);
        assertThat(body.get("mapped").get(1).get("advertising_id").asText()).isEqualTo(USER_UID);
        assertThat(body.get("unmapped").get(0).get("reason").asText()).isEqualTo("invalid identifier");
    }

    @Test
    void phones() {
        JsonNode body = call(V2, "{\"phone\":[\"+12345678901\",\"12345678901\",\"+123\",\"+00000000000\"]}").get("body");
        assertThat(body.get("mapped")).hasSize(1);
        assertThat(body.get("mapped").get(0).get("identifier").asText()).isEqualTo("+12345678901");
        assertThat(body.get("unmapped").toString()).isEqualTo("[{\"identifier\":\"12345678901\",\"reason\":\"invalid identifier\"},"
                + "{\"identifier\":\"+123\",\"reason\":\"invalid identifier\"},{\"identifier\":\"+00000000000\",\"reason\":\"optout\"}]");
    }

    @Test
    void v2ParameterErrors() {
        String missing = "Required Parameter Missing: exactly one of [email, email_hash, phone, phone_hash] must be specified";
        assertError(V2, "{}", missing);
        assertError(V2, "{\"email\":[]}", missing);
        assertError(V2, "{\"email\":[\"a@b.com\"],\"phone\":[\"+12345678901\"]}", missing);
        assertError(V2, "{\"email\":\"a@b.com\"}", missing);
        assertError(V2, "{\"email\":[null]}", "Incorrect request format");
        assertError(V2, "{\"email\":[42]}", "Incorrect request format");
    }

    @Test
    void v3AnswersEveryListIndexAligned() {
        JsonNode body = call(V3, "{\"email\":[\"bad\",\"user@example.com\",\"optout@example.com\"],\"phone\":[\"+12345678901\"]}")
                .get("body");
        assertThat(body.size()).isEqualTo(4);
        assertThat(body.get("email").get(0).toString()).isEqualTo("{\"e\":\"invalid identifier\"}");
        JsonNode user = body.get("email").get(1);
        assertThat(user.get("u").asText()).isEqualTo(USER_UID);
        assertThat(user.get("r").asLong()).isEqualTo(1806364800L);
        // Bucket 1000002 rotated from key 2000002 less than 90 days ago: the previous id is a v4 id under that key.
        byte[] previous = Base64.getDecoder().decode(user.get("p").asText());
        assertThat(previous).hasSize(33);
        assertThat(((previous[1] & 0xFF) << 16) | ((previous[2] & 0xFF) << 8) | (previous[3] & 0xFF)).isEqualTo(2000002);
        // Bucket 1000001 has no previous salt: p is null.
        JsonNode jane = call(V3, "{\"email\":[\"Jane.Doe+x@Gmail.com\"]}").get("body").get("email").get(0);
        assertThat(jane.toString()).isEqualTo("{\"u\":\"" + JANE_UID + "\",\"p\":null,\"r\":1812844800}");
        assertThat(body.get("email").get(2).toString()).isEqualTo("{\"e\":\"optout\"}");
        assertThat(body.get("email_hash")).isEmpty();
        assertThat(body.get("phone")).hasSize(1);
        assertThat(body.get("phone_hash")).isEmpty();
        java.util.List<String> names = new java.util.ArrayList<>();
        body.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("email", "email_hash", "phone", "phone_hash");
    }

    @Test
    void v3ParameterErrors() {
        assertError(V3, "{}", "Required Parameter Missing: one or more of [email, email_hash, phone, phone_hash] must be specified");
        assertError(V3, "{\"email\":[\"a@b.com\"],\"mail\":[]}", "Incorrect request format");
        assertError(V3, "{\"email\":[null]}", "Incorrect request format");
        assertError(V3, "{\"email\":\"a@b.com\"}", "Incorrect request format");
        assertError(V3, "{\"email\":[[\"a@b.com\"]]}", "Incorrect request format");
    }

    @Test
    void optOutTakesEffect() {
        String email = "leaving@example.net";
        assertThat(call(V2, "{\"email\":[\"" + email + "\"]}").get("body").get("mapped")).hasSize(1);
        assertThat(Main.run("uid2", "optout", "add", "Leaving@Example.net", "--data-dir", dataDir.toString())).isZero();
        server.refreshNow();
        JsonNode body = call(V2, "{\"email\":[\"" + email + "\"]}").get("body");
        assertThat(body.get("unmapped").toString()).isEqualTo("[{\"identifier\":\"" + email + "\",\"reason\":\"optout\"}]");
        assertThat(call(V3, "{\"email\":[\"" + email + "\"]}").get("body").get("email").get(0).toString())
                .isEqualTo("{\"e\":\"optout\"}");
    }

    @Test
    void euidScopeChangesKeysAndRawUidScope(@TempDir Path euidDir) {
        try (TestServer euid = TestServer.start(StoreLocation.of(null, euidDir), Uid2Scope.EUID, IdentityEnvironment.INTEG, 8)) {
            assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(),
                    "--data-dir", euidDir.toString())).isZero();
            IssuedClientKey k = euid.createMapperKey();
            assertThat(k.key()).startsWith("EUID-C-I-1-");
            euid.refreshNow();
            JsonNode mapped = new Uid2Http(euid).call(V2, k.key(), k.secret(), "{\"email\":[\"user@example.com\"]}")
                    .get("body").get("mapped").get(0);
            byte[] raw = Base64.getDecoder().decode(mapped.get("advertising_id").asText());
            assertThat(raw).hasSize(33);
            // meta = 0x20 | scope << 4 | type << 2 | env << 6: EUID (1), email (0), integ (1).
            assertThat(raw[0] & 0xFF).isEqualTo(0x20 | 0x10 | 0x40);
            assertThat(mapped.get("advertising_id").asText()).isNotEqualTo(USER_UID);
        }
    }
}
