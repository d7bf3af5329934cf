package idex.exchange.jobs.schedule;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;

/**
 * A date field of `scheduleDetails` (`startDate`, `endDate`, `timeSliceStartDate`, `timeSliceEndDate`) in UTC,
 * remembering whether the caller gave a whole day or a moment: `endDate: "2026-11-30"` means up to the end of that
 * day, `endDate: "2026-11-30T06:00:00Z"` up to that moment.
 *
 * @param utc      the moment in UTC; midnight when only a date was given
 * @param dateOnly true when the caller gave a date without a time of day
 */
public record ScheduleDate(LocalDateTime utc, boolean dateOnly) {

    public static ScheduleDate ofDate(LocalDate date) {
        return new ScheduleDate(date.atStartOfDay(), true);
    }

    public static ScheduleDate ofInstant(Instant instant) {
        return new ScheduleDate(LocalDateTime.ofInstant(instant, ZoneOffset.UTC), false);
    }

    /** As a lower bound: the start of the day for a date. */
    public Instant first() {
        return utc.toInstant(ZoneOffset.UTC);
    }

    /** As an inclusive upper bound: the last nanosecond of the day for a date. */
    public Instant last() {
        return dateOnly ? utc.plusDays(1).toInstant(ZoneOffset.UTC).minusNanos(1) : first();
    }

    /** The time of day the caller gave, or null for a date alone. */
    public LocalTime timeOfDay() {
        return dateOnly ? null : utc.toLocalTime();
    }
}
