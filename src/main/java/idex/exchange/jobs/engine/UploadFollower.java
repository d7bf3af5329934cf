package idex.exchange.jobs.engine;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobSettings;
import idex.exchange.jobs.model.UploadProgress;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.files.AlignedFileInput;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Processes a SEGMENT_EXPORT while its upload arrives, on threads of its own: a slow upload then never keeps a queued
 * job from a worker, and a follower uses CPU only as fast as its upload arrives.
 */
final class UploadFollower {

    private static final Logger LOG = LoggerFactory.getLogger(UploadFollower.class);

    private final JobStore jobs;
    private final JobRunner runner;
    private final JobFiles files;
    private final NodeRuns runs;
    private final JobSettings settings;
    /** Wakes the claim loop: a follower that gave up, or finished, frees work for it. */
    private final Runnable wake;
    private final Semaphore followSlots;
    private final ExecutorService followers;
    /** Jobs whose upload a run of this node follows: one run per job. */
    private final Set<Long> following = ConcurrentHashMap.newKeySet();

    UploadFollower(JobStore jobs, JobRunner runner, JobFiles files, NodeRuns runs, JobSettings settings, Runnable wake) {
        this.jobs = jobs;
        this.runner = runner;
        this.files = files;
        this.runs = runs;
        this.settings = settings;
        this.wake = wake;
        this.followSlots = new Semaphore(settings.workers());
        this.followers = Executors.newFixedThreadPool(settings.workers(), r -> NodeRuns.thread(r, "idex-job-follower"));
    }

    /**
     * Starts processing a SEGMENT_EXPORT while its upload arrives, if a worker is free: upload and processing then
     * overlap instead of following each other. The run reads the upload's file as it grows and writes its segment
     * data files as usual, but ends the job only if the upload is accepted and the run claims the job in the
     * acceptance's transaction (see {@link Follower}); otherwise it throws its output away and the job is processed
     * as usual. Answers what the upload reports to ({@link UploadProgress#NONE} when not followed).
     */
    UploadProgress follow(Job job, Path part, boolean gzip) {
        if (runs.stopping() || !settings.followUploads() || job.category() != JobCategory.SEGMENT_EXPORT
                || !following.add(job.jobId())) {
            return UploadProgress.NONE;
        }
        if (!followSlots.tryAcquire()) {
            following.remove(job.jobId());
            return UploadProgress.NONE;
        }
        Follower f = new Follower(job);
        try {
            AlignedFileInput in = AlignedFileInput.following(files.io(), part, f);
            followers.execute(() -> f.run(in, gzip));
            return f;
        } catch (IOException | RuntimeException e) {
            LOG.warn("Could not follow the upload of job {}; it is processed once accepted", job.jobId(), e);
            following.remove(job.jobId());
            followSlots.release();
            return UploadProgress.NONE;
        }
    }

    /**
     * A run that follows an upload, and what the upload tells it. Until the acceptance claims the job for it, the run
     * holds nothing: it may give up at any time (the server stops, the upload stalls for longer than the stale
     * timeout, the run fails) and the job is then processed as usual once accepted, which also reports a problem
     * with the data the way any run does. Once claimed, it is a run like any other: it beats, and it is settled the
     * same way.
     */
    private final class Follower implements UploadProgress, AlignedFileInput.Bound {
        private final Job job;
        private final AtomicBoolean held = new AtomicBoolean(true);
        private long written;
        private boolean allWritten;
        private boolean refused;
        private boolean gaveUp;
        private boolean claimed;
        private boolean done;
        private Path accepted;

        Follower(Job job) {
            this.job = job;
        }

        void run(AlignedFileInput in, boolean gzip) {
            long started = System.nanoTime();
            try {
                JobRunner.FinishedRun run = runner.follow(job, runs.node, this::goesOn, in, gzip, this::awaitAcceptance);
                runs.logFinished(job, run, started, " while its upload arrived");
                // a spawned job waits in PENDING: the wake below finds it
            } catch (IOException | RuntimeException e) {
                if (giveUp()) {
                    if (!(e instanceof JobRunner.ClaimLost)) {
                        LOG.info("Processing job {} while its upload arrives stopped ({}); it is processed once"
                                + " the upload is accepted", job.jobId(), e.toString());
                    }
                } else {
                    runs.settleFailed(job, e);
                }
            } finally {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // read-only
                }
                synchronized (this) {
                    done = true;
                }
                runs.running.remove(job.jobId());
                following.remove(job.jobId());
                followSlots.release();
                if (!runs.stopping()) {
                    wake.run();
                }
            }
        }

        /** Whether the run may go on: checked between rows. */
        private boolean goesOn() {
            synchronized (this) {
                if (refused || gaveUp) {
                    return false;
                }
            }
            return held.get() && !runs.stopping();
        }

        /** Gives up unless the job was already claimed for this run; answers whether it gave up. */
        private synchronized boolean giveUp() {
            if (claimed) {
                return false;
            }
            gaveUp = true;
            return true;
        }

        @Override
        public synchronized void wrote(long bytes) {
            written = bytes;
            notifyAll();
        }

        @Override
        public synchronized void allWritten(long bytes) {
            written = bytes;
            allWritten = true;
            notifyAll();
        }

        @Override
        public synchronized void refused() {
            refused = true;
            claimed = false; // a claim inside a transaction that did not commit
            notifyAll();
        }

        /** Holds this monitor through the update: the run cannot give up halfway through being claimed. */
        @Override
        public synchronized boolean claim(Handle h, long now) {
            if (gaveUp || refused || runs.stopping() || !jobs.claim(h, job.jobId(), runs.node, now)) {
                return false;
            }
            claimed = true;
            return true;
        }

        @Override
        public synchronized void accepted(Path file) {
            accepted = file;
            if (claimed && !done) {
                runs.running.put(job.jobId(), held);
            }
            notifyAll();
        }

        @Override
        public synchronized long awaitBeyond(long position) throws IOException {
            waitFor(() -> written > position || allWritten, "more of the upload");
            return written;
        }

        @Override
        public synchronized long readableNow() {
            return written;
        }

        private synchronized Path awaitAcceptance() throws IOException {
            waitFor(() -> accepted != null, "the upload's acceptance");
            if (!claimed) {
                throw new JobRunner.ClaimLost();
            }
            return accepted;
        }

        /** Waits (holding this monitor) until `done`; gives up on a refused upload, a stop, or a stall. */
        private void waitFor(BooleanSupplier done, String what) throws IOException {
            long stalledAfter = System.nanoTime() + settings.staleAfter().toNanos();
            long seen = written;
            while (!done.getAsBoolean()) {
                if (refused || runs.stopping() || gaveUp) {
                    throw new JobRunner.ClaimLost();
                }
                if (written != seen) {
                    seen = written;
                    stalledAfter = System.nanoTime() + settings.staleAfter().toNanos();
                } else if (System.nanoTime() > stalledAfter) {
                    throw new IOException("waited " + settings.staleAfter().toSeconds() + " s for " + what);
                }
                try {
                    wait(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new JobRunner.ClaimLost();
                }
            }
        }
    }

    void stop() {
        followers.shutdown();
    }

    boolean awaitFollowers(long nanos) throws InterruptedException {
        return followers.awaitTermination(nanos, TimeUnit.NANOSECONDS);
    }

    void abandonFollowers() {
        followers.shutdownNow();
    }
}
