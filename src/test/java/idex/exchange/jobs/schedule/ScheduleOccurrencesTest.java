package idex.exchange.jobs.schedule;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.NOW;
import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.json;
import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.parse;
import static org.assertj.core.api.Assertions.assertThat;

/** When runs happen: once, daily, weekly, monthly, across month ends, leap years and end dates (now: Mon 2026-11-23 10:00Z). */
class ScheduleOccurrencesTest {

    static Instant t(String iso) {
        return Instant.parse(iso);
    }

    /** The runs strictly after `after`, at most `limit` of them. */
    static List<Instant> runsAfter(ScheduleDetails s, Instant after, int limit) {
        List<Instant> runs = new ArrayList<>();
        Optional<Instant> next = s.nextOccurrence(after);
        while (next.isPresent() && runs.size() < limit) {
            runs.add(next.get());
            next = s.nextOccurrence(next.get());
        }
        return runs;
    }

    static List<Instant> instants(String... iso) {
        return java.util.Arrays.stream(iso).map(Instant::parse).toList();
    }

    // --- one run ---

    @Test
    void runNowRunsNowAndNothingAfter() {
        ScheduleDetails s = parse("{'runNow':true}");
        assertThat(s.firstOccurrence(NOW)).contains(NOW);
        assertThat(s.nextOccurrence(NOW)).isEmpty();
        assertThat(s.nextOccurrence(Instant.EPOCH)).isEmpty();
    }

