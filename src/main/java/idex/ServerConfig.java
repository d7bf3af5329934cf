package idex;

import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.pull.PullSettings;
import idex.store.StoreLocation;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Everything a server start needs, built with named fields ({@link #builder()}). `scope` and `environment` may be
 * null: the values recorded in the store (or the defaults on a first start) are used. `filesDir` holds job uploads
 * and segment data files; `jobs` says how this node processes jobs; `accessLog` logs one line per request;
 * `bodyBudget` bounds the bytes of request bodies held at once ({@link idex.http.BodyBudget}).
 */
public final class ServerConfig {

    public static final String ROTATION_OFF = "off";
    /** How often a node looks for due scheduled work (db-scheduler's polling interval). */
    public static final Duration DEFAULT_SCHEDULER_POLLING = Duration.ofSeconds(10);

    private final String host;
    private final int port;
    private final StoreLocation store;
    private final int poolSize;
    private final Uid2Scope scope;
    private final IdentityEnvironment environment;
    private final int saltBuckets;
    private final String rotationSchedule;
    private final Duration schedulerPolling;
    private final LongSupplier clock;
    private final Path filesDir;
    private final JobSettings jobs;
    private final boolean accessLog;
    private final long bodyBudget;
    private final DeliverySettings delivery;
    private final PullSettings pulls;

    private ServerConfig(Builder b) {
        this.host = Objects.requireNonNull(b.host, "host");
        this.port = b.port;
        this.store = Objects.requireNonNull(b.store, "store");
        this.poolSize = b.poolSize;
        this.scope = b.scope;
        this.environment = b.environment;
        this.saltBuckets = b.saltBuckets;
        this.rotationSchedule = Objects.requireNonNull(b.rotationSchedule, "rotationSchedule");
        this.schedulerPolling = Objects.requireNonNull(b.schedulerPolling, "schedulerPolling");
        this.clock = Objects.requireNonNull(b.clock, "clock");
        this.filesDir = Objects.requireNonNull(b.filesDir, "filesDir");
        this.jobs = Objects.requireNonNull(b.jobs, "jobs");
        this.accessLog = b.accessLog;
        this.bodyBudget = b.bodyBudget;
        this.delivery = Objects.requireNonNull(b.delivery, "delivery");
        this.pulls = Objects.requireNonNull(b.pulls, "pulls");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to change a field or two. */
    public Builder toBuilder() {
        return builder().host(host).port(port).store(store).poolSize(poolSize).scope(scope).environment(environment)
                .saltBuckets(saltBuckets).rotationSchedule(rotationSchedule).schedulerPolling(schedulerPolling)
                .clock(clock).filesDir(filesDir).jobs(jobs).accessLog(accessLog).bodyBudget(bodyBudget)
                .delivery(delivery).pulls(pulls);
    }

    public ServerConfig withPort(int newPort) {
        return toBuilder().port(newPort).build();
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public StoreLocation store() {
        return store;
    }

    public int poolSize() {
        return poolSize;
    }

    public Uid2Scope scope() {
        return scope;
    }

    public IdentityEnvironment environment() {
        return environment;
    }

    public int saltBuckets() {
        return saltBuckets;
    }

    public String rotationSchedule() {
        return rotationSchedule;
    }

    public Duration schedulerPolling() {
        return schedulerPolling;
    }

    public LongSupplier clock() {
        return clock;
    }

    public Path filesDir() {
        return filesDir;
    }

    public JobSettings jobs() {
        return jobs;
    }

    public boolean accessLog() {
        return accessLog;
    }

    public long bodyBudget() {
        return bodyBudget;
    }

    public DeliverySettings delivery() {
        return delivery;
    }

    /** How the data of pull producers' jobs is fetched. */
    public PullSettings pulls() {
        return pulls;
    }

    /** Named fields; those without an obvious default (host, store, filesDir, jobs…) must be set. */
    public static final class Builder {
        private String host;
        private int port;
        private StoreLocation store;
        private int poolSize;
        private Uid2Scope scope;
        private IdentityEnvironment environment;
        private int saltBuckets;
        private String rotationSchedule = ROTATION_OFF;
        private Duration schedulerPolling = DEFAULT_SCHEDULER_POLLING;
        private LongSupplier clock = System::currentTimeMillis;
        private Path filesDir;
        private JobSettings jobs;
        private boolean accessLog;
        private long bodyBudget;
        private DeliverySettings delivery = DeliverySettings.defaults();
        private PullSettings pulls = PullSettings.DEFAULT;

        private Builder() {
        }

        /** How events are delivered to event destinations. */
        public Builder delivery(DeliverySettings value) {
            delivery = value;
            return this;
        }

        /** How the data of pull producers' jobs is fetched (timeout, waits between polls). */
        public Builder pulls(PullSettings value) {
            pulls = value;
            return this;
        }

        public Builder host(String value) {
            host = value;
            return this;
        }

        /** 0: a free port, chosen at start. */
        public Builder port(int value) {
            port = value;
            return this;
        }

        public Builder store(StoreLocation value) {
            store = value;
            return this;
        }

        /** Connections to the store, and worker threads of the HTTP server. */
        public Builder poolSize(int value) {
            poolSize = value;
            return this;
        }

        public Builder scope(Uid2Scope value) {
            scope = value;
            return this;
        }

        public Builder environment(IdentityEnvironment value) {
            environment = value;
            return this;
        }

        /** How many salt buckets a first start creates. */
        public Builder saltBuckets(int value) {
            saltBuckets = value;
            return this;
        }

        /** A cron expression, or {@value ServerConfig#ROTATION_OFF}. */
        public Builder rotationSchedule(String value) {
            rotationSchedule = value;
            return this;
        }

        public Builder schedulerPolling(Duration value) {
            schedulerPolling = value;
            return this;
        }

        /** Unix milliseconds; tests move it. */
        public Builder clock(LongSupplier value) {
            clock = value;
            return this;
        }

        public Builder filesDir(Path value) {
            filesDir = value;
            return this;
        }

        public Builder jobs(JobSettings value) {
            jobs = value;
            return this;
        }

        public Builder accessLog(boolean value) {
            accessLog = value;
            return this;
        }

        /** Bytes of request bodies held at once, across all requests. */
        public Builder bodyBudget(long value) {
            bodyBudget = value;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(this);
        }
    }
}
