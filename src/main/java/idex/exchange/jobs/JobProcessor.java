package idex.exchange.jobs;

import idex.auth.KeyHash;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.filters.IdentityFilterRules;
import idex.exchange.identity.IdentityStore;
import idex.exchange.jobs.translate.UidSnapshot;
import idex.files.AlignedFileInput;
import idex.uid2.Uid2Scope;
import org.jdbi.v3.core.Handle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Runs PENDING jobs on a bounded pool of this node's threads, never on the event loop (spec §4.2).
 *
 * <p>A node claims a job by moving it PENDING → RUNNING under its name, then keeps the claim alive with a heartbeat.
 * A RUNNING job whose heartbeat stopped (its node crashed, or was stopped without giving the job back) is taken back
 * to PENDING by any node once it is {@link JobSettings#staleAfter() stale}, and after {@value #MAX_ATTEMPTS} cut-off
 * runs it is ended in ERROR instead, so that a job that crashes its server cannot do so for ever. A run that finds its
 * claim gone stops without effect: only the holder of the claim can end the job.
 */
public final class JobProcessor implements AutoCloseable {

    static final int MAX_ATTEMPTS = 3;
    private static final Logger LOG = LoggerFactory.getLogger(JobProcessor.class);
    private static final long POLL_MILLIS = 500;

    private final JobStore jobs;
    private final JobRunner runner;
    private final JobFiles files;
    private final JobSettings settings;
    private final LongSupplier clock;
    /** This node's name on the jobs it claims: unique per start, so that a restarted node never mistakes old claims. */
    private final String node = "node-" + KeyHash.randomToken(9);
    private final Semaphore slots;
    /**
     * Runs that follow an upload have slots of their own: a slow upload then never keeps a queued job from a worker.
     * A follower uses CPU only as fast as its upload arrives.
     */
    private final Semaphore followSlots;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private final ExecutorService followers;
    private final Map<Long, AtomicBoolean> running = new ConcurrentHashMap<>();
    /** Jobs whose upload a run of this node follows: one run per job. */
    private final Set<Long> following = ConcurrentHashMap.newKeySet();
    private volatile boolean stopping;

    public JobProcessor(JobStore jobs, EndpointStore endpoints, IdentityStore identities, IdentityFilterRules filters,
                        JobFiles files, Supplier<UidSnapshot> uids, Uid2Scope scope, JobSettings settings,
                        LongSupplier clock) {
        this.jobs = jobs;
        this.runner = new JobRunner(jobs, endpoints, identities, filters, files, uids, scope, settings.rowsPerFile(), clock);
        this.files = files;
        this.settings = settings;
        this.clock = clock;
        this.slots = new Semaphore(settings.workers());
        this.followSlots = new Semaphore(settings.workers());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "idex-jobs-timer"));
        this.workers = Executors.newFixedThreadPool(settings.workers(), r -> thread(r, "idex-job-worker"));
        this.followers = Executors.newFixedThreadPool(settings.workers(), r -> thread(r, "idex-job-follower"));
    }

    /** Takes back stale jobs, tidies the files directory, then polls for work and beats for the jobs it runs. */
    public void start() {
        recoverStale();
        sweepFiles();
        timer.scheduleWithFixedDelay(this::claimWhatFits, 0, POLL_MILLIS, TimeUnit.MILLISECONDS);
        long beat = Math.max(100, settings.staleAfter().toMillis() / 3);
        timer.scheduleWithFixedDelay(this::beat, beat, beat, TimeUnit.MILLISECONDS);
    }

    /** Looks for work now (an upload was just accepted) rather than at the next poll. */
    public void wake() {
        if (!stopping) {
            try {
                timer.execute(this::claimWhatFits);
            } catch (RuntimeException ignored) {
                // stopping: the job stays PENDING for the next start
            }
        }
    }

    private void claimWhatFits() {
        try {
            while (!stopping && slots.tryAcquire()) {
                Optional<Job> claimed = jobs.claim(node, clock.getAsLong());
                if (claimed.isEmpty()) {
                    slots.release();
                    return;
                }
                Job job = claimed.get();
                AtomicBoolean held = new AtomicBoolean(true);
                running.put(job.jobId(), held);
                workers.execute(() -> runClaimed(job, held));
            }
        } catch (RuntimeException e) {
            LOG.warn("Looking for pending jobs failed; trying again at the next poll", e);
        }
    }

    private void runClaimed(Job job, AtomicBoolean held) {
        long started = System.nanoTime();
        try {
            JobRunner.FinishedRun run = runner.run(job, node, () -> held.get() && !stopping);
            logFinished(job, run, started, "");
            if (run.spawnedJobId() != 0) {
                wake();
            }
        } catch (IOException | RuntimeException e) {
            runFailed(job, e);
        } finally {
            running.remove(job.jobId());
            slots.release();
            if (!stopping) {
                wake(); // a slot is free
            }
        }
    }

    /** One line per finished run: what an operator needs to see a job's size and speed without querying the store. */
    private static void logFinished(Job job, JobRunner.FinishedRun run, long startedNanos, String how) {
        LOG.info("Job {} ({}) finished{} in {} ms: {} rows in, {} out, {} skipped", job.jobId(), job.category(), how,
                (System.nanoTime() - startedNanos) / 1_000_000, run.rowsIn(), run.rowsOut(), run.rowsSkipped());
    }

    /** Settles a run of a job this node holds that did not finish: given back, taken over, or in ERROR. */
    private void runFailed(Job job, Exception e) {
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

    /**
     * Starts processing a SEGMENT_EXPORT while its upload arrives, if a worker is free: upload and processing then
     * overlap instead of following each other. The run reads the upload's file as it grows and writes its segment
     * data files as usual, but ends the job only if the upload is accepted and the run claims the job in the
     * acceptance's transaction (see {@link Follower}); otherwise it throws its output away and the job is processed
     * as usual. Answers what the upload reports to ({@link UploadProgress#NONE} when not followed).
     */
    public UploadProgress follow(Job job, Path part, boolean gzip) {
        if (stopping || !settings.followUploads() || job.category() != JobCategory.SEGMENT_EXPORT
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
                JobRunner.FinishedRun run = runner.follow(job, node, this::goesOn, in, gzip, this::awaitAcceptance);
                logFinished(job, run, started, " while its upload arrived");
                // a spawned job waits in PENDING: the wake below finds it
            } catch (IOException | RuntimeException e) {
                if (giveUp()) {
                    if (!(e instanceof JobRunner.ClaimLost)) {
                        LOG.info("Processing job {} while its upload arrives stopped ({}); it is processed once"
                                + " the upload is accepted", job.jobId(), e.toString());
                    }
                } else {
                    runFailed(job, e);
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
                running.remove(job.jobId());
                following.remove(job.jobId());
                followSlots.release();
                if (!stopping) {
                    wake();
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
            return held.get() && !stopping;
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
            if (gaveUp || refused || stopping || !jobs.claim(h, job.jobId(), node, now)) {
                return false;
            }
            claimed = true;
            return true;
        }

        @Override
        public synchronized void accepted(Path file) {
            accepted = file;
            if (claimed && !done) {
                running.put(job.jobId(), held);
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
                if (refused || stopping || gaveUp) {
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

    private void endInError(Job job, String reason) {
        String text = reason.length() > 4000 ? reason.substring(0, 4000) : reason;
        if (jobs.failRun(job.jobId(), node, text, clock.getAsLong())) {
            JobFiles.deleteTree(files.outputDir(job.jobId()));
        }
    }

    private void beat() {
        try {
            long now = clock.getAsLong();
            running.forEach((jobId, held) -> {
                if (!jobs.heartbeat(jobId, node, now)) {
                    held.set(false);
                }
            });
            recoverStale();
        } catch (RuntimeException e) {
            LOG.warn("Job heartbeat failed; trying again", e);
        }
    }

    private void recoverStale() {
        long now = clock.getAsLong();
        int n = jobs.recoverStale(now - settings.staleAfter().toMillis(), MAX_ATTEMPTS, now);
        if (n > 0) {
            LOG.info("Took back {} running job(s) whose node stopped beating", n);
        }
    }

    /**
     * Removes files no job needs: directories of jobs that ended (or never came to exist: a run cut off between
     * preparing a spawned job's upload and creating it), and stale segment files of jobs still waiting for data.
     * Directories younger than the stale timeout are left alone, as another node may be about to register them.
     */
    private void sweepFiles() {
        Path root = files.jobDir(0).getParent();
        if (!Files.isDirectory(root)) {
            return;
        }
        List<Long> ids = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path d : dirs) {
                try {
                    ids.add(Long.parseLong(d.getFileName().toString()));
                } catch (NumberFormatException ignored) {
                    // not a job's directory
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not list the job files directory {}", root, e);
            return;
        }
        Map<Long, JobStatus> statuses = jobs.statuses(ids.toArray(Long[]::new));
        long youngest = System.currentTimeMillis() - settings.staleAfter().toMillis();
        for (long id : ids) {
            JobStatus s = statuses.get(id);
            Path dir = files.jobDir(id);
            if ((s == null && olderThan(dir, youngest)) || (s != null && s.isFinal())) {
                JobFiles.deleteTree(dir);
            } else if (s == JobStatus.WAITING_TO_RECIEVE_DATA) {
                removeStaleFiles(files.outputDir(id), youngest);
            }
        }
    }

    /**
     * Segment files of a job still waiting for data were begun by a run that followed an upload cut off by a crash.
     * File by file, and only those untouched for the stale timeout: a run following an upload on another node
     * writes to its file as the upload arrives, and gives up by itself when the upload stalls that long.
     */
    private static void removeStaleFiles(Path outputDir, long youngest) {
        if (!Files.isDirectory(outputDir)) {
            return;
        }
        try (DirectoryStream<Path> found = Files.newDirectoryStream(outputDir)) {
            for (Path f : found) {
                if (olderThan(f, youngest)) {
                    JobFiles.deleteQuietly(f);
                }
            }
        } catch (IOException e) {
            LOG.warn("Could not tidy {}", outputDir, e);
        }
    }

    private static boolean olderThan(Path dir, long millis) {
        try {
            FileTime t = Files.getLastModifiedTime(dir);
            return t.toMillis() < millis;
        } catch (IOException e) {
            return false;
        }
    }

    /** Stops claiming, lets running jobs notice and give themselves back to the queue, then stops the threads. */
    @Override
    public void close() {
        stopping = true;
        timer.shutdownNow();
        workers.shutdown();
        followers.shutdown();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)
                    || !followers.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                LOG.warn("Jobs still running at stop: they are taken back once their heartbeat is stale");
                workers.shutdownNow();
                followers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
