package idex.exchange.jobs;

import idex.store.StoreLocation;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static idex.exchange.jobs.ScheduledJobsApiTest.DAILY_AT_SIX;
import static idex.exchange.jobs.ScheduledJobsApiTest.DEST_IDS;
import static idex.exchange.jobs.ScheduledJobsApiTest.IDS;
import static idex.exchange.jobs.ScheduledJobsApiTest.O1;
import static idex.exchange.jobs.ScheduledJobsApiTest.T0;
import static idex.exchange.jobs.ScheduledJobsApiTest.awaitStatuses;
import static idex.exchange.jobs.ScheduledJobsApiTest.export;
import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Two server nodes on one database, both polling for due occurrences on the same clock: each occurrence of each
 * scheduled job still gives exactly one job (spec §4.5).
 */
class ScheduledJobsTwoNodesTest {

    static final int SCHEDULED_JOBS = 6;
    static final int DAYS = 3;

    @TempDir
    Path dir;

    @Test
    void onPostgresEachOccurrenceGivesOneJob() throws IOException {
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start()) {
            eachOccurrenceGivesOneJob(StoreLocation.of(postgres.getJdbcUrl("postgres", "postgres"), null));
        }
    }

    /**
     * The embedded store belongs to one server: a second node on the same data dir is refused at once, naming the
     * server that holds it, and the first keeps serving. Several nodes share a PostgreSQL through --db-url.
     */
    @Test
    void aSecondServerOnTheSameDataDirIsRefused() {
        try (TestServer a = TestServer.startAt(T0, StoreLocation.of(null, dir), 4)) {
            assertThatThrownBy(() -> TestServer.startAt(T0, StoreLocation.of(null, dir), 4))
                    .hasMessageContaining("Another idex server (pid " + ProcessHandle.current().pid() + ") holds data dir "
                            + dir.toAbsolutePath().normalize());
            TestAccount acme = ExchangeAccounts.account(a, "Acme");
            assertThat(acme.accountId()).isPositive();
        }
    }

    private static void eachOccurrenceGivesOneJob(StoreLocation store) {
        try (TestServer a = TestServer.startAt(T0, store, 4); TestServer b = TestServer.startAt(T0, store, 4)) {
            TestAccount acme = ExchangeAccounts.account(a, "Acme");
            TestEndpoint source = ExchangeAccounts.endpoint(a, acme, registration("CRM", "source", "push", IDS));
            TestEndpoint destination = ExchangeAccounts.endpoint(a, acme, registration("Ads", "destination", "pull", DEST_IDS));
            b.refreshNow();
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < SCHEDULED_JOBS; i++) {
                // Created through either node: the other fires them as well.
                ExchangeClient client = new ExchangeClient(i % 2 == 0 ? a : b, keyOf(source));
                ExchangeClient.Answer created = client.post("/v1/jobs/segmentExport",
                        export(source.endpointId(), destination.endpointId(), DAILY_AT_SIX));
                assertThat(created.status()).as(created.body()).isEqualTo(201);
                ids.add(created.json().get("scheduledJobId").asLong());
            }
            for (int day = 0; day < DAYS; day++) {
                long justAfter = O1.plus(Duration.ofDays(day)).plusSeconds(1).toEpochMilli();
                a.clock.set(justAfter);
                b.clock.set(justAfter);
                List<String> expected = new ArrayList<>(Collections.nCopies(day + 1, "WAITING_TO_RECIEVE_DATA"));
                expected.add("SCHEDULED");
                for (long id : ids) {
                    awaitStatuses(acme, id, expected.toArray(String[]::new));
                }
            }
            // Every job of every scheduled job is for a different occurrence, and each occurrence has one.
            List<Long> occurrences = a.database().jdbi().withHandle(h -> h.createQuery(
                    "SELECT occurrence FROM exchange_job WHERE scheduled_job_id IS NOT NULL ORDER BY scheduled_job_id, occurrence")
                    .mapTo(Long.class).list());
            List<Long> planned = new ArrayList<>();
            for (int i = 0; i < SCHEDULED_JOBS; i++) {
                for (int day = 0; day <= DAYS; day++) {
                    planned.add(O1.plus(Duration.ofDays(day)).toEpochMilli());
                }
            }
            assertThat(occurrences).isEqualTo(planned);
        }
    }

    /** The endpoint key: a test endpoint's client holds it; the registration answered it once. */
    private static String keyOf(TestEndpoint endpoint) {
        return endpoint.registration().get("key").asText();
    }
}
