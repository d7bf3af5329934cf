package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static idex.exchange.delivery.DeliveryFixture.destinationRegistration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Destination URLs on a server with the default settings (no private networks): what registration and update refuse,
 * and that the refusal says why. (A server started with the flag accepts loopback: DeliveryFailuresTest.)
 */
class DeliveryTargetRulesTest {

    @TempDir
    static Path dir;
    static TestServer server;
    static DeliveryFixture fx;

    @BeforeAll
    static void start() {
        server = TestServer.startWithDelivery(dir, DeliverySettings.defaults());
        fx = new DeliveryFixture(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void registrationRefusesLoopbackNamingTheFlag() {
        TestAccount acme = fx.account();
        Answer a = acme.client().post("/v1/endpoint", destinationRegistration("http://127.0.0.1:8080/hooks", true));
        assertThat(a.status()).as(a.body()).isEqualTo(400);
        assertThat(a.message()).contains("loopback").contains("--delivery-allow-private-networks");
        assertThat(acme.client().get("/v1/endpoint").json()).isEmpty();
    }

    @Test
    void registrationRefusesOtherSchemesCredentialsAndNeverAllowedAddresses() {
        TestAccount acme = fx.account();
        for (String url : new String[]{"ftp://example.com/hooks", "http://u:p@example.com/", "http://10.0.0.7/hooks",
                "http://169.254.169.254/latest/meta-data", "http://[::1]:8080/hooks"}) {
            Answer a = acme.client().post("/v1/endpoint", destinationRegistration(url, true));
            assertThat(a.status()).as(url + " → " + a.body()).isEqualTo(400);
            assertThat(a.message()).as(url).isNotBlank().doesNotContain("u:p");
        }
        assertThat(acme.client().get("/v1/endpoint").json()).isEmpty();
    }

    @Test
    void anUpdateIsCheckedToo() {
        TestAccount acme = fx.account();
        TestEndpoint e = fx.source(acme);
        String asDestination = "{\"name\":\"Web\",\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true},"
                + "\"destination\":{\"enabled\":true,\"url\":\"%s\"}}},\"identifiers\":" + DeliveryFixture.IDS + "}";
        Answer loopback = e.client().put("/v1/endpoint", asDestination.formatted("http://127.0.0.1:8080/hooks"));
        assertThat(loopback.status()).as(loopback.body()).isEqualTo(400);
        assertThat(loopback.message()).contains("loopback").contains("--delivery-allow-private-networks");
        Answer ftp = e.client().put("/v1/endpoint", asDestination.formatted("ftp://example.com/hooks"));
        assertThat(ftp.status()).as(ftp.body()).isEqualTo(400);
        Answer credentials = e.client().put("/v1/endpoint", asDestination.formatted("http://u:p@example.com/"));
        assertThat(credentials.status()).as(credentials.body()).isEqualTo(400);

        JsonNode unchanged = acme.client().get("/v1/endpoint?endpointId=" + e.endpointId()).json();
        JsonNode destination = unchanged.get("endpointTypes").get("event").get("destination");
        assertThat(destination.get("enabled").asBoolean()).as(unchanged.toString()).isFalse();
        assertThat(destination.has("url")).as(unchanged.toString()).isFalse();
    }
}
