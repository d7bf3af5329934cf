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

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicBoolean;

/** A running idex server, wired by hand: store, in-memory state, HTTP routes, background tasks. */
public final class IdexServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(IdexServer.class);
    /** How often a server picks up changes made by admin commands or other nodes. */
    private static final long REFRESH_MS = 1000;

    private final Database db;
    private final Vertx vertx;
    private final ApiServer api;
    private final Scheduler scheduler;
    private final JobProcessor processor;
    private final int port;

    private final StoreChanges changes;

    private IdexServer(Database db, Vertx vertx, ApiServer api, Scheduler scheduler, JobProcessor processor, int port,
                       StoreChanges changes) {
        this.changes = changes;
        this.processor = processor;
        this.db = db;
        this.vertx = vertx;
        this.api = api;
        this.scheduler = scheduler;
        this.port = port;
    }

    public static IdexServer start(ServerConfig config, PrintStream console) {
        long started = System.nanoTime();
        Database db = Database.open(config.store(), config.poolSize(), Database.Holder.SERVER);
        try {
            // Job files hold identifiers of people: owner-only, and refused if another account can write the directory.
            Path filesDir = OwnerOnly.directory(config.filesDir());
            DeploymentSettings deployment = DeploymentSettings.resolve(db.jdbi(), config.scope(), config.environment(), true);
            SaltStore saltStore = new SaltStore(db.jdbi());
            ClientKeyStore keyStore = new ClientKeyStore(db.jdbi());
            bootstrap(config, deployment, saltStore, keyStore, console);

            LiveSalts salts = new LiveSalts(saltStore);
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
            ScheduledJobs scheduledJobs = new ScheduledJobs(scheduledJobStore, occurrences, jobStore, scheduler,
                    occurrenceTask, config.clock());
            JobFiles jobFiles = new JobFiles(filesDir, FileIo.forDirectory(filesDir, config.jobs().directIo()));
            JobProcessor processor = new JobProcessor(jobStore, endpoints, identities,
                    new IdentityFilterRules(db.jdbi()), jobFiles, () -> UidSnapshot.current(deployment, salts, optOuts),
                    deployment.scope(), config.jobs(), config.clock());
            jobFiles.removePartials();
            JobRoutes jobRoutes = new JobRoutes(jobStore, endpoints, jobFiles, deployment.scope(), scheduledJobs,
                    config.clock());
            ApiServer api = new ApiServer(vertx, metrics)
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
            refreshPeriodically(vertx, changes);

            scheduler.start();
            scheduledJobs.resume();
            CryptoWarmUp.startInBackground();
            int port = api.start(config.host(), config.port(), eventLoops);
            LOG.info("idex listening on http://{}:{} ({} {}, {} salt buckets, store {}, {} transport) in {} ms",
                    config.host(), port, deployment.scope(), deployment.environment().name().toLowerCase(),
                    salts.current().count(), config.store().display(),
                    vertx.isNativeTransportEnabled() ? "epoll" : "NIO", (System.nanoTime() - started) / 1_000_000);
            processor.start();
            return new IdexServer(db, vertx, api, scheduler, processor, port, changes);
        } catch (RuntimeException e) {
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
     * (shown once: afterwards a key exists), so that a new user can call the API at once.
     */
    private static void bootstrap(ServerConfig config, DeploymentSettings deployment, SaltStore saltStore,
                                  ClientKeyStore keyStore, PrintStream console) {
        long now = config.clock().getAsLong();
        if (saltStore.settings().isEmpty()) {
            console.println("First start: creating " + config.saltBuckets() + " salt buckets…");
            saltStore.createIfAbsent(config.saltBuckets(), now);
        }
        if (!keyStore.list().isEmpty()) {
            return;
        }
        IssuedClientKey key = keyStore.create("bootstrap", EnumSet.of(Role.MAPPER), 1, deployment, now);
        console.println("Bootstrap client key (role MAPPER), shown only this once:");
        console.println("  key:    " + key.key());
        console.println("  secret: " + key.secret());
        console.println("Create more with `idex uid2 client create`; disable this one with `idex uid2 client disable "
                + key.keyId() + "`.");
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

    private static void refreshPeriodically(Vertx vertx, StoreChanges changes) {
        AtomicBoolean running = new AtomicBoolean();
        vertx.setPeriodic(REFRESH_MS, id -> {
            if (!running.compareAndSet(false, true)) {
                return;
            }
            vertx.executeBlocking(() -> {
                changes.apply();
                return null;
            }, false).onComplete(ar -> {
                running.set(false);
                if (ar.failed()) {
                    LOG.warn("Refreshing from the store failed: {}", ar.cause().toString());
                }
            });
        });
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
        scheduler.stop();
        processor.close();
        vertx.close().await();
        db.close();
    }
}
