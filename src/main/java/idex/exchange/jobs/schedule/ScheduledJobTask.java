package idex.exchange.jobs.schedule;

import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import com.github.kagkarlsson.scheduler.task.SchedulableInstance;
import com.github.kagkarlsson.scheduler.task.Task;
import com.github.kagkarlsson.scheduler.task.TaskInstanceId;
import com.github.kagkarlsson.scheduler.task.helper.CustomTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The db-scheduler task that fires a scheduled job's occurrences: one task instance per scheduled job (instance id =
 * the scheduled job's id), whose data holds the schedule and the occurrence it is due for, and whose execution time is
 * that occurrence.
 *
 * <p>How the job feature uses it ({@link ScheduledJobs}, {@link OccurrenceJobs}):
 * <ul>
 * <li>{@link #task} is registered on the server's one Scheduler, whose clock is the server's.</li>
 * <li>On POST with a schedule that is not {@link ScheduleDetails#onlyNow()}, the scheduled job is stored, then
 * `scheduleIfNotExists(ScheduledJobTask.instanceAt(task, id, details, next))`. The instance id is the scheduled job's,
 * so scheduling again (at startup, for an active scheduled job whose node died between the two) is harmless.</li>
 * <li>The handler creates the job of one occurrence and answers the occurrence to fire next, which the execution is
 * moved to (or removed when there is none). It must be idempotent on (scheduledJobId, occurrence): a node that dies
 * after creating the job but before db-scheduler records the run has its execution revived and run again by another
 * node. With that, each occurrence gives exactly one job across nodes (db-scheduler lets one node at a time pick an
 * execution). The handler, not this class, decides the next occurrence because it has already shown it to the API
 * as a SCHEDULED job: the execution must fire that one, not one computed again from a later clock.</li>
 * <li>DELETE /v1/scheduledjobs/{id}: `cancel(ScheduledJobTask.instanceId(id))` (its future occurrences), and its jobs
 * still SCHEDULED become CANCELLED (§4.2). The handler answers "no next" for a scheduled job that no longer exists,
 * for an execution already picked when the DELETE came: its instance then goes.</li>
 * </ul>
 *
 * <p>Missed occurrences: while every node is down nothing runs; at the next start db-scheduler finds the execution
 * whose time is past and runs it once, at once. The handler then answers the first occurrence after both the one that
 * ran and the present ({@link OccurrenceSchedule#nextAfter}), so the occurrences missed in between collapse into that
 * single run rather than firing back to back. The handler is told the occurrence that was due (kept in the task
 * data), not the time it finally ran.
 *
 * <p>Why a custom task rather than RecurringTaskWithPersistentSchedule: the latter always reschedules (to
 * {@link com.github.kagkarlsson.scheduler.task.schedule.Schedule#NEVER}, year 2500, once the schedule is over, leaving
 * the row behind) and on failure skips to the next occurrence; this one removes its row when the schedule is over and
 * retries a failed occurrence.
 */
public final class ScheduledJobTask {

    public static final String TASK_NAME = "exchange-scheduled-job";
    /** A failed occurrence is tried again after this long… */
    static final Duration RETRY_DELAY = Duration.ofMinutes(1);
    /** …this many times in all, and never once the next occurrence is due: then it is given up. */
    static final int MAX_ATTEMPTS = 10;
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledJobTask.class);

    private ScheduledJobTask() {
    }

    /** What happens at an occurrence: create that occurrence's job (idempotently, see above). */
    @FunctionalInterface
    public interface OccurrenceHandler {
        /**
         * Creates the job of `occurrence`; answers the occurrence to fire next, or empty when there is none (the
         * schedule is over, or the scheduled job was deleted): the instance is then removed.
         */
        Optional<Instant> run(long scheduledJobId, Instant occurrence, ScheduleDetails details);
    }

    public static CustomTask<ScheduledJobTaskData> task(OccurrenceHandler handler) {
        return Tasks.custom(TASK_NAME, ScheduledJobTaskData.class)
                .onDeadExecutionRevive()
                .onFailure(ScheduledJobTask::onFailure)
                .execute((instance, context) -> {
                    ScheduledJobTaskData data = instance.getData();
                    Optional<Instant> next = handler.run(data.scheduledJobId(), data.occurrence(), data.details());
                    return (done, ops) -> moveTo(next, data, done, ops);
                });
    }

    /** The instance of a new scheduled job; its first execution is the schedule's first occurrence from `now`. */
    public static SchedulableInstance<ScheduledJobTaskData> instance(Task<ScheduledJobTaskData> task,
                                                                     long scheduledJobId, ScheduleDetails details,
                                                                     Instant now) {
        Instant first = details.firstOccurrence(now).orElseThrow(() -> new IllegalArgumentException(
                "The schedule of scheduled job " + scheduledJobId + " has no occurrence from " + now));
        return instanceAt(task, scheduledJobId, details, first);
    }

    /** The instance of a scheduled job whose next execution is `occurrence` (past: it runs at once). */
    public static SchedulableInstance<ScheduledJobTaskData> instanceAt(Task<ScheduledJobTaskData> task,
                                                                       long scheduledJobId, ScheduleDetails details,
                                                                       Instant occurrence) {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(scheduledJobId, details, occurrence);
        return SchedulableInstance.of(task.instance(Long.toString(scheduledJobId), data), occurrence);
    }

    public static TaskInstanceId instanceId(long scheduledJobId) {
        return TaskInstanceId.of(TASK_NAME, Long.toString(scheduledJobId));
    }

    private static void moveTo(Optional<Instant> next, ScheduledJobTaskData data, ExecutionComplete done,
                               ExecutionOperations<ScheduledJobTaskData> ops) {
        if (next.isPresent()) {
            ops.reschedule(done, next.get(), data.at(next.get()));
        } else {
            ops.remove();
        }
    }

    private static void onFailure(ExecutionComplete failed, ExecutionOperations<ScheduledJobTaskData> ops) {
        ScheduledJobTaskData data = dataOf(failed);
        int attempts = data.failedAttempts() + 1;
        Instant retryAt = failed.getTimeDone().plus(RETRY_DELAY);
        Optional<Instant> next = new OccurrenceSchedule(data.details()).nextAfter(data.occurrence(), failed.getTimeDone());
        if (attempts < MAX_ATTEMPTS && (next.isEmpty() || retryAt.isBefore(next.get()))) {
            LOG.warn("Occurrence {} of scheduled job {} failed (attempt {}), trying again at {}", data.occurrence(),
                    data.scheduledJobId(), attempts, retryAt, failed.getCause().orElse(null));
            ops.reschedule(failed, retryAt, data.failedOnceMore());
            return;
        }
        LOG.error("Occurrence {} of scheduled job {} failed (attempt {}); giving it up for the next occurrence",
                data.occurrence(), data.scheduledJobId(), attempts, failed.getCause().orElse(null));
        moveTo(next, data, failed, ops);
    }

    private static ScheduledJobTaskData dataOf(ExecutionComplete done) {
        return (ScheduledJobTaskData) done.getExecution().taskInstance.getData();
    }
}
