package idex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.delivery.DeliverySettings;
import idex.json.Json;
import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** `idex deliveries list|retry` against a running server that delivers events to a loopback receiver. */
class DeliveriesCommandsTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";

    @TempDir
    static Path dataDir;
    static TestServer server;
    static TestAccount acme;

    @BeforeAll
    static void start() {
        // One retry 100 ms after the first attempt, then FAILED; private networks allowed for the loopback receiver.
        server = TestServer.startWithDelivery(dataDir, new DeliverySettings(Duration.ofSeconds(5),
                DeliverySettings.schedule("100ms"), Duration.ofDays(5), 4, true, Duration.ofDays(7)));
        acme = ExchangeAccounts.account(server, "Acme");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static CommandRun deliveries(String key, String... args) {
        return IdexCli.against(server, key, new String[]{"deliveries"}, args);
    }

    private static TestEndpoint destination(String url) {
        return ExchangeAccounts.endpoint(server, acme, "{\"name\":\"Receiver\",\"endpointTypes\":{\"event\":"
                + "{\"destination\":{\"enabled\":true,\"url\":\"" + url + "\"}}},\"identifiers\":" + IDS + "}");
    }

    private static void send(TestEndpoint source, String code, String email) {
        Answer a = source.client().post("/v1/event", "{\"code\":\"" + code + "\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"email\",\"value\":\"" + email + "\"}]}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
    }

    private static JsonNode listed(TestEndpoint dest, String status) {
        return acme.client().get("/v1/deliveries?endpointId=" + dest.endpointId() + "&status=" + status).json()
                .get("deliveries");
    }

    @Test
    void aFailedDeliveryIsListedThenRetriedUntilDelivered() throws Exception {
        AtomicInteger answer = new AtomicInteger(500);
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> answer.get())) {
            TestEndpoint source = ExchangeAccounts.endpoint(server, acme, "{\"name\":\"Web\",\"endpointTypes\":"
                    + "{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}");
            TestEndpoint dest = destination(receiver.url("/hooks"));
            assertThat(acme.client().post("/v1/subscriptions", "{\"destinationEndpointId\":" + dest.endpointId()
                    + ",\"eventCodes\":[\"*\"]}").status()).isEqualTo(201);
            send(source, "signup", "ann@example.com");
            JsonNode failed = Eventually.await("the delivery to fail", () -> listed(dest, "FAILED"), d -> d.size() == 1);
            long deliveryId = failed.get(0).get("deliveryId").asLong();
            assertThat(receiver.requests()).hasSize(2);

            CommandRun table = deliveries(acme.client().key(), "list", "--endpoint", Long.toString(dest.endpointId()),
                    "--status", "failed");
            assertThat(table.exitCode()).as(table.stderr()).isZero();
            assertThat(table.out()).startsWith("DELIVERY").contains("signup").contains("FAILED").contains("HTTP 500");
            assertThat(table.out().lines()).hasSize(2);
            assertThat(table.out().lines().skip(1).findFirst().orElseThrow()).startsWith(deliveryId + " ");

            answer.set(204);
            CommandRun retry = deliveries(dest.client().key(), "retry", Long.toString(deliveryId));
            assertThat(retry.exitCode()).as(retry.stderr()).isZero();
            assertThat(retry.out()).isEqualTo("delivery " + deliveryId + " is PENDING (1 queued)\n");
            receiver.await(3, 20);
            Eventually.await("the retried delivery to arrive", () -> listed(dest, "DELIVERED"), d -> d.size() == 1);

            CommandRun json = deliveries(acme.client().key(), "list", "--endpoint", Long.toString(dest.endpointId()),
                    "--json");
            assertThat(json.exitCode()).as(json.stderr()).isZero();
            JsonNode page = Json.MAPPER.readTree(json.out());
            assertThat(page.get("deliveries").get(0).get("status").asText()).isEqualTo("DELIVERED");
            assertThat(page.get("deliveries").get(0).get("attempts")).hasSize(3);
        }
    }

    @Test
    void pagesAndRefusalsAreShown() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start().answering(n -> 200)) {
            TestEndpoint source = ExchangeAccounts.endpoint(server, acme, "{\"name\":\"Shop\",\"endpointTypes\":"
                    + "{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}");
            TestEndpoint dest = destination(receiver.url("/in"));
            assertThat(acme.client().post("/v1/subscriptions", "{\"destinationEndpointId\":" + dest.endpointId()
                    + ",\"eventCodes\":[\"order\"]}").status()).isEqualTo(201);
            send(source, "order", "bob@example.com");
            send(source, "order", "cy@example.com");
            Eventually.await("both deliveries", () -> listed(dest, "DELIVERED"), d -> d.size() == 2);

            CommandRun first = deliveries(dest.client().key(), "list", "--limit", "1");
            assertThat(first.exitCode()).as(first.stderr()).isZero();
            String more = first.out().lines().reduce((a, b) -> b).orElseThrow();
            assertThat(more).startsWith("more: --before ");
            CommandRun second = deliveries(dest.client().key(), "list", "--limit", "1", "--before",
                    more.substring("more: --before ".length()));
            assertThat(second.exitCode()).as(second.stderr()).isZero();
            assertThat(second.out().lines()).hasSize(2).noneMatch(l -> l.startsWith("more:"));
            assertThat(second.out().lines().skip(1).findFirst().orElseThrow())
                    .isNotEqualTo(first.out().lines().skip(1).findFirst().orElseThrow());

            CommandRun badStatus = deliveries(acme.client().key(), "list", "--status", "LOST");
            assertThat(badStatus.exitCode()).isEqualTo(1);
            assertThat(badStatus.stderr()).contains("HTTP 400");
            CommandRun unknown = deliveries(acme.client().key(), "retry", "987654321");
            assertThat(unknown.exitCode()).isEqualTo(1);
            assertThat(unknown.stderr()).contains("HTTP 404");
            CommandRun noKey = IdexCli.run("deliveries", "list", "--url", server.url(""), "--key", " ");
            assertThat(noKey.exitCode()).isEqualTo(2);
        }
    }
}
