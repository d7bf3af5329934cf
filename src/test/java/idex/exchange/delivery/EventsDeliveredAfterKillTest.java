package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.json.Json;
import idex.store.embedded.EmbeddedPostgres;
import idex.support.Eventually;
import idex.support.WebhookReceiver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static idex.support.Commands.idex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every event acknowledged (answered 200) reaches its subscriber at least once, though the server is killed
 * (SIGKILL) again and again while events arrive and deliveries are in flight: the server runs as a process of its
 * own on the embedded store of a data dir, four writers send single events (each with an identifier value of its
 * own) to a subscription of every code, and a receiver on loopback (in this JVM) records what it is sent. The server
 * is killed 300 to 1500 ms after each round's first acknowledged event — the second kill together with its
 * PostgreSQL, so that a start recovers from the WAL — and started again on the same data dir. After the last start
 * the test waits until the receiver has seen every acknowledged event; duplicates (the same message sent again after
 * a kill cut its attempt or its recording) are allowed and counted. `-Didex.kill.seed=N` replays the kill moments.
 */
class EventsDeliveredAfterKillTest {

    private static final int KILLS = Integer.getInteger("idex.deliveryKill.kills", 5);
    private static final int WRITERS = 4;
    private static final Duration SERVER_START = Duration.ofSeconds(120);
    /** A message leased to a killed server is due again after the lease (timeout + 5 s); retries follow within 12 s. */
    private static final Duration ALL_DELIVERED = Duration.ofSeconds(60);
    private static final String IDS = "[{\"name\":\"uid\",\"type\":\"string\"}]";

    @TempDir
    Path dir;
    private final long seed = Long.getLong("idex.kill.seed", System.nanoTime());
    private final Random random = new Random(seed);
    private Process server;
    private int port;
    private volatile HttpClient http;

