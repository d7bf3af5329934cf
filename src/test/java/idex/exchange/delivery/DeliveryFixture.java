package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Accounts, sources, destinations and subscriptions on one delivery server, and waiting on the delivery log — the
 * moves every delivery failure test makes, through HTTP as a user would.
 */
final class DeliveryFixture {

    static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"}]";
    private static final AtomicInteger SEQ = new AtomicInteger();

    final TestServer server;

    DeliveryFixture(TestServer server) {
        this.server = server;
    }

    TestAccount account() {
        return ExchangeAccounts.account(server, "Failures" + SEQ.incrementAndGet());
    }

    TestEndpoint source(TestAccount account) {
        return ExchangeAccounts.endpoint(server, account, "{\"name\":\"Web\",\"endpointTypes\":{\"event\":"
                + "{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}");
    }

    static String destinationRegistration(String url, boolean enabled) {
        return "{\"name\":\"Receiver\",\"endpointTypes\":{\"event\":{\"destination\":{\"enabled\":" + enabled
                + ",\"url\":\"" + url + "\"}}},\"identifiers\":" + IDS + "}";
    }

    TestEndpoint destination(TestAccount account, String url) {
        return ExchangeAccounts.endpoint(server, account, destinationRegistration(url, true));
    }

    /** A destination subscribed to every code. */
    TestEndpoint subscribed(TestAccount account, String url) {
        TestEndpoint d = destination(account, url);
        Answer a = account.client().post("/v1/subscriptions", "{\"destinationEndpointId\":" + d.endpointId()
                + ",\"eventCodes\":[\"*\"]}");
        assertThat(a.status()).as(a.body()).isEqualTo(201);
        return d;
    }

    /** Publishes one event from `source`; answers when it was accepted (server-side work included). */
    static long publish(TestEndpoint source, String code) {
        Answer a = source.client().post("/v1/event", "{\"code\":\"" + code + "\",\"timestamp\":\"2026-12-03T10:00:00Z\","
                + "\"identifiers\":[{\"name\":\"email\",\"value\":\"p" + SEQ.incrementAndGet() + "@example.com\"}]}");
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return System.currentTimeMillis();
    }

    /** The delivery log of one destination, as the account sees it. */
    static JsonNode log(TestAccount account, long destination) {
        Answer a = account.client().get("/v1/deliveries?endpointId=" + destination);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get("deliveries");
    }

    /**
     * Polls the destination's log until `condition` holds, up to `seconds`; answers that log. Deliveries happen on
     * the server's own schedule, so the test waits for the state rather than for a time.
     */
    static JsonNode awaitLog(TestAccount account, long destination, int seconds, String what,
                             Predicate<JsonNode> condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        JsonNode last;
        do {
            last = log(account, destination);
            if (condition.test(last)) {
                return last;
            }
            Thread.sleep(50);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("within " + seconds + " s, expected " + what + "; the log: " + last);
    }

    /** Every delivery in `log` has `status`, and there are `count` of them. */
    static Predicate<JsonNode> all(int count, String status) {
        return log -> {
            if (log.size() != count) {
                return false;
            }
            for (JsonNode d : log) {
                if (!d.get("status").asText().equals(status)) {
                    return false;
                }
            }
            return true;
        };
    }
}