    @Test
    void aSingleLaterRunHappensOnceAtStartDateAndStartTime() {
        ScheduleDetails s = parse("{'runNow':false,'runRepeat':false,'startDate':'2026-12-01','startHour':'6','startMinute':5}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-12-01T06:05:00Z"));
        assertThat(s.nextOccurrence(NOW)).contains(t("2026-12-01T06:05:00Z"));
        assertThat(s.nextOccurrence(t("2026-12-01T06:04:59Z"))).contains(t("2026-12-01T06:05:00Z"));
        assertThat(s.nextOccurrence(t("2026-12-01T06:05:00Z"))).isEmpty();
        assertThat(s.firstOccurrence(t("2026-12-01T06:05:01Z"))).isEmpty();
    }

    @Test
    void aSingleRunAtAMomentInMillisecondsKeepsItsMilliseconds() {
        ScheduleDetails s = parse("{'runNow':false,'startDate':1796106600123}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-12-01T06:30:00.123Z"));
        assertThat(s.nextOccurrence(t("2026-12-01T06:30:00.123Z"))).isEmpty();
    }

    @Test
    void aSingleRunWhoseStartTimeIsEarlierThanStartDatesRunsTheNextDay() {
        ScheduleDetails s = parse("{'runNow':false,'startDate':'2026-12-01T09:00:00Z','startHour':8}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-12-02T08:00:00Z"));
    }

    @Test
    void aSingleRunHonoursTheDayLists() {
        // The first Monday from Tuesday 2026-12-01.
        ScheduleDetails s = parse("{'runNow':false,'startDate':'2026-12-01','daysOfWeek':'MON','startHour':7}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-12-07T07:00:00Z"));
        assertThat(runsAfter(s, NOW, 5)).containsExactly(t("2026-12-07T07:00:00Z"));
    }

    // --- daily ---

    @Test
    void dailyRunsEveryDayAtTheStartTime() {
        ScheduleDetails s = parse("{'runRepeat':true,'startHour':6}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-11-24T06:00:00Z"));
        assertThat(s.firstOccurrence(t("2026-11-23T06:00:00Z"))).contains(t("2026-11-23T06:00:00Z"));
        assertThat(s.nextOccurrence(t("2026-11-23T06:00:00Z"))).contains(t("2026-11-24T06:00:00Z"));
        assertThat(s.nextOccurrence(t("2026-11-23T05:59:59.999Z"))).contains(t("2026-11-23T06:00:00Z"));
        assertThat(runsAfter(s, t("2026-11-29T12:00:00Z"), 3))
                .isEqualTo(instants("2026-11-30T06:00:00Z", "2026-12-01T06:00:00Z", "2026-12-02T06:00:00Z"));
        assertThat(runsAfter(s, t("2026-12-30T12:00:00Z"), 3))
                .isEqualTo(instants("2026-12-31T06:00:00Z", "2027-01-01T06:00:00Z", "2027-01-02T06:00:00Z"));
    }

    @Test
    void dailyCrossesTheEndOfFebruaryInLeapAndCommonYears() {
        ScheduleDetails s = parse("{'runRepeat':true}");
        assertThat(runsAfter(s, t("2027-02-27T12:00:00Z"), 2)).isEqualTo(instants("2027-02-28T00:00:00Z", "2027-03-01T00:00:00Z"));
        assertThat(runsAfter(s, t("2028-02-27T12:00:00Z"), 3))
                .isEqualTo(instants("2028-02-28T00:00:00Z", "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z"));
        // Ten years of days, none skipped and none twice: 3653 days from 2027-01-01 to 2036-12-31 (three leap years).
        assertThat(runsAfter(s, t("2026-12-31T00:00:00Z"), 10_000).stream()
                .filter(r -> r.isBefore(t("2037-01-01T00:00:00Z"))).count()).isEqualTo(3653);
    }

    @Test
    void runsStopAfterADateEndDateAtTheEndOfItsDay() {
        ScheduleDetails s = parse("{'runRepeat':true,'startHour':23,'startMinute':59,'endDate':'2026-11-25'}");
        assertThat(runsAfter(s, NOW, 10))
                .isEqualTo(instants("2026-11-23T23:59:00Z", "2026-11-24T23:59:00Z", "2026-11-25T23:59:00Z"));
    }

    @Test
    void aMomentEndDateIsInclusive() {
        ScheduleDetails upTo = parse("{'runRepeat':true,'startHour':6,'endDate':'2026-11-25T06:00:00Z'}");
        assertThat(runsAfter(upTo, NOW, 10)).isEqualTo(instants("2026-11-24T06:00:00Z", "2026-11-25T06:00:00Z"));
        ScheduleDetails before = parse("{'runRepeat':true,'startHour':6,'endDate':'2026-11-25T05:59:59Z'}");
        assertThat(runsAfter(before, NOW, 10)).isEqualTo(instants("2026-11-24T06:00:00Z"));
    }

    @Test
    void runsStartOnStartDateInclusive() {
        ScheduleDetails s = parse("{'runRepeat':true,'startDate':'2026-12-10','startHour':6}");
        assertThat(s.firstOccurrence(NOW)).contains(t("2026-12-10T06:00:00Z"));
        assertThat(s.nextOccurrence(NOW)).contains(t("2026-12-10T06:00:00Z"));
        ScheduleDetails late = parse("{'runRepeat':true,'startDate':'2026-12-10T07:00:00Z','startHour':6}");
        assertThat(late.firstOccurrence(NOW)).contains(t("2026-12-11T06:00:00Z"));
        ScheduleDetails atStart = parse("{'runRepeat':true,'startDate':'2026-12-10T06:00:00Z','startHour':6}");
        assertThat(atStart.firstOccurrence(NOW)).contains(t("2026-12-10T06:00:00Z"));
    }

    @Test
    void withoutAStartTimeRunsFollowTheTimeOfDayOfStartDate() {
        ScheduleDetails s = parse("{'runRepeat':true,'startDate':'2026-12-10T07:30:00Z'}");
        assertThat(runsAfter(s, NOW, 2)).isEqualTo(instants("2026-12-10T07:30:00Z", "2026-12-11T07:30:00Z"));
    }

    @Test
    void runNowWithRepeatRunsNowThenAtEachOccurrence() {
        ScheduleDetails s = parse("{'runNow':true,'runRepeat':true,'startHour':6}");
        assertThat(s.firstOccurrence(NOW)).contains(NOW);
        assertThat(s.nextOccurrence(NOW)).contains(t("2026-11-24T06:00:00Z"));
    }

    // --- weekly ---

    @Test
    void weeklyRunsOnTheGivenDaysAcrossMonthAndYearEnds() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfWeek':['MONDAY','FRIDAY'],'startHour':9}");
        // Monday 2026-11-23 10:00: today's 09:00 is past.
        assertThat(runsAfter(s, NOW, 4)).isEqualTo(instants("2026-11-27T09:00:00Z", "2026-11-30T09:00:00Z",
                "2026-12-04T09:00:00Z", "2026-12-07T09:00:00Z"));
        assertThat(runsAfter(s, t("2026-12-28T09:00:00Z"), 3)).isEqualTo(instants("2027-01-01T09:00:00Z",
                "2027-01-04T09:00:00Z", "2027-01-08T09:00:00Z"));
        assertThat(s.firstOccurrence(t("2026-11-23T09:00:00Z"))).contains(t("2026-11-23T09:00:00Z"));
    }

    @Test
    void weeklyOnSundayOnlyFindsTheNextWeek() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfWeek':7}");
        assertThat(runsAfter(s, t("2026-11-29T00:00:00Z"), 2)).isEqualTo(instants("2026-12-06T00:00:00Z",
                "2026-12-13T00:00:00Z"));
    }

    // --- monthly ---

    @Test
    void monthlyOnThe31stSkipsMonthsWithout() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':31}");
        assertThat(runsAfter(s, NOW, 5)).isEqualTo(instants("2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z",
                "2027-03-31T00:00:00Z", "2027-05-31T00:00:00Z", "2027-07-31T00:00:00Z"));
    }

    @Test
    void monthlyOnThe29thToThe31stSkipsFebruaryExceptThe29thInLeapYears() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':[29,30,31],'startHour':12}");
        assertThat(runsAfter(s, t("2027-01-31T13:00:00Z"), 2)).isEqualTo(instants("2027-03-29T12:00:00Z",
                "2027-03-30T12:00:00Z"));
        assertThat(runsAfter(s, t("2028-01-31T13:00:00Z"), 2)).isEqualTo(instants("2028-02-29T12:00:00Z",
                "2028-03-29T12:00:00Z"));
    }

    @Test
    void lastIsTheLastDayOfEveryMonth() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':'LAST','startHour':18}");
        assertThat(runsAfter(s, NOW, 4)).isEqualTo(instants("2026-11-30T18:00:00Z", "2026-12-31T18:00:00Z",
                "2027-01-31T18:00:00Z", "2027-02-28T18:00:00Z"));
        assertThat(s.nextOccurrence(t("2028-02-01T00:00:00Z"))).contains(t("2028-02-29T18:00:00Z"));
    }

    @Test
    void lastTogetherWithNumberedDaysDoesNotRunTwiceOnTheSameDay() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':[15,30,'LAST']}");
        assertThat(runsAfter(s, t("2027-01-01T00:00:00Z"), 6)).isEqualTo(instants("2027-01-15T00:00:00Z",
                "2027-01-30T00:00:00Z", "2027-01-31T00:00:00Z", "2027-02-15T00:00:00Z", "2027-02-28T00:00:00Z",
                "2027-03-15T00:00:00Z"));
        assertThat(runsAfter(s, t("2027-04-15T00:00:00Z"), 2)).isEqualTo(instants("2027-04-30T00:00:00Z",
                "2027-05-15T00:00:00Z"));
    }

    @Test
    void monthsOfYearRestrictMonthlyRuns() {
        ScheduleDetails s = parse("{'runRepeat':true,'daysOfMonth':1,'monthsOfYear':['JAN','JUL']}");
        assertThat(runsAfter(s, NOW, 3)).isEqualTo(instants("2027-01-01T00:00:00Z", "2027-07-01T00:00:00Z",
                "2028-01-01T00:00:00Z"));
    }

    @Test
    void monthsOfYearAndYearRestrictDailyAndWeeklyRunsToo() {
        ScheduleDetails december = parse("{'runRepeat':true,'monthsOfYear':12,'daysOfWeek':'SUN','year':2026}");
        assertThat(runsAfter(december, NOW, 10)).isEqualTo(instants("2026-12-06T00:00:00Z", "2026-12-13T00:00:00Z",
                "2026-12-20T00:00:00Z", "2026-12-27T00:00:00Z"));
        ScheduleDetails in2027 = parse("{'runRepeat':true,'year':2027,'startHour':6}");
        assertThat(in2027.firstOccurrence(NOW)).contains(t("2027-01-01T06:00:00Z"));
        assertThat(in2027.nextOccurrence(t("2027-12-31T06:00:00Z"))).isEmpty();
    }

    @Test
    void yearsJumpFarAheadAtOnce() {
        ScheduleDetails s = parse("{'runRepeat':true,'year':[2030,9999],'daysOfMonth':'LAST','monthsOfYear':'FEB'}");
        assertThat(runsAfter(s, NOW, 5)).isEqualTo(instants("2030-02-28T00:00:00Z", "9999-02-28T00:00:00Z"));
    }

    @Test
    void feb29IsFoundAcrossTheEightYearGapAround2100() {
        ScheduleDetails s = ScheduleDetails.restore(json("{'runRepeat':true,'daysOfMonth':29,'monthsOfYear':'FEB'}"));
        assertThat(s.nextOccurrence(t("2096-03-01T00:00:00Z"))).contains(t("2104-02-29T00:00:00Z"));
    }

    @Test
    void aScheduleWhoseYearsHaveNoMatchingDayNeverRuns() {
        ScheduleDetails s = ScheduleDetails.restore(json("{'runRepeat':true,'daysOfMonth':29,'monthsOfYear':'FEB',"
                + "'year':[2027,2100]}"));
        assertThat(s.nextOccurrence(Instant.EPOCH)).isEmpty();
    }

    @Test
    void nothingFollowsTheLastPossibleMoment() {
        ScheduleDetails s = parse("{'runRepeat':true}");
        assertThat(s.nextOccurrence(Instant.MAX)).isEmpty();
        assertThat(s.nextOccurrence(t("9999-12-31T00:00:00Z"))).isEmpty();
        assertThat(s.nextOccurrence(t("9999-12-30T00:00:00Z"))).contains(t("9999-12-31T00:00:00Z"));
    }

    // --- against a day-by-day count ---

    /**
     * Every run from 2026 to 2033 (two leap years) equals the days a plain day-by-day walk picks; the walk is the
     * obvious reading of the rules, the schedule the efficient one.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "'daysOfWeek':'TUE,SAT','startHour':3",
            "'daysOfMonth':[1,29,31],'startMinute':15",
            "'daysOfMonth':['LAST',28]",
            "'daysOfMonth':[30],'monthsOfYear':[1,2,3]",
            "'daysOfWeek':[1],'monthsOfYear':'FEB','year':[2028,2031]",
            "'monthsOfYear':'FEB','startSecond':59,'startDate':'2027-02-10','endDate':'2032-02-10'"})
    void runsMatchADayByDayWalk(String fields) {
        ScheduleDetails s = ScheduleDetails.restore(json("{'runRepeat':true," + fields + "}"));
        Instant from = t("2026-01-01T00:00:00Z");
        Instant until = t("2034-01-01T00:00:00Z");
        List<Instant> walked = new ArrayList<>();
        for (LocalDate d = LocalDate.of(2026, 1, 1); d.isBefore(LocalDate.of(2034, 1, 1)); d = d.plusDays(1)) {
            Instant at = d.atTime(s.timeOfDay()).toInstant(ZoneOffset.UTC);
            if (runsOn(s.days(), d) && (s.start() == null || !at.isBefore(s.start())) && (s.end() == null || !at.isAfter(s.end()))) {
                walked.add(at);
            }
        }
        List<Instant> computed = runsAfter(s, from.minusSeconds(1), 10_000).stream()
                .filter(r -> r.isBefore(until)).toList();
        assertThat(walked).isNotEmpty();
        assertThat(computed).isEqualTo(walked);
    }

    private static boolean runsOn(RunDays days, LocalDate d) {
        boolean dayOk = days.weekly() ? days.daysOfWeek().contains(d.getDayOfWeek())
                : !days.monthly() || days.daysOfMonth().contains(d.getDayOfMonth())
                || days.lastDayOfMonth() && d.getDayOfMonth() == d.lengthOfMonth();
        return dayOk && (days.months().isEmpty() || days.months().contains(d.getMonth()))
                && (days.years().isEmpty() || days.years().contains(d.getYear()));
    }
}