    private final AtomicLong seq = new AtomicLong();
    /** The uid of every acknowledged event. */
    private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    private final AtomicLong roundAcks = new AtomicLong();
    private final AtomicLong cutOff = new AtomicLong();
    private final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
    private volatile boolean stop;

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
            server = null;
        }
        EmbeddedPostgres.stopIfUnheld(dir); // a killed server leaves its PostgreSQL running
    }

    @Test
    void everyAcknowledgedEventReachesTheSubscriberThoughTheServerIsKilled() throws Exception {
        long startedAt = System.nanoTime();
        try (WebhookReceiver receiver = WebhookReceiver.start()) {
            JsonNode account = Json.MAPPER.readTree(idex("account", "create", "Acme", "--json", "--data-dir",
                    dir.toString()).lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
            String accountKey = account.get("key").asText();
            start();
            String sourceKey = expect(send("POST", "/v1/endpoint", accountKey, "{\"name\":\"Web\",\"endpointTypes\":"
                    + "{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}"), 201).get("key").asText();
            long destination = expect(send("POST", "/v1/endpoint", accountKey, "{\"name\":\"Receiver\","
                    + "\"endpointTypes\":{\"event\":{\"destination\":{\"enabled\":true,\"url\":\""
                    + receiver.url("/hooks") + "\"}}},\"identifiers\":" + IDS + "}"), 201).get("endpointId").asLong();
            expect(send("POST", "/v1/subscriptions", accountKey, "{\"destinationEndpointId\":" + destination
                    + ",\"eventCodes\":[\"*\"]}"), 201);

            for (int k = 1; k <= KILLS; k++) {
                String round = "[seed " + seed + ", kill round " + k + "]";
                long runMillis = 300 + random.nextInt(1201);
                stop = false;
                roundAcks.set(0);
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    Thread t = new Thread(() -> write(sourceKey), "event-writer-" + k + "-" + w);
                    t.start();
                    writers.add(t);
                }
                // The kill's moment counts from the round's first acknowledged event: a server just started answers
                // its first requests slowly, and a kill counted from its start would often find nothing acknowledged.
                Eventually.await(round + " a first acknowledged event", Duration.ofSeconds(60), roundAcks::get,
                        n -> n > 0 || !unexpected.isEmpty());
                Thread.sleep(runMillis);
                stop = true;
                server.destroyForcibly(); // SIGKILL: no shutdown hook, deliveries in flight cut off
                assertThat(server.waitFor(30, TimeUnit.SECONDS)).as(round + " the killed server exits").isTrue();
                server = null;
                if (k == 2) {
                    killPostgres(round);
                }
                for (Thread t : writers) {
                    t.join(120_000);
                    assertThat(t.isAlive()).as(round + " writer " + t.getName() + " ends after the kill").isFalse();
                }
                assertThat(unexpected).as(round + " answers that the kill does not explain").isEmpty();
                start();
            }

            // Every acknowledged event, at least once; the last start's server delivers what the kills left.
            Map<String, Set<String>> webhookIdsByUid = Eventually.await(
                    "[seed " + seed + "] every acknowledged event at the receiver", ALL_DELIVERED,
                    () -> receivedByUid(receiver), got -> got.keySet().containsAll(acknowledged));
            Set<String> missing = new TreeSet<>(acknowledged);
            missing.removeAll(webhookIdsByUid.keySet());
            assertThat(missing).as("[seed " + seed + "] acknowledged events never delivered").isEmpty();

            // Duplicates are the same message again (its webhook-id unchanged): an event is never two messages.
            List<String> twoMessages = webhookIdsByUid.entrySet().stream().filter(e -> e.getValue().size() > 1)
                    .map(e -> e.getKey() + " as " + e.getValue()).toList();
            assertThat(twoMessages).as("[seed " + seed + "] events sent as more than one message").isEmpty();
            long requests = receiver.requests().size();
            System.out.printf("[seed %d] %d kills (1 with PostgreSQL), %d s; acknowledged events: %d, requests cut off"
                            + " by a kill: %d; requests received: %d for %d events (%d duplicates, at least once)%n",
                    seed, KILLS, (System.nanoTime() - startedAt) / 1_000_000_000L, acknowledged.size(), cutOff.get(),
                    requests, webhookIdsByUid.size(), requests - webhookIdsByUid.size());
        }
    }

    /** Single events, each with a uid of its own, until the round stops; records the uids answered 200. */
    private void write(String sourceKey) {
        while (!stop) {
            String uid = "e-" + seq.incrementAndGet();
            try {
                Answer a = send("POST", "/v1/event", sourceKey, "{\"code\":\"visit\",\"timestamp\":"
                        + "\"2026-12-03T10:00:00Z\",\"identifiers\":[{\"name\":\"uid\",\"value\":\"" + uid + "\"}]}");
                if (a.status() == 200) {
                    acknowledged.add(uid);
                    roundAcks.incrementAndGet();
                } else if (!stop) {
                    unexpected.add("event " + uid + " answered " + a.status() + " " + a.body() + " before the kill");
                    return;
                } else {
                    cutOff.incrementAndGet();
                }
            } catch (IOException e) {
                cutOff.incrementAndGet(); // not acknowledged: delivered or not, the test does not count on it
                if (!stop) {
                    unexpected.add("event " + uid + ": " + e + " before the kill");
                    return;
                }
            }
        }
    }

    /** The webhook-ids each uid arrived with. */
    private static Map<String, Set<String>> receivedByUid(WebhookReceiver receiver) {
        Map<String, Set<String>> byUid = new HashMap<>();
        for (WebhookReceiver.Received r : receiver.requests()) {
            for (JsonNode i : r.json().get("identifiers")) {
                if (i.get("name").asText().equals("uid")) {
                    byUid.computeIfAbsent(i.get("value").asText(), u -> new HashSet<>()).add(r.header("webhook-id"));
                }
            }
        }
        return byUid;
    }

    // ---- the server process ----------------------------------------------------------------------------------------

    private void start() throws IOException {
        if (port == 0) {
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                "--data-dir", dir.toString(), "--port", Integer.toString(port), "--salt-buckets", "64",
                "--rotation-schedule", "off", "--delivery-allow-private-networks", "--delivery-timeout", "2s",
                "--delivery-retry-schedule", "200ms,500ms,1s,2s,2s,2s,2s,2s,2s,2s");
        server = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
                .start();
        // Fresh connections: none left over from the previous process.
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .build();
        Process p = server;
        Eventually.await("the server to start", SERVER_START, () -> {
            if (!p.isAlive()) {
                throw new AssertionError("the server process exited (" + p.exitValue() + "): " + serverLog());
            }
            try {
                return send("GET", "/ops/healthcheck", null, null).status();
            } catch (IOException notYet) {
                return 0;
            }
        }, status -> status == 200);
    }

    /** SIGKILL to the postmaster of the data dir and all its processes; waits until they are gone. */
    private void killPostgres(String round) throws IOException {
        Path pidFile = dir.resolve("postgres").resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim());
        ProcessHandle.of(pid).ifPresent(postmaster -> {
            List<ProcessHandle> all = new ArrayList<>();
            all.add(postmaster);
            postmaster.descendants().forEach(all::add);
            all.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle h : all) {
                Eventually.await(round + " postgres process " + h.pid() + " to exit", Duration.ofSeconds(30),
                        () -> gone(h), g -> g);
            }
        });
    }

    /** Exited: no such process any more, or a zombie (which holds nothing) waiting to be reaped. */
    private static boolean gone(ProcessHandle h) {
        if (!h.isAlive()) {
            return true;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    private String serverLog() {
        try {
            String log = Files.readString(dir.resolve("server.log"));
            return log.length() <= 4000 ? log : "…" + log.substring(log.length() - 4000);
        } catch (IOException e) {
            return "(no server.log: " + e + ")";
        }
    }

    // ---- HTTP ------------------------------------------------------------------------------------------------------

    private record Answer(int status, String body) {
    }

    private Answer send(String method, String path, String key, String json) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(json));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    private static JsonNode expect(Answer a, int status) {
        assertThat(a.status()).as(a.body()).isEqualTo(status);
        return Json.readStored(a.body());
    }
}
