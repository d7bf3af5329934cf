package idex.exchange.jobs.pull;

/** A call to a partner that got no usable answer: refused target, no connection, timeout, a cut-off answer. */
public final class PartnerCallFailed extends Exception {

    public PartnerCallFailed(String message) {
        super(message, null, false, false);
    }
}
