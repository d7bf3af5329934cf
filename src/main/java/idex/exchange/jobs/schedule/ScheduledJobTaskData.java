package idex.exchange.jobs.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import idex.json.Json;

import java.io.Serial;
import java.io.Serializable;
import java.time.Instant;

/**
 * The data of a scheduled job's db-scheduler task instance, serialised into its row: which scheduled job, its
 * schedule (as {@link ScheduleDetails#toJson()} gave it, so that the row does not depend on the classes' shapes),
 * the occurrence the next execution is for, and how many times that occurrence failed. Both are kept here rather than
 * taken from the execution's time and db-scheduler's failure count: a retry moves the execution time but is for the
 * same occurrence, and db-scheduler's count does not restart when a given-up occurrence makes way for the next one.
 */
public record ScheduledJobTaskData(long scheduledJobId, String scheduleDetails, Instant occurrence, int failedAttempts)
        implements Serializable {

    @Serial
    private static final long serialVersionUID = 1L;

    public static ScheduledJobTaskData of(long scheduledJobId, ScheduleDetails details, Instant occurrence) {
        return new ScheduledJobTaskData(scheduledJobId, Json.write(details.toJson()), occurrence, 0);
    }

    public ScheduleDetails details() {
        try {
            return ScheduleDetails.restore(Json.MAPPER.readTree(scheduleDetails));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("Stored scheduleDetails of scheduled job " + scheduledJobId
                    + " are not JSON", e);
        }
    }

    /** The same schedule, for another occurrence not yet tried. */
    public ScheduledJobTaskData at(Instant nextOccurrence) {
        return new ScheduledJobTaskData(scheduledJobId, scheduleDetails, nextOccurrence, 0);
    }

    /** The same occurrence, after one more failure. */
    public ScheduledJobTaskData failedOnceMore() {
        return new ScheduledJobTaskData(scheduledJobId, scheduleDetails, occurrence, failedAttempts + 1);
    }
}
