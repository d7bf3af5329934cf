package idex.exchange.delivery;

import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.SigningSecret;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Delivers what the outbox holds. One thread, of its own, keeps each destination's lane: it claims due messages
 * and hands them to senders — so a slow or dead destination only ever fills its own lane. A lane holds up to twice
 * the destination's concurrency: as many requests in flight as the concurrency allows ({@link SendWindow}) and as
 * many again claimed and ready, each starting as soon as a request ends; the engine claims again once half of them
 * are gone, so claims are big and the wire never waits for one. Senders build the bodies (store reads), check the
 * target and start the requests on a bounded pool; the requests themselves are non-blocking. A finished attempt is
 * recorded in the store by a second thread, in batches (the message stays leased until then, so no claim takes it
 * again meanwhile). The engine learns of new work from the events this node accepts (at once)
 * and from the store (every {@link #POLL_MS}: retries coming due, other nodes' events, what a restart left).
 */
public final class DeliveryEngine implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(DeliveryEngine.class);
    /** How often the store is asked which destinations have pending deliveries. */
    static final long POLL_MS = 500;
    /** How long past the timeout a claimed message stays leased to this node, should it die mid-attempt. */
    private static final long LEASE_MARGIN_MS = 5_000;
    private static final long NEVER = Long.MAX_VALUE;
    private static final int SENDER_THREADS = 32;
    /** How long a destination whose claim failed waits before the next try. */
    private static final long LANE_PAUSE_MS = 5_000;
    /** The most attempts recorded in one transaction. */
    private static final int RECORD_BATCH = 1_000;
    /**
     * The most finished attempts waiting for the recorder; beyond it no lane claims until the recorder catches up.
     * Attempts that fail at once (a refused connection) could otherwise pile up in the heap as fast as messages are
     * claimed — a million due for a dead destination would all be in memory.
     */
    private static final int MOST_UNRECORDED = 4 * RECORD_BATCH;

    /**
     * A destination's lane: messages claimed and not yet finished, when it may have due work (NEVER: none known), and
     * how many attempts in a row failed.
     */
    private static final class Lane {
        int claimed;
        long dueAt = NEVER;
        long pausedUntil;
        int failuresInARow;
    }

    /**
     * How long a lane whose last attempts all failed waits before claiming again. A destination that refuses
     * connections fails each attempt at once: without the pause its whole backlog would be tried thousands of times
     * a second (each attempt's bookkeeping held by the HTTP client until the timeout), for nothing.
     */
    private static final long FAILING_LANE_PAUSE_MS = 1_000;

    private final DeliveryQueue queue;
    private final MessageBodies bodies;
    private final EndpointStore endpoints;
    private final WebhookSender sender;
    private final DeliverySettings settings;
    private final DeliveryMetrics metrics;
    private final LongSupplier clock;
    private final ExecutorService senders;
    private final Map<Long, Lane> lanes = new HashMap<>();
    private final Map<Long, SendWindow> windows = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Attempt> finished = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Long> woken = new ConcurrentLinkedQueue<>();
    private final LinkedBlockingQueue<Attempt> unrecorded = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final Thread recorder;
    private volatile boolean running = true;

    public DeliveryEngine(DeliveryQueue queue, MessageBodies bodies, EndpointStore endpoints, WebhookSender sender,
                          DeliverySettings settings, DeliveryMetrics metrics, LongSupplier clock) {
        this.queue = queue;
        this.bodies = bodies;
        this.endpoints = endpoints;
        this.sender = sender;
        this.settings = settings;
        this.metrics = metrics;
        this.clock = clock;
        // Senders wait on store reads and DNS (a slow resolver holds a thread for seconds), never on the request
        // itself; a destination has at most its concurrency here, so a dead one cannot take every thread. Threads
        // come and go with the work (a ThreadPoolExecutor grows past its core size only when its queue is full).
        this.senders = new ThreadPoolExecutor(SENDER_THREADS, SENDER_THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "idex-delivery-send");
            t.setDaemon(true);
            return t;
        });
        ((ThreadPoolExecutor) senders).allowCoreThreadTimeOut(true);
        this.thread = new Thread(this::run, "idex-delivery");
        this.thread.setDaemon(true);
        this.recorder = new Thread(this::recordAttempts, "idex-delivery-record");
        this.recorder.setDaemon(true);
    }

    public void start() {
        thread.start();
        recorder.start();
    }

    /** New deliveries for these destinations were committed: look now rather than at the next poll. */
    public void wake(Set<Long> destinations) {
        woken.addAll(destinations);
        LockSupport.unpark(thread);
    }

    private void run() {
        long nextPoll = 0;
        while (running) {
            try {
                long now = clock.getAsLong();
                freeSlots(now);
                if (now >= nextPoll) {
                    for (DeliveryQueue.Pending p : queue.pending()) {
                        lane(p.destinationEndpointId()).dueAt = p.earliestDue();
                    }
                    nextPoll = now + POLL_MS;
                }
                for (Long d; (d = woken.poll()) != null; ) {
                    lane(d).dueAt = now;
                }
                long wakeAt = nextPoll;
                // With the recorder behind, no lane claims; the recorder wakes this thread when it has caught up.
                boolean recorderBehind = unrecorded.size() >= MOST_UNRECORDED;
                for (Map.Entry<Long, Lane> e : lanes.entrySet()) {
                    Lane lane = e.getValue();
                    if (recorderBehind) {
                        continue;
                    }
                    if (lane.dueAt <= now && lane.pausedUntil <= now && lane.claimed <= settings.concurrency()) {
                        try {
                            claim(e.getKey(), lane, now);
                        } catch (RuntimeException failed) {
                            // One destination's trouble (a registration that no longer reads…) waits alone.
                            LOG.warn("Delivery to endpoint {} paused after an error: {}", e.getKey(), failed.toString());
                            lane.pausedUntil = now + LANE_PAUSE_MS;
                        }
                    }
                    if (lane.claimed <= settings.concurrency()) {
                        wakeAt = Math.min(wakeAt, Math.max(lane.dueAt, lane.pausedUntil));
                    }
                }
                lanes.values().removeIf(l -> l.claimed == 0 && l.dueAt == NEVER);
                long waitMs = wakeAt - clock.getAsLong();
                if (waitMs > 0 && finished.isEmpty() && woken.isEmpty() && running) {
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.min(waitMs, POLL_MS)));
                }
            } catch (RuntimeException e) {
                // The store may be briefly unreachable: nothing is lost (leases expire), so wait and go on.
                LOG.warn("Event delivery paused after an error: {}", e.toString());
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    private Lane lane(long destination) {
        return lanes.computeIfAbsent(destination, d -> new Lane());
    }

    private void claim(long destination, Lane lane, long now) {
        Optional<Endpoint> endpoint = endpoints.findAnyAccount(destination);
        if (endpoint.isEmpty() || !endpoint.get().receivesEvents()) {
            lane.dueAt = NEVER; // paused while it is turned off; the poll looks again
            return;
        }
        int wanted = 2 * settings.concurrency() - lane.claimed;
        // A ready message may wait for the requests in flight, each at most the timeout, before its own.
        List<Message> claimed = queue.claim(destination, wanted, endpoint.get().registration().eventBatchSize(), now,
                now + 2 * settings.timeout().toMillis() + LEASE_MARGIN_MS);
        lane.claimed += claimed.size();
        lane.dueAt = claimed.size() < wanted ? NEVER : now;
        if (!claimed.isEmpty()) {
            senders.execute(() -> send(claimed, endpoint.get()));
        }
    }

    /** Builds the bodies of messages claimed together (three store reads for all), then sends each. */
    private void send(List<Message> messages, Endpoint destination) {
        Map<Long, byte[]> bodies;
        List<SigningSecret> secrets;
        try {
            long now = clock.getAsLong();
            bodies = this.bodies.bodies(messages, destination.registration().eventBatchSize() > 1);
            secrets = endpoints.secrets().signing(destination.endpointId(), now);
        } catch (RuntimeException e) {
            messages.forEach(m -> finished(new Attempt(m, clock.getAsLong(), null, "not sent: " + e, 0, null)));
            return;
        }
        SendWindow window = windows.computeIfAbsent(destination.endpointId(),
                d -> new SendWindow(settings.concurrency(), senders));
        String url = destination.registration().eventDestinationUrl();
        for (Message m : messages) {
            window.submit(() -> {
                try {
                    sender.send(m, url, bodies.get(m.messageId()), secrets, attempt -> {
                        window.release();
                        finished(attempt);
                    });
                } catch (RuntimeException e) {
                    window.release();
                    finished(new Attempt(m, clock.getAsLong(), null, "not sent: " + e, 0, null));
                }
            });
        }
    }

    private void finished(Attempt attempt) {
        finished.add(attempt);
        LockSupport.unpark(thread);
    }

    /** Frees the lane slots of finished attempts and passes the attempts on to be recorded. */
    private void freeSlots(long now) {
        for (Attempt a; (a = finished.poll()) != null; ) {
            Lane lane = lane(a.message().destinationEndpointId());
            lane.claimed--;
            lane.dueAt = Math.min(lane.dueAt, now); // more may be due
            lane.failuresInARow = a.delivered() ? 0 : lane.failuresInARow + 1;
            if (lane.failuresInARow >= 2 * settings.concurrency()) {
                lane.pausedUntil = Math.max(lane.pausedUntil, now + FAILING_LANE_PAUSE_MS);
            }
            metrics.attempted(a);
            unrecorded.add(a);
        }
    }

    /**
     * The recorder thread: records finished attempts in batches, until the engine is closed and every attempt
     * handed to it is recorded. Should the store fail, the batch is tried again; attempts not recorded by a node
     * that dies are sent again when their lease ends (at least once, with the same webhook-id).
     */
    private void recordAttempts() {
        List<Attempt> batch = new ArrayList<>();
        while (running || !unrecorded.isEmpty() || !batch.isEmpty()) {
            try {
                if (batch.isEmpty()) {
                    Attempt first = unrecorded.poll(POLL_MS, TimeUnit.MILLISECONDS);
                    if (first == null) {
                        continue;
                    }
                    batch.add(first);
                    unrecorded.drainTo(batch, RECORD_BATCH - 1);
                }
                record(batch);
                batch.clear();
                LockSupport.unpark(thread); // lanes held back while the recorder was behind may claim again
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warn("Recording {} delivery attempts failed, trying again: {}", batch.size(), e.toString());
                LockSupport.parkNanos(TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    private void record(List<Attempt> attempts) {
        DeliveryQueue.Recorded recorded = queue.record(attempts, settings.retrySchedule(), settings.disableAfter());
        long now = clock.getAsLong();
        for (long destination : recorded.failingTooLong()) {
            endpoints.findAnyAccount(destination).ifPresent(e -> {
                String reason = "every delivery attempt failed for " + human(settings.disableAfter())
                        + "; enable endpointTypes.event.destination again (PUT /v1/endpoint) to resume";
                endpoints.turnOffEventDestination(e, reason, now);
                LOG.warn("Event destination {} turned off: {}", destination, reason);
            });
        }
    }

    private static String human(Duration d) {
        return d.toDays() > 0 && d.toHours() % 24 == 0 ? d.toDays() + " days" : d.toSeconds() + " s";
    }

    /**
     * Stops claiming and records the attempts that have ended; attempts still in flight expire with their lease
     * (their messages are sent again).
     */
    @Override
    public void close() {
        running = false;
        LockSupport.unpark(thread);
        try {
            thread.join(10_000);
            for (Attempt a; (a = finished.poll()) != null; ) {
                unrecorded.add(a);
            }
            recorder.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        senders.shutdownNow();
        sender.close();
    }
}
