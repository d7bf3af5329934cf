package idex.uid2.envelope;

/**
 * A request envelope the client got wrong. The message is client-facing, verbatim: the server answers HTTP 400
 * {@code {"message":<getMessage()>,"status":"client_error"}}.
 */
public final class EnvelopeException extends Exception {
    public EnvelopeException(String clientMessage) {
        // No stack trace: these are expected, client-caused and possibly frequent (bad or hostile clients).
        super(clientMessage, null, false, false);
    }
}
