package idex.support;

import idex.IdexServer;
import idex.ServerConfig;
import idex.exchange.jobs.model.JobSettings;
import idex.http.BodyBudget;
import idex.store.Database;
import idex.store.SecretsKey;
import idex.store.StoreLocation;
import idex.uid2.DeploymentSettings;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;
import idex.uid2.clients.ClientKeyStore;
import idex.uid2.clients.IssuedClientKey;
import idex.uid2.clients.Role;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real idex server in this JVM, listening on a free loopback port, with its own store. Tests talk to it over
 * HTTP only; `clock` lets a test move the server's time (the envelope check and rotation use it).
 */
public final class TestServer implements AutoCloseable {

    public final AtomicLong clock = new AtomicLong(System.currentTimeMillis());
    private final StoreLocation store;
    /** Job files survive a restart, as an operator's files directory does. */
    private final Path filesDir;
    private final Uid2Scope scope;
    private final IdentityEnvironment environment;
    private final int saltBuckets;
    private final boolean realClock;
    private String rotationSchedule = ServerConfig.ROTATION_OFF;
    private JobSettings jobSettings = JobSettings.DEFAULT;
    private boolean accessLog;
    private idex.exchange.delivery.DeliverySettings delivery = idex.exchange.delivery.DeliverySettings.defaults();
    private idex.exchange.jobs.pull.PullSettings pulls = idex.exchange.jobs.pull.PullSettings.DEFAULT;
    private long bodyBudget = BodyBudget.ofHeap().bytes();
    private IdexServer server;
    private String console = "";

    private TestServer(StoreLocation store, Uid2Scope scope, IdentityEnvironment environment, int saltBuckets, boolean realClock) {
        // Job files in the data dir, as a server keeps them by default (and gone with the test's temporary data dir).
        this(store, scope, environment, saltBuckets, realClock,
                store.dataDir() != null ? store.dataDir().resolve("files") : newTempDir("idex-files"));
    }

    private TestServer(StoreLocation store, Uid2Scope scope, IdentityEnvironment environment, int saltBuckets,
                       boolean realClock, Path filesDir) {
        this.filesDir = filesDir;
        // An external store named without a data dir: the secrets key of every such server in this JVM is one file,
        // as every node on one database needs the same key.
        this.store = store.dataDir() != null ? store : StoreLocation.of(store.dbUrl(), SHARED_KEY_DIR);
        this.scope = scope;
        this.environment = environment;
        this.saltBuckets = saltBuckets;
        this.realClock = realClock;
    }

    public static TestServer start(Path dataDir, int saltBuckets) {
        return start(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, saltBuckets);
    }

    public static TestServer start(StoreLocation store, Uid2Scope scope, IdentityEnvironment env, int saltBuckets) {
        TestServer t = new TestServer(store, scope, env, saltBuckets, true);
        t.boot();
        return t;
    }

