package idex;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerBuilder;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.helper.CustomTask;
import idex.exchange.ExchangeApi;
import idex.exchange.accounts.ApiKeyStore;
import idex.exchange.accounts.ApiKeys;
import idex.exchange.endpoints.EndpointRoutes;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.events.EventRoutes;
import idex.exchange.filters.IdentityFilterRoutes;
import idex.exchange.filters.IdentityFilterStore;
import idex.exchange.identity.IdentityRoutes;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.X1Ids;
import idex.exchange.jobs.JobFiles;
import idex.exchange.jobs.JobProcessor;
import idex.exchange.jobs.translate.UidSnapshot;
import idex.exchange.filters.IdentityFilterRules;
import idex.exchange.jobs.JobRoutes;
import idex.exchange.jobs.JobUpload;
import idex.exchange.jobs.JobStore;
import idex.exchange.jobs.SegmentDataFiles;
import idex.exchange.jobs.schedule.OccurrenceJobs;
import idex.exchange.jobs.schedule.ScheduledJobRoutes;
import idex.exchange.jobs.schedule.ScheduledJobStore;
import idex.exchange.jobs.schedule.ScheduledJobTask;
import idex.exchange.jobs.schedule.ScheduledJobTaskData;
import idex.exchange.jobs.schedule.ScheduledJobs;
import idex.files.FileIo;
import idex.http.ApiServer;
import idex.http.BodyBudget;
import idex.store.Database;
import idex.store.OwnerOnly;
import idex.store.SecretsKey;
import idex.uid2.DeploymentSettings;
import idex.uid2.Uid2Routes;
import idex.uid2.buckets.BucketsEndpoint;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.clients.ClientKeys;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;
import idex.uid2.envelope.CryptoWarmUp;
import idex.uid2.envelope.EncryptedEndpoint;
import idex.uid2.map.IdentityMapEndpoints;
import idex.uid2.map.LiveOptOuts;
import idex.uid2.map.OptOutStore;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** A running idex server, wired by hand: store, in-memory state, HTTP routes, background tasks. */
public final class IdexServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IdexServer.class);
    /** Where a first start without a terminal leaves the bootstrap client key and secret, in the data dir. */
    public static final String BOOTSTRAP_FILE = "bootstrap-client.txt";
    /** This server's copy of the salt set, in the data dir. */
    static final String SALT_SET_COPY = "salt-set.copy";
    /** How often a server picks up changes made by admin commands or other nodes. */
    private static final long REFRESH_MS = 1000;
    /** Fewer buckets are created in a moment: no progress lines. */
    static final int PROGRESS_FROM_BUCKETS = 50_000;

    private final Database db;
    private final Vertx vertx;
    private final ApiServer api;
    private final Scheduler scheduler;
    private final JobProcessor processor;
    private final ScheduledExecutorService refresher;
    private final int port;

    private final StoreChanges changes;

    private IdexServer(Database db, Vertx vertx, ApiServer api, Scheduler scheduler, JobProcessor processor, int port,
                       StoreChanges changes, ScheduledExecutorService refresher) {
        this.changes = changes;
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
        Database db = Database.open(config.store(), config.poolSize(), Database.Holder.SERVER);
        // What a failed start (a port in use…) has already started, stopped in reverse order before the store closes.
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            // Job files hold identifiers of people: owner-only, and refused if another account can write the directory.
            Path filesDir = OwnerOnly.directory(config.filesDir());
            DeploymentSettings deployment = DeploymentSettings.resolve(db.jdbi(), config.scope(), config.environment(), true);
            // The server keeps a copy of the salt set beside the store, for a start that reads a file, not 133 MB of rows.
            SaltStore saltStore = new SaltStore(db.jdbi(), config.store().dataDir().resolve(SALT_SET_COPY));
            ClientKeyStore keyStore = new ClientKeyStore(db.jdbi(), SecretsKey.load(config.store().dataDir()));
            int sealed = keyStore.sealPlainSecrets();
            if (sealed > 0) {
                LOG.info("Sealed {} client secrets stored in plain text by an older idex", sealed);
            }
            bootstrap(config, deployment, saltStore, keyStore, console, consoleIsTerminal);

            LiveSalts salts = new LiveSalts(saltStore);
            HeapCheck.warnIfShort(salts.current().count(), Runtime.getRuntime().maxMemory());
            OptOutStore optOutStore = new OptOutStore(db.jdbi());
            LiveOptOuts optOuts = new LiveOptOuts(optOutStore, salts.current());
            ClientKeys keys = new ClientKeys();
            keys.replace(keyStore.list());
            ApiKeyStore apiKeyStore = new ApiKeyStore(db.jdbi());
            ApiKeys apiKeys = new ApiKeys();
            apiKeys.replace(apiKeyStore.list());

            PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            new JvmMemoryMetrics().bindTo(metrics);
            new JvmGcMetrics().bindTo(metrics);
            new JvmThreadMetrics().bindTo(metrics);
            new ProcessorMetrics().bindTo(metrics);
            new UptimeMetrics().bindTo(metrics);
            metrics.gauge("idex.uid2.salt.buckets", salts, s -> s.current().count());

            int eventLoops = Math.max(1, Runtime.getRuntime().availableProcessors());
            Vertx vertx = Vertx.vertx(new VertxOptions()
                    .setEventLoopPoolSize(eventLoops)
                    .setWorkerPoolSize(config.poolSize())
                    .setPreferNativeTransport(true)); // epoll on Linux, else the JDK's NIO
            undo.push(() -> vertx.close().await());
            BodyBudget bodies = new BodyBudget(config.bodyBudget());
            metrics.gauge("idex.http.body.budget.reserved.bytes", bodies, BodyBudget::reserved);
            EncryptedEndpoint envelope = new EncryptedEndpoint(keys, config.clock(), bodies);
            ExchangeApi exchange = new ExchangeApi(vertx, apiKeys, bodies);
            EndpointStore endpoints = new EndpointStore(db.jdbi());
            IdentityStore identities = new IdentityStore(db.jdbi());
            X1Ids x1Ids = X1Ids.of(db.jdbi());
            JobStore jobStore = new JobStore(db.jdbi());
            // Scheduled jobs: their occurrences fire from the task on the server's one db-scheduler Scheduler.
            ScheduledJobStore scheduledJobStore = new ScheduledJobStore(db.jdbi());
            OccurrenceJobs occurrences = new OccurrenceJobs(scheduledJobStore, jobStore, config.clock());
            CustomTask<ScheduledJobTaskData> occurrenceTask = ScheduledJobTask.task(occurrences);
            Scheduler scheduler = scheduler(config, db, occurrenceTask);
            undo.push(scheduler::stop);
            ScheduledJobs scheduledJobs = new ScheduledJobs(scheduledJobStore, occurrences, jobStore, scheduler,
                    occurrenceTask, config.clock());
            JobFiles jobFiles = new JobFiles(filesDir, FileIo.forDirectory(filesDir, config.jobs().directIo()));
            JobProcessor processor = new JobProcessor(jobStore, endpoints, identities,
                    new IdentityFilterRules(db.jdbi()), jobFiles, () -> UidSnapshot.current(deployment, salts, optOuts),
                    deployment.scope(), config.jobs(), config.clock());
            undo.push(processor::close);
            jobFiles.removePartials();
            JobRoutes jobRoutes = new JobRoutes(jobStore, endpoints, jobFiles, deployment.scope(), scheduledJobs,
                    config.clock());
            ApiServer api = new ApiServer(vertx, metrics, config.accessLog())
                    .mount(router -> Uid2Routes.mount(router, envelope, new BucketsEndpoint(salts),
                            new IdentityMapEndpoints(salts, optOuts, deployment.scope().scopeBit(),
                                    deployment.environment().envBits(), config.clock())))
                    .mount(router -> EndpointRoutes.mount(router, exchange, endpoints, config.clock()))
                    .mount(router -> new IdentityRoutes(identities, x1Ids, endpoints).mount(router, exchange))
                    .mount(router -> new EventRoutes(endpoints, identities, x1Ids, config.clock()).mount(router, exchange))
                    .mount(router -> jobRoutes.mount(router, exchange,
                            new JobUpload(vertx, exchange, jobRoutes, jobStore, jobFiles, endpoints, config.clock(),
                                    processor)))
                    .mount(router -> new SegmentDataFiles(vertx, exchange, jobRoutes, jobStore, jobFiles).mount(router))
                    .mount(router -> new ScheduledJobRoutes(scheduledJobs, endpoints).mount(router, exchange))
                    .mount(router -> new IdentityFilterRoutes(new IdentityFilterStore(db.jdbi()), endpoints)
                            .mount(router, exchange));
            StoreChanges changes = new StoreChanges(keyStore, keys, apiKeyStore, apiKeys, salts, optOuts);
            ScheduledExecutorService refresher = refreshPeriodically(changes);
            undo.push(() -> stop(refresher));

            scheduler.start();
            scheduledJobs.resume();
            int port = api.start(config.host(), config.port(), eventLoops);
            LOG.info("idex listening on http://{}:{} ({} {}, {} salt buckets, store {}, {} transport) in {} ms",
                    config.host(), port, deployment.scope(), deployment.environment().name().toLowerCase(),
                    salts.current().count(), config.store().display(),
                    vertx.isNativeTransportEnabled() ? "epoll" : "NIO", (System.nanoTime() - started) / 1_000_000);
            processor.start();
            // Once listening: on two cores its JIT work would otherwise hold up the start it exists to shorten.
            CryptoWarmUp.startInBackground();
            return new IdexServer(db, vertx, api, scheduler, processor, port, changes, refresher);
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

    /**
     * The db-scheduler Scheduler of this node, on the server's clock (tests move it): the scheduled jobs' task always,
     * salt rotation when it is on. With several nodes on one database each execution runs on one of them.
     */
    private static Scheduler scheduler(ServerConfig config, Database db, CustomTask<ScheduledJobTaskData> occurrenceTask) {
        SchedulerBuilder builder = Scheduler.create(db.dataSource(), occurrenceTask);
        if (!ServerConfig.ROTATION_OFF.equalsIgnoreCase(config.rotationSchedule())) {
            builder.startTasks(SaltRotationSchedule.task(config.rotationSchedule(), new SaltRotation(db.jdbi()), config.clock()));
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

    /** Picks up what admin commands and other nodes changed in the store. */
    private static final class StoreChanges {
        private final ClientKeyStore keyStore;
        private final ClientKeys keys;
        private final LiveSalts salts;
        private final LiveOptOuts optOuts;
        private final ApiKeyStore apiKeyStore;
        private final ApiKeys apiKeys;
        private String keyVersion;
        private String apiKeyVersion;

        StoreChanges(ClientKeyStore keyStore, ClientKeys keys, ApiKeyStore apiKeyStore, ApiKeys apiKeys, LiveSalts salts,
                     LiveOptOuts optOuts) {
            this.keyStore = keyStore;
            this.keys = keys;
            this.apiKeyStore = apiKeyStore;
            this.apiKeys = apiKeys;
            this.apiKeyVersion = apiKeyStore.version();
            this.salts = salts;
            this.optOuts = optOuts;
            this.keyVersion = keyStore.version();
        }

        /** Stops what keeps the store up to date in the background (the salt snapshot writer). */
        void close() {
            salts.close();
        }

        synchronized void apply() {
            String v = keyStore.version();
            if (!v.equals(keyVersion)) {
                keys.replace(keyStore.list());
                keyVersion = v;
            }
            String a = apiKeyStore.version();
            if (!a.equals(apiKeyVersion)) {
                apiKeys.replace(apiKeyStore.list());
                apiKeyVersion = a;
            }
            salts.refresh();
            optOuts.refresh(salts.current());
        }
    }

    /**
     * On a thread of its own rather than a Vert.x timer and worker: a refresh in flight when Vert.x closes would
     * complete on a terminated event loop and print a stack trace on every normal stop. This thread is stopped,
     * and its refresh waited for, before Vert.x closes.
     */
    private static ScheduledExecutorService refreshPeriodically(StoreChanges changes) {
        ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "idex-store-refresh");
            t.setDaemon(true);
            return t;
        });
        refresher.scheduleWithFixedDelay(() -> {
            try {
                changes.apply();
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
        changes.apply();
    }

    public int port() {
        return port;
    }

    public Database database() {
        return db;
    }

    @Override
    public void close() {
        api.stop();
        stop(refresher);
        changes.close();
        scheduler.stop();
        processor.close();
        vertx.close().await();
        db.close();
        LOG.info("idex stopped");
    }
}
