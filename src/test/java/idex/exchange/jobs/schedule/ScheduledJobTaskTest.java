package idex.exchange.jobs.schedule;

import com.github.kagkarlsson.scheduler.task.CompletionHandler;
import com.github.kagkarlsson.scheduler.task.Execution;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.ExecutionContext;
import com.github.kagkarlsson.scheduler.task.ExecutionOperations;
import com.github.kagkarlsson.scheduler.task.SchedulableInstance;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.github.kagkarlsson.scheduler.task.helper.CustomTask;
import com.github.kagkarlsson.scheduler.task.schedule.Schedule;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.NOW;
import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.json;
import static idex.exchange.jobs.schedule.ScheduleDetailsParsingTest.parse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link OccurrenceSchedule} and {@link ScheduledJobTask} against db-scheduler's own types, without a database. */
class ScheduledJobTaskTest {

    static final Instant SIX = Instant.parse("2026-11-24T06:00:00Z");
    static final ScheduleDetails DAILY_AT_SIX = parse("{'runRepeat':true,'startHour':6}");

    static Instant t(String iso) {
        return Instant.parse(iso);
    }

    static ExecutionComplete ran(Instant planned, Instant done, Object data) {
        Execution e = new Execution(planned, new TaskInstance<>(ScheduledJobTask.TASK_NAME, "42", data));
        return ExecutionComplete.success(e, done.minusMillis(5), done);
    }

    static ExecutionComplete failed(Instant planned, Instant done, ScheduledJobTaskData data) {
        Execution e = new Execution(planned, new TaskInstance<>(ScheduledJobTask.TASK_NAME, "42", data));
        return ExecutionComplete.failure(e, done.minusMillis(5), done, new IllegalStateException("boom"));
    }

    /** What a completion or failure handler asked db-scheduler to do with the execution. */
    static final class RecordedOperations extends ExecutionOperations<ScheduledJobTaskData> {
        Instant rescheduledTo;
        ScheduledJobTaskData newData;
        boolean removed;

        RecordedOperations() {
            super(null, null, null);
        }

        @Override
        public void reschedule(ExecutionComplete done, Instant next) {
            rescheduledTo = next;
        }

        @Override
        public void reschedule(ExecutionComplete done, Instant next, ScheduledJobTaskData data) {
            rescheduledTo = next;
            newData = data;
        }

        @Override
        public void remove() {
            removed = true;
        }
    }

    // --- OccurrenceSchedule ---

    @Test
    void theFirstExecutionIsTheFirstOccurrence() {
        assertThat(new OccurrenceSchedule(DAILY_AT_SIX).getInitialExecutionTime(NOW)).isEqualTo(SIX);
        ScheduleDetails now = parse("{'runNow':true,'runRepeat':true,'startHour':6}");
        assertThat(new OccurrenceSchedule(now).getInitialExecutionTime(NOW)).isEqualTo(NOW);
    }

    @Test
    void aRunOnTimeIsFollowedByTheNextOccurrence() {
        Schedule s = new OccurrenceSchedule(DAILY_AT_SIX);
        assertThat(s.getNextExecutionTime(ran(SIX, SIX.plusSeconds(3), null))).isEqualTo(t("2026-11-25T06:00:00Z"));
    }

    @Test
    void missedOccurrencesCollapseIntoTheOneLateRun() {
        // Due on the 24th, but every node was down until the 27th at noon: the 25th to the 27th are not replayed.
        Schedule s = new OccurrenceSchedule(DAILY_AT_SIX);
        assertThat(s.getNextExecutionTime(ran(SIX, t("2026-11-27T12:00:00Z"), null))).isEqualTo(t("2026-11-28T06:00:00Z"));
    }

    @Test
    void aNodeWhoseClockIsBehindDoesNotRunTheSameOccurrenceTwice() {
        Schedule s = new OccurrenceSchedule(DAILY_AT_SIX);
        assertThat(s.getNextExecutionTime(ran(SIX, SIX.minusSeconds(30), null))).isEqualTo(t("2026-11-25T06:00:00Z"));
    }

    @Test
    void anOverScheduleGivesNever() {
        ScheduleDetails once = parse("{'startDate':'2026-12-01','startHour':6}");
        Schedule s = new OccurrenceSchedule(once);
        assertThat(s.getNextExecutionTime(ran(t("2026-12-01T06:00:00Z"), t("2026-12-01T06:00:01Z"), null)))
                .isEqualTo(Schedule.NEVER);
        assertThat(s.getInitialExecutionTime(t("2026-12-02T00:00:00Z"))).isEqualTo(Schedule.NEVER);
        assertThat(s.isDeterministic()).isTrue();
        assertThat(s.isDisabled()).isFalse();
    }

