package idex.exchange.jobs.schedule;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobDefinition;
import idex.json.Json;

/**
 * A scheduled job as stored (spec §4.5): a job definition whose `scheduleDetails` make it run at occurrences rather
 * than once now; each occurrence gets a job of its own, with `scheduledJobId` naming this.
 */
public record ScheduledJob(long scheduledJobId, long accountId, JobCategory category, State state,
                           long producerEndpointId, Long destinationEndpointId, JobDefinition definition,
                           String errorDetails, long created, long updated) {

    /** The `state` the API shows; a CANCELLED one was deleted and is no longer shown at all. */
    public enum State {
        /** More occurrences are to come: its next occurrence's job waits in SCHEDULED. */
        SCHEDULED,
        /** The schedule is over: its last occurrence has its job. */
        COMPLETE,
        /** Deleted through the API. */
        CANCELLED
    }

    /** The seed's `active`: 1 while occurrences are to come, 2 once there will be none. */
    public int active() {
        return state == State.SCHEDULED ? 1 : 2;
    }

    public ScheduleDetails details() {
        return ScheduleDetails.restore(definition.scheduleDetails());
    }

    /** The element of `GET /v1/scheduledjobs/{jobCategory}`, exactly the seed's fields (`jobId` is this id). */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("jobId", scheduledJobId);
        o.put("state", state.name());
        o.put("jobCategory", category.name());
        o.put("jobName", category.jobName());
        o.put("accountId", accountId);
        o.put("active", active());
        o.put("errorDetails", errorDetails);
        return o;
    }
}
