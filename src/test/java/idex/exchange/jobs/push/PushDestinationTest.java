package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.exchange.jobs.model.JobSettings;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.SegmentPartner;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Segment exports to a push destination, delivered to a real partner server on loopback that checks every
 * signature with the official Standard Webhooks library: what arrives, in which calls, equals what a pull destination
 * downloads for the same upload; retries; the job's status along the way.
 */
class PushDestinationTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final int ROWS_PER_FILE = 3;
    private static final AtomicInteger SEQ = new AtomicInteger();
    /** Seven rows: three files of up to three rows each. */
    private static final String UPLOAD = "email,cookieId,firstName\n" + String.join("", java.util.stream.IntStream
            .rangeClosed(1, 7).mapToObj(i -> "p" + i + "@example.com,ck-" + i + ",Name" + i + "\n").toList());

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, JobSettings.DEFAULT.withRowsPerFile(ROWS_PER_FILE),
                new DeliverySettings(Duration.ofSeconds(5), DeliverySettings.schedule("100ms,200ms"), Duration.ofDays(5),
                        8, true, Duration.ofDays(7)));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** An account with a push producer, a pull destination and a push destination at `partner`. */
    record Share(TestAccount account, TestEndpoint source, TestEndpoint pull, TestEndpoint push) {
    }

    static Share share(SegmentPartner partner) {
        return share(server, partner);
    }

    static Share share(TestServer on, SegmentPartner partner) {
        TestAccount account = ExchangeAccounts.account(on, "Push" + SEQ.incrementAndGet());
        TestEndpoint source = ExchangeAccounts.endpoint(on, account, registration("CRM", "source", "push", IDS));
        TestEndpoint pull = ExchangeAccounts.endpoint(on, account, registration("Pull", "destination", "pull", IDS));
        TestEndpoint push = ExchangeAccounts.endpoint(on, account, pushRegistration("Push", partner.url()));
        partner.verifying(push.registration().get("signingSecret").asText());
        return new Share(account, source, pull, push);
    }

    static String pushRegistration(String name, String url) {
        return "{\"name\":\"" + name + "\",\"url\":\"" + url + "\",\"endpointTypes\":{\"audience\":{\"destination\":"
                + "{\"enabled\":true,\"destinationType\":\"push\"}}},\"identifiers\":" + IDS
                + ",\"attributes\":[{\"name\":\"firstName\",\"type\":\"string\"}]}";
    }

    static long export(TestEndpoint from, TestEndpoint to, String segmentName, String shareAction) {
        ExchangeClient.Answer a = from.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + from.endpointId() + ",\"producerSegmentID\":7,\"destinationEndpointID\":" + to.endpointId()
                + ",\"destinationSegmentName\":\"" + segmentName + "\",\"destinationSegmentDescription\":\"Buyers\","
                + "\"exportCategory\":\"cat\",\"shareAction\":\"" + shareAction + "\",\"updateIdentities\":false,"
                + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"},"
                + "\"attributeMappings\":{\"firstName\":\"firstName\"}}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        long jobId = a.json().get("jobId").asLong();
        ExchangeClient.Answer up = from.client().upload("/v1/jobs/" + jobId + "/data",
                UPLOAD.getBytes(StandardCharsets.UTF_8), false);
        assertThat(up.status()).as(up.body()).isEqualTo(200);
        return jobId;
    }

    /** Polls the job until it reaches `status`, failing after 30 s. */
    static JsonNode awaitStatus(ExchangeClient client, long jobId, String status) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        JsonNode job;
        do {
            job = client.get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
            if (job.get("status").asText().equals(status)) {
                return job;
            }
            LockSupport.parkNanos(10_000_000); // poll, don't spin: processing shares the CPU
        } while (System.nanoTime() < deadline);
        throw new AssertionError("job " + jobId + " did not reach " + status + ": " + job);
    }

    /** What a pull destination downloads for an export: each file's content, in order. */
    static List<String> downloaded(TestEndpoint pull, long jobId) {
        JsonNode job = awaitStatus(pull.client(), jobId, "READY_FOR_DOWNLOAD");
        List<String> files = new ArrayList<>();
        for (JsonNode name : job.get("segmentDataFiles")) {
            ExchangeClient.Answer a = pull.client().get("/v1/jobs/" + jobId + "/segmentDataFiles/" + name.asText());
            assertThat(a.status()).isEqualTo(200);
            files.add(a.body());
        }
        return files;
    }

    @Test
    void addReplaceAndRemoveArriveAsThePullDestinationsFilesSignedInTheirCalls() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start()) {
            Share s = share(partner);
            List<String> expected = downloaded(s.pull(), export(s.source(), s.pull(), "buyers", "ADD"));
            assertThat(expected).hasSize(3);

            long add = export(s.source(), s.push(), "buyers", "ADD");
            JsonNode added = awaitStatus(s.push().client(), add, "COMPLETE");
            long replace = export(s.source(), s.push(), "buyers", "REPLACE");
            awaitStatus(s.push().client(), replace, "COMPLETE");
            long remove = export(s.source(), s.push(), "buyers", "REMOVE");
            awaitStatus(s.push().client(), remove, "COMPLETE");

            List<SegmentPartner.Received> all = partner.requests();
            assertThat(all).allSatisfy(r -> assertThat(r.verified()).as(r.method() + " " + r.path()).isTrue());
            // The first export did not find "buyers" and created it; the next two found it by name.
            List<SegmentPartner.Received> catalog = all.stream().filter(r -> r.path().equals("/v1/segments")).toList();
            assertThat(catalog).extracting(SegmentPartner.Received::method).containsExactly("GET", "POST", "GET", "GET");
            JsonNode created = idex.json.Json.readStored(catalog.get(1).text());
            assertThat(created.get("name").asText()).isEqualTo("buyers");
            assertThat(created.get("description").asText()).isEqualTo("Buyers");
            assertThat(created.get("attributes").get(0).get("name").asText()).isEqualTo("firstName");
            assertThat(added.get("destinationSegmentID").asText()).isEqualTo("seg-1");

            List<SegmentPartner.Received> data = partner.dataRequests();
            assertThat(data).hasSize(9);
            assertThat(data.subList(0, 3)).allSatisfy(r -> {
                assertThat(r.method()).isEqualTo("POST");
                assertThat(r.path()).isEqualTo("/v1/segments/seg-1/data");
            });
            assertThat(data.subList(3, 6)).extracting(SegmentPartner.Received::method).containsExactly("PUT", "POST", "POST");
            assertThat(data.subList(3, 6)).allSatisfy(r -> assertThat(r.path()).isEqualTo("/v1/segments/seg-1/data"));
            assertThat(data.subList(6, 9)).allSatisfy(r -> {
                assertThat(r.method()).isEqualTo("POST");
                assertThat(r.path()).isEqualTo("/v1/segments/seg-1/data/remove");
            });
            assertThat(data.get(3).webhookId()).as("REPLACE's PUT carries the first file").endsWith("-0001.csv");
            for (int job = 0; job < 3; job++) {
                // two files at a time: they may be accepted in either order, each named by its webhook-id
                assertThat(data.subList(job * 3, job * 3 + 3).stream()
                        .sorted(Comparator.comparing(SegmentPartner.Received::webhookId))
                        .map(SegmentPartner.Received::text).toList())
                        .as("export %d: the pull destination's files, byte for byte", job)
                        .containsExactlyElementsOf(expected);
            }
            assertThat(data).extracting(SegmentPartner.Received::webhookId).doesNotHaveDuplicates()
                    .allSatisfy(id -> assertThat(id).matches("job_[0-9]+_[A-Za-z0-9_-]+-000[123]\\.csv"));
            assertThat(data.get(0).webhookId()).startsWith("job_" + add + "_");

            assertThat(added.get("segmentDataFiles").isNull()).as("nothing to download").isTrue();
            assertThat(added.get("destinationRecordCount").asLong()).isEqualTo(7);
            assertThat(Files.exists(server.filesDir().resolve("jobs/" + add))).as("files deleted once delivered")
                    .isFalse();
            String metrics = server.metrics();
            assertThat(metrics).containsPattern("idex_push_attempts_total\\{outcome=\"delivered\"} [1-9]")
                    .containsPattern("idex_push_file_bytes_total [1-9]");
        }
    }

    @Test
    void aFileRefusedTwiceArrivesOnceMoreAndNeverAgainOnceAccepted() throws Exception {
        SegmentPartner.Hold firstRefusal = new SegmentPartner.Hold(500);
        try (SegmentPartner partner = SegmentPartner.start().withSegment("existing-7", "loyal")) {
            // File 2 refused twice (the first refusal held back), then accepted; files 1 and 3 accepted at once.
            partner.answeringFiles((id, n) -> !id.endsWith("-0002.csv") ? 200 : switch (n) {
                case 1 -> firstRefusal;
                case 2 -> 503;
                default -> 200;
            });
            Share s = share(partner);
            long jobId = export(s.source(), s.push(), "loyal", "ADD");
            firstRefusal.arrived(30);
            JsonNode delivering = s.push().client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
            assertThat(delivering.get("status").asText()).isEqualTo("RUNNING");
            assertThat(delivering.get("subStatus").asText()).isEqualTo("DELIVERING");
            assertThat(delivering.get("destinationSegmentID").asText()).as("found by name").isEqualTo("existing-7");
            firstRefusal.release();
            awaitStatus(s.push().client(), jobId, "COMPLETE");

            assertThat(partner.dataRequests()).hasSize(5);
            assertThat(partner.dataRequests("-0001.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            List<SegmentPartner.Received> second = partner.dataRequests("-0002.csv");
            assertThat(second).extracting(SegmentPartner.Received::status).containsExactly(500, 503, 200);
            assertThat(second).extracting(SegmentPartner.Received::text).as("the same message on every retry")
                    .containsOnly(second.get(0).text());
            assertThat(partner.dataRequests("-0003.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            assertThat(partner.dataRequests()).allSatisfy(r -> assertThat(r.webhookId()).startsWith("job_" + jobId + "_"));
            assertThat(partner.requests().stream().filter(r -> r.path().equals("/v1/segments")))
                    .extracting(SegmentPartner.Received::method).containsExactly("GET");
        }
    }

    @Test
    void filesAreSignedWithTheSecretRotatedWhileTheSegmentWasLookedUp() throws Exception {
        // A partner that verifies with the new secret only, from the moment it was given it, accepts every file at once.
        SegmentPartner.Hold lookup = new SegmentPartner.Hold(200);
        try (SegmentPartner partner = SegmentPartner.start().withSegment("seg-9", "rotated").holdingLookup(lookup)) {
            Share s = share(partner);
            long jobId = export(s.source(), s.push(), "rotated", "ADD");
            lookup.arrived(30);
            ExchangeClient.Answer rotated = s.account().client()
                    .post("/v1/endpoint/" + s.push().endpointId() + "/signingSecret", null);
            assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
            partner.verifying(rotated.json().get("signingSecret").asText());
            lookup.release();
            awaitStatus(s.push().client(), jobId, "COMPLETE");

            assertThat(partner.dataRequests()).as("each file once, accepted the first time").hasSize(3)
                    .allSatisfy(r -> {
                        assertThat(r.verified()).isTrue();
                        assertThat(r.status()).isEqualTo(200);
                    });
        }
    }

    @Test
    void addFilesGoTwoAtATimeEachOnce() throws Exception {
        SegmentPartner.Hold first = new SegmentPartner.Hold(200);
        try (SegmentPartner partner = SegmentPartner.start()
                .answeringFiles((id, n) -> id.endsWith("-0001.csv") ? first : 200)) {
            Share s = share(partner);
            long jobId = export(s.source(), s.push(), "pair", "ADD");
            first.arrived(30);
            // while file 1 is on the wire, file 2 goes and is accepted, then file 3 in its place
            assertThat(partner.awaitData(2, 30)).extracting(r -> r.webhookId().substring(r.webhookId().length() - 9))
                    .containsExactly("-0002.csv", "-0003.csv");
            first.release();
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            assertThat(partner.dataRequests()).hasSize(3).allSatisfy(r -> assertThat(r.status()).isEqualTo(200))
                    .extracting(SegmentPartner.Received::webhookId).doesNotHaveDuplicates();
        }
    }

    @Test
    void replacesPutGoesAloneAndIsAcceptedBeforeTheRest() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start()
                .answeringFiles((id, n) -> id.endsWith("-0001.csv") && n == 1 ? 503 : 200)) {
            Share s = share(partner);
            long jobId = export(s.source(), s.push(), "whole", "REPLACE");
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            List<SegmentPartner.Received> data = partner.dataRequests();
            // Refused, the PUT is retried before any other file goes out; the rest follow once it is accepted.
            assertThat(data).extracting(r -> r.method() + " " + r.status())
                    .containsExactly("PUT 503", "PUT 200", "POST 200", "POST 200");
            assertThat(data.subList(0, 2)).allSatisfy(r -> assertThat(r.webhookId()).endsWith("-0001.csv"));
            assertThat(data.subList(1, 4)).extracting(SegmentPartner.Received::webhookId).doesNotHaveDuplicates();
        }
    }

    @Test
    void afterTheLastRetryTheJobEndsInErrorNamingThePartnersAnswer() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start()
                .answeringFiles((id, n) -> id.endsWith("-0002.csv") ? 422 : 200)
                .withErrorBody("{\"error\":\"segment quota exceeded\"}")) {
            Share s = share(partner);
            long jobId = export(s.source(), s.push(), "full", "ADD");
            JsonNode job = awaitStatus(s.push().client(), jobId, "ERROR");
            assertThat(job.get("errorDetails").asText()).contains("3 attempts", "HTTP 422", "segment quota exceeded",
                    "/v1/segments/seg-1/data", "-0002.csv (2)");
            // File 2 three times (the schedule's two retries), although file 3 may be accepted meanwhile; file 1
            // once, and file 3 at most once (it goes out beside file 2 unless file 2's refusal came first).
            assertThat(partner.dataRequests("-0002.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(422, 422, 422);
            assertThat(partner.dataRequests("-0001.csv")).extracting(SegmentPartner.Received::status)
                    .containsExactly(200);
            assertThat(partner.dataRequests("-0003.csv")).hasSizeLessThanOrEqualTo(1);
            // The files not accepted are kept for a retry from the delivery log (PushDeliveryLogTest): file 2, and
            // file 3 unless it was accepted beside file 2; file 1 is gone.
            boolean thirdAccepted = partner.dataRequests("-0003.csv").stream().anyMatch(r -> r.status() == 200);
            try (var kept = Files.list(server.filesDir().resolve("jobs/" + jobId + "/files"))) {
                assertThat(kept.map(p -> p.getFileName().toString()).sorted().toList())
                        .hasSize(thirdAccepted ? 1 : 2)
                        .anySatisfy(name -> assertThat(name).endsWith("-0002.csv"))
                        .allSatisfy(name -> assertThat(name).matches(".*-000[23]\\.csv"));
            }
        }
    }

    @Test
    void aDeliveryWaitingForItsRetryHoldsNoWorker(@TempDir Path ownDir) throws Exception {
        // One worker, no processing of uploads as they arrive: every run needs that one worker thread.
        try (TestServer one = TestServer.startWithDelivery(ownDir, new JobSettings(1, ROWS_PER_FILE,
                        Duration.ofSeconds(30), false, true), new DeliverySettings(Duration.ofSeconds(5),
                        DeliverySettings.schedule("1h"), Duration.ofDays(5), 8, true, Duration.ofDays(7)));
             SegmentPartner partner = SegmentPartner.start().answeringData(n -> 503)) {
            Share s = share(one, partner);
            long waiting = export(s.source(), s.push(), "later", "ADD");
            partner.awaitData(2, 30); // files 1 and 2, sent together, both refused
            long other = export(s.source(), s.pull(), "now", "ADD");
            assertThat(downloaded(s.pull(), other)).as("processed by the one worker meanwhile").hasSize(3);
            JsonNode job = s.push().client().get("/v1/jobs/SEGMENT_EXPORT/" + waiting).json().get(0);
            assertThat(job.get("status").asText()).isEqualTo("RUNNING");
            assertThat(job.get("subStatus").asText()).isEqualTo("DELIVERING");
            assertThat(partner.dataRequests()).as("the retry waits its hour; no file starts after a refusal")
                    .hasSize(2);
        }
    }

    @Test
    void identityFiltersHoldForPushedFilesAsForDownloadedOnes() throws Exception {
        try (SegmentPartner partner = SegmentPartner.start()) {
            Share s = share(partner);
            // Both destinations decline cookieIds (subscribe filters): the column leaves the files.
            for (TestEndpoint d : List.of(s.push(), s.pull())) {
                assertThat(d.client().post("/v1/identityfilters",
                        "[{\"identifierName\":\"cookieId\",\"subscribeFilter\":true}]").status()).isEqualTo(201);
            }
            List<String> expected = downloaded(s.pull(), export(s.source(), s.pull(), "filtered", "ADD"));
            long jobId = export(s.source(), s.push(), "filtered", "ADD");
            awaitStatus(s.push().client(), jobId, "COMPLETE");
            List<String> pushed = partner.dataRequests().stream() // two at a time: in file (webhook-id) order
                    .sorted(Comparator.comparing(SegmentPartner.Received::webhookId))
                    .map(SegmentPartner.Received::text).toList();
            assertThat(pushed).isEqualTo(expected).isNotEmpty();
            assertThat(String.join("", pushed)).doesNotContain("cookieId", "ck-1").contains("Name1");
        }
    }

    @Test
    void aPushDestinationNeedsAUsableUrlAndGetsASigningSecret() {
        TestAccount account = ExchangeAccounts.account(server, "Push" + SEQ.incrementAndGet());
        ExchangeClient.Answer noUrl = account.client().post("/v1/endpoint",
                pushRegistration("NoUrl", "x").replace(",\"url\":\"x\"", ""));
        assertThat(noUrl.status()).isEqualTo(400);
        assertThat(noUrl.message()).contains("\"url\" is required for a push destination");
        ExchangeClient.Answer badUrl = account.client().post("/v1/endpoint", pushRegistration("Ftp", "ftp://example.com"));
        assertThat(badUrl.status()).isEqualTo(400);
        assertThat(badUrl.message()).contains("url");

        ExchangeClient.Answer ok = account.client().post("/v1/endpoint", pushRegistration("Ok", "http://127.0.0.1:9"));
        assertThat(ok.status()).isEqualTo(201);
        assertThat(ok.json().get("signingSecret").asText()).startsWith("whsec_");
        long id = ok.json().get("endpointId").asLong();
        ExchangeClient.Answer rotated = account.client().post("/v1/endpoint/" + id + "/signingSecret", null);
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        assertThat(rotated.json().get("signingSecret").asText()).startsWith("whsec_")
                .isNotEqualTo(ok.json().get("signingSecret").asText());
    }
}
