package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Pull producers end to end, against real partner servers on loopback ({@link FakePullPartner}): the exchange starts
 * the partner's job, polls it, downloads its data into the job's upload, and the job goes on as after an upload.
 */
class PullProducerTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final String DEST_IDS = "[{\"name\":\"workEmail\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
    private static final String MAPPINGS = "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"},"
            + "\"attributeMappings\":{\"firstName\":\"firstName\"}";
    /** Two data files of one partner job: each with its header, the first without a line end after its last row. */
    private static final String PART_1 = "email,cookieId,firstName\n Ann@Example.com ,c1,Ann\nshort,row\n"
            + "bob@example.com,,\"Bob, Jr.\"";
    private static final String PART_2 = "email,cookieId,firstName\r\n,c3,\r\n,,Nobody\r\ncy@example.com,c4,Cy\r\n";
    private static final Duration PULL_TIMEOUT = Duration.ofSeconds(6);
    private static final AtomicInteger NAMES = new AtomicInteger();

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint destination;
    static TestEndpoint pushSource;

    @BeforeAll
    static void start() {
        server = TestServer.startWithPulls(dir, deliverySettings(),
                new PullSettings(PULL_TIMEOUT, Duration.ofMillis(50), Duration.ofMillis(200)));
        acme = ExchangeAccounts.account(server, "Acme");
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", DEST_IDS));
        pushSource = ExchangeAccounts.endpoint(server, acme, registration("Uploader", "source", "push", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static DeliverySettings deliverySettings() {
        return new DeliverySettings(Duration.ofSeconds(5), DeliverySettings.schedule("100ms"), Duration.ofDays(1), 4,
                true, Duration.ofDays(1));
    }

    /** A pull producer whose API is `partner`, which learns the signing secret the registration answers. */
    static TestEndpoint pullProducer(TestAccount account, FakePullPartner partner) {
        TestEndpoint p = ExchangeAccounts.endpoint(server, account, withUrl(registration(
                "Partner" + NAMES.incrementAndGet(), "source", "pull", IDS), partner.url()));
        String secret = p.registration().path("signingSecret").asText();
        assertThat(secret).startsWith("whsec_");
        partner.secret(secret);
        return p;
    }

    static String withUrl(String registration, String url) {
        return registration.replaceFirst("\\{", "{\"url\":\"" + url + "\",");
    }

    static long createExport(TestEndpoint from) {
        ExchangeClient.Answer a = from.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + from.endpointId() + ",\"producerSegmentID\":45311,\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"cat\",\"shareAction\":\"ADD\","
                + "\"updateIdentities\":false," + MAPPINGS + "}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return a.json().get("jobId").asLong();
    }

    static JsonNode job(long jobId) {
        return acme.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0);
    }

    static JsonNode awaitStatus(long jobId, String status) {
        return Eventually.await("job " + jobId + " " + status, () -> job(jobId),
                j -> j.get("status").asText().equals(status));
    }

    static List<String> output(long jobId, JsonNode job) throws IOException {
        List<String> lines = new ArrayList<>();
        for (JsonNode name : job.get("segmentDataFiles")) {
            lines.addAll(Files.readAllLines(server.filesDir().resolve("jobs/" + jobId + "/files/" + name.asText())));
        }
        return lines;
    }

    /** What a push producer's upload of the same rows gives: the job's answer and its output lines. */
    static List<Object> pushed(String csv) throws IOException {
        long jobId = createExport(pushSource);
        ExchangeClient.Answer up = pushSource.client().upload("/v1/jobs/" + jobId + "/data",
                csv.getBytes(StandardCharsets.UTF_8), false);
        assertThat(up.status()).as(up.body()).isEqualTo(200);
        JsonNode job = awaitStatus(jobId, "READY_FOR_DOWNLOAD");
        return List.of(output(jobId, job), counts(job));
    }

    static String counts(JsonNode job) {
        return job.get("sourceRecordCount") + "/" + job.get("translatedRecordCount") + "/"
                + job.get("destinationRecordCount") + "/" + job.get("skippedRecordCount") + "/"
                + job.get("skippedRecords") + "/" + job.get("errorDetails");
    }

    void pullsDataReadyAfterAFewPolls(boolean gzip) throws Exception {
        try (FakePullPartner partner = new FakePullPartner().readyAfter(3).gzip(gzip)
                .data("part-1", PART_1).data("part-2", PART_2)) {
            TestEndpoint producer = pullProducer(acme, partner);
            long jobId = createExport(producer);

            JsonNode waiting = Eventually.await("the job pulling", () -> job(jobId),
                    j -> j.get("subStatus").asText().equals("PULLING") || !j.get("status").asText().startsWith("WAIT"));
            assertThat(waiting.get("status").asText()).isEqualTo("WAITING_TO_RECIEVE_DATA");
            assertThat(waiting.get("subStatus").asText()).isEqualTo("PULLING");

            JsonNode done = awaitStatus(jobId, "READY_FOR_DOWNLOAD");
            assertThat(done.get("subStatus").asText()).as("processing shows as after an upload")
                    .isEqualTo(done.get("jobName").asText());
            assertThat(partner.count("POST", "/v1/jobs")).isEqualTo(1);
            assertThat(partner.calls().get(0).body()).isEqualTo("{\"segmentId\":\"45311\"}");
            assertThat(partner.count("GET", "/v1/jobs/p-")).as("3 polls RUNNING, one READY, two downloads")
                    .isEqualTo(6);
            assertThat(partner.badSignatures()).isZero();
            assertThat(new HashSet<>(partner.calls().stream().map(FakePullPartner.Call::webhookId).toList()))
                    .as("every call its own webhook-id").hasSize(partner.calls().size());

            // The same rows uploaded by a push producer translate to the same output, counts and errors.
            String asOneUpload = PART_1 + "\n" + PART_2.substring(PART_2.indexOf('\n') + 1);
            assertThat(List.of(output(jobId, done), counts(done))).isEqualTo(pushed(asOneUpload));
            assertThat(done.get("sourceRecordCount").asLong()).isEqualTo(6);
            assertThat(done.get("errorDetails").asText()).contains("line 3: wrong column count");
        }
    }

    @Test
    void pullsDataThatIsReadyAfterAFewPolls() throws Exception {
        pullsDataReadyAfterAFewPolls(false);
    }

    @Test
    void pullsGzippedData() throws Exception {
        pullsDataReadyAfterAFewPolls(true);
    }

    @Test
    void aLargeDataFileIsStreamedThroughInOnePiece() throws Exception {
        int rows = 400_000; // about 14 MB: many times what waits between the network and the file
        StringBuilder csv = new StringBuilder(rows * 36).append("email,cookieId,firstName\n");
        for (int i = 0; i < rows; i++) {
            csv.append('p').append(i).append("@example.com,c").append(i).append(",Name").append(i % 97).append('\n');
        }
        try (FakePullPartner partner = new FakePullPartner().readyAfter(0).data("big", csv.toString())
                .data("small", "email,cookieId,firstName\nlast@example.com,cz,Zed\n")) {
            TestEndpoint producer = pullProducer(acme, partner);
            long jobId = createExport(producer);
            JsonNode job = Eventually.await("the big job", Duration.ofSeconds(90), () -> job(jobId),
                    j -> j.get("status").asText().equals("READY_FOR_DOWNLOAD") || j.get("status").asText().equals("ERROR"));
            assertThat(job.get("status").asText()).as(job.toString()).isEqualTo("READY_FOR_DOWNLOAD");
            assertThat(job.get("sourceRecordCount").asLong()).isEqualTo(rows + 1);
            assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(rows + 1);
            List<String> out = output(jobId, job);
            assertThat(out.get(out.size() - 1)).endsWith(",cz,Zed");
        }
    }

    @Test
    void aStartThatFailsForNowIsAskedAgainWithTheSameIdempotencyKey() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().refusingStarts(503).readyAfter(1)
                .data("all", "email,cookieId,firstName\nann@example.com,c1,Ann\n")) {
            TestEndpoint producer = pullProducer(acme, partner);
            long jobId = createExport(producer);
            JsonNode job = awaitStatus(jobId, "READY_FOR_DOWNLOAD");
            assertThat(job.get("destinationRecordCount").asLong()).isEqualTo(1);
            List<FakePullPartner.Call> starts = partner.calls().stream()
                    .filter(c -> c.method().equals("POST")).toList();
            assertThat(starts).hasSize(2);
            assertThat(starts).extracting(FakePullPartner.Call::idempotencyKey)
                    .containsExactly("idex-job-" + jobId, "idex-job-" + jobId);
            assertThat(starts.get(0).webhookId()).isNotEqualTo(starts.get(1).webhookId());
        }
    }

    @Test
    void aStartThePartnerRefusesEndsTheJobInErrorNamingItsAnswer() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().refusingStarts(400)) {
            TestEndpoint producer = pullProducer(acme, partner);
            long jobId = createExport(producer);
            JsonNode job = awaitStatus(jobId, "ERROR");
            assertThat(job.get("errorDetails").asText()).contains("refused to start a job for segment 45311")
                    .contains("HTTP 400").contains("no segment like that here");
            assertThat(partner.count("POST", "/v1/jobs")).isEqualTo(1);
        }
    }

    @Test
    void aPartnerJobThatFailsEndsTheJobInErrorWithItsMessage() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().failing("segment 45311 is being rebuilt")) {
            TestEndpoint producer = pullProducer(acme, partner);
            long jobId = createExport(producer);
            JsonNode job = awaitStatus(jobId, "ERROR");
            assertThat(job.get("errorDetails").asText()).contains("FAILED").contains("segment 45311 is being rebuilt");
            assertThat(job.get("subStatus").asText()).isEqualTo("PULLING");
            assertThat(partner.count("GET", "/v1/jobs/")).isEqualTo(1);
            assertThat(partner.badSignatures()).isZero();
        }
    }

    @Test
    void aPartnerJobNeverReadyEndsTheJobInErrorAfterThePullTimeout() throws Exception {
        try (FakePullPartner partner = new FakePullPartner().readyAfter(-1).data("part-1", PART_1)) {
            TestEndpoint producer = pullProducer(acme, partner);
            long started = System.currentTimeMillis();
            long jobId = createExport(producer);
            JsonNode job = awaitStatus(jobId, "ERROR");
            assertThat(System.currentTimeMillis() - started).isGreaterThanOrEqualTo(PULL_TIMEOUT.toMillis());
            assertThat(job.get("errorDetails").asText()).contains("not ready within the pull timeout of 6 s")
                    .contains("its job p-");
            long polls = partner.count("GET", "/v1/jobs/");
            assertThat(polls).as("waits doubling from 50 ms to 200 ms over 6 s").isBetween(6L, 40L);
            assertThat(partner.count("GET", "/v1/jobs/")).as("no poll after the end").isEqualTo(polls);
            assertThat(partner.count("POST", "/v1/jobs")).isEqualTo(1);
        }
    }

    @Test
    void aPullProducerNeedsASafeUrlAndGetsASigningSecret() {
        String noUrl = registration("NoUrl", "source", "pull", IDS);
        ExchangeClient.Answer a = acme.client().post("/v1/endpoint", noUrl);
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("\"url\"");
        a = acme.client().post("/v1/endpoint", withUrl(noUrl, "http://169.254.169.254/latest"));
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("url").contains("link-local");
        a = acme.client().post("/v1/endpoint", withUrl(noUrl, "http://127.0.0.1:9/api"));
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        assertThat(a.json().get("signingSecret").asText()).startsWith("whsec_");
        ExchangeClient.Answer rotated = acme.client().post("/v1/endpoint/" + a.json().get("endpointId").asLong()
                + "/signingSecret", null);
        assertThat(rotated.status()).as(rotated.body()).isEqualTo(200);
        assertThat(rotated.json().get("signingSecret").asText()).startsWith("whsec_")
                .isNotEqualTo(a.json().get("signingSecret").asText());
        // A push producer needs neither.
        a = acme.client().post("/v1/endpoint", registration("Pusher", "source", "push", IDS));
        assertThat(a.status()).isEqualTo(201);
        assertThat(a.json().has("signingSecret")).isFalse();
    }

    @Test
    void aPullProducersCatalogIsItsPartnersKeptAndFetchedAgainOnRequest() throws Exception {
        TestEndpoint producer;
        try (FakePullPartner partner = new FakePullPartner()) {
            producer = pullProducer(acme, partner);
            ExchangeClient.Answer first = producer.client().get("/v1/endpoint/" + producer.endpointId() + "/segments");
            assertThat(first.status()).as(first.body()).isEqualTo(200);
            assertThat(first.json().get(0).get("id").asText()).isEqualTo("45311");
            assertThat(first.json().get(0).get("name").asText()).isEqualTo("Buyers");
            assertThat(partner.count("GET", "/v1/segments")).isEqualTo(1);
            assertThat(partner.badSignatures()).isZero();

            // Kept: a second read does not ask the partner; a refresh does.
            producer.client().get("/v1/endpoint/" + producer.endpointId() + "/segments");
            assertThat(partner.count("GET", "/v1/segments")).isEqualTo(1);
            ExchangeClient.Answer refreshed = producer.client().get("/v1/endpoint/" + producer.endpointId()
                    + "/segments?refresh=true");
            assertThat(refreshed.status()).as(refreshed.body()).isEqualTo(200);
            assertThat(partner.count("GET", "/v1/segments")).isEqualTo(2);

            // Its jobs are checked against it, as a push producer's are against the catalog it writes.
            ExchangeClient.Answer unknown = producer.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                    + producer.endpointId() + ",\"producerSegmentID\":999,\"destinationEndpointID\":"
                    + destination.endpointId() + ",\"destinationSegmentName\":\"seg\",\"exportCategory\":\"cat\","
                    + "\"shareAction\":\"ADD\",\"updateIdentities\":false," + MAPPINGS + "}");
            assertThat(unknown.status()).as(unknown.body()).isEqualTo(400);
            assertThat(unknown.message()).contains("45311");
        }
        // The partner gone: the kept copy is still listed; a refresh says the partner could not be asked.
        ExchangeClient.Answer kept = producer.client().get("/v1/endpoint/" + producer.endpointId() + "/segments");
        assertThat(kept.status()).as(kept.body()).isEqualTo(200);
        assertThat(kept.json().get(0).get("id").asText()).isEqualTo("45311");
        ExchangeClient.Answer gone = producer.client().get("/v1/endpoint/" + producer.endpointId()
                + "/segments?refresh=true");
        assertThat(gone.status()).as(gone.body()).isEqualTo(409);
        assertThat(gone.message()).contains("could not be fetched from its partner");
    }

    @Test
    void thePartnersSegmentsAreReadForItsCatalog() throws Exception {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try (FakePullPartner partner = new FakePullPartner();
             PartnerClient client = new PartnerClient(vertx, new idex.exchange.delivery.SafeTargets(true),
                     Duration.ofSeconds(5), System::currentTimeMillis)) {
            TestEndpoint producer = pullProducer(acme, partner);
            idex.exchange.endpoints.SigningSecret secret = idex.exchange.endpoints.SigningSecret.parse(
                    producer.registration().get("signingSecret").asText());
            idex.exchange.endpoints.Endpoint endpoint = new idex.exchange.endpoints.Endpoint(producer.endpointId(),
                    acme.accountId(), idex.exchange.endpoints.Registration.parse(producer.registration()), 0, 0, null, null);
            PartnerSegments segments = new PartnerSegments(client, (id, now) -> List.of(secret),
                    System::currentTimeMillis);

            assertThat(segments.catalogItems(endpoint).toString()).isEqualTo("[{\"id\":\"45311\",\"name\":\"Buyers\","
                    + "\"description\":\"Bought this year\",\"segment_attributes\":[{\"name\":\"firstName\","
                    + "\"type\":\"string\"}]}]");
            assertThat(partner.calls()).extracting(FakePullPartner.Call::path).containsExactly("/v1/segments");
            assertThat(partner.badSignatures()).isZero();

            // Signed with another secret, the partner refuses, and the catalog read says why.
            PartnerSegments wrong = new PartnerSegments(client,
                    (id, now) -> List.of(idex.exchange.endpoints.SigningSecret.generate()), System::currentTimeMillis);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> wrong.segments(endpoint))
                    .isInstanceOf(PartnerCallFailed.class).hasMessageContaining("HTTP 401");
            assertThat(partner.badSignatures()).isEqualTo(1);
        } finally {
            vertx.close().await();
        }
    }
}
