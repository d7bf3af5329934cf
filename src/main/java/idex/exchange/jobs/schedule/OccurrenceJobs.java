package idex.exchange.jobs.schedule;

import idex.exchange.jobs.model.JobStatus;
import idex.exchange.jobs.store.JobStore;
import org.jdbi.v3.core.Handle;

import java.time.Instant;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The jobs of scheduled jobs' occurrences; the {@link ScheduledJobTask.OccurrenceHandler} of the server's task.
 *
 * <p>An active scheduled job always has its next occurrence's job in SCHEDULED, so that a future occurrence is
 * visible as a job (§4.2): the scheduled job is stored with it, and each occurrence creates the next one's in the same
 * transaction as it starts its own. At its occurrence that job moves SCHEDULED → WAITING_TO_RECIEVE_DATA (started
 * then), and the task's execution moves to the occurrence of the new SCHEDULED job. The SCHEDULED job is the promise
 * the API made, so it, not a fresh computation, says which occurrence fires next.
 *
 * <p>One job per occurrence, even when the handler runs twice (a node died after this transaction committed but
 * before db-scheduler recorded the run, and another node revived the execution) or on two nodes at once: the
 * transaction first locks the scheduled job (while it is active: a deleted or finished one does nothing), then finds
 * the occurrence's job and only creates one if there is none; a unique key on (scheduled_job_id, occurrence) refuses
 * a second job whatever happens. A repeated run finds its occurrence's job already started and the next one already
 * SCHEDULED, and answers that one again.
 *
 * <p>An occurrence db-scheduler gave up after repeated failures leaves its job SCHEDULED; the next occurrence that
 * runs ends it in ERROR and notes it in the scheduled job's errorDetails.
 */
public final class OccurrenceJobs implements ScheduledJobTask.OccurrenceHandler {

    private final ScheduledJobStore store;
    private final JobStore jobs;
    private final LongSupplier clock;

    public OccurrenceJobs(ScheduledJobStore store, JobStore jobs, LongSupplier clock) {
        this.store = store;
        this.jobs = jobs;
        this.clock = clock;
    }

    @Override
    public Optional<Instant> run(long scheduledJobId, Instant occurrence, ScheduleDetails details) {
        long now = clock.getAsLong();
        return store.whileActive(scheduledJobId, now, (h, scheduled) -> {
            long at = occurrence.toEpochMilli();
            boolean hasJob = false;
            Long planned = null;
            for (ScheduledJobStore.OccurrenceJob j : store.scheduledOrAt(h, scheduledJobId, at)) {
                if (j.occurrence() == at) {
                    hasJob = true;
                    store.start(h, j.jobId(), now);
                } else if (j.occurrence() < at) {
                    giveUp(h, scheduled, j, now);
                } else if (planned == null) {
                    planned = j.occurrence();
                }
            }
            if (!hasJob) {
                createJob(h, scheduled, JobStatus.WAITING_TO_RECIEVE_DATA, at, now);
            }
            if (planned != null) {
                return Optional.of(Instant.ofEpochMilli(planned));
            }
            return plan(h, scheduled, new OccurrenceSchedule(details).nextAfter(occurrence, Instant.ofEpochMilli(now)), now);
        });
    }

    /**
     * A new scheduled job's first job, in the transaction that stores it: with runNow one that waits for data at once
     * (its occurrence is `now`) and the next occurrence's SCHEDULED; otherwise the first occurrence's SCHEDULED.
     * Answers the occurrence its task instance fires first; empty if none (the scheduled job is then COMPLETE).
     */
    Optional<Instant> begin(Handle h, ScheduledJob scheduled, ScheduleDetails details, long now) {
        Instant instant = Instant.ofEpochMilli(now);
        if (details.runNow()) {
            createJob(h, scheduled, JobStatus.WAITING_TO_RECIEVE_DATA, now, now);
            return plan(h, scheduled, new OccurrenceSchedule(details).nextAfter(instant, instant), now);
        }
        return plan(h, scheduled, details.firstOccurrence(instant), now);
    }

    /** The next occurrence gets its SCHEDULED job; without one the schedule is over. */
    private Optional<Instant> plan(Handle h, ScheduledJob scheduled, Optional<Instant> next, long now) {
        if (next.isPresent()) {
            createJob(h, scheduled, JobStatus.SCHEDULED, next.get().toEpochMilli(), now);
        } else {
            store.complete(h, scheduled.scheduledJobId(), now);
        }
        return next;
    }

    private void createJob(Handle h, ScheduledJob scheduled, JobStatus status, long occurrence, long now) {
        jobs.create(h, scheduled.accountId(), scheduled.category(), status, scheduled.definition(),
                scheduled.scheduledJobId(), occurrence, null, now);
    }

    private void giveUp(Handle h, ScheduledJob scheduled, ScheduledJobStore.OccurrenceJob j, long now) {
        String why = "The occurrence of " + Instant.ofEpochMilli(j.occurrence()) + " could not create its job and was"
                + " given up after repeated failures; see the server log.";
        if (jobs.fail(h, j.jobId(), JobStatus.SCHEDULED, why, now)) {
            store.noteError(h, scheduled.scheduledJobId(), why, now);
        }
    }
}
