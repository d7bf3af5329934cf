package idex.exchange.jobs.pull;

/** A pull that cannot succeed by asking again (the partner refused, failed, or sent unusable data): the job ends in ERROR. */
final class PullRefused extends Exception {

    PullRefused(String message) {
        super(message, null, false, false);
    }
}
