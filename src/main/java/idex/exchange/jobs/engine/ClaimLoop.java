package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Claims PENDING jobs while this node has a free worker, runs them, and beats for every claim it holds; takes back
 * RUNNING jobs whose node stopped beating ({@link JobProcessor}).
 */
final class ClaimLoop {

    static final int MAX_ATTEMPTS = 3;
    private static final Logger LOG = LoggerFactory.getLogger(ClaimLoop.class);
    private static final long POLL_MILLIS = 500;

    private final JobStore jobs;
    private final JobRunner runner;
    private final NodeRuns runs;
    private final JobSettings settings;
    private final LongSupplier clock;
    private final Semaphore slots;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;

    ClaimLoop(JobStore jobs, JobRunner runner, NodeRuns runs, JobSettings settings, LongSupplier clock) {
        this.jobs = jobs;
        this.runner = runner;
        this.runs = runs;
        this.settings = settings;
        this.clock = clock;
        this.slots = new Semaphore(settings.workers());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> NodeRuns.thread(r, "idex-jobs-timer"));
        this.workers = Executors.newFixedThreadPool(settings.workers(), r -> NodeRuns.thread(r, "idex-job-worker"));
    }

    /** Polls for work, and beats for the jobs this node runs. */
    void start() {
        timer.scheduleWithFixedDelay(this::claimWhatFits, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
        long beat = Math.max(100, settings.staleAfter().toMillis() / 3);
        timer.scheduleWithFixedDelay(this::beat, beat, beat, TimeUnit.MILLISECONDS);
    }

    /** Looks for work now rather than at the next poll. */
    void wake() {
        if (!runs.stopping()) {
            try {
                timer.execute(this::claimWhatFits);
            } catch (RuntimeException ignored) {
                // stopping: the job stays PENDING for the next start
            }
        }
    }

    private void claimWhatFits() {
        try {
            while (!runs.stopping() && slots.tryAcquire()) {
                Optional<Job> claimed = jobs.claim(runs.node, clock.getAsLong());
                if (claimed.isEmpty()) {
                    slots.release();
                    return;
                }
                Job job = claimed.get();
                AtomicBoolean held = new AtomicBoolean(true);
                runs.running.put(job.jobId(), held);
                workers.execute(() -> runClaimed(job, held));
            }
        } catch (RuntimeException e) {
            LOG.warn("Looking for pending jobs failed; trying again at the next poll", e);
        }
    }

    private void runClaimed(Job job, AtomicBoolean held) {
        long started = System.nanoTime();
        try {
            JobRunner.FinishedRun run = runner.run(job, runs.node, () -> held.get() && !runs.stopping());
            if (run == null) {
                return; // a push delivery waiting for its next attempt: taken up again when due
            }
            runs.logFinished(job, run, started, "");
            if (run.spawnedJobId() != 0) {
                wake();
            }
        } catch (IOException | RuntimeException e) {
            runs.settleFailed(job, e);
        } finally {
            runs.running.remove(job.jobId());
            slots.release();
            if (!runs.stopping()) {
                wake(); // a slot is free
            }
        }
    }

    private void beat() {
        try {
            long now = clock.getAsLong();
            runs.running.forEach((jobId, held) -> {
                if (!jobs.heartbeat(jobId, runs.node, now)) {
                    held.set(false);
                }
            });
            recoverStale();
        } catch (RuntimeException e) {
            LOG.warn("Job heartbeat failed; trying again", e);
        }
    }

    /** Takes back jobs whose node has not beaten for the stale timeout (to PENDING, or ERROR after MAX_ATTEMPTS). */
    void recoverStale() {
        long now = clock.getAsLong();
        int n = jobs.recoverStale(now - settings.staleAfter().toMillis(), MAX_ATTEMPTS, now);
        if (n > 0) {
            LOG.info("Took back {} running job(s) whose node stopped beating", n);
        }
    }

    /** Stops polling and beating; the workers' pool is stopped by {@link #awaitWorkers}. */
    void stopClaiming() {
        timer.shutdownNow();
        workers.shutdown();
    }

    boolean awaitWorkers(long nanos) throws InterruptedException {
        return workers.awaitTermination(nanos, TimeUnit.NANOSECONDS);
    }

    void abandonWorkers() {
        workers.shutdownNow();
    }
}
