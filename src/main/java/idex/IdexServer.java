package idex;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.helper.CustomTask;
import idex.exchange.ExchangeApi;
import org.jdbi.v3.core.Jdbi;
import idex.exchange.delivery.DeliveryBacklog;
import idex.exchange.delivery.DeliveryEngine;
import idex.exchange.delivery.DeliveryLog;
import idex.exchange.delivery.JobDeliveryLog;
import idex.exchange.delivery.DeliveryMetrics;
import idex.exchange.delivery.DeliveryQueue;
import idex.exchange.delivery.DeliveryRoutes;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.delivery.EventOutbox;
import idex.exchange.delivery.MessageBodies;
import idex.exchange.delivery.SafeTargets;
import idex.exchange.delivery.WebhookSender;
import idex.exchange.endpoints.EndpointRoutes;
import idex.exchange.events.EventRoutes;
import idex.exchange.filters.IdentityFilterRoutes;
import idex.exchange.identity.IdentityRoutes;
import idex.exchange.jobs.store.JobFiles;
import idex.exchange.jobs.engine.JobProcessor;
import idex.exchange.jobs.pull.PartnerClient;
import idex.exchange.jobs.pull.PullProducers;
import idex.exchange.jobs.push.PushDelivery;
import idex.exchange.jobs.push.PushRetry;
import idex.exchange.jobs.translate.UidSnapshot;
import idex.exchange.jobs.http.JobRoutes;
import idex.exchange.jobs.http.JobUpload;
import idex.exchange.jobs.http.SegmentDataFiles;
import idex.exchange.jobs.schedule.OccurrenceJobs;
import idex.exchange.jobs.schedule.ScheduledJobRoutes;
import idex.exchange.jobs.schedule.ScheduledJobTask;
import idex.exchange.jobs.schedule.ScheduledJobTaskData;
import idex.exchange.jobs.schedule.ScheduledJobs;
import idex.exchange.segments.CatalogCheck;
import idex.exchange.jobs.pull.PartnerSegments;
import idex.exchange.jobs.pull.PulledCatalog;
import idex.exchange.segments.PartnerCatalog;
import idex.exchange.segments.SegmentCatalogRoutes;
import idex.exchange.segments.SegmentCatalogStore;
import idex.exchange.subscriptions.EventTypeRoutes;
import idex.exchange.subscriptions.SubscriptionRoutes;
import idex.files.FileIo;
import idex.http.ApiDocs;
import idex.http.ApiServer;
import idex.http.BodyBudget;
import idex.http.RouteInfo;
import idex.store.Database;
import idex.store.OwnerOnly;
import idex.uid2.DeploymentSettings;
import idex.uid2.Uid2Routes;
import idex.uid2.buckets.BucketsEndpoint;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;
import idex.uid2.envelope.CryptoWarmUp;
import idex.uid2.envelope.EncryptedEndpoint;
import idex.uid2.map.IdentityMapEndpoints;
import idex.uid2.salts.LiveSalts;
import idex.uid2.salts.SaltRotation;
import idex.uid2.salts.SaltRotationSchedule;
import idex.uid2.salts.SaltStore;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A running idex server, wired by hand; {@link #start} reads as its table of contents: stores, live state,
 * background work, features (each an {@link idex.http.Feature} mounted on the one {@link ApiServer}).
 */
public final class IdexServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IdexServer.class);
    /** Where a first start without a terminal leaves the bootstrap client key and secret, in the data dir. */
    public static final String BOOTSTRAP_FILE = "bootstrap-client.txt";
    /** This server's copy of the salt set, in the data dir. */
    static final String SALT_SET_COPY = "salt-set.copy";
    /** How often a server picks up changes made by admin commands or other nodes. */
    private static final long REFRESH_MS = 1000;
    /** Connections of the delivery engine (claims, records, message bodies), apart from the requests' pool. */
    private static final int DELIVERY_CONNECTIONS = 6;
    /** Fewer buckets are created in a moment: no progress lines. */
    static final int PROGRESS_FROM_BUCKETS = 50_000;

    private final Database db;
    private final Vertx vertx;
    private final ApiServer api;
    private final Scheduler scheduler;
    private final JobProcessor processor;
    private final ScheduledExecutorService refresher;
    private final int port;
    private final LiveState live;

    private final DeliveryEngine deliveries;
    private final DeliveryBacklog backlog;
    private final PullProducers pulls;

    private IdexServer(Database db, Vertx vertx, ApiServer api, Scheduler scheduler, JobProcessor processor, int port,
                       LiveState live, ScheduledExecutorService refresher, DeliveryEngine deliveries,
                       DeliveryBacklog backlog, PullProducers pulls) {
        this.pulls = pulls;
        this.deliveries = deliveries;
        this.backlog = backlog;
        this.live = live;
        this.refresher = refresher;
        this.processor = processor;
        this.db = db;
        this.vertx = vertx;
        this.api = api;
        this.scheduler = scheduler;
        this.port = port;
    }

    /**
     * Starts a server. `console` shows what a first start has to say; `consoleIsTerminal` says whether a person
     * reads it there (the bootstrap secret is printed only then; otherwise it goes to an owner-only file, since a
     * console that is not a terminal is a log file or a pipe).
     */
    public static IdexServer start(ServerConfig config, PrintStream console, boolean consoleIsTerminal) {
        long started = System.nanoTime();
        LongSupplier clock = config.clock();
        Database db = Database.open(config.store(), config.poolSize(), Database.Holder.SERVER);
        // What a failed start (a port in use…) has already started, stopped in reverse order before the store closes.
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            // Stores. Job files hold identifiers of people: owner-only, and refused if another account can write there.
            Path filesDir = OwnerOnly.directory(config.filesDir());
            DeploymentSettings deployment = DeploymentSettings.resolve(db.jdbi(), config.scope(), config.environment(), true);
            // The server keeps a copy of the salt set beside the store, for a start that reads a file, not 133 MB of rows.
            Stores stores = Stores.open(db, config.store().dataDir(), SALT_SET_COPY);
            sealPlainSecrets(stores.clientKeys());
            bootstrap(config, deployment, stores.salts(), stores.clientKeys(), console, consoleIsTerminal);

            // Live state, read by requests from memory.
            LiveState live = LiveState.load(stores);
            LiveSalts salts = live.salts();
            HeapCheck.warnIfShort(salts.current().count(), Runtime.getRuntime().maxMemory());
            PrometheusMeterRegistry metrics = metrics(salts);
            int eventLoops = Math.max(1, Runtime.getRuntime().availableProcessors());
            Vertx vertx = Vertx.vertx(new VertxOptions()
                    .setEventLoopPoolSize(eventLoops)
                    .setWorkerPoolSize(config.poolSize())
                    .setPreferNativeTransport(true)); // epoll on Linux, else the JDK's NIO
            undo.push(() -> vertx.close().await());
            BodyBudget bodies = new BodyBudget(config.bodyBudget());
            metrics.gauge("idex.http.body.budget.reserved.bytes", bodies, BodyBudget::reserved);

            // Background work: scheduled jobs' occurrences (on the node's one db-scheduler Scheduler), job processing.
            OccurrenceJobs occurrences = new OccurrenceJobs(stores.scheduledJobs(), stores.jobs(), clock);
            CustomTask<ScheduledJobTaskData> occurrenceTask = ScheduledJobTask.task(occurrences);
            Scheduler scheduler = scheduler(config, stores.saltRotation(), db, occurrenceTask);
            undo.push(scheduler::stop);
            ScheduledJobs scheduledJobs = new ScheduledJobs(stores.scheduledJobs(), occurrences, stores.jobs(), scheduler,
                    occurrenceTask, clock);
            JobFiles jobFiles = new JobFiles(filesDir, FileIo.forDirectory(filesDir, config.jobs().directIo()));
            DeliverySettings delivery = config.delivery();
            SafeTargets targets = new SafeTargets(delivery.allowPrivateNetworks());
            // Segment exports to push destinations are delivered by the job engine, signed like event deliveries.
            // Jobs' partner calls (push files, pulls) are in the delivery log and metrics beside event deliveries.
            JobDeliveryLog jobDeliveries = new JobDeliveryLog(db.jdbi());
            DeliveryMetrics deliveryMetrics = new DeliveryMetrics(metrics);
            PushDelivery push = new PushDelivery(vertx, db.jdbi(), stores.endpoints(), jobFiles, targets, delivery,
                    metrics, clock, jobDeliveries, deliveryMetrics);
            undo.push(push::close);
            JobProcessor processor = new JobProcessor(stores.jobs(), stores.endpoints(), stores.identities(),
                    stores.filterRules(), jobFiles, () -> UidSnapshot.current(deployment, salts, live.optOuts()),
                    deployment.scope(), config.jobs(), push, clock);
            undo.push(processor::close);
            jobFiles.removePartials();

            // Event delivery: accepted events write their deliveries (the outbox); the engine sends them.
            DeliveryLog deliveryLog = new DeliveryLog(db.jdbi(), jobDeliveries);
            // The engine's own connections: with every request connection busy, its claims would wait for them.
            // Its claims and records commit without waiting for the flush (see DeliveryQueue).
            Jdbi deliveryStore = db.separatePool("idex-delivery", DELIVERY_CONNECTIONS, false);
            DeliveryEngine deliveries = new DeliveryEngine(new DeliveryQueue(deliveryStore),
                    new MessageBodies(deliveryStore, stores.x1Ids()), stores.endpoints(),
                    new WebhookSender(vertx, targets, delivery, clock), delivery, deliveryMetrics, clock);
            undo.push(deliveries::close);
            DeliveryBacklog backlog = new DeliveryBacklog(db.jdbi(), deliveryLog, jobDeliveries,
                    jobId -> JobFiles.deleteTree(jobFiles.jobDir(jobId)), delivery, metrics, clock);
            undo.push(backlog::close);
            EventOutbox outbox = new EventOutbox(stores.endpoints(), deliveries::wake);
            // Pull producers: their jobs' data is fetched from their API, signed and checked as deliveries are.
            PartnerClient partners = new PartnerClient(vertx, targets, delivery.timeout(), clock);
            PullProducers pulls = new PullProducers(db.jdbi(), stores.jobs(), stores.endpoints(), jobFiles, partners,
                    config.pulls(), delivery.timeout(), Math.max(2, config.jobs().workers()), processor::wake, clock,
                    jobDeliveries, deliveryMetrics);
            undo.push(pulls::close);

            // Producers' segment catalogs: a pull producer's is fetched from its partner with the same client.
            SegmentCatalogStore segments = new SegmentCatalogStore(db.jdbi());
            PartnerCatalog pulledCatalogs = new PulledCatalog(new PartnerSegments(partners,
                    stores.endpoints().secrets()::signing, clock), segments, clock);

            // Features: every route the server serves, in the order they are matched.
            ExchangeApi exchange = new ExchangeApi(vertx, live.apiKeys(), bodies);
            ApiServer api = new ApiServer(vertx, metrics, config.accessLog())
                    .mount(new Uid2Routes(new EncryptedEndpoint(live.clientKeys(), clock, bodies),
                            new BucketsEndpoint(salts), new IdentityMapEndpoints(salts, live.optOuts(),
                            deployment.scope().scopeBit(), deployment.environment().envBits(), clock)))
                    .mount(new EndpointRoutes(exchange, stores.endpoints(), targets, clock))
                    .mount(new IdentityRoutes(exchange, stores.identities(), stores.x1Ids(), stores.endpoints()))
                    .mount(new EventRoutes(exchange, stores.endpoints(), stores.identities(), stores.x1Ids(), db.jdbi(),
                            outbox, clock))
                    .mount(new JobUpload(vertx, exchange, stores.jobs(), jobFiles, stores.endpoints(), clock, processor))
                    .mount(new JobRoutes(exchange, stores.jobs(), stores.endpoints(), jobFiles, deployment.scope(),
                            scheduledJobs, new CatalogCheck(segments), clock))
                    .mount(new SegmentDataFiles(vertx, exchange, stores.jobs(), jobFiles))
                    .mount(new ScheduledJobRoutes(exchange, scheduledJobs, stores.endpoints()))
                    .mount(new IdentityFilterRoutes(exchange, stores.filters(), stores.endpoints()))
                    .mount(new EventTypeRoutes(exchange, stores.eventTypes(), stores.endpoints(), clock))
                    .mount(new SubscriptionRoutes(exchange, stores.subscriptions(), stores.endpoints(), clock))
                    .mount(new DeliveryRoutes(exchange, deliveryLog, jobDeliveries, new PushRetry(db.jdbi(),
                            stores.endpoints(), jobFiles, jobDeliveries, processor::wake), stores.endpoints(),
                            deliveries, clock))
                    .mount(new SegmentCatalogRoutes(exchange, segments, stores.endpoints(), pulledCatalogs, clock))
                    .mount(new ApiDocs());

            // Background work that reads the store: refreshing live state, occurrences, processing; then crypto warm-up.
            ScheduledExecutorService refresher = refreshPeriodically(live);
            undo.push(() -> stop(refresher));
            scheduler.start();
            scheduledJobs.resume();
            int port = api.start(config.host(), config.port(), eventLoops);
            LOG.info("idex listening on http://{}:{} ({} {}, {} salt buckets, store {}, {} transport) in {} ms",
                    config.host(), port, deployment.scope(), deployment.environment().name().toLowerCase(),
                    salts.current().count(), config.store().display(),
                    vertx.isNativeTransportEnabled() ? "epoll" : "NIO", (System.nanoTime() - started) / 1_000_000);
            processor.start();
            pulls.start();
            deliveries.start();
            backlog.start();
            // Once listening: on two cores its JIT work would otherwise hold up the start it exists to shorten.
            CryptoWarmUp.startInBackground();
            return new IdexServer(db, vertx, api, scheduler, processor, port, live, refresher, deliveries, backlog, pulls);
        } catch (Throwable e) { // Vert.x's await() may rethrow a checked exception unchecked
            while (!undo.isEmpty()) {
                try {
                    undo.pop().run();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            db.close();
            throw e;
        }
    }

    private static void sealPlainSecrets(ClientKeyStore keyStore) {
        int sealed = keyStore.sealPlainSecrets();
        if (sealed > 0) {
            LOG.info("Sealed {} client secrets stored in plain text by an older idex", sealed);
        }
    }

    /** JVM and process metrics, and the salt bucket count, for `/metrics`. */
    private static PrometheusMeterRegistry metrics(LiveSalts salts) {
        PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmGcMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        new UptimeMetrics().bindTo(metrics);
        metrics.gauge("idex.uid2.salt.buckets", salts, s -> s.current().count());
        return metrics;
    }

    /**
     * The db-scheduler Scheduler of this node, on the server's clock (tests move it): the scheduled jobs' task always,
     * salt rotation when it is on. With several nodes on one database each execution runs on one of them.
     */
    private static Scheduler scheduler(ServerConfig config, SaltRotation rotation, Database db,
                                       CustomTask<ScheduledJobTaskData> occurrenceTask) {
        SchedulerBuilder builder = Scheduler.create(db.dataSource(), occurrenceTask);
        if (!ServerConfig.ROTATION_OFF.equalsIgnoreCase(config.rotationSchedule())) {
            builder.startTasks(SaltRotationSchedule.task(config.rotationSchedule(), rotation, config.clock()));
        }
        return builder
                .threads(2)
                .clock(() -> Instant.ofEpochMilli(config.clock().getAsLong()))
                .jdbcCustomization(new PostgreSqlJdbcCustomization(false, true))
                .pollingInterval(config.schedulerPolling())
                .build();
    }

    /**
     * First start: create the salt buckets if the store has none, and a MAPPER key if it has no client key at all
     * (shown once: afterwards a key exists), so that a new user can call the API at once. The secret is printed
     * on a terminal only; without one it is written to {@value #BOOTSTRAP_FILE} in the data dir, owner-only, so that
     * it never lands in a log that others (or a log shipper) read.
     */
    private static void bootstrap(ServerConfig config, DeploymentSettings deployment, SaltStore saltStore,
                                  ClientKeyStore keyStore, PrintStream console, boolean consoleIsTerminal) {
        long now = config.clock().getAsLong();
        if (saltStore.settings().isEmpty()) {
            int count = config.saltBuckets();
            console.println("First start: creating " + count + " salt buckets…");
            // A million buckets take a while: a line every tenth shows the start is progressing, not stuck.
            saltStore.createIfAbsent(count, now, created -> {
                if (count >= PROGRESS_FROM_BUCKETS) {
                    console.println("created " + created + " of " + count + " salt buckets");
                }
            });
        }
        if (!keyStore.list().isEmpty()) {
            return;
        }
        Path dataDir = config.store().dataDir();
        if (!consoleIsTerminal && dataDir == null) {
            console.println("No bootstrap client key: standard output is not a terminal and there is no data dir to"
                    + " keep one in; create one with `idex uid2 client create --name N --roles MAPPER`.");
            return;
        }
        IssuedClientKey key = keyStore.create("bootstrap", EnumSet.of(Role.MAPPER), 1, deployment, now);
        String manage = "Create more with `idex uid2 client create`; disable this one with `idex uid2 client disable "
                + key.keyId() + "`.";
        if (consoleIsTerminal) {
            console.println("Bootstrap client key (role MAPPER), shown only this once:");
            console.println("  key:    " + key.key());
            console.println("  secret: " + key.secret());
            console.println(manage);
            return;
        }
        Path file = OwnerOnly.directory(dataDir).resolve(BOOTSTRAP_FILE);
        try {
            Files.deleteIfExists(file); // a former store's key: it no longer works
            OwnerOnly.writeNewFile(file, ("key:    " + key.key() + "\nsecret: " + key.secret() + "\n")
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the bootstrap client key to " + file + ": " + e.getMessage(), e);
        }
        console.println("Bootstrap client key (role MAPPER) " + key.keyId() + " created; standard output is not a"
                + " terminal, so its key and secret are in " + file + " (readable by this user only): read it, then"
                + " delete it.");
        console.println(manage);
    }

    /**
     * On a thread of its own rather than a Vert.x timer and worker: a refresh in flight when Vert.x closes would
     * complete on a terminated event loop and print a stack trace on every normal stop. This thread is stopped,
     * and its refresh waited for, before Vert.x closes.
     */
    private static ScheduledExecutorService refreshPeriodically(LiveState live) {
        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idex-store-refresh");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(() -> {
            try {
                live.refresh();
            } catch (RuntimeException e) {
                LOG.warn("Refreshing from the store failed: {}", e.toString());
            }
        }, REFRESH_MS, REFRESH_MS, TimeUnit.MILLISECONDS);
        return refresher;
    }

    private static void stop(ScheduledExecutorService refresher) {
        refresher.shutdownNow();
        try {
            refresher.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Applies store changes now rather than at the next periodic refresh (tests, and operators via signals later). */
    public void refreshNow() {
        live.refresh();
    }

    public int port() {
        return port;
    }

    /** Every route this server serves (method and path), as its features mounted them. */
    public List<RouteInfo> routes() {
        return api.routes();
    }

    public Database database() {
        return db;
    }

    @Override
    public void close() {
        api.stop();
        deliveries.close();
        pulls.close();
        backlog.close();
        stop(refresher);
        live.close();
        scheduler.stop();
        processor.close();
        vertx.close().await();
        db.close();
        LOG.info("idex stopped");
    }
}
