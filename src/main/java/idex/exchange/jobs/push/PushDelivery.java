package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.delivery.DeliveryMetrics;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.delivery.JobDeliveryLog;
import idex.exchange.delivery.SafeTargets;
import idex.exchange.endpoints.DeclaredAttribute;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.SigningSecret;
import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.store.JobFiles;
import idex.json.Json;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The delivery step of a segment export to a push destination: finds (or creates) the partner's segment by the
 * job's `destinationSegmentName`, then sends the export's files to the partner's segment API, each signed, two at a
 * time (REPLACE's first file, the `PUT`, alone and first). One call of {@link #deliver} goes as far as it can: to the
 * end (COMPLETE), or to a failed attempt, after which the job waits, without a thread, for the retry schedule's next step (or ends in ERROR
 * after the last). Progress is in the store per file, so a restart resends every file not yet delivered and a
 * delivered file is never sent again (it is deleted from disk once accepted).
 */
public final class PushDelivery implements AutoCloseable {

    /** The job's sub-status while its files go out. */
    public static final String DELIVERING = "DELIVERING";

    private static final Logger LOG = LoggerFactory.getLogger(PushDelivery.class);

    private final PushProgress progress;
    private final EndpointStore endpoints;
    private final JobFiles files;
    private final SegmentApi api;
    private final List<Duration> schedule;
    private final Duration disableAfter;
    private final JobDeliveryLog log;
    private final DeliveryMetrics deliveryMetrics;
    private final LongSupplier clock;

    /** Files on the wire at once (ADD and REMOVE; REPLACE's first file goes alone), as the pull downloads them. */
    static final int LANES = 2;
    /** Age past which a file's signature is taken again before it goes out (see FileSending#fresh). */
    static final long MAX_SIGNATURE_AGE_MS = 30_000;

    public PushDelivery(Vertx vertx, Jdbi jdbi, EndpointStore endpoints, JobFiles files, SafeTargets targets,
                        DeliverySettings settings, MeterRegistry metrics, LongSupplier clock, JobDeliveryLog log,
                        DeliveryMetrics deliveryMetrics) {
        this.progress = new PushProgress(jdbi);
        this.endpoints = endpoints;
        this.files = files;
        this.api = new SegmentApi(vertx, targets, settings, new PushMetrics(metrics), files.io(), clock);
        this.schedule = settings.retrySchedule();
        this.disableAfter = settings.disableAfter();
        this.log = log;
        this.deliveryMetrics = deliveryMetrics;
        this.clock = clock;
    }

    /** How a call of {@link #deliver} ended. */
    public sealed interface Outcome {
    }

    /** Every file delivered: the job is COMPLETE. */
    public record Completed(long rows) implements Outcome {
    }

    /** An attempt failed with retries left: the job waits, without a node, until `due`. */
    public record Waiting(long due) implements Outcome {
    }

    /** The last attempt failed (or the job cannot be delivered): the caller ends the job in ERROR with `reason`. */
    public record Failed(String reason) implements Outcome {
    }

    /** The node no longer holds the job (taken over, or stopping): nothing more was done. */
    public record Lost() implements Outcome {
    }

    /** The push destination is turned off: the job waits, without attempts, until its registration is PUT again. */
    public record Parked() implements Outcome {
    }