    /** A server on a real clock that processes jobs with these settings. */
    public static TestServer start(Path dataDir, int saltBuckets, JobSettings jobs) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, saltBuckets, true);
        t.jobSettings = jobs;
        t.boot();
        return t;
    }

    /** A server on a real clock that processes jobs with these settings and keeps job files in `filesDir`. */
    public static TestServer start(Path dataDir, int saltBuckets, JobSettings jobs, Path filesDir) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST,
                saltBuckets, true, filesDir);
        t.jobSettings = jobs;
        t.boot();
        return t;
    }

    /** A server on a real clock that logs every request (`--access-log`). */
    public static TestServer startWithAccessLog(Path dataDir, int saltBuckets) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, saltBuckets, true);
        t.accessLog = true;
        t.boot();
        return t;
    }

    /** A server on a real clock that holds at most `bodyBudget` bytes of request bodies at once. */
    public static TestServer startWithBodyBudget(Path dataDir, long bodyBudget) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, 4, true);
        t.bodyBudget = bodyBudget;
        t.boot();
        return t;
    }

    /** A server on a real clock that delivers events with these settings. */
    public static TestServer startWithDelivery(Path dataDir, idex.exchange.delivery.DeliverySettings delivery) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, 4, true);
        t.delivery = delivery;
        t.boot();
        return t;
    }

    /** The same, fetching pull producers' data as `pulls` says (short waits between polls, a short timeout). */
    public static TestServer startWithPulls(Path dataDir, idex.exchange.delivery.DeliverySettings delivery,
                                            idex.exchange.jobs.pull.PullSettings pulls) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, 4, true);
        t.delivery = delivery;
        t.pulls = pulls;
        t.boot();
        return t;
    }

    /** A server on a real clock that processes jobs and delivers (events, push exports) with these settings. */
    public static TestServer startWithDelivery(Path dataDir, JobSettings jobs,
                                               idex.exchange.delivery.DeliverySettings delivery) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, 4, true);
        t.jobSettings = jobs;
        t.delivery = delivery;
        t.boot();
        return t;
    }

    /** A server whose clock stands at `millis` until the test moves `clock`. */
    public static TestServer startAt(long millis, Path dataDir, int saltBuckets) {
        return startAt(millis, dataDir, saltBuckets, ServerConfig.ROTATION_OFF);
    }

    /** The same, with salt rotation on a db-scheduler schedule. */
    public static TestServer startAt(long millis, Path dataDir, int saltBuckets, String rotationSchedule) {
        TestServer t = new TestServer(StoreLocation.of(null, dataDir), Uid2Scope.UID2, IdentityEnvironment.TEST, saltBuckets, false);
        t.clock.set(millis);
        t.rotationSchedule = rotationSchedule;
        t.boot();
        return t;
    }

    /** A server on `store` (PostgreSQL, or a second node on another server's store) whose clock stands at `millis`. */
    public static TestServer startAt(long millis, StoreLocation store, int saltBuckets) {
        TestServer t = new TestServer(store, Uid2Scope.UID2, IdentityEnvironment.TEST, saltBuckets, false);
        t.clock.set(millis);
        t.boot();
        return t;
    }

    private static final Path SHARED_KEY_DIR = newTempDir("idex-shared-key");

    /** A directory of the test JVM's own, removed with all it holds when the JVM exits. */
    private static Path newTempDir(String prefix) {
        try {
            Path dir = java.nio.file.Files.createTempDirectory(prefix);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (var tree = java.nio.file.Files.walk(dir)) {
                    tree.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (java.io.IOException | java.io.UncheckedIOException ignored) {
                    // best effort: a temp dir left behind is not a test failure
                }
            }));
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public Path filesDir() {
        return filesDir;
    }

    /** The server's current time: what a client must put in its envelopes. */
    public long now() {
        return realClock ? System.currentTimeMillis() : clock.get();
    }

    private void boot() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ServerConfig config = ServerConfig.builder()
                .host("127.0.0.1").port(0).store(store).poolSize(4)
                .scope(scope).environment(environment).saltBuckets(saltBuckets)
                .rotationSchedule(rotationSchedule).schedulerPolling(java.time.Duration.ofMillis(200))
                .clock(() -> realClock ? System.currentTimeMillis() : clock.get())
                .filesDir(filesDir).jobs(jobSettings).accessLog(accessLog).bodyBudget(bodyBudget)
                .delivery(delivery).pulls(pulls)
                .build();
        // Output captured here is no terminal, as a service's log is not.
        server = IdexServer.start(config, new PrintStream(out, true, StandardCharsets.UTF_8), false);
        console = out.toString(StandardCharsets.UTF_8);
    }

    /** Stops and starts the server on the same store, as an operator's restart would. */
    public void restart() {
        server.close();
        boot();
    }

    /** Stops the server, moves its clock to `millis` while it is down, and starts it again on the same store. */
    public void restartAt(long millis) {
        server.close();
        clock.set(millis);
        boot();
    }

    /** Applies store changes now instead of waiting for the server's periodic refresh. */
    public void refreshNow() {
        server.refreshNow();
    }

    public String console() {
        return console;
    }

    public int port() {
        return server.port();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    /** The server's metrics as a scraper reads them (`GET /metrics`, Prometheus text). */
    public String metrics() {
        try (var in = java.net.URI.create(url("/metrics")).toURL().openStream()) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Every method and path the server serves. */
    public java.util.List<idex.http.RouteInfo> routes() {
        return server.routes();
    }

    public Database database() {
        return server.database();
    }

    public StoreLocation store() {
        return store;
    }

    /**
     * A client key the running server accepts at once: created in the store as `idex uid2 keys create` does, then
     * applied without waiting for the periodic refresh (a test racing that refresh gets a 401 on a busy machine).
     */
    public IssuedClientKey createKey(String name, Set<Role> roles) {
        DeploymentSettings d = DeploymentSettings.resolve(database().jdbi(), null, null, false);
        IssuedClientKey key = keyStore().create(name, roles, 1, d, System.currentTimeMillis());
        refreshNow();
        return key;
    }

    /** The server's client keys, with the secrets key it uses (IDEX_SECRETS_KEY if set, else its data dir's). */
    public ClientKeyStore keyStore() {
        return new ClientKeyStore(database().jdbi(), SecretsKey.load(store.dataDir()));
    }

    public IssuedClientKey createMapperKey() {
        return createKey("test mapper", EnumSet.of(Role.MAPPER));
    }

    @Override
    public void close() {
        server.close();
    }
}
