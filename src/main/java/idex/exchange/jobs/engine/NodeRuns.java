package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.push.PushDelivery;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.auth.KeyHash;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * The runs of this node, shared by the {@link ClaimLoop} and the {@link UploadFollower}: the node's name on the jobs
 * it claims, the runs that hold a claim (beaten for by the claim loop), whether the node is stopping, and how a run
 * that did not finish is settled.
 */
final class NodeRuns {

    /** Operators (and tests) follow runs in one logger, whichever class ran them. */
    private static final Logger LOG = LoggerFactory.getLogger(JobProcessor.class);

    /** This node's name on the jobs it claims: unique per start, so that a restarted node never mistakes old claims. */
    final String node = "node-" + KeyHash.randomToken(9);
    /** Runs holding a claim, by job: the flag turns false when the claim is lost. */
    final Map<Long, AtomicBoolean> running = new ConcurrentHashMap<>();
    private final JobStore jobs;
    private final JobFiles files;
    private final LongSupplier clock;
    private volatile boolean stopping;

    NodeRuns(JobStore jobs, JobFiles files, LongSupplier clock) {
        this.jobs = jobs;
        this.files = files;
        this.clock = clock;
    }

    boolean stopping() {
        return stopping;
    }

    void stop() {
        stopping = true;
    }

    /** One line per finished run: what an operator needs to see a job's size and speed without querying the store. */
    void logFinished(Job job, JobRunner.FinishedRun run, long startedNanos, String how) {
        LOG.info("Job {} ({}) finished{} in {} ms: {} rows in, {} out, {} skipped", job.jobId(), job.category(), how,
                (System.nanoTime() - startedNanos) / 1_000_000, run.rowsIn(), run.rowsOut(), run.rowsSkipped());
    }

    /** Settles a run of a job this node holds that did not finish: given back, taken over, or in ERROR. */
    void settleFailed(Job job, Exception e) {
        if (e instanceof JobRunner.ClaimLost) {
            if (stopping && jobs.release(job.jobId(), node, clock.getAsLong())) {
                LOG.info("Job {} given back to the queue: this node is stopping", job.jobId());
            } else {
                LOG.warn("Job {} was taken over by another node; this run stopped without effect", job.jobId());
            }
        } else if (e instanceof JobRunner.JobFailure) {
            endInError(job, e.getMessage());
        } else if (stopping) {
            jobs.release(job.jobId(), node, clock.getAsLong());
        } else {
            LOG.error("Job {} failed", job.jobId(), e);
            endInError(job, "Processing failed on the server: " + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    private void endInError(Job job, String reason) {
        String text = reason.length() > 4000 ? reason.substring(0, 4000) : reason;
        // A push export's undelivered files are kept for a retry from the delivery log (POST
        // /v1/deliveries/{id}/retry); the delivery log's pruning removes them after its retention.
        if (jobs.failRun(job.jobId(), node, text, clock.getAsLong())
                && !PushDelivery.DELIVERING.equals(job.subStatus())) {
            JobFiles.deleteTree(files.outputDir(job.jobId()));
        }
    }

    static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