    /** Delivers a job this node claimed, from where its delivery stands; `held` says whether the claim still holds. */
    public Outcome deliver(Job job, String node, BooleanSupplier held) {
        Optional<Endpoint> found = job.destinationEndpointId() == null ? Optional.empty()
                : endpoints.find(job.accountId(), job.destinationEndpointId());
        if (found.isEmpty() || !found.get().registration().pushDestination()) {
            return gaveUp(job, "The job's destination endpoint " + job.destinationEndpointId() + " is no longer a"
                    + " push destination; its export cannot be delivered.");
        }
        Endpoint destination = found.get();
        if (destination.pushDisabled() != null) {
            return park(job, node, destination);
        }
        String base = stripSlash(destination.registration().url());
        List<SigningSecret> secrets = endpoints.secrets().signing(destination.endpointId(), clock.getAsLong());
        if (secrets.isEmpty()) {
            return gaveUp(job, "The push destination " + destination.endpointId() + " has no signing secret: rotate"
                    + " it (POST /v1/endpoint/{endpointId}/signingSecret) and create the job again.");
        }
        try {
            String segmentId = job.destinationSegmentId();
            if (segmentId == null) {
                long at = clock.getAsLong();
                long started = System.nanoTime();
                Step looked = segment(job, base, destination, secrets);
                attempted(job, destination, JobDeliveryLog.Kind.segmentLookup, null, "job_" + job.jobId() + "_segments",
                        looked.answer, at, started);
                if (looked.value == null) {
                    return failed(job, node, destination, "finding or creating segment \""
                            + job.definition().destinationSegmentName() + "\" at " + base + "/v1/segments", looked.answer);
                }
                segmentId = looked.value;
                if (!progress.segmentFound(job.jobId(), node, segmentId, clock.getAsLong())) {
                    return new Lost();
                }
            }
            String data = base + "/v1/segments/" + pathSegment(segmentId) + "/data";
            // Read again: the secret may have been rotated while the segment was looked up, and the files are signed
            // with the secrets of now.
            List<SigningSecret> current = endpoints.secrets().signing(destination.endpointId(), clock.getAsLong());
            Outcome stopped = new FileSending(job, node, held, data, current.isEmpty() ? secrets : current,
                    destination).run();
            if (stopped != null) {
                return stopped;
            }
            if (!progress.complete(job.jobId(), node, clock.getAsLong())) {
                return new Lost();
            }
            JobFiles.deleteTree(files.jobDir(job.jobId()));
            return new Completed(progress.deliveredRows(job.jobId()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Lost();
        }
    }

    /**
     * Sends a job's undelivered files: up to {@link #LANES} on the wire at once, the next one signed meanwhile, so
     * that the wire does not wait while a file is read for its signature. `REPLACE`'s first file, the `PUT`, goes
     * alone, and the rest only once it is accepted. Each file is marked delivered (and deleted) as soon as the
     * partner accepts it, whatever the order, so a restart resends exactly the files not accepted. After a failure
     * no more files go out; those on the wire are waited for, and recorded if accepted.
     */
    private final class FileSending {

        private final Job job;
        private final String node;
        private final BooleanSupplier held;
        private final String data;
        private final List<SigningSecret> secrets;
        private final Endpoint destination;
        private final ArrayDeque<PushProgress.PushFile> unsigned;
        private final List<OnWire> onWire = new ArrayList<>();
        /** Files not accepted yet: the first is the step whose failures count toward the retry schedule. */
        private final TreeSet<Integer> pending = new TreeSet<>();
        /** The next file, signed while others are on the wire; null when none is. */
        private Signed next;
        /** Why the sending stops (the first failure, or the claim lost), decided once the wire is empty. */
        private Supplier<Outcome> stop;

        FileSending(Job job, String node, BooleanSupplier held, String data, List<SigningSecret> secrets,
                    Endpoint destination) {
            this.job = job;
            this.node = node;
            this.held = held;
            this.data = data;
            this.secrets = secrets;
            this.destination = destination;
            this.unsigned = new ArrayDeque<>(progress.undelivered(job.jobId()));
            unsigned.forEach(f -> pending.add(f.seq()));
        }

        private record Signed(PushProgress.PushFile file, SegmentApi.SignedFile request) {
        }

        /**
         * A file's request under way, started at `at` (clock) and `startedNanos`; `deadline` (System.nanoTime) guards
         * against an answer that never comes.
         */
        private record OnWire(Signed signed, CompletableFuture<SegmentApi.Answer> answer, long deadline, long at,
                              long startedNanos) {
        }

        /** Null once every file is delivered; otherwise how the delivery stopped. */
        Outcome run() throws InterruptedException {
            while (true) {
                while (stop == null && (next != null || !unsigned.isEmpty()) && mayStart(nextFile())) {
                    if (!held.getAsBoolean()) {
                        stop = Lost::new;
                        break;
                    }
                    Signed s = next != null && fresh(next) ? next : sign(next != null ? next.file() : unsigned.poll());
                    next = null;
                    if (s != null) {
                        long at = clock.getAsLong();
                        long started = System.nanoTime();
                        onWire.add(new OnWire(s, api.send(s.request()), started
                                + TimeUnit.MILLISECONDS.toNanos(api.deadlineMs(s.request().size()) + 5_000), at, started));
                    }
                }
                if (stop == null && next == null && !unsigned.isEmpty()) {
                    next = sign(unsigned.poll()); // while the wire carries the files started
                    continue;
                }
                if (onWire.isEmpty()) {
                    return stop == null ? null : stop.get();
                }
                settle(firstAnswered());
            }
        }

        private PushProgress.PushFile nextFile() {
            return next != null ? next.file() : unsigned.peek();
        }

        /** A file may go out when a lane is free and neither it nor one on the wire is REPLACE's first. */
        private boolean mayStart(PushProgress.PushFile file) {
            return onWire.isEmpty() || onWire.size() < LANES && !alone(file)
                    && onWire.stream().noneMatch(w -> alone(w.signed().file()));
        }

        private boolean alone(PushProgress.PushFile file) {
            return "REPLACE".equals(job.definition().shareAction()) && file.seq() == 1;
        }

        /**
         * A signature taken long before its file goes out is taken again: the receiver checks the timestamp against
         * the Standard Webhooks tolerance (5 minutes) only once the whole body is in.
         */
        private boolean fresh(Signed s) {
            return clock.getAsLong() - s.request().signedAt() <= MAX_SIGNATURE_AGE_MS;
        }

        /** Signs a file (its timestamp now); null, with the sending stopped, when it cannot be read. */
        private Signed sign(PushProgress.PushFile f) {
            String share = job.definition().shareAction();
            HttpMethod method = alone(f) ? HttpMethod.PUT : HttpMethod.POST;
            String url = "REMOVE".equals(share) ? data + "/remove" : data;
            Path path = files.outputFile(job.jobId(), f.name());
            if (!Files.isRegularFile(path)) {
                stopWith(() -> gaveUp(job, "Segment data file " + f.name() + " of the export is missing from the"
                        + " server's files directory; create the job again."));
                return null;
            }
            try {
                return new Signed(f, api.sign(method, url, webhookId(job, f.name()), path, secrets));
            } catch (IOException e) {
                SegmentApi.Answer answer = new SegmentApi.Answer(null, e.getClass().getSimpleName() + ": "
                        + e.getMessage(), null, null);
                stopWith(() -> failed(job, node, null, "reading the export's file " + f.name(), answer));
                return null;
            }
        }

        /** The first file on the wire to get its answer (or to pass its deadline, which its own timer guards). */
        private OnWire firstAnswered() throws InterruptedException {
            long due = onWire.stream().mapToLong(OnWire::deadline).min().orElseThrow();
            try {
                CompletableFuture.anyOf(onWire.stream().map(OnWire::answer).toArray(CompletableFuture[]::new))
                        .get(Math.max(1, due - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (ExecutionException | TimeoutException e) {
                // answers never complete exceptionally; past its deadline, a file is given up as unanswered
                for (OnWire w : onWire) {
                    if (w.deadline() - due <= 0) {
                        w.answer().complete(new SegmentApi.Answer(null, "no answer within the attempt's deadline",
                                null, null));
                    }
                }
            }
            OnWire done = onWire.stream().filter(w -> w.answer().isDone()).findFirst().orElseThrow();
            onWire.remove(done);
            return done;
        }

        /** A file's attempt has its outcome: accepted (marked delivered, deleted) or failed (the sending stops). */
        private void settle(OnWire w) {
            PushProgress.PushFile f = w.signed().file();
            SegmentApi.SignedFile request = w.signed().request();
            SegmentApi.Answer answer = w.answer().join();
            attempted(job, destination, JobDeliveryLog.Kind.segmentFile, f.name(), webhookId(job, f.name()), answer,
                    w.at(), w.startedNanos());
            if (!answer.ok()) {
                stopWith(() -> failed(job, node, destination, request.method() + " " + request.url() + " of file "
                        + f.name() + " (" + f.seq() + ")", answer));
            } else if (!progress.delivered(job.jobId(), node, f.seq(), pending.first() == f.seq(),
                    clock.getAsLong())) {
                stopWith(Lost::new);
            } else {
                pending.remove(f.seq());
                JobFiles.deleteQuietly(request.path()); // delivered: never sent again, so no longer needed
            }
        }

        private void stopWith(Supplier<Outcome> why) {
            if (stop == null) {
                stop = why;
            }
        }
    }

    /** A value (null when the step failed) and the answer that decided it. */
    private record Step(String value, SegmentApi.Answer answer) {
    }

    /**
     * The partner's id of the job's segment: the one of `GET /v1/segments` named `destinationSegmentName`, or a new
     * one from `POST /v1/segments`.
     */
    private Step segment(Job job, String base, Endpoint destination, List<SigningSecret> secrets)
            throws InterruptedException {
        JobDefinition d = job.definition();
        String name = d.destinationSegmentName();
        SegmentApi.Answer listed = api.json(HttpMethod.GET, base + "/v1/segments", "job_" + job.jobId() + "_segments",
                null, secrets);
        if (!listed.ok()) {
            return new Step(null, listed);
        }
        JsonNode segments = parse(listed.body());
        if (segments == null || !segments.isArray()) {
            return new Step(null, unreadable(listed, "a JSON array of {\"id\",\"name\"}"));
        }
        for (JsonNode s : segments) {
            if (name.equals(s.path("name").asText(null)) && idOf(s) != null) {
                return new Step(idOf(s), listed);
            }
        }
        ObjectNode body = Json.object();
        body.put("name", name);
        body.put("description", d.destinationSegmentDescription());
        ArrayNode attributes = body.putArray("attributes");
        for (String a : d.attributeMappings().values()) {
            String type = destination.registration().attribute(a).map(DeclaredAttribute::type).orElse("string");
            attributes.addObject().put("name", a).put("type", type);
        }
        SegmentApi.Answer created = api.json(HttpMethod.POST, base + "/v1/segments", "job_" + job.jobId() + "_segment",
                Json.write(body), secrets);
        if (!created.ok()) {
            return new Step(null, created);
        }
        JsonNode answer = parse(created.body());
        String id = answer == null ? null : idOf(answer);
        return id == null ? new Step(null, unreadable(created, "{\"id\": …}")) : new Step(id, created);
    }

    /**
     * Records one attempt at a call to the push destination, where its outcome is learnt: in the delivery log (the
     * entry of the segment lookup or of the file), in the delivery metrics, and in the destination's failure
     * streak, which turns the destination off once every call failed for --delivery-disable-after.
     */
    private void attempted(Job job, Endpoint destination, JobDeliveryLog.Kind kind, String file, String webhookId,
                           SegmentApi.Answer answer, long at, long startedNanos) {
        int ms = (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - startedNanos) / 1_000_000);
        boolean worked = answer.ok() && answer.error() == null; // a 2xx that is not the JSON expected failed too
        log.attempted(new JobDeliveryLog.Item(job.accountId(), destination.endpointId(), job.jobId(), kind, file,
                webhookId), new JobDeliveryLog.Call(at, answer.status(), worked ? null : answer.describe(), ms));
        deliveryMetrics.attempted(kind.name(), worked, ms);
        long now = clock.getAsLong();
        OptionalLong failingSince = endpoints.pushCallOutcome(destination.endpointId(), worked, at);
        if (failingSince.isPresent() && now - failingSince.getAsLong() >= disableAfter.toMillis()) {
            String reason = "every call to the push destination failed for " + human(disableAfter)
                    + "; PUT its registration again (PUT /v1/endpoint) to resume its jobs";
            endpoints.turnOffPushDestination(destination.endpointId(), reason, now);
            LOG.warn("Push destination {} turned off: {}", destination.endpointId(), reason);
        }
    }

    private static String human(Duration d) {
        return d.toDays() > 0 && d.toHours() % 24 == 0 ? d.toDays() + " days" : d.toMillis() + " ms";
    }

    /** The job waits for its destination to be enabled again, or is due at once if it was meanwhile. */
    private Outcome park(Job job, String node, Endpoint destination) {
        long now = clock.getAsLong();
        if (progress.park(job.jobId(), node, destination.endpointId(), now)) {
            LOG.info("Job {} waits: its push destination {} is turned off", job.jobId(), destination.endpointId());
            return new Parked();
        }
        return progress.retryLater(job.jobId(), node, progress.failures(job.jobId()), now, now)
                ? new Waiting(now) : new Lost();
    }

    /** The job cannot be delivered: its log entries still pending are FAILED, and it ends in ERROR. */
    private Failed gaveUp(Job job, String reason) {
        log.failPending(job.jobId(), clock.getAsLong());
        return new Failed(reason);
    }

    /**
     * A failed attempt: the job waits for the schedule's next step (sooner if the partner's Retry-After asks), or,
     * after the last, fails naming the partner's last answer; it waits without attempts if the failure turned its
     * destination (null: not a call's failure) off.
     */
    private Outcome failed(Job job, String node, Endpoint destination, String what, SegmentApi.Answer answer) {
        if (destination != null && endpoints.find(job.accountId(), destination.endpointId())
                .map(Endpoint::pushDisabled).isPresent()) {
            return park(job, node, destination);
        }
        int failures = progress.failures(job.jobId()) + 1;
        OptionalLong next = DeliverySettings.retryWait(schedule, failures - 1, answer.retryAfterMs());
        if (next.isEmpty()) {
            return gaveUp(job, "Delivery to the push destination failed after " + failures + " attempt"
                    + (failures == 1 ? "" : "s") + " at " + what + "; the partner's last answer: " + answer.describe());
        }
        long wait = next.getAsLong();
        long now = clock.getAsLong();
        if (!progress.retryLater(job.jobId(), node, failures, now + wait, now)) {
            return new Lost();
        }
        LOG.info("Job {}: {} failed ({}); attempt {} of {}, the next in {} ms", job.jobId(), what, answer.describe(),
                failures, schedule.size() + 1, wait);
        return new Waiting(now + wait);
    }

    private static SegmentApi.Answer unreadable(SegmentApi.Answer a, String expected) {
        return new SegmentApi.Answer(a.status(), "HTTP " + a.status() + " but not " + expected, null, a.body());
    }

    private static JsonNode parse(String text) {
        try {
            return text == null || text.isBlank() ? null : Json.MAPPER.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    /** A segment's id, a string or a number; null when missing or empty. */
    private static String idOf(JsonNode segment) {
        JsonNode id = segment.path("id");
        String text = id.isTextual() || id.isNumber() ? id.asText() : null;
        return text == null || text.isEmpty() || text.length() > 256 ? null : text;
    }

    /**
     * The Standard Webhooks message id of one file: the same on every retry, so that a receiver can drop a file
     * it already has.
     */
    static String webhookId(Job job, String fileName) {
        return "job_" + job.jobId() + "_" + fileName;
    }

    private static String pathSegment(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    @Override
    public void close() {
        api.close();
    }
}
