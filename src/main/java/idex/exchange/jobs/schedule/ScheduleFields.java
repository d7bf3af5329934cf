package idex.exchange.jobs.schedule;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reading the single fields of `scheduleDetails`, each with the 400 that says what to send instead. Lenient about
 * form, because the seed documents the fields loosely (`"startHour":"<the hour to start>"` is a string, `endDate` is
 * not): a number may come as a JSON number or a numeric string, a list as an array or a comma-separated string, and
 * null or "" means "not given". Strict about meaning: a value out of range is an error, never clamped.
 */
final class ScheduleFields {

    /** Unix milliseconds below this (1973-03-03) are almost surely Unix seconds sent by mistake. */
    static final long SMALLEST_MILLIS = 100_000_000_000L;
    /** 9999-12-31T23:59:59.999Z, the last moment of the years accepted. */
    static final long LARGEST_MILLIS = 253_402_300_799_999L;
    static final int FIRST_YEAR = 1970;
    static final int LAST_YEAR = 9999;
    static final String LAST_DAY = "LAST";

    private static final Pattern DIGITS = Pattern.compile("[0-9]+");
    private static final Pattern DATE = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    private static final String DATE_FORMS = "send a date like 2026-11-23, a date-time like 2026-11-23T06:00:00Z"
            + " (UTC when it has no offset) or Unix milliseconds like 1795392000000";

    private ScheduleFields() {
    }

    static boolean absent(JsonNode v) {
        return v == null || v.isMissingNode() || v.isNull() || v.isTextual() && v.textValue().isBlank()
                || v.isArray() && v.isEmpty();
    }

    /** true, false, "true" or "false"; null when not given. */
    static Boolean bool(String field, JsonNode v) {
        if (absent(v)) {
            return null;
        }
        if (v.isBoolean()) {
            return v.booleanValue();
        }
        if (v.isTextual()) {
            String s = v.textValue().trim();
            if (s.equalsIgnoreCase("true")) {
                return true;
            }
            if (s.equalsIgnoreCase("false")) {
                return false;
            }
        }
        throw Refusal.invalid(field + " must be true or false, not " + v + ".");
    }

    /** A whole number from `min` to `max` (a JSON number or a numeric string); null when not given. */
    static Integer number(String field, JsonNode v, int min, int max, String unit) {
        if (absent(v)) {
            return null;
        }
        Integer n = wholeNumber(v);
        if (n == null || n < min || n > max) {
            throw Refusal.invalid(field + " must be a whole number from " + min + " to " + max + unit + ", not " + v
                    + ".");
        }
        return n;
    }

    /** Day names (MONDAY, Mon, …) or ISO numbers 1 (Monday) to 7 (Sunday). */
    static Set<DayOfWeek> daysOfWeek(JsonNode v) {
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (JsonNode item : items("daysOfWeek", v)) {
            Integer n = wholeNumber(item);
            DayOfWeek day = n != null ? (n >= 1 && n <= 7 ? DayOfWeek.of(n) : null) : named(DayOfWeek.class, item);
            if (day == null) {
                throw Refusal.invalid("daysOfWeek: " + item + " is not a day of the week: use MONDAY … SUNDAY, MON …"
                        + " SUN, or 1 (Monday) to 7 (Sunday).");
            }
            days.add(day);
        }
        return days;
    }

    /** Days 1 to 31, and "LAST" for the last day of each month (returned as 0). */
    static NavigableSet<Integer> daysOfMonth(JsonNode v) {
        NavigableSet<Integer> days = new TreeSet<>();
        for (JsonNode item : items("daysOfMonth", v)) {
            Integer n = wholeNumber(item);
            if (n == null && item.isTextual() && item.textValue().trim().equalsIgnoreCase(LAST_DAY)) {
                n = 0;
            } else if (n == null || n < 1 || n > 31) {
                throw Refusal.invalid("daysOfMonth: " + item + " is not a day of the month: use 1 to 31, or \"LAST\""
                        + " for the last day of every month.");
            }
            days.add(n);
        }
        return days;
    }

    /** Month names (JANUARY, Jan, …) or 1 to 12. */
    static Set<Month> monthsOfYear(JsonNode v) {
        Set<Month> months = EnumSet.noneOf(Month.class);
        for (JsonNode item : items("monthsOfYear", v)) {
            Integer n = wholeNumber(item);
            Month month = n != null ? (n >= 1 && n <= 12 ? Month.of(n) : null) : named(Month.class, item);
            if (month == null) {
                throw Refusal.invalid("monthsOfYear: " + item + " is not a month: use JANUARY … DECEMBER, JAN … DEC,"
                        + " or 1 to 12.");
            }
            months.add(month);
        }
        return months;
    }

