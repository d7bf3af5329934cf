package idex.exchange.jobs.http;

import idex.exchange.jobs.model.Job;
import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.store.JobStore;
import idex.exchange.jobs.store.JobFiles;
import idex.errors.Refusal;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.jobs.schedule.ScheduleDetails;
import idex.exchange.jobs.schedule.ScheduledJobs;
import idex.exchange.segments.CatalogCheck;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.json.Json;
import idex.http.Reply;
import idex.uid2.Uid2Scope;
import io.vertx.ext.web.Router;

import java.time.Instant;
import java.util.function.LongSupplier;

/** Creating, finding and ending jobs (seed 004, spec §4.1, §4.2, §4.4; scheduled ones §4.5). */
public final class JobRoutes implements Feature {

    private final ExchangeApi api;
    private final JobStore jobs;
    private final VisibleJobs visible;
    private final JobCreation creation;
    private final EndpointScope endpointScope;
    private final JobFiles files;
    private final ScheduledJobs scheduledJobs;
    private final LongSupplier clock;

    public JobRoutes(ExchangeApi api, JobStore jobs, EndpointStore endpoints, JobFiles files, Uid2Scope scope,
                     ScheduledJobs scheduledJobs, CatalogCheck catalog, LongSupplier clock) {
        this.api = api;
        this.jobs = jobs;
        this.visible = new VisibleJobs(jobs);
        this.files = files;
        this.creation = new JobCreation(endpoints, scope, catalog);
        this.endpointScope = new EndpointScope(endpoints);
        this.scheduledJobs = scheduledJobs;
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.post("/v1/jobs/segmentExport").handler(api.withBody(req -> create(req, JobCategory.SEGMENT_EXPORT)));
        router.post("/v1/jobs/identityImport").handler(api.withBody(req -> create(req, JobCategory.IDENTITY_IMPORT)));
        router.put("/v1/jobs/:jobId/status/complete").handler(api.handler(this::complete));
        router.put("/v1/jobs/:jobId/status/fail").handler(api.withBody(this::fail));
        router.get("/v1/jobs/:jobCategory").handler(api.handler(this::list));
        router.get("/v1/jobs/:jobCategory/:jobId").handler(api.handler(this::one));
        ApiServer.onlyMethods(router, "/v1/jobs/segmentExport", "GET, POST");
        ApiServer.onlyMethods(router, "/v1/jobs/identityImport", "GET, POST");
        ApiServer.onlyMethods(router, "/v1/jobs/:jobId/status/complete", "PUT");
        ApiServer.onlyMethods(router, "/v1/jobs/:jobId/status/fail", "PUT");
    }

    /**
     * A job now, or with scheduleDetails that say later or repeatedly, a scheduled job (spec §4.5) whose occurrences
     * each get a job: the answer is then the scheduled job ({@link ScheduledJobs#create}).
     */
    private Reply create(ApiRequest req, JobCategory category) {
        JobDefinition definition = JobDefinition.parse(req.json(), category);
        long now = clock.getAsLong();
        ScheduleDetails schedule = ScheduleDetails.parse(definition.scheduleDetails(), Instant.ofEpochMilli(now));
        if (!schedule.onlyNow() && category != JobCategory.SEGMENT_EXPORT) {
            throw Refusal.invalid("Only segment exports are scheduled: an identity import runs now. Remove"
                    + " scheduleDetails, or set runNow true and runRepeat false.");
        }
        JobCreation.Parties parties = creation.check(req.caller(), category, definition);
        JobDefinition stored = withProducer(definition, parties.producer().endpointId(), schedule.toJson());
        if (!schedule.onlyNow()) {
            return Reply.json(201, scheduledJobs.create(req.caller().accountId(), category, stored, schedule));
        }
        long id = jobs.createJob(req.caller().accountId(), category, stored, now);
        Job job = jobs.find(req.caller().accountId(), id).orElseThrow();
        return Reply.json(201, job.toJson(true, true));
    }

    private Reply list(ApiRequest req) {
        JobCategory category = JobCategory.parse(req.path("jobCategory"));
        JobStatus status = req.query("status") == null ? null : JobStatus.parse(req.query("status"));
        Caller caller = req.caller();
        Long endpoint = endpointScope.narrowing(caller, req.query("endpointId", "endpointID"));
        boolean extra = flag(req, "extraFields");
        boolean withString = flag(req, "includeProducerSegmentIDString");
        ArrayNode answer = Json.MAPPER.createArrayNode();
        if (status != JobStatus.NOTFOUND) {
            for (Job j : jobs.list(caller.accountId(), category, endpoint, status)) {
                answer.add(j.toJson(extra, withString));
            }
        }
        return Reply.json(answer);
    }

    private Reply one(ApiRequest req) {
        JobCategory category = JobCategory.parse(req.path("jobCategory"));
        Job job = visible.find(req.caller(), req.path("jobId"));
        if (job.category() != category) {
            throw VisibleJobs.unknown(job.jobId());
        }
        ArrayNode answer = Json.MAPPER.createArrayNode();
        answer.add(job.toJson(true, flag(req, "includeProducerSegmentIDString")));
        return Reply.json(answer);
    }

    private Reply complete(ApiRequest req) {
        Job job = visible.find(req.caller(), req.path("jobId"));
        req.caller().requireActingFor(job.destinationEndpointId(), "Completing a job", "destination");
        boolean done = jobs.completeJob(job.jobId(), clock.getAsLong());
        if (done) {
            // After the commit, so that a download never finds a listed file gone; a crash before this line leaves
            // only unlisted files of a COMPLETE job.
            JobFiles.deleteTree(files.outputDir(job.jobId()));
        }
        return Reply.json(done);
    }

    private Reply fail(ApiRequest req) {
        Job job = visible.find(req.caller(), req.path("jobId"));
        req.caller().requireActingFor(job.producerEndpointId(), "Failing a job", "source");
        JsonNode message = req.json().path("errorMessage");
        if (!message.isTextual() || message.textValue().isBlank()) {
            throw Refusal.invalid("Say why the job failed: {\"errorMessage\":\"…\"}.");
        }
        String text = message.textValue().trim();
        boolean failed = jobs.failWaitingJob(job.jobId(), text.length() > 4000 ? text.substring(0, 4000) : text,
                clock.getAsLong());
        return Reply.json(failed);
    }

    /** The definition as stored: its producer named, its scheduleDetails as parsed (null when absent). */
    private static JobDefinition withProducer(JobDefinition d, long producer, JsonNode scheduleDetails) {
        return new JobDefinition(producer, d.producerSegmentId(), d.producerSegmentIdString(), d.destinationEndpointId(),
                d.destinationSegmentName(), d.destinationSegmentDescription(), d.exportCategory(), d.shareAction(),
                d.updateIdentities(), d.identityMappings(), d.sourceIdentifiers(), d.destinationIdentifier(),
                d.attributeMappings(), scheduleDetails.isNull() ? null : scheduleDetails);
    }

    private static boolean flag(ApiRequest req, String name) {
        String v = req.query(name);
        if (v == null) {
            return false;
        }
        if (!v.equals("true") && !v.equals("false")) {
            throw Refusal.invalid(name + " must be true or false.");
        }
        return v.equals("true");
    }
}
