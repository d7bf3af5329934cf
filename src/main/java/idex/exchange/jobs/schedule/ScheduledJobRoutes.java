package idex.exchange.jobs.schedule;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.node.ArrayNode;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.http.PositiveId;
import idex.exchange.jobs.model.JobCategory;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.json.Json;
import idex.http.Reply;
import io.vertx.ext.web.Router;

/**
 * `GET /v1/scheduledjobs/{jobCategory}` and `DELETE /v1/scheduledjobs/{scheduledJobId}` (seed 004, spec §4.5). An
 * endpoint key sees, and may delete, the scheduled jobs its endpoint produces or receives (the seed lets either
 * endpoint's key delete); an account key all of the account's.
 */
public final class ScheduledJobRoutes implements Feature {

    private final ExchangeApi api;
    private final ScheduledJobs scheduledJobs;
    private final EndpointScope endpointScope;

    public ScheduledJobRoutes(ExchangeApi api, ScheduledJobs scheduledJobs, EndpointStore endpoints) {
        this.api = api;
        this.scheduledJobs = scheduledJobs;
        this.endpointScope = new EndpointScope(endpoints);
    }

    @Override
    public void mount(Router router) {
        router.get("/v1/scheduledjobs/:jobCategory").handler(api.handler(this::list));
        router.delete("/v1/scheduledjobs/:scheduledJobId").handler(api.handler(this::delete));
        ApiServer.onlyMethods(router, "/v1/scheduledjobs/:scheduledJobId", "GET, DELETE");
    }

    private Reply list(ApiRequest req) {
        JobCategory category = JobCategory.parse(req.path("jobCategory"));
        if (category != JobCategory.SEGMENT_EXPORT) {
            throw Refusal.invalid("Only segment exports are scheduled: use /v1/scheduledjobs/SEGMENT_EXPORT.");
        }
        Caller caller = req.caller();
        Long endpoint = endpointScope.narrowing(caller, req.query("endpointId", "endpointID"));
        ArrayNode answer = Json.MAPPER.createArrayNode();
        for (ScheduledJob s : scheduledJobs.store().list(caller.accountId(), category, endpoint)) {
            answer.add(s.toJson());
        }
        return Reply.json(answer);
    }

    private Reply delete(ApiRequest req) {
        String text = req.path("scheduledJobId");
        long id = PositiveId.parse(text).orElseThrow(() -> unknown(text));
        Caller caller = req.caller();
        ScheduledJob scheduled = scheduledJobs.store().find(caller.accountId(), id)
                .filter(s -> caller.isPartyTo(s.producerEndpointId(), s.destinationEndpointId()))
                .orElseThrow(() -> unknown(text));
        scheduledJobs.delete(scheduled);
        return Reply.json(true);
    }

    private static Refusal unknown(String id) {
        return Refusal.notFound("There is no scheduled job " + id + " in this account.");
    }
}
