package idex.exchange.jobs.schedule;

import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.schedule.Schedule;

import java.time.Instant;
import java.util.Optional;

/**
 * {@link ScheduleDetails} as a db-scheduler {@link Schedule}: the execution times of a scheduled job's task
 * instance are its occurrences.
 *
 * <p>The next execution follows the later of the execution's planned time and the time it finished. After a run that
 * was due while every node was down (db-scheduler runs an execution whose time is past once, as soon as a node polls),
 * this skips the occurrences missed in between instead of running them back to back; and it never gives the same
 * occurrence twice, even when the node that ran it has a clock behind the one that planned it.
 *
 * <p>When the schedule is over this gives {@link Schedule#NEVER}, since a Schedule must give an instant; a task
 * should rather remove its instance then ({@link ScheduledJobTask} does).
 */
public record OccurrenceSchedule(ScheduleDetails details) implements Schedule {

    @Override
    public Instant getNextExecutionTime(ExecutionComplete done) {
        return nextAfter(done.getExecution().getExecutionTime(), done.getTimeDone()).orElse(NEVER);
    }

    /** The occurrence after the run of `planned` that finished at `finished`; empty when the schedule is over. */
    public Optional<Instant> nextAfter(Instant planned, Instant finished) {
        return details.nextOccurrence(planned.isAfter(finished) ? planned : finished);
    }

    @Override
    public Instant getInitialExecutionTime(Instant now) {
        return details.firstOccurrence(now).orElse(NEVER);
    }

    /**
     * The occurrences lie on a calendar fixed by the schedule, as with db-scheduler's Daily and cron schedules (unlike
     * FixedDelay, whose next time moves with the end of each run).
     */
    @Override
    public boolean isDeterministic() {
        return true;
    }
}
