package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

/** Calls the exchange API of a {@link TestServer} over HTTP with one bearer key, as a user's client would. */
public final class ExchangeClient {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Function<String, String> url;
    private final String key;

    public ExchangeClient(TestServer server, String key) {
        this(server::url, key);
    }

    /** A client of a server this JVM did not start (e.g. a server process), at `baseUrl` (no trailing slash). */
    public ExchangeClient(String baseUrl, String key) {
        this(path -> baseUrl + path, key);
    }

    private ExchangeClient(Function<String, String> url, String key) {
        this.url = url;
        this.key = key;
    }

    public String key() {
        return key;
    }

    /** The same server with another key. */
    public ExchangeClient withKey(String otherKey) {
        return new ExchangeClient(url, otherKey);
    }

    /** POSTs a streamed body (an upload too big to hold, or one cut off on purpose). */
    public Answer upload(String path, java.util.function.Supplier<java.io.InputStream> body) {
        return send(HttpRequest.newBuilder(URI.create(url.apply(path)))
                .POST(HttpRequest.BodyPublishers.ofInputStream(body)).header("Content-Type", "text/csv"));
    }

    /** An answer: status, content type and body. */
    public record Answer(int status, String contentType, String body) {
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body, e);
            }
        }

        public String message() {
            return json().path("message").asText();
        }
    }

    public Answer get(String path) {
        return send("GET", path, null);
    }

    public Answer delete(String path) {
        return send("DELETE", path, null);
    }

    public Answer post(String path, String json) {
        return send("POST", path, json);
    }

    public Answer put(String path, String json) {
        return send("PUT", path, json);
    }

    /** POSTs raw bytes (an upload), optionally declared as gzip. */
    public Answer upload(String path, byte[] body, boolean gzip) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.apply(path)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "text/csv");
        if (gzip) {
            b.header("Content-Encoding", "gzip");
        }
        return send(b);
    }

    public Answer send(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url.apply(path)))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        Answer answer = send(b);
        OpenApiDocument.get().checkAccepted(method, URI.create(url.apply(path)).getRawPath(), answer.status(), json);
        return answer;
    }

    private Answer send(HttpRequest.Builder b) {
        if (key != null) {
            b.setHeader("Authorization", "Bearer " + key);
        }
        try {
            HttpRequest request = b.build();
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            // Every answer a test sees is one the OpenAPI document allows.
            OpenApiDocument.check(request, r);
            return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public static String q(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }
}
