package idex.errors;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

/**
 * Domain code refusing a request, with the sentence that tells the caller what to fix. It says what kind of refusal
 * it is, not which HTTP status: the HTTP edge (ErrorAnswers) is the one place that turns it into an answer.
 */
public class Refusal extends RuntimeException {

    public enum Kind {
        /** The request is malformed or asks for something impossible. */
        INVALID,
        /** The caller's key may not do this. */
        FORBIDDEN,
        /** No such thing, or none the caller may see. */
        NOT_FOUND,
        /** The thing is not in a state that allows this (now). */
        CONFLICT
    }

    private final Kind kind;

    protected Refusal(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public static Refusal invalid(String message) {
        return new Refusal(Kind.INVALID, message);
    }

    public static Refusal forbidden(String message) {
        return new Refusal(Kind.FORBIDDEN, message);
    }

    public static Refusal notFound(String message) {
        return new Refusal(Kind.NOT_FOUND, message);
    }

    public static Refusal conflict(String message) {
        return new Refusal(Kind.CONFLICT, message);
    }

    public Kind kind() {
        return kind;
    }

    /** `{"message":"…"}`; a refusal that tells more (which event of a batch) adds its fields after the message. */
    public ObjectNode toJson() {
        return Json.object().put("message", getMessage());
    }
}
