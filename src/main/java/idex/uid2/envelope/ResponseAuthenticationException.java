package idex.uid2.envelope;

import java.io.IOException;

/**
 * A response's tag does not match: wrong client secret or corrupted data. An IOException because a stream reports
 * it, at its end, through whatever reads it (a JSON parser, a copy).
 */
public final class ResponseAuthenticationException extends IOException {
    public ResponseAuthenticationException() {
        super("Cannot decrypt response: authentication failed (wrong client secret or corrupted data)");
    }
}
