package idex.exchange.jobs.push;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * What push delivery shows on `/metrics`, beside event delivery's meters: calls to push destinations by outcome,
 * their latency, and the bytes of segment data files they accepted.
 */
final class PushMetrics {

    private final Counter delivered;
    private final Counter failed;
    private final Counter bytes;
    private final Timer latency;

    PushMetrics(MeterRegistry registry) {
        String what = "Calls to push destinations' segment APIs (segment lookups and files) by outcome";
        this.delivered = Counter.builder("idex.push.attempts").tag("outcome", "delivered").description(what)
                .register(registry);
        this.failed = Counter.builder("idex.push.attempts").tag("outcome", "failed").description(what)
                .register(registry);
        this.bytes = Counter.builder("idex.push.file.bytes").baseUnit("bytes")
                .description("Bytes of segment data files push destinations accepted").register(registry);
        this.latency = Timer.builder("idex.push.attempt.duration")
                .description("Time from starting a call to a push destination to its answer or failure")
                .publishPercentiles(0.5, 0.99).register(registry);
    }

    void attempted(boolean ok, long startedNanos) {
        (ok ? delivered : failed).increment();
        latency.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    void fileAccepted(long size) {
        bytes.increment(size);
    }
}
