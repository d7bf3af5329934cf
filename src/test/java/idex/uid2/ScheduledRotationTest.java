package idex.uid2;

import idex.Main;
import idex.support.TestVectors;
import idex.support.TestServer;
import idex.support.Uid2Http;
import idex.uid2.clients.IssuedClientKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Rotation on a schedule: the recurring task rotates ceil(N/365) of the oldest buckets at least 30 days old. */
class ScheduledRotationTest {

    @TempDir
    Path dataDir;

    @Test
    void theScheduledTaskRotatesTheOldestEligibleBucket() throws Exception {
        long now = Instant.parse("2026-11-23T00:00:00Z").toEpochMilli();
        try (TestServer server = TestServer.startAt(now, dataDir, 8, "FIXED_DELAY|1s")) {
            assertThat(Main.run("uid2", "salts", "import", TestVectors.uid2TestSalts().toString(),
                    "--data-dir", dataDir.toString())).isZero();
            IssuedClientKey key = server.createMapperKey();
            Uid2Http http = new Uid2Http(server);
            String since = "{\"since_timestamp\":\"2026-11-23T00:00:00\"}";
            // db-scheduler runs on the server's clock: the run after the import is due one (server) second later.
            server.clock.set(now + 1000);
            // Of the five buckets only b1aZVGl7aB (last updated 2026-08-17) is 30 days old; ceil(5/365) = 1 rotates.
            long deadline = System.nanoTime() + 15_000_000_000L;
            List<String> changed;
            do {
                Thread.sleep(200);
                server.refreshNow();
                changed = http.call("/v2/identity/buckets", key.key(), key.secret(), since).get("body").findValuesAsText("bucket_id");
            } while (!changed.contains("b1aZVGl7aB") && System.nanoTime() < deadline);
            assertThat(changed).contains("b1aZVGl7aB");
            String lastUpdated = http.call("/v2/identity/buckets", key.key(), key.secret(), since).get("body").findValues("last_updated")
                    .get(changed.indexOf("b1aZVGl7aB")).asText();
            assertThat(lastUpdated).isEqualTo("2026-11-23T00:00:01.000");
        }
    }
}
