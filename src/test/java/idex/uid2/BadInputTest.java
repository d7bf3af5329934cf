package idex.uid2;

import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.envelope.EnvelopeCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Garbage of every kind at every endpoint: each gets a 4xx with a JSON message, nothing changes, the server keeps
 * serving. The random inputs come from a fixed seed, so a failure reproduces.
 */
class BadInputTest {

    private static final String[] PATHS = {"/v2/identity/buckets", "/v2/identity/map", "/v3/identity/map"};

    @TempDir
    Path dataDir;

    @Test
    void randomBodiesTruncatedEnvelopesAndOddJsonAreAllClientErrors() {
        try (TestServer server = TestServer.start(dataDir, 16)) {
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            String before = http.call(PATHS[0], key.key(), key.secret(), "{\"since_timestamp\":0}").toString();
            byte[] secret = Base64.getDecoder().decode(key.secret());
            Random random = new Random(20261123);

            for (int i = 0; i < 200; i++) {
                String path = PATHS[i % PATHS.length];
                byte[] body = new byte[random.nextInt(300)];
                random.nextBytes(body);
                assertClientError(http.post(path, key.key(), body, i % 2 == 0 ? "application/octet-stream" : "text/plain"));
            }
            byte[] good = EnvelopeCodec.encryptRequest("{\"email\":[\"a@b.com\"]}".getBytes(), secret, server.now(), new byte[8]);
            for (int cut = 0; cut < good.length; cut += 3) {
                byte[] truncated = Arrays.copyOf(good, cut);
                assertClientError(http.post(PATHS[1], key.key(), Base64.getEncoder().encode(truncated), "text/plain"));
                assertClientError(http.post(PATHS[1], key.key(), truncated, "application/octet-stream"));
            }
            String[] payloads = {"null", "{\"since_timestamp\":{}}", "{\"since_timestamp\":[1]}", "{\"email\":null}",
                    "{\"email\":[true]}", "{\"email\":[{}]}", "{\"email_hash\":[null]}", "{\"phone\":{\"a\":1}}",
                    "{\"email\":[\"a@b.com\"],\"email\":7}", "{\"since_timestamp\":99999999999999999999999}",
                    "{\"since_timestamp\":\"\\u0000\"}", "{\"email\":[\"\\ud800\"]}"};
            for (String payload : payloads) {
                for (String path : PATHS) {
                    Uid2Http.Answer a = http.callRaw(path, key.key(), key.secret(), payload);
                    assertThat(a.status()).as(path + " " + payload + " -> " + a.text()).isIn(200, 400);
                    if (a.status() == 400) {
                        assertThat(a.json().get("status").asText()).isEqualTo("client_error");
                    }
                }
            }
            assertThat(http.get("/ops/healthcheck").text()).isEqualTo("OK");
            assertThat(http.call(PATHS[0], key.key(), key.secret(), "{\"since_timestamp\":0}").toString()).isEqualTo(before);
        }
    }

    private static void assertClientError(Uid2Http.Answer a) {
        assertThat(a.status()).as(a.text()).isEqualTo(400);
        assertThat(new String(a.body(), StandardCharsets.UTF_8)).startsWith("{\"message\":\"").endsWith("\"status\":\"client_error\"}");
    }
}
