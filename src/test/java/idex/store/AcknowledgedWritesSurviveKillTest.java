package idex.store;

import com.fasterxml.jackson.databind.JsonNode;
import idex.Main;
import idex.exchange.jobs.model.JobStatus;
import idex.json.Json;
import idex.store.embedded.EmbeddedPostgres;
import idex.support.Eventually;
import idex.support.OpenApiDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static idex.support.Commands.idex;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Acknowledged writes survive SIGKILL, on a fresh store and on an aged one (written, deleted and restarted many
 * times before): the server runs as a process of its own on the default store (the embedded PostgreSQL in the data
 * dir); six writers send events, identity filters, keys (endpoint registrations, `idex key create`/`revoke`), segment
 * export creations, uploads and job transitions (fail, delete a segment file, complete) at once; the server is killed
 * (SIGKILL) 200 to 1500 ms after the round's first acknowledged write, on every third kill together with its
 * PostgreSQL (so that the next start recovers from the WAL), and started again; 20 kills a store. After every start every write acknowledged so far, in any round, is checked: the events'
 * identifiers are in the identity store, filters are listed (deleted ones are not), keys authenticate (revoked ones do
 * not), registered endpoints are listed, jobs exist and none is behind a status acknowledged or seen for it.
 *
 * <p>A write counts as acknowledged only once its success answer arrived; a request the kill cut off is not
 * acknowledged (its effect may or may not be there). A failure that the kill cannot explain (an error answer, or an
 * I/O error before the kill began) fails the test too. The run times before the kills come from a seeded
 * {@link Random}: `-Didex.kill.seed=N` replays them (the threads' interleaving is the machine's). Each scenario prints
 * its figures: kills, acknowledged writes by kind, checks, lost writes.
 */
class AcknowledgedWritesSurviveKillTest {

    private static final int KILLS = Integer.getInteger("idex.kill.kills", 20);
    private static final int AGING_ROUNDS = Integer.getInteger("idex.kill.agingRounds", 5);
    /** Every this many kills, the PostgreSQL of the data dir is killed too. */
    private static final int POSTGRES_KILL_EVERY = 3;
    private static final int UPLOAD_ROWS = 10;
    private static final Duration SERVER_START = Duration.ofSeconds(120);
    private static final String IDS = "[{\"name\":\"uid\"},{\"name\":\"batch\"},{\"name\":\"email\",\"type\":\"email\"}]";

    @TempDir
    Path dir;
    private final long seed = Long.getLong("idex.kill.seed", System.nanoTime());
    private Process server;
    private int port;

    @AfterEach
    void stopEverything() throws InterruptedException {
        if (server != null) {
            server.destroyForcibly();
            server.waitFor(30, TimeUnit.SECONDS);
            server = null;
        }
        // A killed server leaves its PostgreSQL running: stop it, so that no postgres outlives the test.
        EmbeddedPostgres.stopIfUnheld(dir);
    }

    @Test
    void acknowledgedWritesSurviveKillsOnAFreshStore() throws Exception {
        Scenario s = new Scenario("fresh", seed);
        s.setUp();
        s.killLoop();
        s.finish();
    }

    @Test
    void acknowledgedWritesSurviveKillsOnAnAgedStore() throws Exception {
        Scenario s = new Scenario("aged", seed + 1);
        s.setUp();
        s.age();
        s.killLoop();
        s.finish();
    }

    // ---- the scenario: ledger of acknowledged writes, writers, kills, checks ----------------------------------------

    private final class Scenario {
        final String name;
        final long seed;
        final Random random;
        final long startedAt = System.nanoTime();
        volatile Api api;
        volatile boolean stop;
        volatile String round = "set-up";
        int kills;
        int postgresKills;
        int restarts;
        long accountId;
        String accountKey;
        long sourceId;
        String sourceKey;
        long destinationId;
        String destinationKey;

        final AtomicLong seq = new AtomicLong();
        final Map<String, AtomicLong> acknowledged = new ConcurrentHashMap<>();
        final AtomicLong unacknowledged = new AtomicLong();
        /** Writes acknowledged in the current round. */
        final AtomicLong roundAcks = new AtomicLong();
        final List<Long> acksPerKillRound = new ArrayList<>();
        final List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
        final List<String> lost = Collections.synchronizedList(new ArrayList<>());
        final AtomicLong identityRowsDeleted = new AtomicLong();
        long checksRun;

        final List<EventWrite> events = Collections.synchronizedList(new ArrayList<>());
        final Map<String, FilterWrite> filters = new ConcurrentHashMap<>();
        final List<String> deletableFilters = Collections.synchronizedList(new ArrayList<>());
        final List<KeyWrite> keys = Collections.synchronizedList(new ArrayList<>());
        final Map<Long, JobWrite> jobs = new ConcurrentHashMap<>();
        final ConcurrentLinkedQueue<Long> waitingJobs = new ConcurrentLinkedQueue<>();

        Scenario(String name, long seed) {
            this.name = name;
            this.seed = seed;
            this.random = new Random(seed);
        }

        String where() {
            return "[" + name + " store, seed " + seed + ", " + round + "]";
        }

        void ack(String kind, long n) {
            acknowledged.computeIfAbsent(kind, k -> new AtomicLong()).addAndGet(n);
            if (!kind.equals("events")) { // an event request acknowledges "events" and "event requests": count it once
                roundAcks.incrementAndGet();
            }
        }

