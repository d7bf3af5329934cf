package idex.exchange.jobs;

import idex.exchange.jobs.store.JobStore;
import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.jobs.schedule.OccurrenceJobs;
import idex.exchange.jobs.schedule.ScheduleDetails;
import idex.exchange.jobs.schedule.ScheduledJobStore;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scheduled segment exports through the API (seed 004, spec §4.5): a repeating schedule gives one job per
 * occurrence on the server's clock, an occurrence missed while the server was down runs once, DELETE cancels what is
 * still to come, and `GET /v1/scheduledjobs` is scoped like `GET /v1/jobs`.
 */
class ScheduledJobsApiTest {

    static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    static final String DEST_IDS = "[{\"name\":\"workEmail\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    /** A Monday, 10:00 UTC: a daily schedule at 06:00 first runs on Tuesday the 24th. */
    static final long T0 = Instant.parse("2026-11-23T10:00:00Z").toEpochMilli();
    static final Instant O1 = Instant.parse("2026-11-24T06:00:00Z");
    static final Instant O2 = Instant.parse("2026-11-25T06:00:00Z");
    static final Instant O4 = Instant.parse("2026-11-27T06:00:00Z");
    static final String DAILY_AT_SIX = "{\"runRepeat\":true,\"startHour\":6}";

    @TempDir
    Path dir;
    TestServer server;
    TestAccount acme;
    TestEndpoint source;
    TestEndpoint destination;
    TestEndpoint otherSource;

    @BeforeEach
    void start() {
        server = TestServer.startAt(T0, dir, 4);
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", DEST_IDS));
        otherSource = ExchangeAccounts.endpoint(server, acme, registration("Web", "source", "push", IDS));
    }

    @AfterEach
    void stop() {
        server.close();
    }

    static String export(long producer, long dest, String schedule) {
        return "{\"producerEndpointID\":" + producer + ",\"producerSegmentID\":45311,\"destinationEndpointID\":" + dest
                + ",\"destinationSegmentName\":\"daily\",\"exportCategory\":\"cat\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"workEmail\"}" + (schedule == null ? "" : ",\"scheduleDetails\":" + schedule)
                + "}";
    }

    ExchangeClient.Answer schedule(TestEndpoint producer, String schedule) {
        return producer.client().post("/v1/jobs/segmentExport", export(producer.endpointId(), destination.endpointId(), schedule));
    }

    long scheduleDaily() {
        ExchangeClient.Answer created = schedule(source, DAILY_AT_SIX);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        return created.json().get("scheduledJobId").asLong();
    }

    /** The jobs of a scheduled job, as the account sees them, in id order (which is occurrence order). */
    static List<JsonNode> jobsOf(TestAccount account, long scheduledJobId) {
        List<JsonNode> jobs = new ArrayList<>();
        for (JsonNode j : account.client().get("/v1/jobs/SEGMENT_EXPORT?extraFields=true").json()) {
            if (j.get("scheduledJobId").asLong() == scheduledJobId) {
                jobs.add(j);
            }
        }
        return jobs;
    }

    static List<String> statuses(List<JsonNode> jobs) {
        return jobs.stream().map(j -> j.get("status").asText()).toList();
    }

    static List<JsonNode> awaitStatuses(TestAccount account, long scheduledJobId, String... expected) {
        return Eventually.await("jobs of scheduled job " + scheduledJobId + " to be " + List.of(expected),
                () -> jobsOf(account, scheduledJobId), jobs -> statuses(jobs).equals(List.of(expected)));
    }

    /** The occurrence a job is for: not part of the API, read from the store to check which occurrence is planned. */
    static Instant occurrenceOf(TestServer server, JsonNode job) {
        return Instant.ofEpochMilli(server.database().jdbi().withHandle(h -> h.createQuery(
                "SELECT occurrence FROM exchange_job WHERE job_id = :id").bind("id", job.get("jobId").asLong())
                .mapTo(Long.class).one()));
    }

