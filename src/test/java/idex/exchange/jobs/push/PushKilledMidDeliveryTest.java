package idex.exchange.jobs.push;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.json.Json;
import idex.store.embedded.EmbeddedPostgres;
import idex.support.ExchangeClient;
import idex.support.SegmentPartner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static idex.support.Commands.idex;
import static idex.support.ExchangeAccounts.registration;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server process killed with SIGKILL while a push export's second and third files are on their way (two at a
 * time), then started again on the same store: the delivery resends both; the file the partner had accepted before is
 * never sent again.
 */
class PushKilledMidDeliveryTest {

    private static final String IDS = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";

    @TempDir
    Path dir;
    private Process server;
    private int port;

    @AfterEach
    void stopServer() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
        }
        EmbeddedPostgres.stopIfUnheld(dir); // a killed server leaves its PostgreSQL running
    }

    @Test
    void aDeliveryCutOffByAKillResendsEveryFileNotYetAcceptedAndNoneAccepted() throws Exception {
        // Files 2 and 3 held on the wire at once (two at a time): file 3 goes out only once file 1 is accepted.
        SegmentPartner.Hold second = new SegmentPartner.Hold(200);
        SegmentPartner.Hold third = new SegmentPartner.Hold(200);
        try (SegmentPartner partner = SegmentPartner.start().answeringFiles((id, n) -> n > 1 ? 200
                : id.endsWith("-0002.csv") ? second : id.endsWith("-0003.csv") ? third : 200)) {
            JsonNode account = Json.MAPPER.readTree(idex("account", "create", "Acme", "--json", "--data-dir",
                    dir.toString()));
            start();
            ExchangeClient acme = new ExchangeClient("http://127.0.0.1:" + port, account.get("key").asText());
            JsonNode source = acme.post("/v1/endpoint", registration("CRM", "source", "push", IDS)).json();
            ExchangeClient.Answer pushed = acme.post("/v1/endpoint",
                    PushDestinationTest.pushRegistration("Partner", partner.url()));
            assertThat(pushed.status()).as(pushed.body()).isEqualTo(201);
            partner.verifying(pushed.json().get("signingSecret").asText());
            ExchangeClient crm = acme.withKey(source.get("key").asText());
            ExchangeClient.Answer created = crm.post("/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                    + source.get("endpointId") + ",\"producerSegmentID\":7,\"destinationEndpointID\":"
                    + pushed.json().get("endpointId") + ",\"destinationSegmentName\":\"s\",\"shareAction\":\"ADD\","
                    + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"}}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            long jobId = created.json().get("jobId").asLong();
            StringBuilder csv = new StringBuilder("email,cookieId\n");
            for (int i = 0; i < 7; i++) {
                csv.append("user").append(i).append("@example.com,ck-").append(i).append('\n');
            }
            assertThat(crm.upload("/v1/jobs/" + jobId + "/data", csv.toString().getBytes(StandardCharsets.UTF_8),
                    false).status()).isEqualTo(200);

            second.arrived(60);
            third.arrived(60); // files 2 and 3 are on their way: file 1 was accepted
            kill();
            second.release(); // their answers go nowhere: the server that sent the files is gone
            third.release();
            start();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!status(crm, jobId).equals("COMPLETE")) {
                assertThat(System.nanoTime()).as("the delivery resumes to its end").isLessThan(deadline);
                assertThat(status(crm, jobId)).isNotEqualTo("ERROR");
                LockSupport.parkNanos(20_000_000);
            }
            assertThat(Files.readString(dir.resolve("server.log"))).contains("Took back 1 running job");

            List<SegmentPartner.Received> data = partner.dataRequests();
            assertThat(data).allSatisfy(r -> assertThat(r.verified()).isTrue());
            Map<String, List<String>> byFile = new TreeMap<>();
            data.forEach(r -> byFile.computeIfAbsent(r.webhookId().substring(r.webhookId().length() - 8),
                    k -> new ArrayList<>()).add(r.text()));
            // File 1 once (accepted before the kill); files 2 and 3 twice each (cut off, then again, the same bytes).
            assertThat(byFile.keySet()).containsExactly("0001.csv", "0002.csv", "0003.csv");
            assertThat(byFile.get("0001.csv")).hasSize(1);
            assertThat(byFile.get("0002.csv")).hasSize(2);
            assertThat(byFile.get("0002.csv").get(0)).isEqualTo(byFile.get("0002.csv").get(1));
            assertThat(byFile.get("0003.csv")).hasSize(2);
            assertThat(byFile.get("0003.csv").get(0)).isEqualTo(byFile.get("0003.csv").get(1));
            assertThat(byFile.values().stream().map(f -> f.get(0)).flatMap(String::lines)
                    .filter(l -> l.contains(",ck-")).toList())
                    .as("every row exactly once, a repeated webhook-id dropped").hasSize(7).doesNotHaveDuplicates();
        }
    }

    private static String status(ExchangeClient c, long jobId) {
        ExchangeClient.Answer a = c.get("/v1/jobs/SEGMENT_EXPORT/" + jobId);
        assertThat(a.status()).as(a.body()).isEqualTo(200);
        return a.json().get(0).get("status").asText();
    }

    /** Starts the server process, on the same port each time so that clients keep working across restarts. */
    private void start() throws Exception {
        if (port == 0) {
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--data-dir", dir.toString(), "--port", Integer.toString(port),
                "--salt-buckets", "64", "--rotation-schedule", "off", "--job-stale-after", "1s",
                "--segment-file-rows", "3", "--delivery-allow-private-networks", "--delivery-timeout", "60s",
                "--delivery-retry-schedule", "100ms,200ms"));
        server = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
                .start();
        ExchangeClient probe = new ExchangeClient("http://127.0.0.1:" + port, null);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                if (probe.get("/ops/healthcheck").status() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                assertThat(server.isAlive()).as("the server process runs: "
                        + Files.readString(dir.resolve("server.log"))).isTrue();
            }
            assertThat(System.nanoTime()).as("the server starts").isLessThan(deadline);
            LockSupport.parkNanos(50_000_000);
        }
    }

    private void kill() throws InterruptedException {
        server.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(server.waitFor(30, TimeUnit.SECONDS)).isTrue();
        server = null;
    }
}
