package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** Calls of the exchange API with one bearer key; a refusal becomes a {@link CommandFailure} with the server's reason. */
final class ExchangeApiClient {

    /** The most of an error body worth reading: a `{"message":…}` is a sentence. */
    private static final int ERROR_BODY_LIMIT = 64 * 1024;

    private final String base;
    private final String key;
    // HTTP/1.1: without it the client offers an h2c upgrade on plain http, which gains nothing here.
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private ExchangeApiClient(String base, String key) {
        this.base = base;
        this.key = key;
    }

    static ExchangeApiClient of(String url, String key) throws CommandFailure {
        if (key == null || key.isBlank()) {
            throw new CommandFailure(ExitCodes.BAD_INPUT, "No API key: give one with --key or the IDEX_KEY environment"
                    + " variable.");
        }
        String base = url == null ? "" : url.strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        try {
            URI uri = URI.create(base);
            if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                throw new IllegalArgumentException();
            }
        } catch (IllegalArgumentException e) {
            throw new CommandFailure(ExitCodes.BAD_INPUT, "--url must be the server's http(s) base URL, such as"
                    + " http://127.0.0.1:8080, not '" + url + "'.");
        }
        return new ExchangeApiClient(base, key.strip());
    }

    String url(String path) {
        return base + path;
    }

    /** A request to `path` carrying the key. */
    HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key);
    }

    /** Sends a request; an unreachable server or a broken exchange is a failure with exit code 3. */
    <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) throws CommandFailure {
        try {
            return http.send(request, body);
        } catch (ConnectException e) {
            throw new CommandFailure(ExitCodes.CONNECTION_FAILED, "Could not connect to " + base + ": is the server"
                    + " running there? Set its URL with --url or IDEX_URL.");
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.CONNECTION_FAILED, request.method() + " " + request.uri() + " failed: "
                    + (e.getMessage() != null ? e.getMessage() : e.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure(ExitCodes.CONNECTION_FAILED, "Interrupted.");
        }
    }

    /** A call without a body whose success answer is JSON. */
    JsonNode json(String method, String path) throws CommandFailure {
        return answer(method, path, request(path).method(method, HttpRequest.BodyPublishers.noBody()));
    }

    /** A call with a JSON body whose success answer is JSON. */
    JsonNode json(String method, String path, JsonNode body) throws CommandFailure {
        return answer(method, path, request(path).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8)));
    }

    private JsonNode answer(String method, String path, HttpRequest.Builder request) throws CommandFailure {
        HttpResponse<byte[]> r = send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() / 100 != 2) {
            throw refused(r.statusCode(), r.body());
        }
        try {
            return Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, method + " " + path + " answered "
                    + r.statusCode() + " with a body that is not JSON.");
        }
    }

    /** A refusal whose body is still a stream: reads what it says, then closes it. */
    static CommandFailure refused(int status, InputStream body) {
        try (InputStream in = body) {
            return refused(status, in.readNBytes(ERROR_BODY_LIMIT));
        } catch (IOException e) {
            return refused(status, new byte[0]);
        }
    }

    /** "HTTP 404: There is no job 7 in this account." — the server's own sentence when it sent one. */
    static CommandFailure refused(int status, byte[] body) {
        String reason;
        if (status == 401) {
            reason = "the server does not accept this key (missing, unknown or revoked): give a valid one with --key"
                    + " or IDEX_KEY.";
        } else {
            reason = messageOf(body);
        }
        return new CommandFailure(ExitCodes.NOT_A_SUCCESS_ANSWER, "HTTP " + status + ": " + reason);
    }

    private static String messageOf(byte[] body) {
        try {
            JsonNode message = Json.MAPPER.readTree(body).path("message");
            if (message.isTextual()) {
                return message.textValue();
            }
        } catch (IOException ignored) {
            // not JSON: shown as text below
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return text.isEmpty() ? "(no reason given)" : text.length() > 500 ? text.substring(0, 500) + "…" : text;
    }
}