    /** One year or several. */
    static NavigableSet<Integer> years(JsonNode v) {
        NavigableSet<Integer> years = new TreeSet<>();
        for (JsonNode item : items("year", v)) {
            Integer n = wholeNumber(item);
            if (n == null || n < FIRST_YEAR || n > LAST_YEAR) {
                throw Refusal.invalid("year: " + item + " is not a year: use a year from " + FIRST_YEAR + " to "
                        + LAST_YEAR + ", or several as [2026, 2027].");
            }
            years.add(n);
        }
        return years;
    }

    /** An ISO date, an ISO date-time (UTC without an offset) or Unix milliseconds; null when not given. */
    static ScheduleDate date(String field, JsonNode v) {
        if (absent(v)) {
            return null;
        }
        if (v.isIntegralNumber() && v.canConvertToLong()) {
            return millis(field, v, v.longValue());
        }
        if (!v.isTextual()) {
            throw Refusal.invalid(field + " " + v + " is not a date: " + DATE_FORMS + ".");
        }
        String s = v.textValue().trim();
        try {
            if (DIGITS.matcher(s).matches()) {
                return millis(field, v, s.length() > 18 ? Long.MAX_VALUE : Long.parseLong(s));
            }
            if (DATE.matcher(s).matches()) {
                return within(field, v, ScheduleDate.ofDate(LocalDate.parse(s)));
            }
            // "2026-11-23 06:00:00" is how many tools print a date-time; read it as the ISO form.
            String iso = s.length() > 10 && s.charAt(10) == ' ' ? s.substring(0, 10) + 'T' + s.substring(11) : s;
            return within(field, v, hasOffset(iso)
                    ? ScheduleDate.ofInstant(OffsetDateTime.parse(iso).toInstant())
                    : new ScheduleDate(LocalDateTime.parse(iso), false));
        } catch (DateTimeException e) {
            // Also the calendar's own refusals, such as 2026-02-30.
            throw Refusal.invalid(field + " " + v + " is not a date: " + DATE_FORMS + ".");
        }
    }

    private static ScheduleDate millis(String field, JsonNode v, long ms) {
        if (ms < SMALLEST_MILLIS || ms > LARGEST_MILLIS) {
            throw Refusal.invalid(field + " " + v + " is not a date in Unix milliseconds"
                    + (ms >= 0 && ms < SMALLEST_MILLIS ? " (it looks like seconds: multiply by 1000)" : "") + ": "
                    + DATE_FORMS + ".");
        }
        return ScheduleDate.ofInstant(Instant.ofEpochMilli(ms));
    }

    private static ScheduleDate within(String field, JsonNode v, ScheduleDate d) {
        int year = d.utc().getYear();
        if (year < FIRST_YEAR || year > LAST_YEAR) {
            throw Refusal.invalid(field + " " + v + " is out of range: use a date from " + FIRST_YEAR + " to "
                    + LAST_YEAR + ".");
        }
        return d;
    }

    private static boolean hasOffset(String iso) {
        int t = iso.indexOf('T');
        return t > 0 && (iso.endsWith("Z") || iso.endsWith("z") || iso.indexOf('+', t) > 0 || iso.indexOf('-', t) > 0);
    }

    /** The items of a list field: a JSON array, a comma-separated string, or a single value. */
    private static List<JsonNode> items(String field, JsonNode v) {
        List<JsonNode> items = new ArrayList<>();
        if (absent(v)) {
            return items;
        }
        if (v.isArray()) {
            v.forEach(items::add);
        } else if (v.isTextual()) {
            for (String part : v.textValue().split(",")) {
                if (!part.isBlank()) {
                    items.add(TextNode.valueOf(part.trim()));
                }
            }
        } else {
            items.add(v);
        }
        for (JsonNode item : items) {
            if (!item.isIntegralNumber() && !item.isTextual()) {
                throw Refusal.invalid(field + " must be a value, an array of values or a comma-separated string,"
                        + " not " + v + ".");
            }
        }
        return items;
    }

    /** A JSON whole number or a string of digits as an int; null when it is neither (or too large to matter). */
    private static Integer wholeNumber(JsonNode v) {
        if (v.isIntegralNumber()) {
            return v.canConvertToInt() ? v.intValue() : Integer.MAX_VALUE;
        }
        if (v.isTextual()) {
            String s = v.textValue().trim();
            if (DIGITS.matcher(s).matches()) {
                return s.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(s);
            }
        }
        return null;
    }

    /** The constant of `type` named in full or by its first three letters, in any case; null if none. */
    private static <E extends Enum<E>> E named(Class<E> type, JsonNode v) {
        if (!v.isTextual()) {
            return null;
        }
        String s = v.textValue().trim().toUpperCase(Locale.ROOT);
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(s) || s.length() == 3 && e.name().startsWith(s)) {
                return e;
            }
        }
        return null;
    }
}
