package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.model.UploadProgress;
import idex.exchange.jobs.push.PushDelivery;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.filters.IdentityFilterRules;
import idex.exchange.identity.IdentityStore;
import idex.exchange.jobs.translate.UidSnapshot;
import idex.uid2.Uid2Scope;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Runs PENDING jobs on a bounded pool of this node's threads, never on the event loop (spec §4.2).
 *
 * <p>A node claims a job by moving it PENDING → RUNNING under its name, then keeps the claim alive with a heartbeat.
 * A RUNNING job whose heartbeat stopped (its node crashed, or was stopped without giving the job back) is taken back
 * to PENDING by any node once it is {@link JobSettings#staleAfter() stale}, and after {@value ClaimLoop#MAX_ATTEMPTS}
 * cut-off runs it is ended in ERROR instead, so that a job that crashes its server cannot do so for ever. A run that
 * finds its claim gone stops without effect: only the holder of the claim can end the job.
 *
 * <p>The engine's parts: the {@link ClaimLoop} (claims, runs, beats), the {@link UploadFollower} (runs that process
 * an upload while it arrives), the {@link FileSweeper} (tidies the files directory at start), sharing
 * {@link NodeRuns}.
 */
public final class JobProcessor implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(JobProcessor.class);

    private final NodeRuns runs;
    private final ClaimLoop claims;
    private final UploadFollower followers;
    private final FileSweeper sweeper;

    public JobProcessor(JobStore jobs, EndpointStore endpoints, IdentityStore identities, IdentityFilterRules filters,
                        JobFiles files, Supplier<UidSnapshot> uids, Uid2Scope scope, JobSettings settings,
                        PushDelivery push, LongSupplier clock) {
        JobRunner runner = new JobRunner(jobs, endpoints, identities, filters, files, uids, scope, settings.rowsPerFile(),
                push, clock);
        this.runs = new NodeRuns(jobs, files, clock);
        this.claims = new ClaimLoop(jobs, runner, runs, settings, clock);
        this.followers = new UploadFollower(jobs, runner, files, runs, settings, claims::wake);
        this.sweeper = new FileSweeper(jobs, files, settings);
    }

    /** Takes back stale jobs, tidies the files directory, then polls for work and beats for the jobs it runs. */
    public void start() {
        claims.recoverStale();
        sweeper.sweep();
        claims.start();
    }

    /** Looks for work now (an upload was just accepted) rather than at the next poll. */
    public void wake() {
        claims.wake();
    }

    /** See {@link UploadFollower#follow}. */
    public UploadProgress follow(Job job, Path part, boolean gzip) {
        return followers.follow(job, part, gzip);
    }

    /** Stops claiming, lets running jobs notice and give themselves back to the queue, then stops the threads. */
    @Override
    public void close() {
        runs.stop();
        claims.stopClaiming();
        followers.stop();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            if (!claims.awaitWorkers(TimeUnit.SECONDS.toNanos(10))
                    || !followers.awaitFollowers(Math.max(0, deadline - System.nanoTime()))) {
                LOG.warn("Jobs still running at stop: they are taken back once their heartbeat is stale");
                claims.abandonWorkers();
                followers.abandonFollowers();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
