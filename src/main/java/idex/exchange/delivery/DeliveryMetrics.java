package idex.exchange.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What delivery shows on `/metrics`: attempts by outcome and kind (`event`, or a job's partner call:
 * `segmentLookup`, `segmentFile`, `pullJob`, `pullFile`), attempt latency by kind, and (from
 * {@link DeliveryBacklog}) the queue per destination and the age of the oldest pending delivery.
 */
public final class DeliveryMetrics {

    private static final String ATTEMPTS = "Delivery attempts (requests to partners: event destinations, push"
            + " destinations, pull producers) by outcome and kind";

    private final MeterRegistry registry;
    /** The meters of each kind, made at its first attempt (a kind never used shows nothing). */
    private final Map<String, Meters> byKind = new ConcurrentHashMap<>();

    private record Meters(Counter delivered, Counter failed, Timer latency) {
    }

    public DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    void attempted(Attempt attempt) {
        attempted("event", attempt.delivered(), attempt.durationMs());
    }

    /** One request to a partner of `kind`, successful or not, and how long it took. */
    public void attempted(String kind, boolean delivered, long durationMs) {
        Meters m = byKind.computeIfAbsent(kind, k -> new Meters(
                Counter.builder("idex.delivery.attempts").tag("outcome", "delivered").tag("kind", k)
                        .description(ATTEMPTS).register(registry),
                Counter.builder("idex.delivery.attempts").tag("outcome", "failed").tag("kind", k)
                        .description(ATTEMPTS).register(registry),
                Timer.builder("idex.delivery.attempt.duration").tag("kind", k)
                        .description("Time from sending a delivery request to its answer or failure")
                        .publishPercentiles(0.5, 0.99).register(registry)));
        (delivered ? m.delivered() : m.failed()).increment();
        m.latency().record(Math.max(0, durationMs), TimeUnit.MILLISECONDS);
    }
}
