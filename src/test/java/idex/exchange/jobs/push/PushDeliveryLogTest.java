package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.support.DeliveryLogs;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.SegmentPartner;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

import static idex.exchange.jobs.push.PushDestinationTest.awaitStatus;
import static idex.exchange.jobs.push.PushDestinationTest.export;
import static idex.exchange.jobs.push.PushDestinationTest.share;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A push export's calls in the delivery log (`GET /v1/deliveries`), beside event deliveries: one entry for the
 * segment lookup and one per file, each with its attempts; one order and paging across kinds; another account's
 * entries never shown; a file of a job that ended in ERROR retried from the log re-opens the job, which completes.
 */
class PushDeliveryLogTest {

    private static final String EVENT_IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, JobSettings.DEFAULT.withRowsPerFile(3),
                new DeliverySettings(Duration.ofSeconds(5), DeliverySettings.schedule("100ms,200ms"), Duration.ofDays(5),
                        8, true, Duration.ofDays(7)));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static JsonNode log(ExchangeClient client, String query) {
        return DeliveryLogs.entries(client, query);
    }

    private static JsonNode file(JsonNode log, int seq) {
        for (JsonNode e : log) {
            if (e.get("kind").asText().equals("segmentFile") && e.get("fileName").asText().endsWith("-000" + seq + ".csv")) {
                return e;
            }
        }
        throw new AssertionError("no entry of file " + seq + " in " + log);
    }

    @Test
    void eachFileIsAnEntryWithItsAttemptsAndTheLookupOneMore() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start().answeringFiles((id, n) ->
                !id.endsWith("-0002.csv") ? 200 : n == 1 ? 500 : n == 2 ? 503 : 200)) {
            PushDestinationTest.Share s = share(server, partner);
            long jobId = export(s.source(), s.push(), "buyers", "ADD");
            awaitStatus(s.push().client(), jobId, "COMPLETE");

            JsonNode log = log(s.account().client(), "?endpointId=" + s.push().endpointId());
            assertThat(log).extracting(e -> e.get("kind").asText())
                    .containsExactly("segmentFile", "segmentFile", "segmentFile", "segmentLookup");
            assertThat(log).allSatisfy(e -> {
                assertThat(e.get("jobId").asLong()).isEqualTo(jobId);
                assertThat(e.get("endpointId").asLong()).isEqualTo(s.push().endpointId());
                assertThat(e.get("status").asText()).isEqualTo("DELIVERED");
            });
            assertThat(DeliveryLogs.statuses(log.get(3))).as("GET then POST /v1/segments: one step").containsExactly(201);
            assertThat(DeliveryLogs.statuses(file(log, 1))).containsExactly(200);
            JsonNode refused = file(log, 2);
            assertThat(DeliveryLogs.statuses(refused)).containsExactly(500, 503, 200);
            assertThat(refused.get("attemptCount").asInt()).isEqualTo(3);
            assertThat(refused.get("attempts").get(0).get("error").asText()).startsWith("HTTP 500");
            assertThat(refused.get("attempts").get(2).get("error").isNull()).isTrue();
            assertThat(refused.get("attempts")).allSatisfy(a -> assertThat(a.get("durationMs").asInt()).isNotNegative());
            // The webhook-id of the entry is the one every request of that file carried.
            assertThat(partner.dataRequests("-0002.csv")).hasSize(3).extracting(SegmentPartner.Received::webhookId)
                    .containsOnly(refused.get("webhookId").asText());
            assertThat(refused.get("webhookId").asText()).isEqualTo("job_" + jobId + "_" + refused.get("fileName").asText());

            String metrics = server.metrics();
            assertThat(metrics)
                    .containsPattern("idex_delivery_attempts_total\\{kind=\"segmentFile\",outcome=\"failed\"} [1-9]")
                    .containsPattern("idex_delivery_attempts_total\\{kind=\"segmentFile\",outcome=\"delivered\"} [1-9]")
                    .containsPattern("idex_delivery_attempt_duration_seconds_count\\{kind=\"segmentLookup\"} [1-9]");
        }
    }

    @Test
    void retryingAFileOfAJobInErrorResumesItThere() throws Exception {
        AtomicBoolean accepting = new AtomicBoolean();
        // File 2 is refused until the partner accepts again; files 1 and 3 are accepted (file 3 may go out beside
        // file 2, or not at all before the job ends in ERROR).
        try (SegmentPartner partner = SegmentPartner.start()
                .answeringFiles((id, n) -> !id.endsWith("-0002.csv") || accepting.get() ? 200 : 422)) {
            PushDestinationTest.Share s = share(server, partner);
            ExchangeClient account = s.account().client();
            long jobId = export(s.source(), s.push(), "quota", "ADD");
            JsonNode failed = awaitStatus(s.push().client(), jobId, "ERROR");
            assertThat(failed.get("subStatus").asText()).isEqualTo("DELIVERING");

            JsonNode log = log(account, "?endpointId=" + s.push().endpointId());
            assertThat(log).as("the lookup, files 1 and 2, and file 3 if it went out beside file 2").hasSizeBetween(3, 4);
            JsonNode second = file(log, 2);
            assertThat(second.get("status").asText()).isEqualTo("FAILED");
            assertThat(DeliveryLogs.statuses(second)).containsExactly(422, 422, 422);
            Path files = server.filesDir().resolve("jobs/" + jobId + "/files");
            assertThat(Files.exists(files.resolve(second.get("fileName").asText()))).as("kept for a retry").isTrue();
            assertThat(Files.exists(files.resolve(file(log, 1).get("fileName").asText()))).as("delivered").isFalse();
            // The start-up sweep, which removes the files of ended jobs, keeps them too.
            server.restart();
            assertThat(Files.exists(files.resolve(second.get("fileName").asText()))).as("kept over a restart").isTrue();

            // What cannot be retried says why.
            ExchangeClient.Answer delivered = account.post("/v1/deliveries/" + file(log, 1).get("deliveryId") + "/retry", null);
            assertThat(delivered.status()).as(delivered.body()).isEqualTo(409);
            assertThat(delivered.message()).contains("was delivered");
            // Recover leaves jobs alone (documented): the job stays in ERROR.
            ExchangeClient.Answer recovered = account.post("/v1/deliveries/recover", "{\"endpointId\":"
                    + s.push().endpointId() + ",\"since\":0}");
            assertThat(recovered.status()).as(recovered.body()).isEqualTo(200);
            assertThat(recovered.json().get("queued").asInt()).isZero();
            assertThat(awaitStatus(s.push().client(), jobId, "ERROR").get("status").asText()).isEqualTo("ERROR");

            accepting.set(true);
            ExchangeClient.Answer retried = s.push().client().post("/v1/deliveries/" + second.get("deliveryId")
                    + "/retry", null);
            assertThat(retried.status()).as(retried.body()).isEqualTo(200);
            assertThat(retried.json().get("queued").asInt()).isEqualTo(1);
            JsonNode done = awaitStatus(s.push().client(), jobId, "COMPLETE");
            assertThat(done.get("errorDetails").isNull()).isTrue();

            // File 1 once, file 2 three times then once more, file 3 once: resumed at the first undelivered file.
            assertThat(partner.dataRequests("-0001.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            assertThat(partner.dataRequests("-0002.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(422, 422, 422, 200);
            assertThat(partner.dataRequests("-0003.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            JsonNode after = log(account, "?endpointId=" + s.push().endpointId());
            assertThat(after).extracting(e -> e.get("status").asText()).containsOnly("DELIVERED");
            assertThat(DeliveryLogs.statuses(file(after, 2))).containsExactly(422, 422, 422, 200);
            assertThat(Files.exists(server.filesDir().resolve("jobs/" + jobId))).as("gone once delivered").isFalse();

            ExchangeClient.Answer again = account.post("/v1/deliveries/" + second.get("deliveryId") + "/retry", null);
            assertThat(again.status()).as(again.body()).isEqualTo(409);
        }
    }

    @Test
    void oneOrderAcrossKindsPagedAndNoOtherAccountsEntries() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start(); SegmentPartner other = SegmentPartner.start();
             WebhookReceiver receiver = WebhookReceiver.start()) {
            PushDestinationTest.Share s = share(server, partner);
            TestAccount account = s.account();
            TestEndpoint events = ExchangeAccounts.endpoint(server, account, "{\"name\":\"Web\",\"endpointTypes\":"
                    + "{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + EVENT_IDS + "}");
            TestEndpoint hook = ExchangeAccounts.endpoint(server, account, "{\"name\":\"Hook\",\"endpointTypes\":"
                    + "{\"event\":{\"destination\":{\"enabled\":true,\"url\":\"" + receiver.url("/hook")
                    + "\"}}},\"identifiers\":" + EVENT_IDS + "}");
            ExchangeClient.Answer sub = account.client().post("/v1/subscriptions", "{\"destinationEndpointId\":"
                    + hook.endpointId() + ",\"eventCodes\":[\"*\"]}");
            assertThat(sub.status()).as(sub.body()).isEqualTo(201);
            // Another account exporting at the same time: none of its entries may show.
            PushDestinationTest.Share stranger = share(server, other);
            long theirs = export(stranger.source(), stranger.push(), "theirs", "ADD");

            publish(events, 1);
            publish(events, 2);
            receiver.await(2, 30);
            long jobId = export(s.source(), s.push(), "mixed", "ADD");
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            publish(events, 3);
            receiver.await(3, 30);
            awaitStatus(stranger.push().client(), theirs, "COMPLETE");
            Eventually.await("every entry delivered", () -> log(account.client(), ""),
                    l -> l.size() == 7 && l.findValuesAsText("status").stream().allMatch("DELIVERED"::equals));

            List<JsonNode> paged = new ArrayList<>();
            String before = "";
            int pages = 0;
            do {
                ExchangeClient.Answer page = account.client().get("/v1/deliveries?limit=2" + before);
                assertThat(page.status()).as(page.body()).isEqualTo(200);
                page.json().get("deliveries").forEach(paged::add);
                JsonNode next = page.json().get("nextBefore");
                before = next.isNull() ? null : "&before=" + next.asLong();
                pages++;
            } while (before != null && pages < 10);
            assertThat(pages).isEqualTo(4);
            assertThat(paged).extracting(e -> e.get("deliveryId").asLong())
                    .doesNotHaveDuplicates().isSortedAccordingTo((a, b) -> Long.compare(b, a));
            // Newest first: event 3, the export's three files and lookup, events 2 and 1.
            assertThat(paged).extracting(e -> e.get("kind").asText()).containsExactly("event", "segmentFile",
                    "segmentFile", "segmentFile", "segmentLookup", "event", "event");
            assertThat(paged).noneSatisfy(e -> assertThat(e.path("jobId").asLong()).isEqualTo(theirs));
            assertThat(paged.get(0).get("endpointId").asLong()).isEqualTo(hook.endpointId());

            JsonNode strangers = log(stranger.account().client(), "");
            assertThat(strangers).hasSize(4).allSatisfy(e -> assertThat(e.get("jobId").asLong()).isEqualTo(theirs));
            ExchangeClient.Answer notTheirs = stranger.account().client().post("/v1/deliveries/"
                    + paged.get(1).get("deliveryId") + "/retry", null);
            assertThat(notTheirs.status()).isEqualTo(404);
            // The push destination's own key sees its entries only; the event destination's key, the events only.
            assertThat(log(s.push().client(), "")).hasSize(4).allSatisfy(e ->
                    assertThat(e.get("kind").asText()).startsWith("segment"));
            assertThat(log(hook.client(), "")).hasSize(3).allSatisfy(e ->
                    assertThat(e.get("kind").asText()).isEqualTo("event"));
            assertThat(log(account.client(), "?since=" + (paged.get(0).get("created").asLong() + 1))).isEmpty();
        }
    }

    private static void publish(TestEndpoint source, int n) {
        ExchangeClient.Answer a = source.client().post("/v1/event", "{\"code\":\"visit\",\"timestamp\":"
                + "\"2026-12-03T10:00:00Z\",\"identifiers\":[{\"name\":\"email\",\"value\":\"log" + n
                + "@example.com\"}]}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
    }
}
