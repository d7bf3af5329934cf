package idex.uid2;

import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.support.Uid2Http.Answer;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;
import idex.uid2.envelope.EnvelopeCodec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.EnumSet;

import static org.assertj.core.api.Assertions.assertThat;

/** The v2 envelope over HTTP: every error answer, in the contract's order, and both body encodings. */
class EnvelopeHttpTest {

    private static final String PATH = "/v2/identity/buckets";
    private static final String QUERY = "{\"since_timestamp\":\"2022-06-01T13:00:00\"}";

    @TempDir
    static Path dataDir;
    static TestServer server;
    static Uid2Http http;
    static IssuedClientKey mapper;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 64);
        mapper = server.createMapperKey();
        http = new Uid2Http(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static byte[] secret() {
        return Base64.getDecoder().decode(mapper.secret());
    }

    private static Answer postText(String body) {
        return http.post(PATH, mapper.key(), body.getBytes(StandardCharsets.US_ASCII), "application/x-www-form-urlencoded");
    }

    private static void assertClientError(Answer a, String message) {
        assertThat(a.status()).as(a.text()).isEqualTo(400);
        assertThat(a.text()).isEqualTo("{\"message\":\"" + message + "\",\"status\":\"client_error\"}");
    }

    @Test
    void aValidRequestIsAnsweredEncryptedWithItsNonce() {
        var body = http.call(PATH, mapper.key(), mapper.secret(), QUERY);
        assertThat(body.get("status").asText()).isEqualTo("success");
        assertThat(body.get("body").size()).isEqualTo(64);
    }

    @Test
    void keysAreCheckedBeforeTheBody() {
        Answer none = http.post(PATH, null, "garbage".getBytes(), "text/plain");
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.text()).isEqualTo("{\"status\":\"unauthorized\"}");

        Answer unknown = http.post(PATH, "UID2-C-T-1-abcdef.nothing", new byte[0], "text/plain");
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.text()).isEqualTo("{\"status\":\"unauthorized\"}");

        Answer forgedSuffix = http.post(PATH, mapper.keyId() + ".forged", new byte[0], "text/plain");
        assertThat(forgedSuffix.status()).isEqualTo(401);

        IssuedClientKey generator = server.createKey("generator only", EnumSet.of(Role.GENERATOR));
        Answer wrongRole = http.callRaw(PATH, generator.key(), generator.secret(), QUERY);
        assertThat(wrongRole.status()).isEqualTo(401);
        assertThat(wrongRole.text()).isEqualTo("{\"status\":\"unauthorized\"}");
    }

    @Test
    void aDisabledKeyIsRefused() {
        IssuedClientKey k = server.createMapperKey();
        assertThat(http.callRaw(PATH, k.key(), k.secret(), QUERY).status()).isEqualTo(200);
        server.keyStore().disable(k.keyId(), System.currentTimeMillis() + 1);
        server.refreshNow();
        assertThat(http.callRaw(PATH, k.key(), k.secret(), QUERY).status()).isEqualTo(401);
    }

    @Test
    void emptyBody() {
        assertClientError(postText(""), "Invalid body: Body is missing.");
    }

    @Test
    void notBase64() {
        assertClientError(postText("not*base64!"), "Invalid body: Body is not valid base64.");
        assertClientError(postText("AAAA AAAA"), "Invalid body: Body is not valid base64.");
        assertClientError(postText("AAAA-_AA"), "Invalid body: Body is not valid base64.");
    }

    @Test
    void unencryptedJson() {
        assertClientError(postText(QUERY),
                "Invalid body: The request body is unencrypted JSON. It must be an encrypted request envelope.");
    }

    @Test
    void tooShort() {
        assertClientError(postText(Base64.getEncoder().encodeToString(new byte[44])),
                "Invalid body: Body too short. Check encryption method.");
    }

    @Test
    void wrongVersion() {
        byte[] env = envelope(QUERY, System.currentTimeMillis());
        env[0] = 2;
        assertClientError(postText(Base64.getEncoder().encodeToString(env)),
                "Invalid body: Invalid request envelope format version: received 2, must be 1.");
    }

    @Test
    void wrongSecret() {
        byte[] other = new byte[32];
        other[0] = 1;
        byte[] env = EnvelopeCodec.encryptRequest(QUERY.getBytes(), other, System.currentTimeMillis(), new byte[8]);
        assertClientError(postText(Base64.getEncoder().encodeToString(env)), "Invalid body: Check encryption key (ClientSecret).");
    }

    @Test
    void tamperedCiphertext() {
        byte[] env = envelope(QUERY, System.currentTimeMillis());
        env[20] ^= 1;
        assertClientError(postText(Base64.getEncoder().encodeToString(env)), "Invalid body: Check encryption key (ClientSecret).");
    }

    @Test
    void staleOrFutureTimestamps() {
        long now = System.currentTimeMillis();
        for (long skew : new long[]{-3 * 60_000, 3 * 60_000, -60 * 60_000}) {
            assertClientError(postText(Base64.getEncoder().encodeToString(envelope(QUERY, now + skew))),
                    "Invalid timestamp: Request too old or client time drift.");
        }
        assertThat(postText(Base64.getEncoder().encodeToString(envelope(QUERY, now - 30_000))).status()).isEqualTo(200);
    }

    @Test
    void payloadMustBeAJsonObject() {
        for (String payload : new String[]{"", "[]", "\"text\"", "{not json", "42"}) {
            assertClientError(postText(Base64.getEncoder().encodeToString(envelope(payload, System.currentTimeMillis()))),
                    "Invalid payload in body: Data is not valid json string.");
        }
    }

    @Test
    void base64WithoutPaddingIsAccepted() {
        String b64 = Base64.getEncoder().withoutPadding().encodeToString(envelope(QUERY, System.currentTimeMillis()));
        assertThat(postText(b64).status()).isEqualTo(200);
    }

    @Test
    void binaryRequestsGetBinaryAnswers() {
        byte[] nonce = "nonce-01".getBytes();
        byte[] env = EnvelopeCodec.encryptRequest(QUERY.getBytes(), secret(), System.currentTimeMillis(), nonce);
        Answer a = http.post(PATH, mapper.key(), env, "application/octet-stream");
        assertThat(a.status()).isEqualTo(200);
        assertThat(a.contentType()).isEqualTo("application/octet-stream");
        String json = new String(EnvelopeCodec.decryptResponse(a.body(), secret(), nonce), StandardCharsets.UTF_8);
        assertThat(json).startsWith("{\"body\":[").endsWith("],\"status\":\"success\"}");

        // Base64 text sent as octet-stream is still understood, and answered as text.
        Answer text = http.post(PATH, mapper.key(), Base64.getEncoder().encode(
                EnvelopeCodec.encryptRequest(QUERY.getBytes(), secret(), System.currentTimeMillis(), nonce)), "application/octet-stream");
        assertThat(text.status()).isEqualTo(200);
        assertThat(text.contentType()).isEqualTo("text/plain");
        assertThat(EnvelopeCodec.decryptResponse(Base64.getDecoder().decode(text.body()), secret(), nonce)).isNotEmpty();
    }

    @Test
    void bodiesOverOneMebibyteAre413() {
        byte[] big = new byte[1024 * 1024 + 1];
        java.util.Arrays.fill(big, (byte) 'A');
        assertThat(http.post(PATH, mapper.key(), big, "text/plain").status()).isEqualTo(413);
        // Exactly 1 MiB is read (and then fails as an envelope, not as a size).
        assertThat(http.post(PATH, mapper.key(), java.util.Arrays.copyOf(big, 1024 * 1024), "text/plain").status()).isEqualTo(400);
        // The server still serves.
        assertThat(http.callRaw(PATH, mapper.key(), mapper.secret(), QUERY).status()).isEqualTo(200);
    }

    @Test
    void otherMethodsAre405WithAllow() {
        Answer a = http.get(PATH);
        assertThat(a.status()).isEqualTo(405);
        assertThat(a.allow()).isEqualTo("POST");
    }

    @Test
    void healthAndMetrics() {
        assertThat(http.get("/ops/healthcheck").text()).isEqualTo("OK");
        Answer metrics = http.get("/metrics");
        assertThat(metrics.status()).isEqualTo(200);
        assertThat(metrics.text()).contains("http_server_requests_seconds_count").contains("jvm_memory_used_bytes");
    }

    private static byte[] envelope(String json, long timestamp) {
        return EnvelopeCodec.encryptRequest(json.getBytes(StandardCharsets.UTF_8), secret(), timestamp,
                ByteBuffer.allocate(8).putLong(System.nanoTime()).array());
    }
}
