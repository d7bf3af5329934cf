package idex.cli;

import idex.IdexServer;
import idex.ServerConfig;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.pull.PullSettings;
import idex.http.BodyBudget;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;
import idex.uid2.salts.SaltRotationSchedule;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true, description = "Start the idex server.")
public final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    StoreOptions store;

    @Option(names = "--host", defaultValue = "${env:IDEX_HOST:-127.0.0.1}",
            description = "Address to listen on (env IDEX_HOST; default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "${env:IDEX_PORT:-8080}",
            description = "Port to listen on, 0 for any free port (env IDEX_PORT; default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--scope", defaultValue = "${env:IDEX_SCOPE}",
            description = "uid2 or euid: key prefixes and raw UID scope (env IDEX_SCOPE; recorded in the store; default uid2).")
    String scope;

    @Option(names = "--environment", defaultValue = "${env:IDEX_ENVIRONMENT}",
            description = "local, test, integ or prod: key letter and raw UID environment (env IDEX_ENVIRONMENT;"
                    + " recorded in the store; default local).")
    String environment;

    @Option(names = "--salt-buckets", defaultValue = "${env:IDEX_SALT_BUCKETS:-1048576}",
            description = "Number of salt buckets created on the first start of an empty store (default ${DEFAULT-VALUE}).")
    int saltBuckets;

    @Option(names = "--rotation-schedule", defaultValue = "${env:IDEX_ROTATION_SCHEDULE:-" + SaltRotationSchedule.DEFAULT_SCHEDULE + "}",
            description = "When salts rotate: a db-scheduler schedule such as DAILY|00:00 or FIXED_DELAY|3600s, or off"
                    + " (env IDEX_ROTATION_SCHEDULE; default ${DEFAULT-VALUE}).")
    String rotationSchedule;

    @Option(names = "--files-dir", defaultValue = "${env:IDEX_FILES_DIR}",
            description = "Directory of job uploads and segment data files; several nodes share it (env IDEX_FILES_DIR;"
                    + " default: files inside --data-dir). Created owner-only (0700), as is everything in it (files"
                    + " 0600); one that other users can write is refused.")
    Path filesDir;

    @Option(names = "--job-workers", defaultValue = "${env:IDEX_JOB_WORKERS:-2}",
            description = "Jobs this node processes at once (env IDEX_JOB_WORKERS; default ${DEFAULT-VALUE}).")
    int jobWorkers;

    @Option(names = "--segment-file-rows", defaultValue = "${env:IDEX_SEGMENT_FILE_ROWS:-1000000}",
            description = "Rows per segment data file; a bigger output is split into several files, each with its header"
                    + " (env IDEX_SEGMENT_FILE_ROWS; default ${DEFAULT-VALUE}).")
    int segmentFileRows;

    @Option(names = "--job-stale-after", defaultValue = "${env:IDEX_JOB_STALE_AFTER:-30s}",
            converter = DurationOption.class,
            description = "A running job whose node has not been heard from for this long is taken back and run again,"
                    + " e.g. 30s or 2m (env IDEX_JOB_STALE_AFTER; default ${DEFAULT-VALUE}).")
    Duration jobStaleAfter;

    @Option(names = "--follow-uploads", negatable = true, defaultValue = "${env:IDEX_FOLLOW_UPLOADS:-true}",
            fallbackValue = "true", description = "Process a segment export while its upload arrives, so that upload and"
                    + " processing overlap; --no-follow-uploads waits for the whole upload (env IDEX_FOLLOW_UPLOADS;"
                    + " default ${DEFAULT-VALUE}).")
    boolean followUploads;

    @Option(names = "--direct-io", negatable = true, defaultValue = "${env:IDEX_DIRECT_IO:-true}",
            fallbackValue = "true", description = "Read and write uploads and segment data files with direct I/O where"
                    + " the file system allows it, bypassing the page cache; --no-direct-io goes through the page cache"
                    + " (env IDEX_DIRECT_IO; default ${DEFAULT-VALUE}).")
    boolean directIo;

    @Option(names = "--access-log", negatable = true, defaultValue = "${env:IDEX_ACCESS_LOG:-false}",
            fallbackValue = "true", description = "Log one line per request: method, path (never the query), status,"
                    + " bytes, duration; never keys or bodies (env IDEX_ACCESS_LOG; default ${DEFAULT-VALUE}).")
    boolean accessLog;

    @Option(names = "--body-budget-mib", defaultValue = "${env:IDEX_BODY_BUDGET_MIB:-0}",
            description = "MiB of request bodies held in memory at once, across all requests; a large body that does"
                    + " not fit is answered 503 with Retry-After (env IDEX_BODY_BUDGET_MIB; default 0: an eighth of"
                    + " the heap).")
    long bodyBudgetMib;

    @Option(names = "--delivery-timeout", defaultValue = "${env:IDEX_DELIVERY_TIMEOUT:-15s}",
            converter = DurationOption.class,
            description = "How long one delivery attempt to an event destination may take, connection and answer;"
                    + " for a push destination, a whole segment data file (env IDEX_DELIVERY_TIMEOUT; default"
                    + " ${DEFAULT-VALUE}).")
    Duration deliveryTimeout;

    @Option(names = "--delivery-retry-schedule", defaultValue = "${env:IDEX_DELIVERY_RETRY_SCHEDULE:-"
            + DeliverySettings.DEFAULT_SCHEDULE + "}",
            description = "The waits before each retry of a failed delivery (or push destination call),"
                    + " comma-separated; after the last the delivery is FAILED (a push export: ERROR)"
                    + " (env IDEX_DELIVERY_RETRY_SCHEDULE; default ${DEFAULT-VALUE}).")
    String deliveryRetrySchedule;

    @Option(names = "--delivery-disable-after", defaultValue = "${env:IDEX_DELIVERY_DISABLE_AFTER:-5d}",
            converter = DurationOption.class,
            description = "An event or push destination whose every attempt failed for this long is turned off until"
                    + " its registration is PUT again (env IDEX_DELIVERY_DISABLE_AFTER; default ${DEFAULT-VALUE}).")
    Duration deliveryDisableAfter;

    @Option(names = "--delivery-concurrency", defaultValue = "${env:IDEX_DELIVERY_CONCURRENCY:-8}",
            description = "Requests in flight to one event destination at once (env IDEX_DELIVERY_CONCURRENCY;"
                    + " default ${DEFAULT-VALUE}).")
    int deliveryConcurrency;

    @Option(names = "--delivery-allow-private-networks", negatable = true,
            defaultValue = "${env:IDEX_DELIVERY_ALLOW_PRIVATE_NETWORKS:-false}", fallbackValue = "true",
            description = "Allow event and push destinations on loopback, private and unique-local addresses"
                    + " (on-premise receivers); refused by default (env IDEX_DELIVERY_ALLOW_PRIVATE_NETWORKS; default"
                    + " ${DEFAULT-VALUE}).")
    boolean deliveryAllowPrivateNetworks;

    @Option(names = "--delivery-retention", defaultValue = "${env:IDEX_DELIVERY_RETENTION:-7d}",
            converter = DurationOption.class,
            description = "How long the delivery log keeps delivered and failed deliveries, and a push export in ERROR"
                    + " its undelivered files for a retry (env IDEX_DELIVERY_RETENTION; default ${DEFAULT-VALUE}).")
    Duration deliveryRetention;

    @Option(names = "--pull-timeout", defaultValue = "${env:IDEX_PULL_TIMEOUT:-24h}",
            converter = DurationOption.class,
            description = "How long a pull producer's job may take to become READY before the exchange's job ends in"
                    + " ERROR (env IDEX_PULL_TIMEOUT; default ${DEFAULT-VALUE}).")
    Duration pullTimeout;

    @Override
    public Integer call() throws InterruptedException {
        ServerConfig config = ServerConfig.builder()
                .host(host).port(port)
                .store(store.location()).poolSize(store.poolSize())
                .scope(scope == null || scope.isBlank() ? null : Uid2Scope.parse(scope))
                .environment(environment == null || environment.isBlank() ? null : IdentityEnvironment.parse(environment))
                .saltBuckets(saltBuckets).rotationSchedule(rotationSchedule)
                .schedulerPolling(ServerConfig.DEFAULT_SCHEDULER_POLLING).clock(System::currentTimeMillis)
                .filesDir(filesDir != null ? filesDir : store.dataDir().resolve("files"))
                .jobs(new JobSettings(jobWorkers, segmentFileRows, jobStaleAfter, followUploads, directIo))
                .accessLog(accessLog)
                .bodyBudget(bodyBudgetMib > 0 ? bodyBudgetMib * 1024L * 1024 : BodyBudget.ofHeap().bytes())
                .delivery(deliverySettings())
                .pulls(pullSettings())
                .build();
        IdexServer server = IdexServer.start(config, System.out, onTerminal());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }, "idex-shutdown"));
        stopped.await();
        return 0;
    }

    private PullSettings pullSettings() {
        try {
            return PullSettings.DEFAULT.withTimeout(pullTimeout);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--pull-timeout: " + e.getMessage());
        }
    }

    private DeliverySettings deliverySettings() {
        List<Duration> schedule;
        try {
            schedule = DeliverySettings.schedule(deliveryRetrySchedule);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--delivery-retry-schedule: " + e.getMessage());
        }
        try {
            return new DeliverySettings(deliveryTimeout, schedule, deliveryDisableAfter, deliveryConcurrency,
                    deliveryAllowPrivateNetworks, deliveryRetention);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /**
     * Whether a person reads standard output. Without a terminal it goes to a file or a pipe (a service's log), which
     * must not receive the bootstrap secret. JDK 22+ gives a Console even when redirected and tells with isTerminal().
     */
    private static boolean onTerminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // before JDK 22 a console exists only on a terminal
        }
    }
}
