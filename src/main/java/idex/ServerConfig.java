package idex;

import idex.exchange.jobs.JobSettings;
import idex.store.StoreLocation;
import idex.uid2.IdentityEnvironment;
import idex.uid2.Uid2Scope;

import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Everything a server start needs. `scope` and `environment` may be null: the values recorded in the store (or
 * the defaults on a first start) are used. `filesDir` holds job uploads and segment data files;
 * `jobs` says how this node processes jobs; `accessLog` logs one line per request;
 * `bodyBudget` bounds the bytes of request bodies held at once
 * ({@link idex.http.BodyBudget}).
 */
public record ServerConfig(String host, int port, StoreLocation store, int poolSize, Uid2Scope scope,
                           IdentityEnvironment environment, int saltBuckets, String rotationSchedule,
                           Duration schedulerPolling, LongSupplier clock, Path filesDir,
                           JobSettings jobs, boolean accessLog, long bodyBudget) {

    public static final String ROTATION_OFF = "off";
    /** How often a node looks for due scheduled work (db-scheduler's polling interval). */
    public static final Duration DEFAULT_SCHEDULER_POLLING = Duration.ofSeconds(10);

    public ServerConfig withPort(int newPort) {
        return new ServerConfig(host, newPort, store, poolSize, scope, environment, saltBuckets, rotationSchedule,
                schedulerPolling, clock, filesDir, jobs, accessLog, bodyBudget);
    }
}
