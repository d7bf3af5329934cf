package idex.exchange.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * What delivery shows on `/metrics`: attempts by outcome, attempt latency, and (from {@link DeliveryBacklog}) the
 * queue per destination and the age of the oldest pending delivery.
 */
public final class DeliveryMetrics {

    private final Counter delivered;
    private final Counter failed;
    private final Timer latency;

    public DeliveryMetrics(MeterRegistry registry) {
        this.delivered = Counter.builder("idex.delivery.attempts").tag("outcome", "delivered")
                .description("Delivery attempts (requests to event destinations) by outcome").register(registry);
        this.failed = Counter.builder("idex.delivery.attempts").tag("outcome", "failed")
                .description("Delivery attempts (requests to event destinations) by outcome").register(registry);
        this.latency = Timer.builder("idex.delivery.attempt.duration")
                .description("Time from sending a delivery request to its answer or failure")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    void attempted(Attempt attempt) {
        (attempt.delivered() ? delivered : failed).increment();
        latency.record(attempt.durationMs(), TimeUnit.MILLISECONDS);
    }
}
