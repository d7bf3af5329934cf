package idex.exchange.delivery;

/**
 * `POST /v1/deliveries/{id}/retry` on a job's entry: the job side knows whether and how its delivery can be taken up
 * again (a push export that ended in ERROR, its files still kept), and answers 409 naming why not otherwise.
 */
@FunctionalInterface
public interface JobDeliveryRetry {

    /**
     * Queues the entry's job to call its partner again now.
     *
     * @throws idex.errors.Refusal 409 saying why the entry cannot be retried
     */
    void retry(JobDeliveryLog.Entry entry, long now);
}