    // --- ScheduledJobTask ---

    record Fired(long scheduledJobId, Instant occurrence, ScheduleDetails details) {
    }

    final List<Fired> fired = new ArrayList<>();
    /** What the handler answers: null for the schedule's own next occurrence. */
    Optional<Instant> answer;
    final CustomTask<ScheduledJobTaskData> task = ScheduledJobTask.task((id, occurrence, details) -> {
        fired.add(new Fired(id, occurrence, details));
        return answer != null ? answer : details.nextOccurrence(occurrence);
    });

    @Test
    void aNewScheduledJobsInstanceIsDueAtItsFirstOccurrence() {
        SchedulableInstance<ScheduledJobTaskData> i = ScheduledJobTask.instance(task, 42, DAILY_AT_SIX, NOW);
        assertThat(i.getTaskName()).isEqualTo("exchange-scheduled-job");
        assertThat(i.getId()).isEqualTo("42");
        assertThat(i.getNextExecutionTime(NOW)).isEqualTo(SIX);
        ScheduledJobTaskData data = i.getTaskInstance().getData();
        assertThat(data.scheduledJobId()).isEqualTo(42);
        assertThat(data.occurrence()).isEqualTo(SIX);
        assertThat(data.failedAttempts()).isZero();
        assertThat(data.details().toJson()).isEqualTo(DAILY_AT_SIX.toJson());
        assertThat(ScheduledJobTask.instanceId(42).getId()).isEqualTo("42");
        assertThat(ScheduledJobTask.instanceId(42).getTaskName()).isEqualTo(i.getTaskName());
    }

    @Test
    void aScheduleWithoutOccurrencesGetsNoInstance() {
        ScheduleDetails over = ScheduleDetails.restore(json("{'runRepeat':true,'endDate':'2026-11-01'}"));
        assertThatThrownBy(() -> ScheduledJobTask.instance(task, 42, over, NOW))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anExecutionFiresItsOccurrenceAndMovesToTheNext() {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX);
        RecordedOperations ops = execute(data, SIX, SIX.plusSeconds(2));
        assertThat(fired).hasSize(1);
        assertThat(fired.get(0).scheduledJobId()).isEqualTo(42);
        assertThat(fired.get(0).occurrence()).isEqualTo(SIX);
        assertThat(fired.get(0).details().timeOfDay()).isEqualTo(DAILY_AT_SIX.timeOfDay());
        assertThat(ops.rescheduledTo).isEqualTo(t("2026-11-25T06:00:00Z"));
        assertThat(ops.newData).isEqualTo(data.at(t("2026-11-25T06:00:00Z")));
        assertThat(ops.removed).isFalse();
    }