    static boolean hasInstance(TestServer server, long scheduledJobId) {
        return server.database().jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM scheduled_tasks"
                        + " WHERE task_name = 'exchange-scheduled-job' AND task_instance = :id")
                .bind("id", Long.toString(scheduledJobId)).mapTo(Integer.class).one()) > 0;
    }

    @Test
    void aRepeatingScheduleGivesOneWaitingJobPerOccurrence() {
        ExchangeClient.Answer created = schedule(source, DAILY_AT_SIX);
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        JsonNode body = created.json();
        long id = body.get("scheduledJobId").asLong();
        assertThat(body.get("jobId").asLong()).isEqualTo(id);
        assertThat(body.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(body.get("active").asInt()).isEqualTo(1);
        assertThat(body.get("jobCategory").asText()).isEqualTo("SEGMENT_EXPORT");
        assertThat(body.get("jobName").asText()).isEqualTo("EXPORT_SEGMENT");
        assertThat(body.get("accountId").asLong()).isEqualTo(acme.accountId());
        assertThat(body.get("errorDetails").isNull()).isTrue();
        assertThat(body.get("scheduleDetails").get("runRepeat").asBoolean()).isTrue();
        assertThat(body.get("scheduleDetails").get("runNow").asBoolean()).isFalse();
        // The first occurrence is visible at once as a SCHEDULED job, not started.
        JsonNode first = body.get("jobs").get(0);
        assertThat(body.get("jobs")).hasSize(1);
        assertThat(first.get("status").asText()).isEqualTo("SCHEDULED");
        assertThat(first.get("scheduledJobId").asLong()).isEqualTo(id);
        assertThat(first.get("started").isNull()).isTrue();
        assertThat(first.get("scheduleDetails").get("startHour").asInt()).isEqualTo(6);
        assertThat(occurrenceOf(server, first)).isEqualTo(O1);
        assertThat(source.client().get("/v1/jobs/SEGMENT_EXPORT?status=SCHEDULED").json().findValuesAsText("jobId"))
                .containsExactly(first.get("jobId").asText());
        // Nothing can be uploaded before the occurrence.
        assertThat(source.client().upload("/v1/jobs/" + first.get("jobId").asLong() + "/data",
                "email\na@example.com\n".getBytes(), false).status()).isEqualTo(409);

        server.clock.set(O1.plusSeconds(1).toEpochMilli());
        List<JsonNode> jobs = awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        assertThat(jobs.get(0).get("jobId").asLong()).isEqualTo(first.get("jobId").asLong());
        assertThat(jobs.get(0).get("started").asLong()).isGreaterThanOrEqualTo(O1.toEpochMilli());
        assertThat(occurrenceOf(server, jobs.get(1))).isEqualTo(O2);

        server.clock.set(O2.plusSeconds(1).toEpochMilli());
        jobs = awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        assertThat(occurrenceOf(server, jobs.get(2))).isEqualTo(Instant.parse("2026-11-26T06:00:00Z"));
        // The job of an occurrence is a job like any other: its source uploads to it.
        assertThat(source.client().upload("/v1/jobs/" + jobs.get(1).get("jobId").asLong() + "/data",
                "email\na@example.com\n".getBytes(), false).status()).isEqualTo(200);
    }

    @Test
    void runNowWithRepeatStartsTheFirstJobAtOnce() {
        ExchangeClient.Answer created = schedule(source, "{\"runNow\":true,\"runRepeat\":true,\"startHour\":6}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        JsonNode jobs = created.json().get("jobs");
        assertThat(statuses(List.of(jobs.get(0), jobs.get(1))))
                .containsExactly("WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        assertThat(jobs.get(0).get("started").asLong()).isEqualTo(T0);
        assertThat(occurrenceOf(server, jobs.get(1))).isEqualTo(O1);
    }

    @Test
    void occurrencesMissedWhileTheServerWasDownRunOnce() {
        long id = scheduleDaily();
        // Down from before the 24th until the 26th at noon: the 24th, 25th and 26th were missed.
        server.restartAt(Instant.parse("2026-11-26T12:00:00Z").toEpochMilli());
        List<JsonNode> jobs = awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        assertThat(occurrenceOf(server, jobs.get(0))).isEqualTo(O1);
        assertThat(occurrenceOf(server, jobs.get(1))).isEqualTo(O4);

        server.clock.set(O4.plusSeconds(1).toEpochMilli());
        awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
    }

    @Test
    void deletingCancelsTheOccurrencesStillToCome() {
        long id = scheduleDaily();
        long control = scheduleDaily();
        server.clock.set(O1.plusSeconds(1).toEpochMilli());
        awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "SCHEDULED");

        ExchangeClient.Answer deleted = acme.client().delete("/v1/scheduledjobs/" + id);
        assertThat(deleted.status()).as(deleted.body()).isEqualTo(200);
        assertThat(deleted.body()).isEqualTo("true");
        List<JsonNode> jobs = jobsOf(acme, id);
        assertThat(statuses(jobs)).containsExactly("WAITING_TO_RECIEVE_DATA", "CANCELLED");
        assertThat(jobs.get(1).get("errorDetails").asText()).contains("deleted");
        assertThat(jobs.get(1).get("ended").asLong()).isEqualTo(O1.plusSeconds(1).toEpochMilli());
        assertThat(hasInstance(server, id)).isFalse();
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json().findValuesAsText("jobId"))
                .containsExactly(Long.toString(control));
        assertThat(acme.client().delete("/v1/scheduledjobs/" + id).status()).isEqualTo(404);

        // The control schedule's occurrence on the 25th fires; the deleted one's does not, nor after a restart.
        server.clock.set(O2.plusSeconds(1).toEpochMilli());
        awaitStatuses(acme, control, "WAITING_TO_RECIEVE_DATA", "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        server.restartAt(O4.plusSeconds(1).toEpochMilli());
        awaitStatuses(acme, control, "WAITING_TO_RECIEVE_DATA", "WAITING_TO_RECIEVE_DATA", "WAITING_TO_RECIEVE_DATA",
                "SCHEDULED");
        assertThat(statuses(jobsOf(acme, id))).containsExactly("WAITING_TO_RECIEVE_DATA", "CANCELLED");
        assertThat(hasInstance(server, id)).isFalse();
    }

    @Test
    void anOccurrenceRunTwiceOrAfterDeletionCreatesNothingMore() {
        long id = scheduleDaily();
        server.clock.set(O1.plusSeconds(1).toEpochMilli());
        List<JsonNode> before = awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA", "SCHEDULED");
        ScheduleDetails details = ScheduleDetails.restore(before.get(0).get("scheduleDetails"));
        var jdbi = server.database().jdbi();
        OccurrenceJobs handler = new OccurrenceJobs(new ScheduledJobStore(jdbi), new JobStore(jdbi), server.clock::get);

        // A node that died after creating the occurrence's job has the execution revived: it runs again, later.
        server.clock.set(O1.plusSeconds(3600).toEpochMilli());
        assertThat(handler.run(id, O1, details)).contains(O2);
        assertThat(jobsOf(acme, id)).isEqualTo(before);

        // An execution already picked when the scheduled job was deleted creates nothing and ends its instance.
        assertThat(acme.client().delete("/v1/scheduledjobs/" + id).status()).isEqualTo(200);
        assertThat(handler.run(id, O2, details)).isEqualTo(Optional.empty());
        assertThat(statuses(jobsOf(acme, id))).containsExactly("WAITING_TO_RECIEVE_DATA", "CANCELLED");
    }

    @Test
    void aSingleLaterRunEndsTheScheduledJob() {
        ExchangeClient.Answer created = schedule(source, "{\"runNow\":false,\"startDate\":\"2026-11-24\",\"startHour\":6}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long id = created.json().get("scheduledJobId").asLong();
        server.clock.set(O1.plusSeconds(1).toEpochMilli());
        awaitStatuses(acme, id, "WAITING_TO_RECIEVE_DATA");
        JsonNode listed = Eventually.await("the scheduled job to be over",
                () -> acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json().get(0),
                s -> s.get("active").asInt() == 2);
        assertThat(listed.get("state").asText()).isEqualTo("COMPLETE");
        Eventually.await("its instance to go", () -> hasInstance(server, id), has -> !has);
    }

    @Test
    void theListHasTheSeedsShapeAndIsScopedLikeJobs() {
        long fromSource = scheduleDaily();
        ExchangeClient.Answer other = schedule(otherSource, DAILY_AT_SIX);
        assertThat(other.status()).as(other.body()).isEqualTo(201);
        long fromOther = other.json().get("scheduledJobId").asLong();
        TestAccount globex = ExchangeAccounts.account(server, "Globex");

        JsonNode all = acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json();
        assertThat(all.findValuesAsText("jobId")).containsExactly(Long.toString(fromSource), Long.toString(fromOther));
        assertThat(all.get(0).toString()).isEqualTo("{\"jobId\":" + fromSource + ",\"state\":\"SCHEDULED\","
                + "\"jobCategory\":\"SEGMENT_EXPORT\",\"jobName\":\"EXPORT_SEGMENT\",\"accountId\":" + acme.accountId()
                + ",\"active\":1,\"errorDetails\":null}");

        assertThat(source.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json().findValuesAsText("jobId"))
                .containsExactly(Long.toString(fromSource));
        assertThat(destination.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json().findValuesAsText("jobId"))
                .containsExactly(Long.toString(fromSource), Long.toString(fromOther));
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT?endpointId=" + otherSource.endpointId()).json()
                .findValuesAsText("jobId")).containsExactly(Long.toString(fromOther));
        assertThat(globex.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json()).isEmpty();

        assertThat(source.client().get("/v1/scheduledjobs/SEGMENT_EXPORT?endpointId=" + otherSource.endpointId())
                .status()).isEqualTo(403);
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT?endpointId=999999").status()).isEqualTo(404);
        assertThat(acme.client().get("/v1/scheduledjobs/IDENTITY_IMPORT").status()).isEqualTo(400);
        ExchangeClient.Answer bogus = acme.client().get("/v1/scheduledjobs/BOGUS");
        assertThat(bogus.status()).isEqualTo(400);
        assertThat(bogus.message()).contains("SEGMENT_EXPORT");
        assertThat(new ExchangeClient(server, null).get("/v1/scheduledjobs/SEGMENT_EXPORT").status()).isEqualTo(401);

        // DELETE: another account's, one the endpoint is no party to, an unknown id: all alike 404.
        assertThat(globex.client().delete("/v1/scheduledjobs/" + fromSource).status()).isEqualTo(404);
        assertThat(otherSource.client().delete("/v1/scheduledjobs/" + fromSource).status()).isEqualTo(404);
        assertThat(acme.client().delete("/v1/scheduledjobs/999999").status()).isEqualTo(404);
        assertThat(acme.client().delete("/v1/scheduledjobs/SEGMENT_EXPORT").status()).isEqualTo(404);
        assertThat(acme.client().send("PUT", "/v1/scheduledjobs/" + fromSource, null).status()).isEqualTo(405);
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json()).hasSize(2);
        // The seed lets the destination's key delete as well as the source's.
        assertThat(destination.client().delete("/v1/scheduledjobs/" + fromOther).status()).isEqualTo(200);
        assertThat(source.client().delete("/v1/scheduledjobs/" + fromSource).status()).isEqualTo(200);
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json()).isEmpty();
    }

    @Test
    void badSchedulesAreRefusedAndChangeNothing() {
        ExchangeClient.Answer misspelt = schedule(source, "{\"runRepeat\":true,\"daysOfweek\":[\"MONDAY\"]}");
        assertThat(misspelt.status()).isEqualTo(400);
        assertThat(misspelt.message()).contains("daysOfWeek");
        ExchangeClient.Answer over = schedule(source, "{\"runRepeat\":true,\"endDate\":\"2026-11-01\"}");
        assertThat(over.status()).isEqualTo(400);
        assertThat(over.message()).contains("endDate");
        ExchangeClient.Answer wrongDestination = source.client().post("/v1/jobs/segmentExport",
                export(source.endpointId(), otherSource.endpointId(), DAILY_AT_SIX));
        assertThat(wrongDestination.status()).isEqualTo(400);
        ExchangeClient.Answer otherProducer = source.client().post("/v1/jobs/segmentExport",
                export(otherSource.endpointId(), destination.endpointId(), DAILY_AT_SIX));
        assertThat(otherProducer.status()).isEqualTo(403);
        ExchangeClient.Answer importRepeat = source.client().post("/v1/jobs/identityImport",
                "{\"identityMappings\":{\"email\":\"email\"},\"scheduleDetails\":" + DAILY_AT_SIX + "}");
        assertThat(importRepeat.status()).isEqualTo(400);
        assertThat(importRepeat.message()).contains("segment exports");

        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json()).isEmpty();
        assertThat(acme.client().get("/v1/jobs/SEGMENT_EXPORT").json()).isEmpty();
        assertThat(acme.client().get("/v1/jobs/IDENTITY_IMPORT").json()).isEmpty();
        // runNow without runRepeat is a job now, as without scheduleDetails.
        ExchangeClient.Answer now = schedule(source, "{\"runNow\":true,\"runRepeat\":false}");
        assertThat(now.status()).isEqualTo(201);
        assertThat(now.json().get("status").asText()).isEqualTo("WAITING_TO_RECIEVE_DATA");
        assertThat(now.json().get("scheduledJobId").isNull()).isTrue();
    }
}
