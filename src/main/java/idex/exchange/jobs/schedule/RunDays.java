package idex.exchange.jobs.schedule;

import java.time.DayOfWeek;
import java.time.LocalDate;
import java.time.Month;
import java.time.YearMonth;
import java.util.Collections;
import java.util.EnumSet;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The days on which a schedule runs, as filters that all apply: `daysOfWeek` (weekly) or `daysOfMonth` (monthly,
 * with `lastDayOfMonth` for "LAST"), and `months` and `years` restricting either, or every day (daily) when both
 * day lists are empty. An empty set means "no restriction".
 */
public record RunDays(Set<DayOfWeek> daysOfWeek, NavigableSet<Integer> daysOfMonth, boolean lastDayOfMonth,
                      Set<Month> months, NavigableSet<Integer> years) {

    public static final RunDays EVERY_DAY = new RunDays(Set.of(), new TreeSet<>(), false, Set.of(), new TreeSet<>());

    /**
     * How many months are looked at without a match before concluding there is none: Feb 29 is the rarest day, and
     * it recurs at most 8 years apart (2096 → 2104, as 2100 is no leap year). Years outside `years` are jumped over
     * and do not count.
     */
    private static final int MONTHS_LOOKED_AT = 12 * 9;

    public RunDays {
        if (!daysOfWeek.isEmpty() && (!daysOfMonth.isEmpty() || lastDayOfMonth)) {
            throw new IllegalArgumentException("daysOfWeek and daysOfMonth exclude each other");
        }
        daysOfWeek = daysOfWeek.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(daysOfWeek));
        daysOfMonth = Collections.unmodifiableNavigableSet(new TreeSet<>(daysOfMonth));
        months = months.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(months));
        years = Collections.unmodifiableNavigableSet(new TreeSet<>(years));
    }

    public boolean weekly() {
        return !daysOfWeek.isEmpty();
    }

    public boolean monthly() {
        return !daysOfMonth.isEmpty() || lastDayOfMonth;
    }

    /**
     * The first run day on or after `from` and not after `last` (null: no end). Walks month by month and picks the
     * day within the month directly, so a far-off match costs a few dozen steps, not one per day.
     */
    public Optional<LocalDate> firstOnOrAfter(LocalDate from, LocalDate last) {
        YearMonth month = YearMonth.from(from);
        int fromDay = from.getDayOfMonth();
        for (int looked = 0; looked < MONTHS_LOOKED_AT; looked++) {
            if (!years.isEmpty()) {
                Integer year = years.ceiling(month.getYear());
                if (year == null) {
                    return Optional.empty();
                }
                if (year > month.getYear()) {
                    month = YearMonth.of(year, 1);
                    fromDay = 1;
                }
            }
            if (last != null && month.atDay(1).isAfter(last)) {
                return Optional.empty();
            }
            if (months.isEmpty() || months.contains(month.getMonth())) {
                int day = firstDayInMonth(month, fromDay);
                if (day > 0) {
                    LocalDate date = month.atDay(day);
                    return last != null && date.isAfter(last) ? Optional.empty() : Optional.of(date);
                }
            }
            month = month.plusMonths(1);
            fromDay = 1;
        }
        return Optional.empty();
    }

    /** Whether some month allowed by `months` has one of `daysOfMonth` (Feb counted as 29 days), ignoring years. */
    public boolean someMonthHasADay() {
        if (!monthly() || lastDayOfMonth) {
            return true;
        }
        for (Month m : months.isEmpty() ? EnumSet.allOf(Month.class) : months) {
            if (daysOfMonth.first() <= m.maxLength()) {
                return true;
            }
        }
        return false;
    }

    /** The first run day of `month` on or after `fromDay`, or 0 if none. */
    private int firstDayInMonth(YearMonth month, int fromDay) {
        int length = month.lengthOfMonth();
        if (weekly()) {
            for (int day = fromDay; day <= Math.min(length, fromDay + 6); day++) {
                if (daysOfWeek.contains(month.atDay(day).getDayOfWeek())) {
                    return day;
                }
            }
            return 0;
        }
        if (monthly()) {
            // Days the month does not have (Feb 30, Apr 31) are skipped, not moved to the month's last day: "LAST" is
            // how a caller asks for the end of every month.
            Integer day = daysOfMonth.ceiling(fromDay);
            int listed = day != null && day <= length ? day : 0;
            return listed == 0 && lastDayOfMonth && length >= fromDay ? length : listed;
        }
        return fromDay <= length ? fromDay : 0;
    }
}