        long acked(String kind) {
            AtomicLong n = acknowledged.get(kind);
            return n == null ? 0 : n.get();
        }

        // ---- set-up -------------------------------------------------------------------------------------------------

        void setUp() throws Exception {
            JsonNode account = Json.MAPPER.readTree(jsonLine(idex("account", "create", "Acme", "--json",
                    "--data-dir", dir.toString())));
            accountId = account.get("accountId").asLong();
            accountKey = account.get("key").asText();
            start();
            JsonNode source = expect(api.send("POST", "/v1/endpoint", accountKey, registration("CRM", "source", "push")),
                    201, "registering the source").json();
            sourceId = source.get("endpointId").asLong();
            sourceKey = source.get("key").asText();
            JsonNode destination = expect(api.send("POST", "/v1/endpoint", accountKey,
                    registration("Ads", "destination", "pull")), 201, "registering the destination").json();
            destinationId = destination.get("endpointId").asLong();
            destinationKey = destination.get("key").asText();
        }

        // ---- aging: write a lot, delete what can be deleted, restart gracefully ------------------------------------

        void age() throws Exception {
            long filtersDeleted = 0;
            long jobsCompleted = 0;
            long keysRevoked = 0;
            for (int r = 1; r <= AGING_ROUNDS; r++) {
                round = "aging round " + r;
                Random rnd = new Random(seed * 31 + r);
                // Events: 2,000 a round; then one request's identifiers deleted again (its batch and 100 uids).
                List<EventWrite> written = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    EventWrite w = sendEvents(500);
                    assertThat(w).as(where() + " an event request while the server runs").isNotNull();
                    written.add(w);
                }
                EventWrite victim = written.get(rnd.nextInt(written.size()));
                identityRowsDeleted.addAndGet(deleteIdentifier("batch", victim.batch));
                victim.batchDeleted = true;
                List<String> uids = victim.allUids();
                for (String uid : uids.subList(0, 100)) {
                    identityRowsDeleted.addAndGet(deleteIdentifier("uid", uid));
                    victim.deletedUids.add(uid);
                }
                ack("identifier deletions", 101);

                // Filters: 300 added in one request, half of them deleted again.
                List<String> names = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                    names.add("f" + seq.incrementAndGet());
                }
                expect(api.send("POST", "/v1/identityfilters", sourceKey, filterJson(names)), 201, "adding 300 filters");
                for (String n : names) {
                    filters.put(n, new FilterWrite(round));
                }
                ack("filters added", names.size());
                Collections.shuffle(names, rnd);
                for (String n : names.subList(0, 150)) {
                    filters.get(n).state = State.GOING;
                    expect(api.send("DELETE", "/v1/identityfilters/" + n, sourceKey, null), 200, "deleting filter " + n);
                    filters.get(n).deleted(round);
                    filtersDeleted++;
                }
                ack("filters deleted", 150);
                deletableFilters.addAll(names.subList(150, 300));

                // Jobs: 30 created, 24 uploaded, 6 failed; the uploads processed, then 20 completed (10 of them after
                // deleting a segment file), 4 left ready for the kill loop to complete.
                List<Long> created = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    Long id = createJob();
                    assertThat(id).as(where() + " a job creation while the server runs").isNotNull();
                    created.add(id);
                }
                waitingJobs.removeAll(created);
                for (long id : created.subList(0, 24)) {
                    assertThat(upload(id)).as(where() + " uploading to job " + id).isTrue();
                }
                for (long id : created.subList(24, 30)) {
                    assertThat(failJob(id)).as(where() + " failing job " + id).isTrue();
                }
                List<Long> uploaded = created.subList(0, 24);
                Eventually.await(where() + " the aging round's uploads to be processed", Duration.ofSeconds(120),
                        () -> listJobs("?status=READY_FOR_DOWNLOAD").keySet(), ready -> ready.containsAll(uploaded));
                for (int i = 0; i < 20; i++) {
                    long id = uploaded.get(i);
                    if (i < 10) {
                        assertThat(deleteFirstFile(id)).as(where() + " deleting a file of job " + id).isTrue();
                    }
                    assertThat(complete(id)).as(where() + " completing job " + id).isTrue();
                    jobsCompleted++;
                }

