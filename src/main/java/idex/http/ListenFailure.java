package idex.http;

import java.util.Locale;

/**
 * The server could not open its socket. The message names the host and port and the reason in a few words
 * ("cannot listen on 127.0.0.1:8080: address in use"), because the transport's own exception says neither where
 * nor, with the native transport, much about why.
 */
public final class ListenFailure extends RuntimeException {

    private ListenFailure(String message, Throwable cause) {
        super(message, cause);
    }

    public static ListenFailure of(String host, int port, Throwable failure) {
        return new ListenFailure("cannot listen on " + host + ":" + port + ": " + reason(failure), failure);
    }

    /** The innermost message, without the transport's "bind(..) failed: " prefix. */
    static String reason(Throwable failure) {
        Throwable t = failure;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int colon = message.lastIndexOf("failed: ");
        if (colon >= 0) {
            message = message.substring(colon + "failed: ".length());
        }
        message = message.strip();
        if (message.toLowerCase(Locale.ROOT).contains("address already in use")) {
            return "address in use";
        }
        return message.isEmpty() ? "bind failed" : lowerFirst(message);
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
