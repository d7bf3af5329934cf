package idex.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/** Registering endpoints through `/v1/endpoint`, with the key rules of spec §1. */
class EndpointsTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static TestAccount acme;
    static TestAccount other;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 64);
        acme = ExchangeAccounts.account(server, "Acme");
        other = ExchangeAccounts.account(server, "Other");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\",\"unique\":true},{\"name\":\"cookieId\",\"type\":\"string\"}]";

    @Test
    void registersAnEndpointAndItsKeyActsAsIt() {
        ExchangeClient.Answer created = acme.client().post("/v1/endpoint", registration("CRM", "source", "push", IDS));
        assertThat(created.status()).isEqualTo(201);
        JsonNode e = created.json();
        assertThat(e.get("endpointId").asLong()).isPositive();
        assertThat(e.get("accountId").asLong()).isEqualTo(acme.accountId());
        assertThat(e.get("key").asText()).startsWith("idex_");
        assertThat(e.at("/endpointTypes/audience/source/producerType").asText()).isEqualTo("push");
        assertThat(e.at("/identifiers/0/unique").asBoolean()).isTrue();
        assertThat(e.at("/identifiers/1/unique").asBoolean()).isFalse();

        ExchangeClient own = new ExchangeClient(server, e.get("key").asText());
        ExchangeClient.Answer self = own.get("/v1/endpoint");
        assertThat(self.status()).isEqualTo(200);
        assertThat(self.json().get("endpointId").asLong()).isEqualTo(e.get("endpointId").asLong());
        assertThat(self.json().has("key")).as("the key is shown once").isFalse();

        ExchangeClient.Answer updated = own.put("/v1/endpoint",
                registration("CRM 2", "source", "pull", IDS).replaceFirst("\\{", "{\"url\":\"https://crm.example.com/api\","));
        assertThat(updated.status()).isEqualTo(200);
        assertThat(updated.json().get("name").asText()).isEqualTo("CRM 2");
        assertThat(acme.client().get("/v1/endpoint?endpointId=" + e.get("endpointId").asLong()).json()
                .at("/endpointTypes/audience/source/producerType").asText()).isEqualTo("pull");
    }

    @Test
    void accountKeyListsOnlyItsOwnEndpoints() {
        TestEndpoint mine = ExchangeAccounts.endpoint(server, acme, registration("Mine", "destination", "pull", IDS));
        TestEndpoint theirs = ExchangeAccounts.endpoint(server, other, registration("Theirs", "destination", "pull", IDS));
        JsonNode list = acme.client().get("/v1/endpoint").json();
        assertThat(list.isArray()).isTrue();
        assertThat(list.findValuesAsText("name")).contains("Mine").doesNotContain("Theirs");
        assertThat(acme.client().get("/v1/endpoint?endpointId=" + theirs.endpointId()).status()).isEqualTo(404);
        assertThat(mine.client().get("/v1/endpoint?endpointId=" + theirs.endpointId()).status()).isEqualTo(403);
    }

    @Test
    void refusesInvalidRegistrationsWithWhatToFix() {
        String both = "{\"name\":\"x\",\"endpointTypes\":{\"audience\":{\"source\":{\"enabled\":true,\"producerType\":\"push\"},"
                + "\"destination\":{\"enabled\":true,\"destinationType\":\"pull\"}}}}";
        ExchangeClient.Answer a = acme.client().post("/v1/endpoint", both);
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("not both");

        String badMode = "{\"name\":\"x\",\"endpointTypes\":{\"audience\":{\"source\":{\"enabled\":true,\"producerType\":\"stream\"}}}}";
        a = acme.client().post("/v1/endpoint", badMode);
        assertThat(a.status()).isEqualTo(400);
        assertThat(a.message()).contains("\"push\" or \"pull\"");

        assertThat(acme.client().post("/v1/endpoint", "{\"name\":").status()).isEqualTo(400);
        assertThat(acme.client().post("/v1/endpoint", "{\"endpointTypes\":{}}").message()).contains("\"name\" is required");
        String twice = registration("x", "source", "push", "[{\"name\":\"email\"},{\"name\":\"email\"}]");
        assertThat(acme.client().post("/v1/endpoint", twice).message()).contains("declared twice");
        // PostgreSQL text cannot hold U+0000: a 400 naming the field, not a failed INSERT.
        ExchangeClient.Answer nul = acme.client().post("/v1/endpoint", registration("x\\u0000y", "source", "push", IDS));
        assertThat(nul.status()).isEqualTo(400);
        assertThat(nul.message()).contains("\"name\"").contains("NUL");
        assertThat(acme.client().get("/v1/endpoint").json().findValuesAsText("name")).doesNotContain("x", "x\u0000y");
    }

    @Test
    void keysAreRequiredAndEndpointKeysCannotRegister() {
        assertThat(new ExchangeClient(server, null).get("/v1/endpoint").status()).isEqualTo(401);
        assertThat(new ExchangeClient(server, "idex_nope_nope").get("/v1/endpoint").status()).isEqualTo(401);
        TestEndpoint e = ExchangeAccounts.endpoint(server, acme, registration("E", "source", "push", IDS));
        assertThat(e.client().post("/v1/endpoint", registration("F", "source", "push", IDS)).status()).isEqualTo(403);
        assertThat(acme.client().put("/v1/endpoint", registration("F", "source", "push", IDS)).status()).isEqualTo(403);
    }
}