                // Keys: two endpoint registrations and three `idex key create`; three of them revoked again.
                List<KeyWrite> newKeys = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    newKeys.add(registerEndpoint());
                }
                for (int i = 0; i < 3; i++) {
                    newKeys.add(createKeyWithCli(i == 0 ? null : sourceId));
                }
                assertThat(newKeys).as(where() + " keys created while the server runs").doesNotContainNull();
                for (KeyWrite k : newKeys.subList(2, 5)) {
                    assertThat(revokeWithCli(k)).as(where() + " revoking " + k.keyId).isTrue();
                    keysRevoked++;
                }

                assertThat(unexpected).as(where() + " answers that a running server should not give").isEmpty();
                // A graceful restart (SIGTERM): the server stops its PostgreSQL, the next start starts it again.
                stopGracefully();
                start();
                restarts++;
                verify();
            }
            assertThat(identityRowsDeleted.get()).as(where() + " identity rows deleted while aging").isGreaterThan(0);
            assertThat(filtersDeleted).as(where() + " filters deleted while aging").isGreaterThan(0);
            assertThat(jobsCompleted).as(where() + " jobs completed while aging").isGreaterThan(0);
            assertThat(keysRevoked).as(where() + " keys revoked while aging").isGreaterThan(0);
            System.out.printf("[%s store, seed %d] aged: %d rounds, %d graceful restarts; %d events, %d filters added"
                            + " and %d deleted, %d identity rows deleted, %d jobs completed, %d keys revoked%n",
                    name, seed, AGING_ROUNDS, AGING_ROUNDS, acked("events"), acked("filters added"), filtersDeleted,
                    identityRowsDeleted.get(), jobsCompleted, keysRevoked);
        }

        // ---- the kill loop ------------------------------------------------------------------------------------------

        void killLoop() throws Exception {
            for (int k = 1; k <= KILLS; k++) {
                round = "kill round " + k;
                long runMillis = 200 + random.nextInt(1301);
                boolean alsoPostgres = k % POSTGRES_KILL_EVERY == 0;
                stop = false;
                roundAcks.set(0);
                List<Thread> writers = new ArrayList<>();
                List<Writer> all = List.of(new EventWriter(), new FilterWriter(), new KeyWriter(), new JobCreator(),
                        new Uploader(), new Transitions());
                for (int w = 0; w < all.size(); w++) {
                    Writer writer = all.get(w);
                    writer.random = new Random(seed * 1_000_003L + k * 101L + w);
                    Thread t = new Thread(writer, "writer-" + writer.getClass().getSimpleName() + "-" + k);
                    t.start();
                    writers.add(t);
                }
                // The random moment of the kill (the test's input, not a timing assumption), counted from the round's
                // first acknowledged write: a server just started answers its first requests slowly, and on a busy
                // machine a kill counted from the start would often find nothing acknowledged yet.
                Eventually.await(where() + " a first acknowledged write", Duration.ofSeconds(60), roundAcks::get,
                        n -> n > 0 || !unexpected.isEmpty());
                Thread.sleep(runMillis);
                stop = true;
                kill();
                acksPerKillRound.add(roundAcks.get());
                if (alsoPostgres) {
                    killPostgres();
                    postgresKills++;
                }
                for (Thread t : writers) {
                    t.join(120_000);
                    assertThat(t.isAlive()).as(where() + " writer " + t.getName() + " ends after the kill").isFalse();
                }
                assertThat(unexpected).as(where() + " answers and failures that the kill does not explain").isEmpty();
                start();
                restarts++;
                verify();
            }
        }

        void finish() throws Exception {
            round = "after the last restart";
            // Every acknowledged upload ends processed: ready or complete with all its rows (none lost, none twice),
            // or in ERROR only because its runs were cut off too often.
            Eventually.await(where() + " the uploaded jobs to be processed", Duration.ofSeconds(120),
                    () -> listJobs(""), list -> jobs.entrySet().stream().filter(e -> e.getValue().uploaded)
                            .map(e -> list.get(e.getKey())).noneMatch(j -> j == null
                                    || j.path("status").asText().equals("PENDING")
                                    || j.path("status").asText().equals("RUNNING")));
            verify();
            Map<Long, JsonNode> list = listJobs("");
            long cutOff = 0;
            for (Map.Entry<Long, JobWrite> e : new TreeMap<>(jobs).entrySet()) {
                if (!e.getValue().uploaded) {
                    continue;
                }
                JsonNode j = list.get(e.getKey());
                String status = j.path("status").asText();
                if (status.equals("ERROR")) {
                    if (j.path("errorDetails").asText().contains("cut off")) {
                        cutOff++;
                        continue;
                    }
                    lost.add(where() + " job " + e.getKey() + " (uploaded in " + e.getValue().uploadRound
                            + ") ended in ERROR: " + j.path("errorDetails").asText());
                } else if (j.path("sourceRecordCount").asLong() != UPLOAD_ROWS
                        || j.path("destinationRecordCount").asLong() != UPLOAD_ROWS) {
                    lost.add(where() + " job " + e.getKey() + " (uploaded in " + e.getValue().uploadRound + ") is "
                            + status + " with " + j.path("sourceRecordCount") + " source and "
                            + j.path("destinationRecordCount") + " destination rows, not " + UPLOAD_ROWS);
                }
            }
            assertThat(lost).as(where() + " processed uploads").isEmpty();
            stopGracefully();

            long seconds = (System.nanoTime() - startedAt) / 1_000_000_000L;
            Map<String, Long> counts = new TreeMap<>();
            acknowledged.forEach((k, v) -> counts.put(k, v.get()));
            List<Long> perRound = new ArrayList<>(acksPerKillRound);
            Collections.sort(perRound);
            System.out.printf("[%s store, seed %d] %d kills (%d with PostgreSQL), %d restarts, %d s; acknowledged: %s;"
                            + " acknowledged requests per kill round: min %d, median %d, max %d;"
                            + " unacknowledged (cut or refused by a kill): %d; checks of acknowledged writes: %d;"
                            + " lost writes: %d; uploads ended in ERROR after cut-off runs: %d%n",
                    name, seed, kills, postgresKills, restarts, seconds, counts, perRound.get(0),
                    perRound.get(perRound.size() / 2), perRound.get(perRound.size() - 1), unacknowledged.get(),
                    checksRun, lost.size(), cutOff);
        }

        // ---- the server process -------------------------------------------------------------------------------------

        void start() throws Exception {
            if (port == 0) {
                try (ServerSocket s = new ServerSocket(0)) {
                    port = s.getLocalPort();
                }
            }
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> command = List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
                    "--data-dir", dir.toString(), "--port", Integer.toString(port), "--salt-buckets", "64",
                    "--rotation-schedule", "off", "--job-stale-after", "1s", "--segment-file-rows", "4");
            server = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("server.log").toFile()))
                    .start();
            api = new Api(); // fresh connections: none left over from the previous process
            Process p = server;
            Eventually.await(where() + " the server to start", SERVER_START, () -> {
                if (!p.isAlive()) {
                    throw new AssertionError(where() + " the server process exited (" + p.exitValue() + "): "
                            + serverLog());
                }
                try {
                    return api.send("GET", "/ops/healthcheck", null, null).status();
                } catch (IOException notYet) {
                    return 0;
                }
            }, status -> status == 200);
        }

        void kill() throws InterruptedException {
            server.destroyForcibly(); // SIGKILL: no shutdown hook runs, the PostgreSQL is left running
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as(where() + " the killed server exits").isTrue();
            server = null;
            kills++;
        }

        /** SIGKILL to the postmaster of the data dir and all its processes; waits until they are gone. */
        void killPostgres() throws IOException {
            Path pidFile = dir.resolve("postgres").resolve("postmaster.pid");
            if (!Files.exists(pidFile)) {
                return;
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).trim());
            Optional<ProcessHandle> postmaster = ProcessHandle.of(pid);
            if (postmaster.isEmpty()) {
                return;
            }
            List<ProcessHandle> all = new ArrayList<>();
            all.add(postmaster.get());
            postmaster.get().descendants().forEach(all::add);
            all.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle h : all) {
                Eventually.await(where() + " postgres process " + h.pid() + " to exit", Duration.ofSeconds(30),
                        () -> gone(h), g -> g);
            }
        }

        void stopGracefully() throws InterruptedException {
            server.destroy(); // SIGTERM: the server drains, closes, and stops its PostgreSQL
            assertThat(server.waitFor(120, TimeUnit.SECONDS)).as(where() + " the server stops on SIGTERM").isTrue();
            server = null;
        }

        // ---- writes (each records only what was acknowledged) -------------------------------------------------------

        /** One event request of `n` events, each with its own uid and the request's batch; null if not acknowledged. */
        EventWrite sendEvents(int n) throws IOException {
            String batch = name + "-" + seq.incrementAndGet();
            StringBuilder body = new StringBuilder("{\"events\":[");
            List<String> uids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String uid = batch + "-" + i;
                uids.add(uid);
                body.append(i == 0 ? "" : ",").append("{\"code\":\"visit\",\"timestamp\":\"2026-11-23T10:00:00Z\",")
                        .append("\"identifiers\":[{\"name\":\"uid\",\"value\":\"").append(uid)
                        .append("\"},{\"name\":\"batch\",\"value\":\"").append(batch).append("\"}]}");
            }
            body.append("]}");
            Answer a = api.send("POST", "/v1/event", sourceKey, body.toString());
            if (!expected(a, 200, "sending " + n + " events (batch " + batch + ")")) {
                return null;
            }
            JsonNode answer = a.json();
            if (answer.path("rejected").size() > 0 || answer.path("x1Ids").size() != n) {
                unexpected.add(where() + " events of batch " + batch + " answered " + a.body);
                return null;
            }
            Map<String, List<String>> byX1 = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                byX1.computeIfAbsent(answer.get("x1Ids").get(i).asText(), x -> new ArrayList<>()).add(uids.get(i));
            }
            EventWrite w = new EventWrite(round, batch, byX1);
            events.add(w);
            ack("events", n);
            ack("event requests", 1);
            return w;
        }

        long deleteIdentifier(String identifier, String value) throws IOException {
            Answer a = expect(api.send("DELETE", "/v1/identity?" + identifier + "=" + q(value), sourceKey, null), 200,
                    "deleting " + identifier + " " + value);
            return Long.parseLong(a.body.replace("A number of updated Identities: ", "").trim());
        }

        Long createJob() throws IOException {
            Answer a = api.send("POST", "/v1/jobs/segmentExport", sourceKey, "{\"producerEndpointID\":" + sourceId
                    + ",\"producerSegmentID\":7,\"destinationEndpointID\":" + destinationId
                    + ",\"destinationSegmentName\":\"s\",\"shareAction\":\"ADD\","
                    + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\"}}");
            if (!expected(a, 201, "creating a segment export")) {
                return null;
            }
            long id = a.json().get("jobId").asLong();
            jobs.put(id, new JobWrite(round));
            waitingJobs.add(id);
            ack("jobs created", 1);
            return id;
        }

        boolean upload(long jobId) throws IOException {
            StringBuilder csv = new StringBuilder("email\n");
            for (int i = 0; i < UPLOAD_ROWS; i++) {
                csv.append("u").append(jobId).append('-').append(i).append("@example.com\n");
            }
            Answer a = api.send("POST", "/v1/jobs/" + jobId + "/data", sourceKey, "text/csv",
                    csv.toString().getBytes(StandardCharsets.UTF_8));
            if (!expected(a, 200, "uploading to job " + jobId)) {
                return false;
            }
            JobWrite j = jobs.get(jobId);
            j.uploaded = true;
            j.uploadRound = round;
            j.raise(JobStatus.PENDING, "its upload acknowledged in " + round);
            ack("uploads", 1);
            return true;
        }

        boolean failJob(long jobId) throws IOException {
            Answer a = api.send("PUT", "/v1/jobs/" + jobId + "/status/fail", sourceKey,
                    "{\"errorMessage\":\"the source gave up\"}");
            if (!expected(a, 200, "failing job " + jobId)) {
                return false;
            }
            if (!a.body.equals("true")) {
                unexpected.add(where() + " failing waiting job " + jobId + " answered " + a.body);
                return false;
            }
            jobs.get(jobId).raise(JobStatus.ERROR, "failed (acknowledged) in " + round);
            ack("jobs failed", 1);
            return true;
        }

        boolean deleteFirstFile(long jobId) throws IOException {
            Answer listed = api.send("GET", "/v1/jobs/SEGMENT_EXPORT/" + jobId, destinationKey, null);
            if (!expected(listed, 200, "reading job " + jobId)) {
                return false;
            }
            JsonNode files = listed.json().get(0).path("segmentDataFiles");
            if (!files.isArray() || files.isEmpty()) {
                return false;
            }
            String file = files.get(0).asText();
            Answer a = api.send("DELETE", "/v1/jobs/" + jobId + "/segmentDataFiles/" + file, destinationKey, null);
            if (!expected(a, 200, "deleting file " + file + " of job " + jobId)) {
                return false;
            }
            jobs.get(jobId).deletedFiles.add(file);
            ack("segment files deleted", 1);
            return true;
        }

        boolean complete(long jobId) throws IOException {
            Answer a = api.send("PUT", "/v1/jobs/" + jobId + "/status/complete", destinationKey, null);
            if (!expected(a, 200, "completing job " + jobId)) {
                return false;
            }
            if (!a.body.equals("true")) {
                unexpected.add(where() + " completing job " + jobId + ", listed READY_FOR_DOWNLOAD, answered " + a.body);
                return false;
            }
            jobs.get(jobId).raise(JobStatus.COMPLETE, "completed (acknowledged) in " + round);
            ack("jobs completed", 1);
            return true;
        }

        KeyWrite registerEndpoint() throws IOException {
            String endpoint = "ep" + seq.incrementAndGet();
            Answer a = api.send("POST", "/v1/endpoint", accountKey, "{\"name\":\"" + endpoint + "\",\"endpointTypes\":"
                    + "{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":[{\"name\":\"uid\"}]}");
            if (!expected(a, 201, "registering endpoint " + endpoint)) {
                return null;
            }
            String key = a.json().get("key").asText();
            KeyWrite k = new KeyWrite(round, "endpoint registration", keyId(key), key, a.json().get("endpointId").asLong());
            keys.add(k);
            ack("endpoints registered (with their key)", 1);
            return k;
        }

        /** `idex key create` in this JVM, against the running server's store; an endpoint key if `endpoint` is set. */
        KeyWrite createKeyWithCli(Long endpoint) {
            List<String> args = new ArrayList<>(List.of("key", "create", "--account", Long.toString(accountId)));
            if (endpoint != null) {
                args.addAll(List.of("--endpoint", endpoint.toString()));
            }
            args.addAll(List.of("--json", "--data-dir", dir.toString()));
            Cli out = cli(args.toArray(String[]::new));
            if (out.exit != 0) {
                if (!stop) {
                    unexpected.add(where() + " `idex " + String.join(" ", args) + "` failed while the server ran: "
                            + out.text);
                }
                unacknowledged.incrementAndGet();
                return null;
            }
            JsonNode k;
            try {
                k = Json.MAPPER.readTree(jsonLine(out.text));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            KeyWrite w = new KeyWrite(round, endpoint == null ? "idex key create (account)" : "idex key create --endpoint",
                    k.get("keyId").asText(), k.get("key").asText(), null);
            keys.add(w);
            ack("keys created with idex key create", 1);
            return w;
        }

        boolean revokeWithCli(KeyWrite k) {
            k.state = State.GOING;
            Cli out = cli("key", "revoke", k.keyId, "--data-dir", dir.toString());
            if (out.exit != 0) {
                if (!stop) {
                    unexpected.add(where() + " `idex key revoke " + k.keyId + "` failed while the server ran: " + out.text);
                }
                unacknowledged.incrementAndGet();
                return false;
            }
            k.state = State.GONE;
            k.revokedRound = round;
            ack("keys revoked", 1);
            return true;
        }

        /** Whether the answer is the success expected; records any other answer as unexpected. */
        boolean expected(Answer a, int status, String what) {
            if (a.status == status) {
                return true;
            }
            unexpected.add(where() + " " + what + " answered " + a.status + ": " + a.body);
            return false;
        }

        Answer expect(Answer a, int status, String what) {
            assertThat(a.status).as(where() + " " + what + ": " + a.body).isEqualTo(status);
            return a;
        }

        // ---- checks -------------------------------------------------------------------------------------------------

        /** Checks every write acknowledged so far, in any round, against the store of the server just started. */
        void verify() throws Exception {
            List<Runnable> checks = new ArrayList<>();
            for (EventWrite w : snapshot(events)) {
                w.uidsByX1.forEach((x1, uids) -> checks.add(() -> checkEvents(w, x1, uids)));
            }
            for (KeyWrite k : snapshot(keys)) {
                if (k.state != State.GOING) {
                    checks.add(() -> checkKey(k));
                }
            }
            checks.add(this::checkFilters);
            checks.add(this::checkEndpoints);
            checks.add(this::checkJobs);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (Runnable c : checks) {
                    done.add(pool.submit(c));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            checksRun += checks.size();
            assertThat(lost).as(where() + " acknowledged writes missing or undone after the restart").isEmpty();
        }

        void checkEvents(EventWrite w, String x1, List<String> uids) {
            Answer a = read("/v1/identity/" + x1, sourceKey);
            if (a.status != 200) {
                lost.add(where() + " event batch " + w.batch + " (acknowledged in " + w.round + "): x1Id " + x1
                        + " answers " + a.status + " " + a.body);
                return;
            }
            Set<String> held = new HashSet<>();
            a.json().get(0).get("identifiers").forEach(i -> held.add(i.get("name").asText() + "=" + i.get("value").asText()));
            for (String uid : uids) {
                boolean deleted = w.deletedUids.contains(uid);
                if (held.contains("uid=" + uid) == deleted) {
                    lost.add(where() + " event batch " + w.batch + " (acknowledged in " + w.round + "): uid " + uid
                            + (deleted ? " was deleted (acknowledged) but is back" : " is missing") + " in x1Id " + x1);
                }
            }
            if (held.contains("batch=" + w.batch) == w.batchDeleted) {
                lost.add(where() + " event batch " + w.batch + " (acknowledged in " + w.round + "): its batch identifier"
                        + (w.batchDeleted ? " was deleted (acknowledged) but is back" : " is missing") + " in x1Id " + x1);
            }
        }

        void checkKey(KeyWrite k) {
            Answer a = read("/v1/endpoint", k.key);
            int want = k.state == State.GONE ? 401 : 200;
            if (a.status != want) {
                lost.add(where() + " key " + k.keyId + " (" + k.kind + ", acknowledged in " + k.round
                        + (k.state == State.GONE ? ", revoked (acknowledged) in " + k.revokedRound : "")
                        + ") answers " + a.status + ", not " + want);
            }
        }

        void checkFilters() {
            Answer a = read("/v1/identityfilters", sourceKey);
            if (a.status != 200) {
                lost.add(where() + " listing filters answered " + a.status + " " + a.body);
                return;
            }
            Set<String> listed = new HashSet<>();
            a.json().forEach(f -> listed.add(f.get("identifierName").asText()));
            filters.forEach((n, f) -> {
                if (f.state == State.LIVE && !listed.contains(n)) {
                    lost.add(where() + " filter " + n + " (acknowledged in " + f.round + ") is not listed");
                } else if (f.state == State.GONE && listed.contains(n)) {
                    lost.add(where() + " filter " + n + " (deleted, acknowledged in " + f.deletedRound + ") is listed");
                }
            });
        }

        void checkEndpoints() {
            Answer a = read("/v1/endpoint", accountKey);
            if (a.status != 200) {
                lost.add(where() + " listing endpoints answered " + a.status + " " + a.body);
                return;
            }
            Set<Long> listed = new HashSet<>();
            a.json().forEach(e -> listed.add(e.get("endpointId").asLong()));
            for (KeyWrite k : snapshot(keys)) {
                if (k.endpointId != null && !listed.contains(k.endpointId)) {
                    lost.add(where() + " endpoint " + k.endpointId + " (registered, acknowledged in " + k.round
                            + ") is not listed");
                }
            }
        }

        void checkJobs() {
            Map<Long, JsonNode> list = listJobs("");
            for (Map.Entry<Long, JobWrite> e : new TreeMap<>(jobs).entrySet()) {
                JobWrite j = e.getValue();
                JsonNode job = list.get(e.getKey());
                if (job == null) {
                    lost.add(where() + " job " + e.getKey() + " (created, acknowledged in " + j.round + ") is gone");
                    continue;
                }
                JobStatus now = JobStatus.valueOf(job.get("status").asText());
                String violation = j.observe(now, "seen after the restart in " + round);
                if (violation != null) {
                    lost.add(where() + " job " + e.getKey() + " " + violation);
                }
                if (now == JobStatus.READY_FOR_DOWNLOAD) {
                    for (JsonNode f : job.path("segmentDataFiles")) {
                        if (j.deletedFiles.contains(f.asText())) {
                            lost.add(where() + " job " + e.getKey() + ": segment file " + f.asText()
                                    + " was deleted (acknowledged) but is listed again");
                        }
                    }
                }
            }
        }

        /** The account's segment exports by id (a read: retried when a connection breaks). */
        Map<Long, JsonNode> listJobs(String query) {
            Answer a = read("/v1/jobs/SEGMENT_EXPORT" + query, accountKey);
            assertThat(a.status).as(where() + " listing jobs: " + a.body).isEqualTo(200);
            Map<Long, JsonNode> byId = new HashMap<>();
            a.json().forEach(j -> byId.put(j.get("jobId").asLong(), j));
            return byId;
        }

        Answer read(String path, String key) {
            IOException last = null;
            for (int attempt = 0; attempt < 3; attempt++) {
                try {
                    return api.send("GET", path, key, null);
                } catch (IOException e) {
                    last = e;
                }
            }
            throw new UncheckedIOException(where() + " GET " + path, last);
        }

        // ---- the writers of the kill loop ---------------------------------------------------------------------------

        abstract class Writer implements Runnable {
            Random random;

            abstract void step() throws IOException;

            @Override
            public void run() {
                while (!stop) {
                    try {
                        step();
                    } catch (IOException e) {
                        // Cut off or refused: explained by the kill only if the kill had begun.
                        unacknowledged.incrementAndGet();
                        if (!stop) {
                            unexpected.add(where() + " " + getClass().getSimpleName() + ": " + e + " before the kill");
                        }
                    } catch (RuntimeException | AssertionError e) {
                        unexpected.add(where() + " " + getClass().getSimpleName() + ": " + e);
                        return;
                    }
                }
            }
        }

        /** Events: 10 to 50 a request, every identifier value new. */
        final class EventWriter extends Writer {
            @Override
            void step() throws IOException {
                sendEvents(10 + random.nextInt(41));
            }
        }

        /** Identity filters: 1 to 5 added a request; now and then one deleted. */
        final class FilterWriter extends Writer {
            @Override
            void step() throws IOException {
                if (random.nextInt(8) == 0 && !deletableFilters.isEmpty()) {
                    String n = deletableFilters.remove(random.nextInt(deletableFilters.size()));
                    FilterWrite f = filters.get(n);
                    f.state = State.GOING; // unknown until acknowledged
                    if (expected(api.send("DELETE", "/v1/identityfilters/" + n, sourceKey, null), 200, "deleting filter " + n)) {
                        f.deleted(round);
                        ack("filters deleted", 1);
                    }
                    return;
                }
                List<String> names = new ArrayList<>();
                for (int i = 1 + random.nextInt(5); i > 0; i--) {
                    names.add("f" + seq.incrementAndGet());
                }
                if (expected(api.send("POST", "/v1/identityfilters", sourceKey, filterJson(names)), 201, "adding filters " + names)) {
                    for (String n : names) {
                        filters.put(n, new FilterWrite(round));
                        deletableFilters.add(n);
                    }
                    ack("filters added", names.size());
                }
            }
        }

        /** Keys: endpoint registrations (each answers its key), `idex key create` and `idex key revoke`. */
        final class KeyWriter extends Writer {
            @Override
            void step() throws IOException {
                int pick = random.nextInt(6);
                if (pick < 3) {
                    registerEndpoint();
                } else if (pick < 5) {
                    createKeyWithCli(pick == 3 ? sourceId : null);
                } else {
                    List<KeyWrite> live = snapshot(keys).stream().filter(k -> k.state == State.LIVE).toList();
                    if (!live.isEmpty()) {
                        revokeWithCli(live.get(random.nextInt(live.size())));
                    }
                }
            }
        }

        /** Segment export creations. */
        final class JobCreator extends Writer {
            @Override
            void step() throws IOException {
                createJob();
            }
        }

        /** Uploads to waiting jobs (one in seven failed by its source instead). */
        final class Uploader extends Writer {
            @Override
            void step() throws IOException {
                Long id = waitingJobs.poll();
                if (id == null) {
                    id = createJob();
                    if (id == null || !waitingJobs.remove(id)) {
                        return;
                    }
                }
                if (random.nextInt(7) == 0) {
                    failJob(id);
                } else {
                    upload(id);
                }
            }
        }

        /** Ready jobs: a segment file deleted now and then, then completed; with none ready, an upload. */
        final class Transitions extends Writer {
            final Uploader uploader = new Uploader();

            @Override
            void step() throws IOException {
                Answer a = api.send("GET", "/v1/jobs/SEGMENT_EXPORT?status=READY_FOR_DOWNLOAD", destinationKey, null);
                if (!expected(a, 200, "listing ready jobs")) {
                    return;
                }
                List<Long> ready = new ArrayList<>();
                a.json().forEach(j -> ready.add(j.get("jobId").asLong()));
                ready.removeIf(id -> !jobs.containsKey(id)); // created by a request the kill cut: not ours to judge
                if (ready.isEmpty()) {
                    uploader.random = random;
                    uploader.step();
                    return;
                }
                for (long id : ready.subList(0, Math.min(3, ready.size()))) {
                    String violation = jobs.get(id).observe(JobStatus.READY_FOR_DOWNLOAD, "listed in " + round);
                    if (violation != null) {
                        lost.add(where() + " job " + id + " " + violation);
                    }
                    if (random.nextInt(3) == 0) {
                        deleteFirstFile(id);
                    }
                    complete(id);
                }
            }
        }

        Cli cli(String... args) {
            synchronized (idex.support.Commands.class) { // one System.out swap at a time, as Commands.idex
                PrintStream saved = System.out;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                try {
                    int exit = Main.run(args);
                    return new Cli(exit, out.toString(StandardCharsets.UTF_8));
                } catch (RuntimeException e) {
                    return new Cli(-1, e.toString());
                } finally {
                    System.setOut(saved);
                }
            }
        }

        String registration(String endpoint, String role, String mode) {
            String audience = role.equals("source")
                    ? "\"audience\":{\"source\":{\"enabled\":true,\"producerType\":\"" + mode + "\"}},"
                    : "\"audience\":{\"destination\":{\"enabled\":true,\"destinationType\":\"" + mode + "\"}},";
            return "{\"name\":\"" + endpoint + "\",\"endpointTypes\":{" + audience
                    + "\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + IDS + "}";
        }

        String serverLog() {
            try {
                String log = Files.readString(dir.resolve("server.log"));
                return log.length() <= 4000 ? log : "…" + log.substring(log.length() - 4000);
            } catch (IOException e) {
                return "(no server.log: " + e + ")";
            }
        }
    }

    // ---- the ledger ---------------------------------------------------------------------------------------------------

    /** Acknowledged, being undone (its outcome unknown until acknowledged), undone (acknowledged). */
    private enum State { LIVE, GOING, GONE }

    private static final class EventWrite {
        final String round;
        final String batch;
        final Map<String, List<String>> uidsByX1;
        final Set<String> deletedUids = ConcurrentHashMap.newKeySet();
        volatile boolean batchDeleted;

        EventWrite(String round, String batch, Map<String, List<String>> uidsByX1) {
            this.round = round;
            this.batch = batch;
            this.uidsByX1 = uidsByX1;
        }

        List<String> allUids() {
            List<String> all = new ArrayList<>();
            uidsByX1.values().forEach(all::addAll);
            return all;
        }
    }

    private static final class FilterWrite {
        final String round;
        volatile State state = State.LIVE;
        volatile String deletedRound;

        FilterWrite(String round) {
            this.round = round;
        }

        void deleted(String in) {
            deletedRound = in;
            state = State.GONE;
        }
    }

    private static final class KeyWrite {
        final String round;
        final String kind;
        final String keyId;
        final String key;
        final Long endpointId;
        volatile State state = State.LIVE;
        volatile String revokedRound;

        KeyWrite(String round, String kind, String keyId, String key, Long endpointId) {
            this.round = round;
            this.kind = kind;
            this.keyId = keyId;
            this.key = key;
            this.endpointId = endpointId;
        }
    }

    /**
     * A job whose creation was acknowledged, and the furthest status acknowledged or seen for it (its floor). The
     * lifecycle only moves forward: WAITING_TO_RECIEVE_DATA, then PENDING and RUNNING (a run cut off by a crash puts
     * the job back to PENDING: the two are one step), then READY_FOR_DOWNLOAD, then COMPLETE; ERROR ends any step but
     * READY_FOR_DOWNLOAD; a final status never changes.
     */
    private static final class JobWrite {
        private static final Map<JobStatus, Integer> STEP = new EnumMap<>(Map.of(
                JobStatus.SCHEDULED, 0, JobStatus.WAITING_TO_RECIEVE_DATA, 1, JobStatus.PENDING, 2,
                JobStatus.RUNNING, 2, JobStatus.READY_FOR_DOWNLOAD, 3, JobStatus.COMPLETE, 4, JobStatus.ERROR, 4,
                JobStatus.CANCELLED, 4));
        final String round;
        final Set<String> deletedFiles = ConcurrentHashMap.newKeySet();
        volatile boolean uploaded;
        volatile String uploadRound;
        private JobStatus floor = JobStatus.WAITING_TO_RECIEVE_DATA;
        private String floorWhy;

        JobWrite(String round) {
            this.round = round;
            this.floorWhy = "created (acknowledged) in " + round;
        }

        synchronized void raise(JobStatus status, String why) {
            if (STEP.get(status) > STEP.get(floor)) {
                floor = status;
                floorWhy = why;
            }
        }

        /** Null if `now` may follow the floor (which it then raises), else what went wrong. */
        synchronized String observe(JobStatus now, String why) {
            boolean allowed = floor.isFinal() ? now == floor
                    : floor == JobStatus.READY_FOR_DOWNLOAD
                    ? now == JobStatus.READY_FOR_DOWNLOAD || now == JobStatus.COMPLETE
                    : STEP.get(now) >= STEP.get(floor);
            if (!allowed) {
                return "(created in " + round + ") is " + now + ", behind " + floor + " (" + floorWhy + ")";
            }
            raise(now, why);
            return null;
        }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------------

    private record Answer(int status, String body) {
        JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body, e);
            }
        }
    }

    private record Cli(int exit, String text) {
    }

    /** HTTP/1.1 to the server process; one per process, so that no connection outlives the server it went to. */
    private final class Api {
        private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();

        Answer send(String method, String path, String key, String json) throws IOException {
            return send(method, path, key, json == null ? null : "application/json",
                    json == null ? null : json.getBytes(StandardCharsets.UTF_8));
        }

        Answer send(String method, String path, String key, String contentType, byte[] body) throws IOException {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            if (key != null) {
                b.header("Authorization", "Bearer " + key);
            }
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
            try {
                HttpRequest request = b.build();
                HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                OpenApiDocument.check(request, r);
                return new Answer(r.statusCode(), r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            }
        }
    }

    private static String filterJson(List<String> names) {
        StringBuilder b = new StringBuilder("[");
        for (String n : names) {
            b.append(b.length() == 1 ? "" : ",").append("{\"identifierName\":\"").append(n)
                    .append("\",\"publishFilter\":true,\"subscribeFilter\":false}");
        }
        return b.append(']').toString();
    }

    private static <T> List<T> snapshot(List<T> list) {
        synchronized (list) {
            return new ArrayList<>(list);
        }
    }

    /** The key id of `idex_<keyId>_<secret>`. */
    private static String keyId(String key) {
        return key.substring("idex_".length(), key.indexOf('_', "idex_".length()));
    }

    private static String q(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8);
    }

    /** The JSON line of an admin command's output. */
    private static String jsonLine(String output) {
        return output.lines().filter(l -> l.startsWith("{") || l.startsWith("[")).findFirst()
                .orElseThrow(() -> new AssertionError("no JSON in: " + output));
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
}
