package idex.uid2.envelope;

/** A request the client must fix: HTTP 400 `{"message":…,"status":"client_error"}`, never encrypted. */
public final class Uid2ClientError extends Exception {
    public Uid2ClientError(String message) {
        super(message, null, false, false);
    }
}