    @Test
    void theExecutionMovesToTheOccurrenceTheHandlerAnswers() {
        // The handler has shown the 26th as the next job (say, the 25th was missed): that is the one to fire.
        answer = Optional.of(t("2026-11-26T06:00:00Z"));
        RecordedOperations ops = execute(ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX), SIX, SIX.plusSeconds(2));
        assertThat(ops.rescheduledTo).isEqualTo(t("2026-11-26T06:00:00Z"));
        assertThat(ops.newData.occurrence()).isEqualTo(t("2026-11-26T06:00:00Z"));
    }

    @Test
    void aHandlerWithoutNextOccurrenceRemovesTheInstance() {
        // The scheduled job was deleted while its execution was picked.
        answer = Optional.empty();
        RecordedOperations ops = execute(ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX), SIX, SIX.plusSeconds(2));
        assertThat(ops.removed).isTrue();
        assertThat(ops.rescheduledTo).isNull();
    }

    @Test
    void anInstanceCanStartAtAGivenOccurrence() {
        Instant past = t("2026-11-20T06:00:00Z");
        SchedulableInstance<ScheduledJobTaskData> i = ScheduledJobTask.instanceAt(task, 42, DAILY_AT_SIX, past);
        assertThat(i.getNextExecutionTime(NOW)).isEqualTo(past);
        assertThat(i.getTaskInstance().getData().occurrence()).isEqualTo(past);
    }

    @Test
    void aRetriedExecutionFiresTheOccurrenceItIsFor() {
        // A retry runs at 06:07 but is still for 06:00.
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX).failedOnceMore();
        RecordedOperations ops = execute(data, SIX.plusSeconds(420), SIX.plusSeconds(421));
        assertThat(fired.get(0).occurrence()).isEqualTo(SIX);
        assertThat(ops.newData.failedAttempts()).isZero();
        assertThat(ops.rescheduledTo).isEqualTo(t("2026-11-25T06:00:00Z"));
    }

    @Test
    void theLastOccurrenceRemovesTheInstance() {
        ScheduleDetails once = parse("{'startDate':'2026-12-01','startHour':6}");
        Instant at = t("2026-12-01T06:00:00Z");
        RecordedOperations ops = execute(ScheduledJobTaskData.of(42, once, at), at, at.plusSeconds(1));
        assertThat(fired).hasSize(1);
        assertThat(ops.removed).isTrue();
        assertThat(ops.rescheduledTo).isNull();
    }

    @Test
    void aFailedOccurrenceIsRetriedAfterAMinute() {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX);
        RecordedOperations ops = new RecordedOperations();
        task.getFailureHandler().onFailure(failed(SIX, SIX.plusSeconds(1), data), ops);
        assertThat(ops.rescheduledTo).isEqualTo(SIX.plusSeconds(1).plus(Duration.ofMinutes(1)));
        assertThat(ops.newData).isEqualTo(data.failedOnceMore());
    }

    @Test
    void anOccurrenceThatKeepsFailingIsGivenUpForTheNext() {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX);
        for (int i = 1; i < ScheduledJobTask.MAX_ATTEMPTS; i++) {
            data = data.failedOnceMore();
        }
        RecordedOperations ops = new RecordedOperations();
        task.getFailureHandler().onFailure(failed(SIX.plusSeconds(600), SIX.plusSeconds(601), data), ops);
        assertThat(ops.rescheduledTo).isEqualTo(t("2026-11-25T06:00:00Z"));
        assertThat(ops.newData.failedAttempts()).isZero();
        assertThat(ops.newData.occurrence()).isEqualTo(t("2026-11-25T06:00:00Z"));
    }

    @Test
    void aFailedOccurrenceIsNotRetriedIntoTheNextOne() {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, DAILY_AT_SIX, SIX);
        RecordedOperations ops = new RecordedOperations();
        Instant justBeforeNext = t("2026-11-25T05:59:30Z");
        task.getFailureHandler().onFailure(failed(justBeforeNext, justBeforeNext, data), ops);
        assertThat(ops.rescheduledTo).isEqualTo(t("2026-11-25T06:00:00Z"));
        assertThat(ops.newData.occurrence()).isEqualTo(t("2026-11-25T06:00:00Z"));
    }

    @Test
    void aSingleRunThatKeepsFailingIsRemovedInTheEnd() {
        ScheduleDetails once = parse("{'startDate':'2026-12-01','startHour':6}");
        Instant at = t("2026-12-01T06:00:00Z");
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, once, at);
        RecordedOperations first = new RecordedOperations();
        task.getFailureHandler().onFailure(failed(at, at, data), first);
        assertThat(first.rescheduledTo).isEqualTo(at.plus(Duration.ofMinutes(1)));
        for (int i = 1; i < ScheduledJobTask.MAX_ATTEMPTS; i++) {
            data = data.failedOnceMore();
        }
        RecordedOperations last = new RecordedOperations();
        task.getFailureHandler().onFailure(failed(at, at.plusSeconds(600), data), last);
        assertThat(last.removed).isTrue();
    }

    @Test
    void theTaskDataSurvivesJavaSerialisationAsDbSchedulerStoresIt() throws Exception {
        ScheduledJobTaskData data = ScheduledJobTaskData.of(42, parse("{'runRepeat':true,'daysOfWeek':'MON',"
                + "'timeSliceStartDate':'2026-11-01'}"), SIX).failedOnceMore();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(data);
        }
        Object back;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            back = in.readObject();
        }
        assertThat(back).isEqualTo(data);
        assertThat(((ScheduledJobTaskData) back).details().timeSlice().start()).isEqualTo(t("2026-11-01T00:00:00Z"));
    }

    private RecordedOperations execute(ScheduledJobTaskData data, Instant executionTime, Instant done) {
        TaskInstance<ScheduledJobTaskData> instance = task.instance("42", data);
        Execution execution = new Execution(executionTime, instance);
        CompletionHandler<ScheduledJobTaskData> then = task.execute(instance,
                new ExecutionContext(null, execution, null, null));
        RecordedOperations ops = new RecordedOperations();
        then.complete(ExecutionComplete.success(execution, executionTime, done), ops);
        return ops;
    }
}
