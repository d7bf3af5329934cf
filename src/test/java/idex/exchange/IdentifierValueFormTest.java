package idex.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Identifiers declared "email" or "phone" are one person whatever the case or the spacing: stored in one form
 * (email trimmed and lower-cased, phone in E.164) by events and imports, looked up in that form by every call, and
 * stores written before that rule are brought to it at the next start.
 */
class IdentifierValueFormTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"phone\",\"type\":\"Phone\"},"
            + "{\"name\":\"cookieId\"},{\"name\":\"crmId\",\"unique\":true}]";

    @TempDir
    static Path dir;
    static TestServer server;

    TestAccount account;
    TestEndpoint crm;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 16);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void freshAccount() {
        account = ExchangeAccounts.account(server, "acct");
        crm = ExchangeAccounts.endpoint(server, account, registration("CRM", "source", "push", IDS));
    }

    private String event(String... nameValues) {
        StringBuilder ids = new StringBuilder();
        for (int i = 0; i < nameValues.length; i += 2) {
            ids.append(i == 0 ? "" : ",").append("{\"name\":\"").append(nameValues[i]).append("\",\"value\":\"")
                    .append(nameValues[i + 1]).append("\"}");
        }
        return "{\"code\":\"seen\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"identifiers\":[" + ids + "]}";
    }

    private String x1Of(String... nameValues) {
        ExchangeClient.Answer a = crm.client().post("/v1/event", event(nameValues));
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get("x1Ids").get(0).asText();
    }

    private JsonNode find(String query) {
        ExchangeClient.Answer a = crm.client().get("/v1/identity?" + query);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json();
    }

    @Test
    void anEmailInAnyCaseIsOnePersonAndAnyCaseFindsAndDeletesIt() {
        String first = x1Of("email", "ivy.42@example.com", "cookieId", "c1");
        String second = x1Of("email", " Ivy.42@Example.COM", "cookieId", "c2");
        assertThat(second).isEqualTo(first);

        JsonNode found = find("email=IVY.42%40EXAMPLE.com");
        assertThat(found).hasSize(1);
        assertThat(found.get(0).get("x1Id").asText()).isEqualTo(first);
        assertThat(found.get(0).get("identifiers").get(0).get("value").asText()).isEqualTo("ivy.42@example.com");
        // Other types keep their case: a cookie is not an email.
        assertThat(find("cookieId=C1")).isEmpty();

        assertThat(crm.client().delete("/v1/identity?email=Ivy.42%40example.COM").body())
                .isEqualTo("A number of updated Identities: 1");
        assertThat(find("email=ivy.42%40example.com")).isEmpty();
    }

    @Test
    void aPhoneIsKeptInE164AndOneThatIsNotIsRefusedChangingNothing() {
        String first = x1Of("phone", "+1 (415) 555-0123", "cookieId", "p1");
        assertThat(x1Of("phone", "+14155550123", "cookieId", "p2")).isEqualTo(first);
        assertThat(find("phone=%2B1.415.555.0123")).hasSize(1);

        ExchangeClient.Answer bad = crm.client().post("/v1/event", "{\"events\":[" + event("cookieId", "p9") + ","
                + event("phone", "415-555-0199", "cookieId", "p9") + "]}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.message()).startsWith("event 1: ").contains("415-555-0199").contains("E.164");
        assertThat(find("cookieId=p9")).as("nothing stored").isEmpty();
        assertThat(crm.client().get("/v1/identity?phone=4155550123").status()).isEqualTo(400);
    }

    @Test
    void anIdentityImportStoresTheSameFormAndSkipsABadPhone() {
        String known = x1Of("email", "ann@example.com", "cookieId", "a0");
        ExchangeClient.Answer created = crm.client().post("/v1/jobs/identityImport",
                "{\"producerEndpointID\":" + crm.endpointId() + ",\"producerSegmentID\":1}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long jobId = created.json().get("jobId").asLong();
        ExchangeClient.Answer up = crm.client().upload("/v1/jobs/" + jobId + "/data",
                "email,phone,cookieId\n  ANN@Example.com ,,a1\n,555 0100,a2\n".getBytes(StandardCharsets.UTF_8), false);
        assertThat(up.status()).as(up.body()).isEqualTo(200);
        JsonNode job = Eventually.await("the import to complete",
                () -> crm.client().get("/v1/jobs/IDENTITY_IMPORT/" + jobId).json().get(0),
                j -> j.get("status").asText().equals("COMPLETE"));
        assertThat(job.get("translatedRecordCount").asLong()).isEqualTo(1);
        assertThat(job.get("errorDetails").asText()).contains("line 3").contains("E.164");
        JsonNode found = find("cookieId=a1");
        assertThat(found.get(0).get("x1Id").asText()).isEqualTo(known);
    }

    @Test
    void graphTranslationFindsThePersonWhateverTheCaseOfTheUpload() throws Exception {
        x1Of("email", "bo@example.com", "crmId", "B-1");
        TestEndpoint ads = ExchangeAccounts.endpoint(server, account, registration("Ads", "destination", "pull", IDS));
        ExchangeClient.Answer created = crm.client().post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + crm.endpointId() + ",\"producerSegmentID\":1,\"destinationEndpointID\":" + ads.endpointId()
                + ",\"destinationSegmentName\":\"s\",\"exportCategory\":\"c\",\"shareAction\":\"ADD\","
                + "\"sourceIdentifiers\":[\"email\"],\"destinationIdentifier\":\"crmId\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        long jobId = created.json().get("jobId").asLong();
        assertThat(crm.client().upload("/v1/jobs/" + jobId + "/data",
                "email\n BO@Example.COM\n".getBytes(StandardCharsets.UTF_8), false).status()).isEqualTo(200);
        JsonNode job = Eventually.await("the export to be ready",
                () -> crm.client().get("/v1/jobs/SEGMENT_EXPORT/" + jobId).json().get(0),
                j -> j.get("status").asText().equals("READY_FOR_DOWNLOAD"));
        List<String> lines = new ArrayList<>();
        for (JsonNode name : job.get("segmentDataFiles")) {
            lines.addAll(Files.readAllLines(server.filesDir().resolve("jobs/" + jobId + "/files/" + name.asText())));
        }
        assertThat(lines).containsExactly("crmId", "B-1");
    }

    @Test
    void aStoreWrittenBeforeTheRuleIsBroughtToItAtStartMergingAsResolutionDoes() {
        String kept = x1Of("email", "ivy@example.com", "cookieId", "k1");
        String blocked = x1Of("email", "zed@example.com", "crmId", "Z-1");
        // As an older idex stored them: values as sent, so a second person for each.
        long ivyTwin = oldPerson("Ivy@Example.COM", "cookieId", "k2");
        long zedTwin = oldPerson("ZED@example.com", "crmId", "Z-2");
        long oddPhone = oldPerson(null, "cookieId", "k3");
        server.database().jdbi().useHandle(h -> h.execute("INSERT INTO x1_identifier (account_id, id_name, id_value,"
                + " x1, endpoint_id) VALUES (?, 'phone', '555-0100', ?, ?)", account.accountId(), oddPhone, crm.endpointId()));
        // The schema as it was then, too: before version 8 (and the later ones, which rerun after it).
        server.database().jdbi().useHandle(h -> {
            h.execute("DROP TABLE exchange_job_delivery_attempt, exchange_job_delivery");
            h.execute("ALTER TABLE exchange_endpoint DROP COLUMN push_failing_since, DROP COLUMN push_destination_disabled");
            h.execute("DROP TABLE exchange_segment, exchange_segment_catalog");
            h.execute("DROP TABLE exchange_job_pull");
            h.execute("ALTER TABLE exchange_job DROP COLUMN skipped_record_count, DROP COLUMN skipped_records");
            h.execute("DROP TABLE exchange_push_file");
            h.execute("ALTER TABLE exchange_job DROP COLUMN next_attempt, DROP COLUMN push_failures");
            h.execute("ALTER TABLE exchange_job DROP COLUMN sub_status, DROP COLUMN destination_segment_id");
            h.execute("DROP TABLE exchange_delivery_attempt, exchange_delivery, exchange_event, exchange_event_destination");
            h.execute("DROP SEQUENCE exchange_delivery_seq, exchange_event_seq");
            h.execute("ALTER TABLE exchange_endpoint DROP COLUMN event_destination_disabled");
            h.execute("DROP TABLE exchange_event_subscription, exchange_event_type");
            h.execute("DROP SEQUENCE exchange_subscription_seq");
            h.execute("DELETE FROM flyway_schema_history WHERE version IN ('8', '9', '10', '11', '12', '13', '14', '15', '16')");
        });

        server.restart();

        JsonNode ivy = find("email=ivy%40example.com");
        assertThat(ivy).hasSize(1);
        assertThat(ivy.get(0).get("x1Id").asText()).isEqualTo(kept);
        assertThat(crm.client().get("/v1/identity/" + kept).json().get(0).get("identifiers"))
                .extracting(i -> i.get("name").asText() + "=" + i.get("value").asText())
                .containsExactly("cookieId=k1", "cookieId=k2", "email=ivy@example.com");
        // Two crmIds of a unique identifier block the merge: the two people stay apart and share the email.
        JsonNode zed = find("email=zed%40example.com");
        assertThat(zed).hasSize(2);
        assertThat(zed.get(0).get("x1Id").asText()).isEqualTo(blocked);
        // A stored phone that is no number is left as it was.
        assertThat(crm.client().get("/v1/identity/" + encoded(oddPhone)).json().get(0).get("identifiers"))
                .extracting(i -> i.get("value").asText()).contains("555-0100");
        assertThat(zedTwin).isNotEqualTo(ivyTwin);
    }

    /** An x1 with rows as an older idex wrote them (no normalisation), contributed by the CRM. */
    private long oldPerson(String email, String otherName, String otherValue) {
        return server.database().jdbi().withHandle(h -> {
            long x1 = h.createQuery("SELECT nextval('x1_seq')").mapTo(Long.class).one();
            h.execute("INSERT INTO x1_person (x1, account_id, merged_into, created) VALUES (?, ?, NULL, 0)", x1,
                    account.accountId());
            if (email != null) {
                h.execute("INSERT INTO x1_identifier (account_id, id_name, id_value, x1, endpoint_id)"
                        + " VALUES (?, 'email', ?, ?, ?)", account.accountId(), email, x1, crm.endpointId());
            }
            h.execute("INSERT INTO x1_identifier (account_id, id_name, id_value, x1, endpoint_id) VALUES (?, ?, ?, ?, ?)",
                    account.accountId(), otherName, otherValue, x1, crm.endpointId());
            return x1;
        });
    }

    private static String encoded(long x1) {
        return idex.exchange.identity.X1Ids.of(server.database().jdbi()).encode(x1);
    }
}
