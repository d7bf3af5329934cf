package idex;

import idex.support.Eventually;
import idex.support.ExchangeAccounts;
import idex.support.ExchangeAccounts.TestAccount;
import idex.support.ExchangeClient;
import idex.support.LogLines;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** What a server tells its operator: progress on a long first start, and the access log when it is on. */
class ServerLogTest {

    /** Enough buckets for progress lines (the threshold is 50,000), few enough to be quick. */
    private static final int BUCKETS = 70_000;

    @TempDir
    static Path dir;
    static TestServer server;
    static LogLines access;

    @BeforeAll
    static void start() {
        access = LogLines.of("idex.access");
        server = TestServer.startWithAccessLog(dir, BUCKETS);
    }

    @AfterAll
    static void stop() {
        server.close();
        access.close();
    }

    @Test
    void aFirstStartWithManyBucketsPrintsItsProgressEveryTenth() {
        List<String> progress = server.console().lines().filter(l -> l.startsWith("created ")).toList();

        assertThat(progress).containsExactlyElementsOf(IntStream.rangeClosed(1, 10)
                .mapToObj(tenth -> "created " + 7_000 * tenth + " of 70000 salt buckets").toList());
        assertThat(server.console()).startsWith("First start: creating 70000 salt buckets…");
    }

    @Test
    void theAccessLogHasOneLinePerRequestWithoutQueryOrKey() {
        TestAccount acme = ExchangeAccounts.account(server, "Acme");
        String key = acme.client().key();
        ExchangeClient.Answer refused = acme.client().get("/v1/identity?email=ann%40example.com");
        assertThat(refused.status()).isEqualTo(400); // an account key must name the endpoint

        List<String> lines = Eventually.await("the request's access log line",
                () -> access.messages().stream().filter(l -> l.startsWith("GET /v1/identity ")).toList(),
                l -> !l.isEmpty());

        assertThat(lines).singleElement().satisfies(line -> {
            assertThat(line).matches("GET /v1/identity 400 \\d+ B \\d+\\.\\d ms");
            assertThat(line).doesNotContain("ann").doesNotContain("email").doesNotContain("?");
        });
        assertThat(String.join("\n", access.messages())).doesNotContain(key)
                .doesNotContain(key.substring(key.indexOf('_', "idex_".length()) + 1));
    }

    @Test
    void aResponsesBytesAreCounted() {
        ExchangeClient anonymous = new ExchangeClient(server, null);
        assertThat(anonymous.get("/ops/healthcheck").body()).isEqualTo("OK");

        assertThat(Eventually.await("the healthcheck's line",
                () -> access.messages().stream().filter(l -> l.startsWith("GET /ops/healthcheck ")).toList(),
                l -> !l.isEmpty())).singleElement().asString().startsWith("GET /ops/healthcheck 200 2 B ");
    }
}
