package idex.exchange.delivery;

/**
 * How one attempt to send a message went: the HTTP status if an answer came (null otherwise), the error if it failed
 * (null when delivered), its duration, and the wait a 429 or 503 asked for in `Retry-After` (null if none).
 */
public record Attempt(Message message, long at, Integer httpStatus, String error, int durationMs, Long retryAfterMs) {

    public boolean delivered() {
        return error == null;
    }
}
