package idex.exchange.events;

import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeAccounts.TestEndpoint;
import idex.support.ExchangeClient.Answer;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Many requests of one account at once, which the server commits together: each is answered as if it had been
 * alone, a bad one fails alone, and requests about the same person end on one x1Id.
 */
class ConcurrentEventsTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"crmId\",\"type\":\"string\","
            + "\"unique\":true}]";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 16);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    private static String event(String email, String crmId) {
        return "{\"code\":\"visit\",\"timestamp\":\"2026-12-03T10:00:00Z\",\"identifiers\":[{\"name\":\"email\","
                + "\"value\":\"" + email + "\"}" + (crmId == null ? "" : ",{\"name\":\"crmId\",\"value\":\"" + crmId + "\"}")
                + "]}";
    }

    @Test
    void concurrentRequestsOfOneAccountAreEachAnsweredAsIfAlone() throws Exception {
        TestAccount acme = ExchangeAccounts.account(server, "Concurrent");
        TestEndpoint web = ExchangeAccounts.endpoint(server, acme, registration("Web", "none", null, IDS));
        TestEndpoint app = ExchangeAccounts.endpoint(server, acme, registration("App", "none", null, IDS));
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                TestEndpoint from = i % 2 == 0 ? web : app;
                // Every fifth request is about one shared person; the rest each about a person of their own.
                String email = i % 5 == 0 ? "shared@example.com" : "p" + i + "@example.com";
                answers.add(pool.submit(() -> from.client().post("/v1/event", event(email, null))));
            }
            // A request of several events among them, committed with the others.
            answers.add(pool.submit(() -> web.client().post("/v1/event", "{\"events\":[" + event("x@example.com", "C-1")
                    + "," + event("y@example.com", "C-2") + "]}")));

            Set<String> shared = new HashSet<>();
            Set<String> own = new HashSet<>();
            for (int i = 0; i < 200; i++) {
                Answer a = answers.get(i).get();
                assertThat(a.status()).as(a.body()).isEqualTo(200);
                assertThat(a.json().get("received").asInt()).isEqualTo(1);
                assertThat(a.json().get("rejected")).isEmpty();
                (i % 5 == 0 ? shared : own).add(a.json().get("x1Ids").get(0).asText());
            }
            assertThat(shared).as("one person, whatever the order of commits").hasSize(1);
            assertThat(own).as("a person each").hasSize(160).doesNotContainAnyElementsOf(shared);
            Answer two = answers.get(200).get();
            assertThat(two.status()).as(two.body()).isEqualTo(200);
            assertThat(two.json().get("received").asInt()).isEqualTo(2);
            assertThat(two.json().get("x1Ids")).hasSize(2);
            assertThat(two.json().get("x1Ids").get(0).asText()).isNotEqualTo(two.json().get("x1Ids").get(1).asText());

            Answer lookup = web.client().get("/v1/identity?email=shared%40example.com");
            assertThat(lookup.status()).as(lookup.body()).isEqualTo(200);
            assertThat(lookup.body()).contains(shared.iterator().next());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rejectedEventsAreNamedByTheirIndexInTheirOwnRequest() throws Exception {
        TestAccount acme = ExchangeAccounts.account(server, "Rejections");
        TestEndpoint web = ExchangeAccounts.endpoint(server, acme, registration("Web", "none", null, IDS));
        Answer owner = web.client().post("/v1/event", event("owner@example.com", "C-owner"));
        assertThat(owner.status()).as(owner.body()).isEqualTo(200);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Answer>> answers = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                // The second event of each request claims the owner's email with another crmId: rejected.
                String body = "{\"events\":[" + event("n" + i + "@example.com", null) + ","
                        + event("owner@example.com", "C-other-" + i) + "," + event("m" + i + "@example.com", null) + "]}";
                answers.add(pool.submit(() -> web.client().post("/v1/event", body)));
            }
            Set<String> x1s = new HashSet<>();
            for (Future<Answer> f : answers) {
                Answer a = f.get();
                assertThat(a.status()).as(a.body()).isEqualTo(200);
                assertThat(a.json().get("received").asInt()).isEqualTo(3);
                assertThat(a.json().get("rejected")).hasSize(1);
                assertThat(a.json().get("rejected").get(0).get("index").asInt()).isEqualTo(1);
                assertThat(a.json().get("rejected").get(0).get("reason").asText()).contains("crmId");
                assertThat(a.json().get("x1Ids")).hasSize(3);
                assertThat(a.json().get("x1Ids").get(1).isNull()).isTrue();
                x1s.add(a.json().get("x1Ids").get(0).asText());
                x1s.add(a.json().get("x1Ids").get(2).asText());
            }
            assertThat(x1s).as("a person for each accepted event").hasSize(120);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aBadRequestAmongConcurrentOnesFailsAlone() throws Exception {
        TestAccount acme = ExchangeAccounts.account(server, "Mixed");
        TestEndpoint web = ExchangeAccounts.endpoint(server, acme, registration("Web", "none", null, IDS));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<Answer>> good = new ArrayList<>();
            List<Future<Answer>> bad = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                good.add(pool.submit(() -> web.client().post("/v1/event", event("m" + System.nanoTime() + "@example.com",
                        null))));
                bad.add(pool.submit(() -> web.client().post("/v1/event", "{\"code\":\"visit\",\"timestamp\":\"soon\","
                        + "\"identifiers\":[{\"name\":\"email\",\"value\":\"a@example.com\"}]}")));
            }
            for (Future<Answer> f : good) {
                assertThat(f.get().status()).as(f.get().body()).isEqualTo(200);
            }
            for (Future<Answer> f : bad) {
                assertThat(f.get().status()).as(f.get().body()).isEqualTo(400);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
