package idex.exchange.jobs.schedule;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.exceptions.TaskInstanceCurrentlyExecutingException;
import com.github.kagkarlsson.scheduler.exceptions.TaskInstanceNotFoundException;
import com.github.kagkarlsson.scheduler.task.Task;
import idex.exchange.jobs.model.JobCategory;
import idex.exchange.jobs.model.JobDefinition;
import idex.exchange.jobs.store.JobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Creating and deleting scheduled jobs, and keeping their db-scheduler instances in step with the store. The store
 * is the truth: a scheduled job is stored (with its first job, see {@link OccurrenceJobs}) before its instance is
 * scheduled, and deleted before its instance is cancelled. Each gap a crash could leave is closed by the other side:
 * an active scheduled job without an instance gets one at the next start ({@link #resume}), and an instance whose
 * scheduled job was deleted does nothing when it fires and then goes.
 */
public final class ScheduledJobs {

    private static final Logger LOG = LoggerFactory.getLogger(ScheduledJobs.class);

    private final ScheduledJobStore store;
    private final OccurrenceJobs occurrences;
    private final JobStore jobs;
    private final SchedulerClient scheduler;
    private final Task<ScheduledJobTaskData> task;
    private final LongSupplier clock;

    public ScheduledJobs(ScheduledJobStore store, OccurrenceJobs occurrences, JobStore jobs, SchedulerClient scheduler,
                         Task<ScheduledJobTaskData> task, LongSupplier clock) {
        this.store = store;
        this.occurrences = occurrences;
        this.jobs = jobs;
        this.scheduler = scheduler;
        this.task = task;
        this.clock = clock;
    }

    public ScheduledJobStore store() {
        return store;
    }

    /**
     * A scheduled job for a checked definition (its producer filled in, its scheduleDetails as `details.toJson()`):
     * stored with its first job, then its instance scheduled. Answers the body of the 201: the scheduled job as
     * `GET /v1/scheduledjobs` shows it, plus `scheduledJobId`, `scheduleDetails` and `jobs`, its jobs so far (the
     * one waiting for data with runNow, and the next occurrence's SCHEDULED one), as `GET /v1/jobs` shows them.
     */
    public ObjectNode create(long accountId, JobCategory category, JobDefinition definition, ScheduleDetails details) {
        long now = clock.getAsLong();
        record Created(long id, Optional<Instant> first) {
        }
        Created created = store.createScheduledJob(accountId, category, definition, now,
                (h, stored) -> new Created(stored.scheduledJobId(), occurrences.begin(h, stored, details, now)));
        created.first().ifPresent(first ->
                scheduler.scheduleIfNotExists(ScheduledJobTask.instanceAt(task, created.id(), details, first)));
        ScheduledJob scheduled = store.find(accountId, created.id()).orElseThrow();
        ObjectNode answer = scheduled.toJson();
        answer.put("scheduledJobId", scheduled.scheduledJobId());
        answer.set("scheduleDetails", details.toJson());
        ArrayNode list = answer.putArray("jobs");
        for (long jobId : store.jobIds(scheduled.scheduledJobId())) {
            jobs.find(accountId, jobId).ifPresent(j -> list.add(j.toJson(true, true)));
        }
        return answer;
    }

    /**
     * Deletes a scheduled job the caller may see: it and its SCHEDULED jobs become CANCELLED, then its instance is
     * cancelled. The deletion waits for an occurrence being created (both lock the scheduled job), so that
     * occurrence's next SCHEDULED job is cancelled too; an execution that comes after it creates nothing and removes
     * its instance. 404 when someone deleted it meanwhile.
     */
    public void delete(ScheduledJob scheduled) {
        long id = scheduled.scheduledJobId();
        if (!store.cancel(id, clock.getAsLong())) {
            throw Refusal.notFound("There is no scheduled job " + id + " in this account.");
        }
        try {
            scheduler.cancel(ScheduledJobTask.instanceId(id));
        } catch (TaskInstanceNotFoundException | TaskInstanceCurrentlyExecutingException e) {
            // Over already, or firing now: that execution, or else the next one, finds the scheduled job deleted and
            // removes the instance.
            LOG.debug("Scheduled job {} deleted while its instance was {}", id, e.getClass().getSimpleName());
        }
    }

    /**
     * At start: schedules the instance of each active scheduled job that has none, at its SCHEDULED job's occurrence
     * (at once if that is past: a missed occurrence runs once). Scheduling what another node scheduled meanwhile is
     * harmless. Answers how many were scheduled.
     */
    public int resume() {
        int resumed = 0;
        Instant now = Instant.ofEpochMilli(clock.getAsLong());
        for (ScheduledJobStore.Orphan orphan : store.activeWithoutInstance(ScheduledJobTask.TASK_NAME)) {
            ScheduledJob s = orphan.scheduledJob();
            ScheduleDetails details = s.details();
            // Without a SCHEDULED job (never left so by this code) the next occurrence from now gets a job when it fires.
            Optional<Instant> next = orphan.nextOccurrence() != null
                    ? Optional.of(Instant.ofEpochMilli(orphan.nextOccurrence()))
                    : new OccurrenceSchedule(details).nextAfter(now, now);
            if (next.isPresent()) {
                scheduler.scheduleIfNotExists(ScheduledJobTask.instanceAt(task, s.scheduledJobId(), details, next.get()));
                resumed++;
            } else {
                store.complete(s.scheduledJobId(), now.toEpochMilli());
            }
        }
        if (resumed > 0) {
            LOG.info("Scheduled the instances of {} scheduled jobs that had none", resumed);
        }
        return resumed;
    }
}
