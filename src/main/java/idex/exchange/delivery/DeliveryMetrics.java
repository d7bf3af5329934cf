package idex.exchange.delivery;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * What delivery shows on `/metrics`: attempts by outcome and kind (`event`, or a job's partner call:
 * `segmentLookup`, `segmentFile`, `pullJob`, `pullFile`, shown from its first attempt), attempt latency by kind, and
 * (from {@link DeliveryBacklog}) the event queue per destination and the age of the oldest pending delivery.
 */
public final class DeliveryMetrics {

    private static final String ATTEMPTS = "Delivery attempts (requests to partners: event destinations, push"
            + " destinations, pull producers) by outcome and kind";

    private final MeterRegistry registry;
    private final Map<String, Meters> byKind = new ConcurrentHashMap<>();

    private record Meters(Counter delivered, Counter failed, Timer latency) {
    }

    public DeliveryMetrics(MeterRegistry registry) {
        this.registry = registry;
        meters("event"); // shown from the start, as before kinds were added
    }

    void attempted(Attempt attempt) {
        attempted("event", attempt.delivered(), attempt.durationMs());
    }

    /** One request to a partner of `kind`, successful or not, and how long it took. */
    public void attempted(String kind, boolean delivered, long durationMs) {
        Meters m = meters(kind);
        (delivered ? m.delivered() : m.failed()).increment();
        m.latency().record(Math.max(0, durationMs), TimeUnit.MILLISECONDS);
    }

    private Meters meters(String kind) {
        return byKind.computeIfAbsent(kind, k -> new Meters(
                Counter.builder("idex.delivery.attempts").tag("outcome", "delivered").tag("kind", k)
                        .description(ATTEMPTS).register(registry),
                Counter.builder("idex.delivery.attempts").tag("outcome", "failed").tag("kind", k)
                        .description(ATTEMPTS).register(registry),
                Timer.builder("idex.delivery.attempt.duration").tag("kind", k)
                        .description("Time from sending a delivery request to its answer or failure")
                        .publishPercentiles(0.5, 0.99).register(registry)));
    }
}
