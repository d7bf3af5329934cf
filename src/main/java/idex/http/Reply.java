package idex.http;

import idex.json.Json;

/** A whole answer built off the event loop: status, content type and body text. */
public record Reply(int status, String contentType, String body) {

    public static Reply json(int status, Object value) {
        return new Reply(status, "application/json", Json.write(value));
    }

    public static Reply json(Object value) {
        return json(200, value);
    }

    public static Reply text(String body) {
        return new Reply(200, "text/plain; charset=utf-8", body);
    }
}
