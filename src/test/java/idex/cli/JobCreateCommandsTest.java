package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.json.Json;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** `idex jobs create segment-export|identity-import` against a running server: flags, a JSON file, or both. */
class JobCreateCommandsTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"crmId\",\"type\":\"string\"}]";

    @TempDir
    static Path dataDir;
    @TempDir
    Path work;
    static TestServer server;
    static TestAccount acme;
    static TestEndpoint source;
    static TestEndpoint destination;

    @BeforeAll
    static void start() {
        server = TestServer.start(dataDir, 32);
        acme = ExchangeAccounts.account(server, "Acme");
        source = ExchangeAccounts.endpoint(server, acme, registration("CRM", "source", "push", IDS));
        destination = ExchangeAccounts.endpoint(server, acme, registration("Ads", "destination", "pull", IDS));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static CommandRun create(String key, String... args) {
        return IdexCli.against(server, key, new String[]{"jobs", "create"}, args);
    }

    /** The job as the server has it now. */
    private static JsonNode stored(String category, long jobId) {
        return acme.client().get("/v1/jobs/" + category + "/" + jobId + "?includeProducerSegmentIDString=true")
                .json().get(0);
    }

    @Test
    void aSegmentExportFromFlagsIsCreatedAndPrinted() throws Exception {
        CommandRun run = create(acme.client().key(), "segment-export", "--producer", Long.toString(source.endpointId()),
                "--segment", "vip", "--destination", Long.toString(destination.endpointId()), "--segment-name", "VIP",
                "--segment-description", "Best customers", "--export-category", "retail", "--share-action", "replace",
                "--map", "email=email", "--attribute", "firstName=firstName", "--update-identities");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        JsonNode printed = Json.MAPPER.readTree(run.out());
        assertThat(run.out()).contains("\n  \"jobId\"");
        long jobId = printed.get("jobId").asLong();
        JsonNode job = stored("SEGMENT_EXPORT", jobId);
        assertThat(job.get("status").asText()).isEqualTo("WAITING_TO_RECIEVE_DATA");
        assertThat(job.get("producerEndpointID").asLong()).isEqualTo(source.endpointId());
        assertThat(job.get("producerSegmentIDString").asText()).isEqualTo("vip");
        assertThat(job.get("destinationEndpointID").asLong()).isEqualTo(destination.endpointId());
        assertThat(job.get("destinationSegmentName").asText()).isEqualTo("VIP");
        assertThat(job.get("destinationSegmentDescription").asText()).isEqualTo("Best customers");
        assertThat(job.get("exportCategory").asText()).isEqualTo("retail");
        assertThat(job.get("shareAction").asText()).isEqualTo("REPLACE");
        assertThat(job.get("updateIdentities").asBoolean()).isTrue();
        assertThat(job.get("identityMappings").toString()).isEqualTo("{\"email\":\"email\"}");
        assertThat(job.get("attributeMappings").toString()).isEqualTo("{\"firstName\":\"firstName\"}");

        CommandRun numeric = create(source.client().key(), "segment-export", "--segment", "42", "--destination",
                Long.toString(destination.endpointId()), "--map", "email=email", "--id-only");
        assertThat(numeric.exitCode()).as(numeric.stderr()).isZero();
        JsonNode own = stored("SEGMENT_EXPORT", Long.parseLong(numeric.out().strip()));
        assertThat(own.get("producerEndpointID").asLong()).as("the endpoint key's own").isEqualTo(source.endpointId());
        assertThat(own.get("producerSegmentID").asLong()).isEqualTo(42);
    }

    @Test
    void aFileGivesTheDefinitionAndFlagsReplaceItsFields() throws Exception {
        Path file = Files.writeString(work.resolve("job.json"), "{\"producerEndpointID\":" + source.endpointId()
                + ",\"producerSegmentID\":3,\"destinationEndpointID\":" + destination.endpointId()
                + ",\"destinationSegmentName\":\"from file\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"email\"},\"attributeMappings\":{}}");
        CommandRun asIs = create(acme.client().key(), "segment-export", "--file", file.toString(), "--id-only");
        assertThat(asIs.exitCode()).as(asIs.stderr()).isZero();
        JsonNode fromFile = stored("SEGMENT_EXPORT", Long.parseLong(asIs.out().strip()));
        assertThat(fromFile.get("destinationSegmentName").asText()).isEqualTo("from file");
        assertThat(fromFile.get("producerSegmentID").asLong()).isEqualTo(3);

        CommandRun changed = create(acme.client().key(), "segment-export", "--file", file.toString(), "--segment-name",
                "from flag", "--segment", "7", "--map", "crmId=crmId", "--id-only");
        assertThat(changed.exitCode()).as(changed.stderr()).isZero();
        JsonNode job = stored("SEGMENT_EXPORT", Long.parseLong(changed.out().strip()));
        assertThat(job.get("destinationSegmentName").asText()).isEqualTo("from flag");
        assertThat(job.get("producerSegmentID").asLong()).isEqualTo(7);
        assertThat(job.get("identityMappings").toString()).isEqualTo("{\"email\":\"email\",\"crmId\":\"crmId\"}");
    }

    @Test
    void aScheduleInTheFileCreatesAScheduledJob() throws Exception {
        Path file = Files.writeString(work.resolve("daily.json"), "{\"destinationEndpointID\":"
                + destination.endpointId() + ",\"identityMappings\":{\"email\":\"email\"},"
                + "\"scheduleDetails\":{\"runRepeat\":true,\"startHour\":6}}");
        CommandRun run = create(source.client().key(), "segment-export", "--file", file.toString());
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        JsonNode printed = Json.MAPPER.readTree(run.out());
        assertThat(printed.get("state").asText()).isEqualTo("SCHEDULED");
        assertThat(printed.get("scheduledJobId").isIntegralNumber()).isTrue();

        CommandRun idOnly = create(source.client().key(), "segment-export", "--file", file.toString(), "--id-only");
        assertThat(idOnly.exitCode()).as(idOnly.stderr()).isZero();
        long scheduledJobId = Long.parseLong(idOnly.out().strip());
        assertThat(scheduledJobId).isNotEqualTo(printed.get("scheduledJobId").asLong());
        assertThat(acme.client().get("/v1/scheduledjobs/SEGMENT_EXPORT").json().findValuesAsText("jobId"))
                .contains(Long.toString(scheduledJobId));
    }

    @Test
    void anIdentityImportIsCreated() throws Exception {
        CommandRun run = create(source.client().key(), "identity-import", "--map", "email=email", "--map",
                "crmId=crmId");
        assertThat(run.exitCode()).as(run.stderr()).isZero();
        JsonNode job = stored("IDENTITY_IMPORT", Json.MAPPER.readTree(run.out()).get("jobId").asLong());
        assertThat(job.get("jobCategory").asText()).isEqualTo("IDENTITY_IMPORT");
        assertThat(job.get("producerEndpointID").asLong()).isEqualTo(source.endpointId());
        assertThat(job.get("destinationEndpointID").isNull()).isTrue();
        assertThat(job.get("identityMappings").toString()).isEqualTo("{\"email\":\"email\",\"crmId\":\"crmId\"}");
    }

    @Test
    void mistakesAreRefusedWithTheServersOrTheCommandsReason() throws Exception {
        CommandRun noDestination = create(acme.client().key(), "segment-export", "--producer",
                Long.toString(source.endpointId()), "--map", "email=email");
        assertThat(noDestination.exitCode()).isEqualTo(2);
        assertThat(noDestination.stderr()).contains("--destination");
        CommandRun badPair = create(acme.client().key(), "identity-import", "--producer",
                Long.toString(source.endpointId()), "--map", "email");
        assertThat(badPair.exitCode()).isEqualTo(2);
        assertThat(badPair.stderr()).contains("--map takes SOURCE=DESTINATION");
        CommandRun noFile = create(acme.client().key(), "identity-import", "--file", work.resolve("nope.json").toString());
        assertThat(noFile.exitCode()).isEqualTo(2);
        assertThat(noFile.stderr()).contains("Could not read");
        CommandRun notObject = create(acme.client().key(), "identity-import", "--file",
                Files.writeString(work.resolve("list.json"), "[1]").toString());
        assertThat(notObject.exitCode()).isEqualTo(2);
        assertThat(notObject.stderr()).contains("one JSON object");

        CommandRun wrongRole = create(acme.client().key(), "segment-export", "--producer",
                Long.toString(destination.endpointId()), "--destination", Long.toString(destination.endpointId()),
                "--map", "email=email");
        assertThat(wrongRole.exitCode()).isEqualTo(1);
        assertThat(wrongRole.stderr()).contains("HTTP 400").contains("is not an audience source");
        CommandRun accountKeyNoProducer = create(acme.client().key(), "identity-import", "--map", "email=email");
        assertThat(accountKeyNoProducer.exitCode()).isEqualTo(1);
        assertThat(accountKeyNoProducer.stderr()).contains("HTTP 400");

        TestEndpoint cataloged = ExchangeAccounts.endpoint(server, acme, registration("Shop", "source", "push", IDS));
        assertThat(cataloged.client().post("/v1/endpoint/" + cataloged.endpointId() + "/segments",
                "[{\"id\":\"vip\"},{\"id\":\"lapsed\"}]").status()).isEqualTo(201);
        CommandRun notListed = create(cataloged.client().key(), "segment-export", "--segment", "gold", "--destination",
                Long.toString(destination.endpointId()), "--map", "email=email");
        assertThat(notListed.exitCode()).isEqualTo(1);
        assertThat(notListed.stderr()).contains("HTTP 400").contains("\"gold\" is not in the segment catalog")
                .contains("\"vip\", \"lapsed\"");
        assertThat(notListed.out()).isEmpty();
    }
}
