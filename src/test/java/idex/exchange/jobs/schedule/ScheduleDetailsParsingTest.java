package idex.exchange.jobs.schedule;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.NullNode;
import idex.errors.Refusal;
import idex.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalTime;
import java.time.Month;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading `scheduleDetails`: every accepted form, and the 400 for each kind of mistake. */
class ScheduleDetailsParsingTest {

    static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");

    static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s.replace('\'', '"'));
        } catch (Exception e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    static ScheduleDetails parse(String s) {
        return ScheduleDetails.parse(json(s), NOW);
    }

    static void rejects(String s, String... messageParts) {
        assertThatThrownBy(() -> parse(s))
                .isInstanceOfSatisfying(Refusal.class, e -> assertThat(e.kind()).isEqualTo(Refusal.Kind.INVALID))
                .message().contains(messageParts);
    }

    static ScheduleDetails repeating(String field, String value) {
        return parse("{'runRepeat':true,'" + field + "':" + value + "}");
    }

    // --- absent, empty, runNow and runRepeat ---

    @Test
    void absentScheduleDetailsRunOneJobNowAndEchoAsNull() {
        for (JsonNode absent : new JsonNode[]{null, MissingNode.getInstance(), NullNode.getInstance()}) {
            ScheduleDetails s = ScheduleDetails.parse(absent, NOW);
            assertThat(s).isSameAs(ScheduleDetails.RUN_NOW);
            assertThat(s.onlyNow()).isTrue();
            assertThat(s.toJson().isNull()).isTrue();
        }
    }

    @Test
    void anEmptyObjectRunsNowAndEchoesEverySeedFieldInTheSeedsOrder() {
        ScheduleDetails s = parse("{}");
        assertThat(s.onlyNow()).isTrue();
        assertThat(s.toJson().toString()).isEqualTo("{\"runNow\":true,\"runRepeat\":false,\"daysOfWeek\":null,"
                + "\"daysOfMonth\":null,\"monthsOfYear\":null,\"year\":null,\"startHour\":null,\"startMinute\":null,"
                + "\"startSecond\":null,\"startDate\":null,\"endDate\":null,\"timeSliceStartDate\":null,"
                + "\"timeSliceEndDate\":null}");
    }

    @Test
    void booleansMayBeStrings() {
        ScheduleDetails s = parse("{'runNow':'FALSE','runRepeat':'true'}");
        assertThat(s.runNow()).isFalse();
        assertThat(s.runRepeat()).isTrue();
        assertThat(parse("{'runNow':' true ','runRepeat':false}").onlyNow()).isTrue();
    }

    @Test
    void aBooleanThatIsNotOneIsRejected() {
        rejects("{'runNow':1}", "runNow must be true or false, not 1");
        rejects("{'runRepeat':'yes'}", "runRepeat must be true or false, not \"yes\"");
    }

    @Test
    void withoutRunNowAScheduleThatSaysWhenDoesNotRunNow() {
        assertThat(parse("{'runRepeat':true}").runNow()).isFalse();
        assertThat(parse("{'startDate':'2026-12-01'}").runNow()).isFalse();
        assertThat(parse("{'runRepeat':false}").runNow()).isTrue();
        assertThat(parse("{'daysOfWeek':'MON'}").onlyNow()).isTrue();
    }

    @Test
    void aSingleLaterRunNeedsAStartDate() {
        rejects("{'runNow':false}", "give startDate");
        rejects("{'startHour':'6'}", "give startDate");
        rejects("{'runNow':false,'runRepeat':false,'daysOfWeek':['MON']}", "give startDate");
    }

    @Test
    void runNowWithoutRepeatIgnoresTheTimingButStillChecksIt() {
        ScheduleDetails s = parse("{'runNow':true,'startDate':'2020-01-01','startHour':'6'}");
        assertThat(s.onlyNow()).isTrue();
        assertThat(s.firstOccurrence(NOW)).contains(NOW);
        rejects("{'runNow':true,'startHour':'25'}", "startHour");
    }

    // --- unknown fields and shapes ---

    @Test
    void unknownFieldsAreRejectedWithTheLikelyName() {
        rejects("{'runRepeat':true,'daysOfweek':['MON']}", "no field \"daysOfweek\"", "did you mean \"daysOfWeek\"?");
        rejects("{'every':'day'}", "no field \"every\"", "its fields are runNow, runRepeat, daysOfWeek");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[]", "'daily'", "true", "3"})
    void scheduleDetailsMustBeAnObject(String v) {
        rejects(v, "scheduleDetails must be a JSON object");
    }

    // --- start time ---

    @Test
    void startTimeFieldsAreNumbersOrNumericStringsAndDefaultToZero() {
        assertThat(repeating("startHour", "'06'").timeOfDay()).isEqualTo(LocalTime.of(6, 0));
        assertThat(parse("{'runRepeat':true,'startHour':23,'startMinute':'59','startSecond':' 7 '}").timeOfDay())
                .isEqualTo(LocalTime.of(23, 59, 7));
        assertThat(repeating("startMinute", "30").timeOfDay()).isEqualTo(LocalTime.of(0, 30));
        assertThat(parse("{'runRepeat':true,'startHour':'','startMinute':null}").timeOfDay()).isEqualTo(LocalTime.MIDNIGHT);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "startHour|24|startHour must be a whole number from 0 to 23 (GMT), not 24",
            "startHour|'-1'|startHour must be a whole number from 0 to 23 (GMT), not \"-1\"",
            "startHour|6.5|not 6.5",
            "startHour|'six'|not \"six\"",
            "startMinute|60|startMinute must be a whole number from 0 to 59, not 60",
            "startSecond|'60'|startSecond must be a whole number from 0 to 59, not \"60\"",
            "startSecond|[1]|startSecond must be a whole number"})
    void anOutOfRangeOrNonNumericStartTimeIsRejected(String field, String value, String message) {
        rejects("{'runRepeat':true,'" + field + "':" + value + "}", message);
    }

    @Test
    void theTimeOfDayComesFromStartDateWhenNoStartTimeIsGiven() {
        assertThat(repeating("startDate", "'2026-12-01T06:30:15Z'").timeOfDay()).isEqualTo(LocalTime.of(6, 30, 15));
        assertThat(parse("{'runRepeat':true,'startDate':'2026-12-01T06:30:15Z','startHour':8}").timeOfDay())
                .isEqualTo(LocalTime.of(8, 0));
        assertThat(repeating("startDate", "'2026-12-01'").timeOfDay()).isEqualTo(LocalTime.MIDNIGHT);
    }

    // --- day and month lists ---

    @Test
    void daysOfWeekAcceptNamesAbbreviationsAndIsoNumbersAsArraysOrStrings() {
        assertThat(repeating("daysOfWeek", "['MONDAY','tue','Wednesday']").days().daysOfWeek())
                .containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.TUESDAY, DayOfWeek.WEDNESDAY);
        assertThat(repeating("daysOfWeek", "'MON, fri'").days().daysOfWeek())
                .containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
        assertThat(repeating("daysOfWeek", "[1,'7']").days().daysOfWeek())
                .containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.SUNDAY);
        assertThat(repeating("daysOfWeek", "'1,7'").days().daysOfWeek())
                .containsExactlyInAnyOrder(DayOfWeek.MONDAY, DayOfWeek.SUNDAY);
        assertThat(repeating("daysOfWeek", "3").days().daysOfWeek()).containsExactly(DayOfWeek.WEDNESDAY);
        assertThat(repeating("daysOfWeek", "[]").days().weekly()).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "0|daysOfWeek: 0 is not a day of the week",
            "8|daysOfWeek: 8 is not a day of the week",
            "'Funday'|daysOfWeek: \"Funday\" is not a day of the week: use MONDAY … SUNDAY, MON … SUN, or 1 (Monday)",
            "'MO'|\"MO\" is not a day",
            "[[1]]|daysOfWeek must be a value, an array of values or a comma-separated string",
            "{}|daysOfWeek must be a value"})
    void aDayOfWeekThatIsNotOneIsRejected(String value, String message) {
        rejects("{'runRepeat':true,'daysOfWeek':" + value + "}", message);
    }

    @Test
    void daysOfMonthAcceptNumbersAndLast() {
        ScheduleDetails s = repeating("daysOfMonth", "[1,'15','last']");
        assertThat(s.days().daysOfMonth()).containsExactly(1, 15);
        assertThat(s.days().lastDayOfMonth()).isTrue();
        assertThat(repeating("daysOfMonth", "'31'").days().daysOfMonth()).containsExactly(31);
        assertThat(repeating("daysOfMonth", "'LAST'").days().daysOfMonth()).isEmpty();
        assertThat(repeating("daysOfMonth", "'2, 3'").days().daysOfMonth()).containsExactly(2, 3);
    }

    @ParameterizedTest
    @ValueSource(strings = {"32", "0", "'first'", "[1,40]"})
    void aDayOfMonthThatIsNotOneIsRejected(String value) {
        rejects("{'runRepeat':true,'daysOfMonth':" + value + "}", "is not a day of the month: use 1 to 31, or \"LAST\"");
    }

    @Test
    void daysOfWeekAndDaysOfMonthExcludeEachOther() {
        rejects("{'runRepeat':true,'daysOfWeek':'MON','daysOfMonth':1}", "both daysOfWeek and daysOfMonth");
        rejects("{'runRepeat':true,'daysOfWeek':'MON','daysOfMonth':'LAST'}", "both daysOfWeek and daysOfMonth");
    }

    @Test
    void monthsOfYearAcceptNamesAbbreviationsAndNumbers() {
        assertThat(repeating("monthsOfYear", "['JAN','February',12]").days().months())
                .containsExactlyInAnyOrder(Month.JANUARY, Month.FEBRUARY, Month.DECEMBER);
        assertThat(repeating("monthsOfYear", "'3, apr'").days().months())
                .containsExactlyInAnyOrder(Month.MARCH, Month.APRIL);
    }

    @ParameterizedTest
    @ValueSource(strings = {"13", "0", "'Smarch'", "'Ju'"})
    void aMonthThatIsNotOneIsRejected(String value) {
        rejects("{'runRepeat':true,'monthsOfYear':" + value + "}", "is not a month: use JANUARY … DECEMBER, JAN … DEC,"
                + " or 1 to 12");
    }

    @Test
    void daysOfMonthThatNoChosenMonthHasAreRejected() {
        rejects("{'runRepeat':true,'daysOfMonth':[30,31],'monthsOfYear':'FEB'}", "daysOfMonth [30,31] never falls in"
                + " monthsOfYear \"FEB\"");
        rejects("{'runRepeat':true,'daysOfMonth':31,'monthsOfYear':['APR','JUN','SEP','NOV']}", "never falls");
        assertThat(parse("{'runRepeat':true,'daysOfMonth':29,'monthsOfYear':'FEB'}").days().months())
                .containsExactly(Month.FEBRUARY);
        assertThat(parse("{'runRepeat':true,'daysOfMonth':[31,'LAST'],'monthsOfYear':'FEB'}").days().lastDayOfMonth())
                .isTrue();
    }

    @Test
    void yearIsOneOrSeveral() {
        assertThat(repeating("year", "2027").days().years()).containsExactly(2027);
        assertThat(repeating("year", "'2027'").days().years()).containsExactly(2027);
        assertThat(repeating("year", "[2028,2027]").days().years()).containsExactly(2027, 2028);
        rejects("{'runRepeat':true,'year':1969}", "year: 1969 is not a year");
        rejects("{'runRepeat':true,'year':'10000'}", "year: \"10000\" is not a year");
        rejects("{'runRepeat':true,'year':'next'}", "year: \"next\" is not a year");
    }

    // --- dates ---

    @Test
    void aDateAloneStartsAtTheStartOfItsDayAndEndsAtTheEndOfIt() {
        ScheduleDetails s = parse("{'runRepeat':true,'startDate':'2026-12-01','endDate':'2026-12-01'}");
        assertThat(s.start()).isEqualTo("2026-12-01T00:00:00Z");
        assertThat(s.end()).isEqualTo("2026-12-01T23:59:59.999999999Z");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "'2026-12-01T06:30:00Z'|2026-12-01T06:30:00Z",
            "'2026-12-01T06:30:00+02:00'|2026-12-01T04:30:00Z",
            "'2026-12-01T06:30:00-05:00'|2026-12-01T11:30:00Z",
            "'2026-12-01T06:30:00'|2026-12-01T06:30:00Z",
            "'2026-12-01T06:30'|2026-12-01T06:30:00Z",
            "'2026-12-01 06:30:00'|2026-12-01T06:30:00Z",
            "'2026-12-01T06:30:00.250Z'|2026-12-01T06:30:00.250Z",
            "1796106600000|2026-12-01T06:30:00Z",
            "'1796106600000'|2026-12-01T06:30:00Z"})
    void dateTimesAndUnixMillisecondsAreMoments(String value, String expected) {
        ScheduleDetails s = parse("{'runRepeat':true,'startDate':" + value + ",'endDate':" + value + "}");
        assertThat(s.start()).isEqualTo(expected);
        assertThat(s.end()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "'23/11/2026'|startDate \"23/11/2026\" is not a date: send a date like 2026-11-23",
            "'2026-02-30'|startDate \"2026-02-30\" is not a date",
            "'2026-13-01'|is not a date",
            "'tomorrow'|is not a date",
            "'2026-12-01T25:00:00Z'|is not a date",
            "true|startDate true is not a date",
            "1796106600|is not a date in Unix milliseconds (it looks like seconds: multiply by 1000)",
            "-1|is not a date in Unix milliseconds",
            "'99999999999999999999'|is not a date in Unix milliseconds",
            "'0999-01-01'|is out of range: use a date from 1970 to 9999"})
    void aStartDateThatIsNotADateIsRejected(String value, String message) {
        rejects("{'runRepeat':true,'startDate':" + value + "}", message);
    }

    @Test
    void endDateIsCheckedLikeStartDate() {
        rejects("{'runRepeat':true,'endDate':'2026-31-12'}", "endDate \"2026-31-12\" is not a date");
    }

    @Test
    void endDateBeforeStartDateIsRejected() {
        rejects("{'runRepeat':true,'startDate':'2026-12-02','endDate':'2026-12-01'}",
                "endDate \"2026-12-01\" is before startDate \"2026-12-02\"");
        rejects("{'runRepeat':true,'startDate':'2026-12-01T06:00:00Z','endDate':'2026-12-01T05:59:59Z'}",
                "is before startDate");
        // The same day as a date alone reaches to the end of the day, so it is not before a moment in that day.
        assertThat(parse("{'runRepeat':true,'startDate':'2026-12-01T06:00:00Z','endDate':'2026-12-01'}").end())
                .isEqualTo("2026-12-01T23:59:59.999999999Z");
    }

    // --- time slice ---

    @Test
    void theTimeSliceIsCarriedWithoutAffectingTheRuns() {
        ScheduleDetails s = parse("{'runNow':true,'timeSliceStartDate':'2026-11-01','timeSliceEndDate':1796106600000}");
        assertThat(s.timeSlice()).isEqualTo(new TimeSlice(Instant.parse("2026-11-01T00:00:00Z"),
                Instant.parse("2026-12-01T06:30:00Z")));
        assertThat(s.onlyNow()).isTrue();
        assertThat(s.firstOccurrence(NOW)).contains(NOW);
        assertThat(parse("{'timeSliceEndDate':'2026-11-30'}").timeSlice())
                .isEqualTo(new TimeSlice(null, Instant.parse("2026-11-30T23:59:59.999999999Z")));
        assertThat(parse("{}").timeSlice()).isEqualTo(new TimeSlice(null, null));
    }

    @Test
    void aTimeSliceThatEndsBeforeItStartsIsRejected() {
        rejects("{'timeSliceStartDate':'2026-11-02','timeSliceEndDate':'2026-11-01'}",
                "timeSliceEndDate \"2026-11-01\" is before timeSliceStartDate \"2026-11-02\"");
        rejects("{'timeSliceStartDate':'someday'}", "timeSliceStartDate \"someday\" is not a date");
    }

    // --- checks against the clock ---

    @Test
    void aScheduleWithoutARunLeftIsRejected() {
        rejects("{'runRepeat':true,'endDate':'2026-11-22'}", "endDate \"2026-11-22\" is past (now is 2026-11-23T10:00:00Z)");
        rejects("{'startDate':'2026-11-23','startHour':9}", "would be at 2026-11-23T09:00:00Z, which is past");
        rejects("{'runNow':true,'runRepeat':true,'endDate':'2026-11-22'}", "endDate \"2026-11-22\" is past");
        rejects("{'runRepeat':true,'daysOfMonth':29,'monthsOfYear':'FEB','year':2027}", "No run at 00:00 UTC from now");
        rejects("{'runRepeat':true,'startDate':'2026-12-01','endDate':'2026-12-05','daysOfWeek':'SUN','startHour':1}",
                "No run at 01:00 UTC from startDate \"2026-12-01\" to endDate \"2026-12-05\"");
    }

    @Test
    void restoreDoesNotCheckAgainstTheClock() {
        ScheduleDetails over = ScheduleDetails.restore(json("{'runRepeat':true,'endDate':'2026-11-22'}"));
        assertThat(over.nextOccurrence(NOW)).isEmpty();
        assertThatThrownBy(() -> ScheduleDetails.restore(json("{'runRepeat':true,'endDate':'x'}")))
                .isInstanceOf(Refusal.class);
    }

    // --- echo ---

    @Test
    void toJsonEchoesTheValuesAsGivenInTheSeedsOrder() {
        ScheduleDetails s = parse("{'timeSliceEndDate':'2026-12-31','startHour':'06','daysOfWeek':'mon, FRI',"
                + "'runRepeat':'true','endDate':1830000000000,'startDate':'2026-12-01T00:00:00+01:00','year':[2027]}");
        assertThat(s.toJson().toString()).isEqualTo("{\"runNow\":false,\"runRepeat\":true,\"daysOfWeek\":\"mon, FRI\","
                + "\"daysOfMonth\":null,\"monthsOfYear\":null,\"year\":[2027],\"startHour\":\"06\",\"startMinute\":null,"
                + "\"startSecond\":null,\"startDate\":\"2026-12-01T00:00:00+01:00\",\"endDate\":1830000000000,"
                + "\"timeSliceStartDate\":null,\"timeSliceEndDate\":\"2026-12-31\"}");
    }

    @Test
    void whatToJsonGaveRestoresToTheSameSchedule() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':[1,'LAST'],'monthsOfYear':'JAN,JUL','startHour':6,"
                + "'startDate':'2026-12-01','endDate':'2030-12-31','timeSliceStartDate':'2026-01-01'}");
        ScheduleDetails back = ScheduleDetails.restore(s.toJson());
        assertThat(back.toJson()).isEqualTo(s.toJson());
        assertThat(List.of(back.runNow(), back.runRepeat())).isEqualTo(List.of(s.runNow(), s.runRepeat()));
        assertThat(back.days()).isEqualTo(s.days());
        assertThat(back.timeOfDay()).isEqualTo(s.timeOfDay());
        assertThat(back.start()).isEqualTo(s.start());
        assertThat(back.end()).isEqualTo(s.end());
        assertThat(back.timeSlice()).isEqualTo(s.timeSlice());
        assertThat(back.firstOccurrence(NOW)).isEqualTo(s.firstOccurrence(NOW)).contains(Instant.parse("2027-01-01T06:00:00Z"));
    }

    @Test
    void theEchoIsACopy() {
        ScheduleDetails s = parse("{'runRepeat':true,'startHour':6}");
        ((com.fasterxml.jackson.databind.node.ObjectNode) s.toJson()).put("startHour", 7);
        assertThat(s.toJson().get("startHour").asInt()).isEqualTo(6);
    }
}
