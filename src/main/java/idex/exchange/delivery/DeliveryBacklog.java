package idex.exchange.delivery;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * The pending deliveries as metrics, counted every {@link #EVERY_SECONDS} on a thread of its own (a count over a
 * large queue takes a moment, which neither the engine nor a scrape should wait for): the queue depth per
 * destination, and the age of the oldest pending delivery. Also prunes the delivery log (event deliveries and jobs' partner calls) past its retention.
 */
public final class DeliveryBacklog implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryBacklog.class);
    static final int EVERY_SECONDS = 15;

    private final Jdbi jdbi;
    private final DeliveryLog log;
    private final JobDeliveryLog jobLog;
    private final LongConsumer keptFilesExpired;
    private final DeliverySettings settings;
    private final LongSupplier clock;
    private final MultiGauge depth;
    private final AtomicLong oldestAgeMs = new AtomicLong();
    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "idex-delivery-backlog");
        t.setDaemon(true);
        return t;
    });
    private long nextPrune;

    /**
     * @param keptFilesExpired deletes the files of a push export that ended in ERROR, kept for a retry until the
     *                         retention passed
     */
    public DeliveryBacklog(Jdbi jdbi, DeliveryLog log, JobDeliveryLog jobLog, LongConsumer keptFilesExpired,
                           DeliverySettings settings, MeterRegistry registry, LongSupplier clock) {
        this.jdbi = jdbi;
        this.log = log;
        this.jobLog = jobLog;
        this.keptFilesExpired = keptFilesExpired;
        this.settings = settings;
        this.clock = clock;
        this.depth = MultiGauge.builder("idex.delivery.pending")
                .description("Pending deliveries per event destination").register(registry);
        registry.gauge("idex.delivery.oldest.pending.age.seconds", oldestAgeMs, a -> a.get() / 1000.0);
    }

    public void start() {
        thread.scheduleWithFixedDelay(this::refresh, 1, EVERY_SECONDS, TimeUnit.SECONDS);
    }

    private void refresh() {
        try {
            long now = clock.getAsLong();
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            long[] oldest = {now};
            jdbi.useHandle(h -> h.createQuery("SELECT destination_endpoint_id, COUNT(*), MIN(created) FROM exchange_delivery"
                            + " WHERE status = 'PENDING' GROUP BY destination_endpoint_id")
                    .map((rs, ctx) -> new long[]{rs.getLong(1), rs.getLong(2), rs.getLong(3)})
                    .forEach(r -> {
                        rows.add(MultiGauge.Row.of(Tags.of("endpoint", Long.toString(r[0])), r[1]));
                        oldest[0] = Math.min(oldest[0], r[2]);
                    }));
            depth.register(rows, true);
            oldestAgeMs.set(now - oldest[0]);
            if (now >= nextPrune) {
                int pruned = log.prune(now - settings.retention().toMillis());
                jobLog.prune(now - settings.retention().toMillis()).forEach(keptFilesExpired::accept);
                if (pruned > 0) {
                    LOG.info("Pruned {} deliveries older than the delivery log's retention", pruned);
                }
                nextPrune = now + TimeUnit.HOURS.toMillis(1);
            }
        } catch (RuntimeException e) {
            LOG.warn("Counting pending deliveries failed: {}", e.toString());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
