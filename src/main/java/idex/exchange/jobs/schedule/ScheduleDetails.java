package idex.exchange.jobs.schedule;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.Month;
import java.time.ZoneOffset;
import java.util.Iterator;
import java.util.List;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A job's `scheduleDetails` (exchange.md §4.5): when its jobs run, all in UTC ("GMT" in the seed).
 * <ul>
 * <li>Absent, or `runNow` without `runRepeat`: one job now.</li>
 * <li>`runNow: false`, no `runRepeat`: one job at `startDate`, at startHour:startMinute:startSecond when given.</li>
 * <li>`runRepeat: true`: a job at startHour:startMinute:startSecond on every run day from `startDate` to `endDate`
 * (both inclusive, `endDate` to the end of its day when it is a date alone): every day, the `daysOfWeek`
 * (weekly) or the `daysOfMonth` (monthly); `monthsOfYear` and `year` restrict any of these. With `runNow: true`
 * as well, the first job runs now.</li>
 * </ul>
 * The time of day is startHour:startMinute:startSecond when any of them is given (the others 0), else the time of
 * day of `startDate` when it has one (`"2026-12-01T06:30:00Z"`, Unix milliseconds), else midnight.
 *
 * @param given     the fields as the caller sent them, echoed by {@link #toJson()}; null when scheduleDetails was
 *                  absent
 * @param days      the days on which a repeating (or the one later) job may run
 * @param timeOfDay the UTC time of day of every run but the one of runNow
 * @param start     the first moment a run may happen (startDate), or null
 * @param end       the last moment a run may happen (endDate, inclusive), or null
 * @param timeSlice the period of data the jobs cover; no effect on timing
 */
public record ScheduleDetails(ObjectNode given, boolean runNow, boolean runRepeat, RunDays days, LocalTime timeOfDay,
                              Instant start, Instant end, TimeSlice timeSlice) {

    /** The seed's field names, in the seed's order. */
    public static final List<String> FIELDS = List.of("runNow", "runRepeat", "daysOfWeek", "daysOfMonth",
            "monthsOfYear", "year", "startHour", "startMinute", "startSecond", "startDate", "endDate",
            "timeSliceStartDate", "timeSliceEndDate");

    /** The end of the years a schedule can name; no run is looked for after it. */
    private static final Instant LAST_MOMENT = Instant.parse("9999-12-31T23:59:59.999999999Z");

    /** No scheduleDetails at all: one job now. */
    public static final ScheduleDetails RUN_NOW = new ScheduleDetails(null, true, false, RunDays.EVERY_DAY,
            LocalTime.MIDNIGHT, null, null, new TimeSlice(null, null));

    public ScheduleDetails {
        if (!runNow && !runRepeat && start == null) {
            throw new IllegalArgumentException("a single later run needs a start");
        }
        given = given == null ? null : given.deepCopy();
    }

    /**
     * The scheduleDetails of a new job, as of `now`: besides being well-formed, it must still have a run (a
     * schedule whose endDate is past would create a scheduled job that never does anything), and a repeating one a
     * repeat.
     */
    public static ScheduleDetails parse(JsonNode scheduleDetails, Instant now) {
        ScheduleDetails s = restore(scheduleDetails);
        // With runNow as well, a repeating schedule still needs a repeat: runNow alone does not make it one.
        if ((s.runRepeat ? s.firstRunFrom(now) : s.firstOccurrence(now)).isEmpty()) {
            throw Refusal.invalid(s.whyNoRun(now));
        }
        return s;
    }

    /**
     * scheduleDetails as stored with a job (what {@link #toJson()} gave) or sent by a caller, checked for form but
     * not against the clock: a stored schedule may well be over.
     */
    public static ScheduleDetails restore(JsonNode scheduleDetails) {
        if (scheduleDetails == null || scheduleDetails.isMissingNode() || scheduleDetails.isNull()) {
            return RUN_NOW;
        }
        if (!scheduleDetails.isObject()) {
            throw Refusal.invalid("scheduleDetails must be a JSON object such as {\"runRepeat\":true,"
                    + "\"daysOfWeek\":[\"MONDAY\"],\"startHour\":6}, or absent to run the job now.");
        }
        ObjectNode given = Json.object();
        for (Iterator<String> it = scheduleDetails.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                // A misspelt "daysOfweek" silently ignored would turn a weekly schedule into a daily one.
                throw Refusal.invalid("scheduleDetails has no field \"" + field + "\"" + likely(field)
                        + ": its fields are " + String.join(", ", FIELDS) + ".");
            }
            given.set(field, scheduleDetails.get(field));
        }
        return read(given);
    }

    private static ScheduleDetails read(ObjectNode given) {
        Boolean runNowGiven = ScheduleFields.bool("runNow", given.get("runNow"));
        Boolean runRepeatGiven = ScheduleFields.bool("runRepeat", given.get("runRepeat"));
        Integer hour = ScheduleFields.number("startHour", given.get("startHour"), 0, 23, " (GMT)");
        Integer minute = ScheduleFields.number("startMinute", given.get("startMinute"), 0, 59, "");
        Integer second = ScheduleFields.number("startSecond", given.get("startSecond"), 0, 59, "");
        ScheduleDate startDate = ScheduleFields.date("startDate", given.get("startDate"));
        ScheduleDate endDate = ScheduleFields.date("endDate", given.get("endDate"));
        ScheduleDate sliceStart = ScheduleFields.date("timeSliceStartDate", given.get("timeSliceStartDate"));
        ScheduleDate sliceEnd = ScheduleFields.date("timeSliceEndDate", given.get("timeSliceEndDate"));
        Set<DayOfWeek> daysOfWeek = ScheduleFields.daysOfWeek(given.get("daysOfWeek"));
        NavigableSet<Integer> daysOfMonth = ScheduleFields.daysOfMonth(given.get("daysOfMonth"));
        Set<Month> months = ScheduleFields.monthsOfYear(given.get("monthsOfYear"));
        NavigableSet<Integer> years = ScheduleFields.years(given.get("year"));

        boolean runRepeat = Boolean.TRUE.equals(runRepeatGiven);
        boolean timed = startDate != null || hour != null || minute != null || second != null;
        // Without runNow, a schedule that says when (or to repeat) means "not now"; one that says nothing means now.
        boolean runNow = runNowGiven != null ? runNowGiven : !runRepeat && !timed;

        if (!daysOfWeek.isEmpty() && !daysOfMonth.isEmpty()) {
            throw Refusal.invalid("scheduleDetails gives both daysOfWeek and daysOfMonth: give daysOfWeek to run"
                    + " weekly or daysOfMonth to run monthly, not both.");
        }
        if (startDate != null && endDate != null && endDate.last().isBefore(startDate.first())) {
            throw Refusal.invalid("endDate " + given.get("endDate") + " is before startDate "
                    + given.get("startDate") + ": give an endDate on or after the startDate.");
        }
        if (sliceStart != null && sliceEnd != null && sliceEnd.last().isBefore(sliceStart.first())) {
            throw Refusal.invalid("timeSliceEndDate " + given.get("timeSliceEndDate") + " is before"
                    + " timeSliceStartDate " + given.get("timeSliceStartDate") + ": give a timeSliceEndDate on or after"
                    + " the timeSliceStartDate.");
        }
        NavigableSet<Integer> numberedDays = new TreeSet<>(daysOfMonth);
        boolean lastDay = numberedDays.remove(0);
        RunDays days = new RunDays(daysOfWeek, numberedDays, lastDay, months, years);
        if (!days.someMonthHasADay()) {
            throw Refusal.invalid("daysOfMonth " + given.get("daysOfMonth") + " never falls in monthsOfYear "
                    + given.get("monthsOfYear") + ": give days the months have, or \"LAST\" for their last day.");
        }
        if (!runNow && !runRepeat && startDate == null) {
            throw Refusal.invalid("runNow is false and runRepeat is not true, so the job runs once later: give"
                    + " startDate (and startHour, startMinute, startSecond in GMT) for that run, set runNow to true to run"
                    + " it now, or runRepeat to true to repeat it.");
        }
        LocalTime timeOfDay = hour != null || minute != null || second != null
                ? LocalTime.of(orZero(hour), orZero(minute), orZero(second))
                : startDate != null && startDate.timeOfDay() != null ? startDate.timeOfDay() : LocalTime.MIDNIGHT;
        TimeSlice slice = new TimeSlice(sliceStart == null ? null : sliceStart.first(),
                sliceEnd == null ? null : sliceEnd.last());
        return new ScheduleDetails(given, runNow, runRepeat, days, timeOfDay,
                startDate == null ? null : startDate.first(), endDate == null ? null : endDate.last(), slice);
    }

    /** Whether this is "one job now" and nothing else: no scheduled job is needed. */
    public boolean onlyNow() {
        return runNow && !runRepeat;
    }

    /** When the first job runs for a schedule created at `now`: `now` itself with runNow; empty if never. */
    public Optional<Instant> firstOccurrence(Instant now) {
        if (runNow) {
            return Optional.of(now);
        }
        if (runRepeat) {
            return firstRunFrom(now);
        }
        return onlyRun().filter(t -> !t.isBefore(now));
    }

    /**
     * When the next job runs: the first run strictly after `after`, or empty when the schedule is over. The job of
     * runNow is not an occurrence (it is the one of {@link #firstOccurrence}), so without runRepeat nothing follows
     * it.
     */
    public Optional<Instant> nextOccurrence(Instant after) {
        if (runRepeat) {
            return after.isBefore(LAST_MOMENT) ? firstRunFrom(after.plusNanos(1)) : Optional.empty();
        }
        return runNow ? Optional.empty() : onlyRun().filter(t -> t.isAfter(after));
    }

    /** The fields in the seed's order and names, as given; runNow and runRepeat as decided. Null when absent. */
    public JsonNode toJson() {
        if (given == null) {
            return NullNode.getInstance();
        }
        ObjectNode json = Json.object();
        json.put("runNow", runNow);
        json.put("runRepeat", runRepeat);
        for (String field : FIELDS.subList(2, FIELDS.size())) {
            JsonNode v = given.get(field);
            json.set(field, v == null ? NullNode.getInstance() : v.deepCopy());
        }
        return json;
    }

    /** The one run of a schedule with neither runNow nor runRepeat: the first run day and time from startDate. */
    private Optional<Instant> onlyRun() {
        return firstRunFrom(start);
    }

    /** The first run at or after `lower`, on a run day, at the time of day, from `start` to `end`. */
    private Optional<Instant> firstRunFrom(Instant lower) {
        Instant from = start != null && start.isAfter(lower) ? start : lower;
        if (from.isAfter(LAST_MOMENT)) {
            return Optional.empty();
        }
        LocalDateTime utc = LocalDateTime.ofInstant(from, ZoneOffset.UTC);
        // Only the first day can be too late in the day; every later day's run is after `from`.
        LocalDate firstDay = utc.toLocalTime().isAfter(timeOfDay) ? utc.toLocalDate().plusDays(1) : utc.toLocalDate();
        LocalDate lastDay = end == null ? null : LocalDate.ofInstant(end, ZoneOffset.UTC);
        return days.firstOnOrAfter(firstDay, lastDay)
                .map(day -> day.atTime(timeOfDay).toInstant(ZoneOffset.UTC))
                .filter(t -> !t.isAfter(end == null ? LAST_MOMENT : end));
    }

    private String whyNoRun(Instant now) {
        if (!runRepeat && onlyRun().isPresent()) {
            return "The one run of this schedule would be at " + onlyRun().get() + ", which is past (now is " + now
                    + "): give a later startDate or start time, or set runNow to true to run now.";
        }
        if (end != null && end.isBefore(now)) {
            return "endDate " + given.get("endDate") + " is past (now is " + now + "): give a later endDate.";
        }
        return "No run at " + timeOfDay + " UTC from " + (start != null && start.isAfter(now) ? "startDate "
                + given.get("startDate") : "now (" + now + ")") + (end != null ? " to endDate " + given.get("endDate") : "")
                + " falls on a day that daysOfWeek, daysOfMonth, monthsOfYear and year allow: widen them or the dates.";
    }

    private static int orZero(Integer n) {
        return n == null ? 0 : n;
    }

    private static String likely(String field) {
        for (String known : FIELDS) {
            if (known.equalsIgnoreCase(field)) {
                return " (did you mean \"" + known + "\"?)";
            }
        }
        return "";
    }
}
