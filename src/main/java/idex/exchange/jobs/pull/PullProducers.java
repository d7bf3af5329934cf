package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.auth.KeyHash;
import idex.exchange.delivery.DeliveryLog;
import idex.exchange.delivery.DeliveryMetrics;
import idex.exchange.delivery.JobDeliveryLog;
import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.SigningSecret;
import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.store.JobFiles;
import idex.exchange.jobs.store.JobStore;
import idex.json.Json;
import io.vertx.core.http.HttpMethod;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Fetches the data of jobs whose producer is a pull producer, instead of waiting for an upload (the partner-side
 * contract is in docs/exchange-api.md): `POST {url}/v1/jobs {"segmentId"}` starts the partner's job, `GET
 * {url}/v1/jobs/{jobId}` is polled (waits doubling from {@link PullSettings#firstWait()} to
 * {@link PullSettings#longestWait()}) until READY or FAILED, then each data file is downloaded into the job's upload
 * ({@link PulledData}) and the job goes on exactly as after an upload. Meanwhile the job waits for data with
 * sub-status PULLING; FAILED, a refusal, or no READY within {@link PullSettings#timeout()} ends it in ERROR.
 *
 * <p>No thread waits between two polls: the state (the partner's job id, when the next poll is due) is in the store
 * ({@link PullStore}), a timer leases the jobs that are due, and a small pool runs one step each (one call, or the
 * download). So a restart, or another node, resumes polling the same partner job; and a call that fails for now
 * (no connection, a 5xx, a timeout) is simply asked again at the next poll.
 */
public final class PullProducers implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PullProducers.class);
    private static final long LOOK_EVERY_MS = 250;

    private final PullStore store;
    private final JobStore jobs;
    private final EndpointStore endpoints;
    private final PartnerClient client;
    private final PulledData data;
    private final PullSettings settings;
    private final JobDeliveryLog log;
    private final DeliveryMetrics metrics;
    private final Runnable wakeJobs;
    private final LongSupplier clock;
    private final long leaseMs;
    private final String node = "pull-" + KeyHash.randomToken(9);
    private final Semaphore slots;
    private final ScheduledExecutorService timer;
    private final ExecutorService workers;
    private volatile boolean stopping;

    /**
     * @param callTimeout the bound of one call (the delivery timeout), which the leases outlast
     * @param workers     steps run at once (calls or downloads)
     * @param wakeJobs    tells job processing that a job has data now
     */
    public PullProducers(Jdbi jdbi, JobStore jobs, EndpointStore endpoints, JobFiles files, PartnerClient client,
                         PullSettings settings, Duration callTimeout, int workers, Runnable wakeJobs,
                         LongSupplier clock, JobDeliveryLog log, DeliveryMetrics metrics) {
        this.store = new PullStore(jdbi, jobs);
        this.jobs = jobs;
        this.endpoints = endpoints;
        this.client = client;
        this.data = new PulledData(files, clock);
        this.settings = settings;
        this.log = log;
        this.metrics = metrics;
        this.wakeJobs = wakeJobs;
        this.clock = clock;
        this.leaseMs = Math.max(30_000, 3 * callTimeout.toMillis());
        this.slots = new Semaphore(workers);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "idex-pull-timer"));
        this.workers = Executors.newFixedThreadPool(workers, r -> thread(r, "idex-pull-worker"));
    }

    public void start() {
        timer.scheduleWithFixedDelay(this::leaseDue, 0, LOOK_EVERY_MS, TimeUnit.MILLISECONDS);
    }

    private void leaseDue() {
        try {
            int free = slots.availablePermits();
            if (free == 0 || stopping) {
                return;
            }
            long now = clock.getAsLong();
            for (long jobId : store.due(now, free)) {
                if (stopping || !slots.tryAcquire()) {
                    return;
                }
                Optional<PullState> leased = store.lease(jobId, node, now, now + leaseMs);
                if (leased.isEmpty()) {
                    slots.release();
                    continue;
                }
                workers.execute(() -> {
                    try {
                        step(leased.get());
                    } finally {
                        slots.release();
                    }
                });
            }
        } catch (RuntimeException e) {
            LOG.warn("Looking for due pulls failed; trying again", e);
        }
    }

    /** One step of a leased pull: start the partner's job, or poll it (and download its data once ready). */
    private void step(PullState s) {
        try {
            Optional<Job> found = jobs.find(s.accountId(), s.jobId());
            if (found.isEmpty() || found.get().status() != JobStatus.WAITING_TO_RECIEVE_DATA) {
                store.release(s.jobId(), node);
                return;
            }
            Job job = found.get();
            Optional<Endpoint> producer = endpoints.find(job.accountId(), job.producerEndpointId());
            if (producer.isEmpty() || producer.get().registration().audienceRole() != AudienceRole.SOURCE
                    || !"pull".equals(producer.get().registration().audienceMode())) {
                store.release(s.jobId(), node);
                return;
            }
            long now = clock.getAsLong();
            if (now >= s.started() + settings.timeout().toMillis()) {
                end(s, "The pull producer's data was not ready within the pull timeout of "
                        + human(settings.timeout()) + (s.partnerJobId() == null ? " (its job could not be started)"
                        : " (its job " + s.partnerJobId() + ", " + s.polls() + " polls)")
                        + (s.lastError() == null ? "." : "; last problem: " + s.lastError() + "."));
                return;
            }
            String url = producer.get().registration().url();
            if (url == null) {
                end(s, "Pull producer " + job.producerEndpointId() + " has no url: register its API's base URL.");
                return;
            }
            List<SigningSecret> secrets = endpoints.secrets().signing(job.producerEndpointId(), now);
            if (s.partnerJobId() == null) {
                startPartnerJob(s, job, url, secrets);
            } else {
                poll(s, job, producer.get(), url, secrets);
            }
        } catch (PartnerCallFailed e) {
            later(s, e.getMessage());
        } catch (PullRefused e) {
            end(s, e.getMessage());
        } catch (LeaseLost e) {
            if (stopping) {
                LOG.info("Pull of job {} stopped: this node is stopping (it resumes on the next start)", s.jobId());
            } else {
                LOG.warn("Pull of job {} was taken over; this step stopped without effect", s.jobId());
            }
        } catch (IOException | RuntimeException e) {
            if (stopping) {
                store.release(s.jobId(), node);
            } else {
                LOG.error("Pull of job {} failed", s.jobId(), e);
                later(s, "the exchange could not complete the step: " + e.getClass().getSimpleName());
            }
        }
    }

    private void startPartnerJob(PullState s, Job job, String url, List<SigningSecret> secrets)
            throws PartnerCallFailed, PullRefused {
        JobDefinition d = job.definition();
        String segment = d.producerSegmentIdString() != null ? d.producerSegmentIdString()
                : d.producerSegmentId() == null ? null : d.producerSegmentId().toString();
        byte[] body = Json.write(Json.object().put("segmentId", segment)).getBytes(StandardCharsets.UTF_8);
        // A node that stops after the partner started its job but before the id is stored asks again: the same
        // Idempotency-Key lets the partner answer its first job instead of starting a second.
        Called called = call(job, HttpMethod.POST, PartnerPaths.under(url, "/v1/jobs"), body, secrets,
                Map.of("Idempotency-Key", "idex-job-" + job.jobId()));
        PartnerClient.Answer a = called.answer();
        if (!a.ok()) {
            if (permanent(a.status())) {
                throw new PullRefused("The pull producer refused to start a job for segment " + segment
                        + ": POST /v1/jobs answered " + a.describe());
            }
            throw new PartnerCallFailed("POST /v1/jobs answered " + a.describe());
        }
        JsonNode id = a.json() == null ? null : a.json().path("jobId");
        if (id == null || !(id.isTextual() || id.isIntegralNumber()) || id.asText().isEmpty()
                || id.asText().length() > 256) {
            String problem = "POST /v1/jobs answered no \"jobId\" (a string of up to 256 characters)";
            logJob(job, called, problem, DeliveryLog.Status.PENDING);
            throw new PartnerCallFailed(problem);
        }
        logJob(job, called, null, DeliveryLog.Status.PENDING); // started: the entry waits for READY
        long wait = settings.nextWaitMs(0);
        if (!store.created(s.jobId(), node, id.asText(), clock.getAsLong() + wait, wait)) {
            throw new LeaseLost();
        }
        LOG.info("Job {}: pull producer {} started its job {}", job.jobId(), job.producerEndpointId(), id.asText());
    }

    private void poll(PullState s, Job job, Endpoint producer, String url, List<SigningSecret> secrets)
            throws PartnerCallFailed, PullRefused, IOException {
        String jobUrl = PartnerPaths.under(url, "/v1/jobs/" + PartnerPaths.segment(s.partnerJobId()));
        Called called = call(job, HttpMethod.GET, jobUrl, null, secrets, Map.of());
        PartnerClient.Answer a = called.answer();
        if (!a.ok()) {
            if (a.status() == 404 || a.status() == 410) {
                throw new PullRefused("The pull producer no longer knows its job " + s.partnerJobId() + ": GET"
                        + " /v1/jobs/{jobId} answered " + a.describe());
            }
            throw new PartnerCallFailed("GET /v1/jobs/{jobId} answered " + a.describe());
        }
        JsonNode json = a.json();
        String status = json == null ? null : json.path("status").asText(null);
        if ("FAILED".equals(status)) {
            String message = json.path("message").asText("");
            logJob(job, called, "the partner's job FAILED" + (message.isBlank() ? "" : ": " + message),
                    DeliveryLog.Status.FAILED);
            throw new PullRefused("The pull producer's job " + s.partnerJobId() + " FAILED"
                    + (message.isBlank() ? " without a message." : ": " + message));
        }
        if (!"READY".equals(status)) {
            later(s, null);
            return;
        }
        List<String> dataFiles = new ArrayList<>();
        JsonNode listed = json.path("dataFiles");
        if (!listed.isArray()) {
            String problem = "GET /v1/jobs/{jobId} answered READY without a \"dataFiles\" array";
            logJob(job, called, problem, DeliveryLog.Status.PENDING);
            throw new PartnerCallFailed(problem);
        }
        logJob(job, called, null, DeliveryLog.Status.DELIVERED);
        listed.forEach(f -> dataFiles.add(f.asText()));
        String upload = data.download(job.jobId(), dataFiles,
                fileId -> client.stream(jobUrl + "/data/" + PartnerPaths.segment(fileId), secrets,
                        Map.of("Accept-Encoding", "gzip")),
                producer.registration(), producer.endpointId(), () -> keep(s),
                (fileId, at, httpStatus, error, ms) -> {
                    metrics.attempted(JobDeliveryLog.Kind.pullFile.name(), error == null, ms);
                    log.attempted(new JobDeliveryLog.Item(job.accountId(), job.producerEndpointId(), job.jobId(),
                            JobDeliveryLog.Kind.pullFile, fileId, null), new JobDeliveryLog.Call(at, httpStatus, error, ms));
                });
        if (!store.accept(s.jobId(), node, upload, clock.getAsLong())) {
            JobFiles.deleteQuietly(data.uploadPath(job.jobId(), upload));
            throw new LeaseLost();
        }
        LOG.info("Job {}: pulled {} data file(s) of the producer's job {}", job.jobId(), dataFiles.size(),
                s.partnerJobId());
        wakeJobs.run();
    }

    /** A call to the partner's job API, when it started and how long it took. */
    private record Called(PartnerClient.Answer answer, long at, int ms) {
    }

    /**
     * One call about the partner's job (start or poll), counted in the delivery metrics; one that failed (no answer,
     * or not 2xx) is an attempt of the job's `pullJob` entry in the delivery log. A poll that answers "not ready yet"
     * is not logged (a day-long wait would be thousands of rows): the start, failed polls and the final READY or
     * FAILED are.
     */
    private Called call(Job job, HttpMethod method, String url, byte[] body, List<SigningSecret> secrets,
                        Map<String, String> headers) throws PartnerCallFailed {
        long at = clock.getAsLong();
        long started = System.nanoTime();
        try {
            PartnerClient.Answer a = client.call(method, url, body, secrets, headers);
            Called called = new Called(a, at, millisSince(started));
            metrics.attempted(JobDeliveryLog.Kind.pullJob.name(), a.ok(), called.ms());
            if (!a.ok()) {
                logJob(job, called, a.describe(), DeliveryLog.Status.PENDING);
            }
            return called;
        } catch (PartnerCallFailed e) {
            Called called = new Called(null, at, millisSince(started));
            metrics.attempted(JobDeliveryLog.Kind.pullJob.name(), false, called.ms());
            logJob(job, called, e.getMessage(), DeliveryLog.Status.PENDING);
            throw e;
        }
    }

    /** An attempt of the job's `pullJob` entry (its end, FAILED after a refusal or the timeout, is {@link #end}'s). */
    private void logJob(Job job, Called called, String error, DeliveryLog.Status status) {
        log.recorded(new JobDeliveryLog.Item(job.accountId(), job.producerEndpointId(), job.jobId(),
                        JobDeliveryLog.Kind.pullJob, null, null),
                new JobDeliveryLog.Call(called.at(), called.answer() == null ? null : called.answer().status(), error,
                        called.ms()), status);
    }

    private static int millisSince(long startedNanos) {
        return (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - startedNanos) / 1_000_000);
    }

    /** 4xx answers other than timeouts and rate limits: asking again gets the same. */
    private static boolean permanent(int status) {
        return status >= 400 && status < 500 && status != 408 && status != 425 && status != 429;
    }

    private void keep(PullState s) {
        if (stopping || !store.renew(s.jobId(), node, clock.getAsLong() + leaseMs)) {
            throw new LeaseLost();
        }
    }

    /** The next poll, after the next wait (never past the timeout, so the timeout is noticed on time). */
    private void later(PullState s, String error) {
        long wait = settings.nextWaitMs(s.waitMs());
        long now = clock.getAsLong();
        long next = Math.min(now + wait, s.started() + settings.timeout().toMillis());
        if (error != null) {
            LOG.info("Job {}: pull step failed for now, next try in {} ms: {}", s.jobId(), next - now, error);
        }
        store.pollLater(s.jobId(), node, next, wait, error);
    }

    private void end(PullState s, String reason) {
        // The log first, so that whoever sees the job in ERROR sees its entries FAILED (a step that lost its lease
        // meanwhile is another node's: its next attempt makes the entry PENDING again).
        log.failPending(s.jobId(), clock.getAsLong());
        if (store.fail(s.jobId(), node, reason, clock.getAsLong())) {
            LOG.info("Job {} ended in ERROR while pulling: {}", s.jobId(), reason);
        }
    }

    private static String human(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + " h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** The lease of a step was lost (or the node is stopping): the step stops without effect. */
    private static final class LeaseLost extends RuntimeException {
        LeaseLost() {
            super("the pull is no longer this node's", null, false, false);
        }
    }

    /** Stops leasing, lets steps in flight end, and gives back this node's leases for a restart to go on at once. */
    @Override
    public void close() {
        stopping = true;
        timer.shutdownNow();
        workers.shutdown();
        try {
            if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
                workers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            store.releaseAll(node);
        } catch (RuntimeException e) {
            LOG.warn("Could not give back the pull leases of this node; they run out by themselves", e);
        }
        client.close();
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
