package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import idex.uid2.envelope.EnvelopeCodec;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/** Sends UID2 v2 envelopes over HTTP the way a client would, and reads plain or encrypted answers. */
public final class Uid2Http {

    public static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** An HTTP answer: status, raw body, headers we look at. */
    public record Answer(int status, byte[] body, String contentType, String allow) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + text(), e);
            }
        }
    }

    private final java.util.function.Function<String, String> url;
    private final java.util.function.LongSupplier now;

    public Uid2Http(TestServer server) {
        this.url = server::url;
        this.now = server::now;
    }

    /** A client of a server this JVM did not start (a server process), at `baseUrl`, on the real clock. */
    public Uid2Http(String baseUrl) {
        this.url = path -> baseUrl + path;
        this.now = System::currentTimeMillis;
    }

    /** Encrypts `json` with `secret`, posts it as base64 text, and decrypts a 200 answer (checking the nonce). */
    public JsonNode call(String path, String key, String secret, String json) {
        byte[] nonce = new byte[8];
        RANDOM.nextBytes(nonce);
        byte[] secretBytes = Base64.getDecoder().decode(secret);
        byte[] envelope = EnvelopeCodec.encryptRequest(json.getBytes(StandardCharsets.UTF_8), secretBytes,
                now.getAsLong(), nonce);
        Answer a = post(path, key, Base64.getEncoder().encode(envelope), "text/plain");
        if (a.status() != 200) {
            throw new AssertionError("HTTP " + a.status() + ": " + a.text());
        }
        byte[] plain = EnvelopeCodec.decryptResponse(Base64.getDecoder().decode(a.body()), secretBytes, nonce);
        OpenApiDocument.get().checkDecrypted(path, "x-decrypted-request", json);
        OpenApiDocument.get().checkDecrypted(path, "x-decrypted-response", new String(plain, StandardCharsets.UTF_8));
        try {
            return JSON.readTree(plain);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Like `call` but returns the raw answer, for error cases. */
    public Answer callRaw(String path, String key, String secret, String json) {
        byte[] nonce = new byte[8];
        RANDOM.nextBytes(nonce);
        byte[] envelope = EnvelopeCodec.encryptRequest(json.getBytes(StandardCharsets.UTF_8),
                Base64.getDecoder().decode(secret), now.getAsLong(), nonce);
        return post(path, key, Base64.getEncoder().encode(envelope), "text/plain");
    }

    public Answer post(String path, String key, byte[] body, String contentType) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.apply(path)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return send(b.build());
    }

    public Answer get(String path) {
        return send(HttpRequest.newBuilder(URI.create(url.apply(path))).GET().build());
    }

    private static Answer send(HttpRequest request) {
        try {
            HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
            // Every answer a test sees is one the OpenAPI document allows (a 200's envelope is checked as base64).
            OpenApiDocument.check(request, r);
            return new Answer(r.statusCode(), r.body(), r.headers().firstValue("Content-Type").orElse(null),
                    r.headers().firstValue("Allow").orElse(null));
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
