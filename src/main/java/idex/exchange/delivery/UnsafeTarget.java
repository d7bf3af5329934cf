package idex.exchange.delivery;

/**
 * A delivery URL that may not be called now. Its message names the rule and goes into the delivery log, so it holds
 * the host and the address, never the whole URL (a query string may carry the partner's token).
 */
public final class UnsafeTarget extends Exception {

    public UnsafeTarget(String message) {
        super(message, null, false, false); // an expected outcome, not a bug: no stack trace to fill
    }
}
