package idex.uid2.salts;

import com.github.kagkarlsson.scheduler.task.helper.RecurringTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.Schedules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Rotation on a schedule, as a db-scheduler recurring task: with several server nodes on one database exactly one
 * runs each occurrence, and an occurrence missed while every node was down runs at the next start.
 */
public final class SaltRotationSchedule {

    public static final String TASK_NAME = "uid2-salt-rotation";
    public static final String DEFAULT_SCHEDULE = "DAILY|00:00";
    private static final Logger LOG = LoggerFactory.getLogger(SaltRotationSchedule.class);

    private SaltRotationSchedule() {
    }

    /** The task for a db-scheduler schedule string such as `DAILY|00:00` or `FIXED_DELAY|3600s`. */
    public static RecurringTask<Void> task(String schedule, SaltRotation rotation, LongSupplier clock) {
        return Tasks.recurring(TASK_NAME, Schedules.parseSchedule(schedule))
                .execute((instance, context) -> {
                    SaltRotation.Result r = rotation.rotate(SaltRotation.DEFAULT_FRACTION, SaltRotation.DEFAULT_MIN_AGE_DAYS,
                            clock.getAsLong());
                    LOG.info("Scheduled salt rotation rotated {} buckets", r.rotated());
                });
    }
}
