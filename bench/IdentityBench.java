// Benchmark of idex's identity store, run with the JDK source launcher against the server jar:
//
//   java -cp target/idex.jar bench/IdentityBench.java <command> [--option value ...]
//
// Commands (bench/run-identity.sh strings them together; see BENCHMARKS.md):
//   resolve  --dir D [--records 1000000] [--batch 2000] [--overlap 0.3] [--seed 1] [--raw true] [--cache-mb N] [--out FILE]
//            on the embedded store in D (created if new): an account with one endpoint, then
//            (1) the store's raw batched insert rate: the identifier rows the records carry, inserted as they are
//                into a table shaped like x1_identifier, in transactions of --batch records, and
//            (2) the resolution rate: the same records resolved by IdentityStore in batches of --batch records.
//            Records carry 2-3 identifiers (email, cookieId, half of them a deviceId); --overlap of them reuse the
//            email of an earlier person (2% of those also link a second earlier person: a merge).
//            Writes the account's endpoint key and a sample of stored emails next to the store for `lookup`.
//   lookup   --dir D --port P [--rate 1000] [--warmup 10] [--duration 30] [--connections 16] [--out FILE]
//            GET /v1/identity?email=… at a fixed rate (open loop: latency counted from the intended send time)
//   fill     --dir D [--records 4600000]   a new store with the rows resolve would leave, inserted directly (fast;
//            not for disk figures: the bytes a store takes must come from resolution)
//   disk     --dir D [--label L] [--checkpoint true] [--sql 'VACUUM …'] [--out FILE]   disk bytes per identifier
//   churn    --dir D --port P [--requests 200000] [--connections 8] [--new 0.3] [--delete-every 100]
//            [--filter-every 2000] [--max-seconds N] [--out FILE]   a day of single-event writes, deletes and filter changes over HTTP
//   probe    --dir D [--rate 1000] [--lookups 20000]   the lookup in-process, without HTTP
//
// Every request goes to 127.0.0.1 only; loops are bounded in time and count.

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.accounts.AccountStore;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.exchange.endpoints.SigningSecrets;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Resolution;
import idex.store.Database;
import idex.store.SecretsKey;
import idex.store.StoreLocation;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.Histogram;
import org.jdbi.v3.core.statement.PreparedBatch;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class IdentityBench {

    static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: IdentityBench resolve|lookup|fill|disk|churn|probe [--option value ...]");
        }
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        switch (args[0]) {
            case "resolve" -> resolve(o);
            case "lookup" -> lookup(o);
            case "fill" -> fill(o);
            case "probe" -> probe(o);
            case "disk" -> disk(o);
            case "churn" -> churn(o);
            case "stop-store" -> System.out.println(idex.store.embedded.EmbeddedPostgres.stopIfUnheld(Path.of(o.get("dir")))
                    ? "the store's PostgreSQL is stopped" : "an idex process holds " + o.get("dir") + "; left alone");
            default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
    }

    // ---- resolve ----------------------------------------------------------------------------------------------

    /** Deterministic records: record i belongs to a person; 30% reuse an earlier person's email. */
    static final class Records {
        final SplittableRandom random;
        final double overlap;
        long persons;
        final long offset;
        final long recordOffset;

        Records(long seed, double overlap, long offset, long recordOffset) {
            this.random = new SplittableRandom(seed);
            this.overlap = overlap;
            this.offset = offset;
            this.recordOffset = recordOffset;
        }

        List<Identifier> next(long i) {
            List<Identifier> r = new ArrayList<>(3);
            boolean earlier = persons > 0 && random.nextDouble() < overlap;
            long person = earlier ? random.nextLong(persons) : persons++;
            r.add(new Identifier("email", email(offset + person)));
            long n = recordOffset + i;
            r.add(new Identifier("cookieId", Long.toHexString(mix(n + 1)) + Long.toHexString(mix(n + 7))));
            if (earlier && random.nextDouble() < 0.02) {
                r.add(new Identifier("email", email(offset + random.nextLong(persons))));
            } else if (random.nextBoolean()) {
                r.add(new Identifier("deviceId", Long.toHexString(mix(~n))));
            }
            return r;
        }

        static String email(long person) {
            return "user" + person + "@example.com";
        }
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static void resolve(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        long records = Long.parseLong(o.getOrDefault("records", "1000000"));
        int batch = Integer.parseInt(o.getOrDefault("batch", "2000"));
        double overlap = Double.parseDouble(o.getOrDefault("overlap", "0.3"));
        long seed = Long.parseLong(o.getOrDefault("seed", "1"));
        boolean raw = Boolean.parseBoolean(o.getOrDefault("raw", "true"));
        Files.createDirectories(dir);
        ObjectNode result = JSON.createObjectNode();
        // The server's own store settings.
        StoreLocation location = location(o, dir);
        try (Database db = Database.open(location, 4, Database.Holder.SERVER)) {
            long now = System.currentTimeMillis();
            Path keyFile = dir.resolve("bench-endpoint.json");
            long accountId;
            long endpointId;
            if (Files.exists(keyFile)) {
                var k = JSON.readTree(keyFile.toFile());
                accountId = k.get("accountId").asLong();
                endpointId = k.get("endpointId").asLong();
            } else {
                AccountStore.Created account = new AccountStore(db.jdbi()).create("bench", now);
                accountId = account.account().accountId();
                Registration reg = Registration.parse(JSON.readTree("{\"name\":\"bench\",\"endpointTypes\":{\"event\":"
                        + "{\"source\":{\"enabled\":true}}},\"identifiers\":[{\"name\":\"email\",\"type\":\"email\"},"
                        + "{\"name\":\"cookieId\"},{\"name\":\"deviceId\"}]}"));
                EndpointStore.Created e = new EndpointStore(db.jdbi(), new SigningSecrets(db.jdbi(), SecretsKey.load(dir))).create(accountId, reg, now);
                endpointId = e.endpoint().endpointId();
                Files.writeString(keyFile, JSON.writeValueAsString(JSON.createObjectNode().put("accountId", accountId)
                        .put("endpointId", endpointId).put("key", e.key().key())));
            }
            // A later run continues after the people and records of the earlier ones (to fill a store in steps).
            Path progress = dir.resolve("bench-persons.txt");
            String[] before = Files.exists(progress) ? Files.readString(progress).trim().split(" ") : new String[]{"0", "0"};
            long offset = Long.parseLong(before[0]);
            long recordOffset = Long.parseLong(before[1]);
            result.put("records", records).put("batch", batch).put("overlap", overlap).put("existingPersons", offset);

            if (raw) {
                db.jdbi().useHandle(h -> {
                    h.execute("DROP TABLE IF EXISTS bench_raw_identifier");
                    h.execute("CREATE TABLE bench_raw_identifier (account_id BIGINT NOT NULL, id_name VARCHAR(128) NOT NULL,"
                            + " id_value VARCHAR(512) NOT NULL, x1 BIGINT NOT NULL, endpoint_id BIGINT NOT NULL,"
                            + " PRIMARY KEY (account_id, id_name, id_value, x1, endpoint_id))");
                    h.execute("CREATE INDEX bench_raw_identifier_x1 ON bench_raw_identifier (x1)");
                });
                Records gen = new Records(seed, overlap, offset, recordOffset);
                long rows = 0;
                long start = System.nanoTime();
                for (long i = 0; i < records; i += batch) {
                    List<List<Identifier>> chunk = chunk(gen, i, Math.min(batch, records - i));
                    long first = i;
                    long aid = accountId;
                    long eid = endpointId;
                    rows += db.jdbi().inTransaction(h -> {
                        PreparedBatch b = h.prepareBatch("INSERT INTO bench_raw_identifier (account_id, id_name, id_value,"
                                + " x1, endpoint_id) VALUES (:a, :n, :v, :x, :e)");
                        int n = 0;
                        for (int r = 0; r < chunk.size(); r++) {
                            for (Identifier id : chunk.get(r)) {
                                b.bind("a", aid).bind("n", id.name()).bind("v", id.value()).bind("x", first + r)
                                        .bind("e", eid).add();
                                n++;
                            }
                        }
                        b.execute();
                        return n;
                    });
                }
                double s = (System.nanoTime() - start) / 1e9;
                result.put("rawRows", rows).put("rawSeconds", s).put("rawRowsPerSecond", rows / s)
                        .put("rawRecordsPerSecond", records / s);
                System.out.printf("raw insert: %,d rows in %.1f s = %,.0f rows/s (%,.0f records/s)%n", rows, s, rows / s, records / s);
                db.jdbi().useHandle(h -> h.execute("DROP TABLE bench_raw_identifier"));
            }

            IdentityStore store = new IdentityStore(db.jdbi());
            Records gen = new Records(seed, overlap, offset, recordOffset);
            long identifiers = 0;
            long created = 0;
            long merged = 0;
            long rejected = 0;
            long start = System.nanoTime();
            long report = start;
            for (long i = 0; i < records; i += batch) {
                List<List<Identifier>> chunk = chunk(gen, i, Math.min(batch, records - i));
                for (List<Identifier> r : chunk) {
                    identifiers += r.size();
                }
                Resolution res = store.resolve(accountId, endpointId, Set.of(), chunk, System.currentTimeMillis());
                created += res.created();
                merged += res.merged();
                rejected += res.rejected().size();
                if (System.nanoTime() - report > 10_000_000_000L) {
                    report = System.nanoTime();
                    System.out.printf("  %,d records, %,.0f records/s%n", i + chunk.size(), (i + chunk.size()) / ((report - start) / 1e9));
                }
            }
            double s = (System.nanoTime() - start) / 1e9;
            result.put("resolvedIdentifiers", identifiers).put("resolveSeconds", s)
                    .put("resolvedRecordsPerSecond", records / s).put("resolvedIdentifiersPerSecond", identifiers / s)
                    .put("created", created).put("merged", merged).put("rejected", rejected);
            long stored = db.jdbi().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM x1_identifier").mapTo(Long.class).one());
            result.put("storedIdentifiers", stored);
            Files.writeString(dir.resolve("bench-stored.txt"), Long.toString(stored));
            System.out.printf("resolution: %,d records (%,d identifiers) in %.1f s = %,.0f records/s, %,.0f identifiers/s;"
                            + " %,d x1Ids created, %,d merged, %,d rejected; %,d identifiers stored%n",
                    records, identifiers, s, records / s, identifiers / s, created, merged, rejected, stored);
            if (result.has("rawRowsPerSecond")) {
                double ratio = (identifiers / s) / result.get("rawRowsPerSecond").asDouble();
                result.put("resolutionToRaw", ratio);
                System.out.printf("resolution / raw insert = %.2f%n", ratio);
            }
            Files.writeString(progress, (offset + gen.persons) + " " + (recordOffset + records));
        }
        if (o.containsKey("out")) {
            Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        }
    }

    static List<List<Identifier>> chunk(Records gen, long first, long n) {
        List<List<Identifier>> chunk = new ArrayList<>((int) n);
        for (long r = 0; r < n; r++) {
            chunk.add(gen.next(first + r));
        }
        return chunk;
    }

    /**
     * The store: the database of --db-url (an external PostgreSQL), else the embedded PostgreSQL in `dir` (its
     * cluster in `dir/postgres`), with the server's settings. The bench's own files (key, counts) are in `dir` either way.
     */
    static StoreLocation location(Map<String, String> o, Path dir) {
        return StoreLocation.of(o.get("db-url"), dir);
    }

    // ---- fill -------------------------------------------------------------------------------------------------

    /**
     * Fills a new store in minutes with the rows `resolve` would leave (to iterate on lookups at 10M identifiers
     * without a half-hour resolution): the same record stream, every new person an x1 in the order resolution
     * creates them, every identifier a row of its person. The rows are inserted in the order of the lookup key, so
     * that H2 appends to its B-trees. Not modelled: a record that links two earlier people (0.6 % of records) is
     * merged by resolution; the fill leaves its second email out. The result differs from a resolved store in one
     * way that matters (BENCHMARKS.md): its file is compact, where resolution leaves chunks mostly garbage.
     */
    static void fill(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        long records = Long.parseLong(o.getOrDefault("records", "4600000"));
        double overlap = Double.parseDouble(o.getOrDefault("overlap", "0.3"));
        int batch = Integer.parseInt(o.getOrDefault("batch", "20000"));
        if (Files.exists(dir.resolve("bench-persons.txt"))) {
            throw new IllegalArgumentException(dir + " already holds a store: fill only starts new ones");
        }
        Files.createDirectories(dir);
        long t0 = System.nanoTime();
        // Rows as (kind, number, x1): the value is a function of kind and number, as in Records.
        Records gen = new Records(1, overlap, 0, 0);
        int cap = (int) Math.min(Integer.MAX_VALUE - 8, records * 3);
        byte[] kind = new byte[cap];
        long[] number = new long[cap];
        long[] x1 = new long[cap];
        int n = 0;
        long linksLeftOut = 0;
        for (long i = 0; i < records; i++) {
            // The same draws, in the same order, as Records.next.
            boolean earlier = gen.persons > 0 && gen.random.nextDouble() < overlap;
            long person = earlier ? gen.random.nextLong(gen.persons) : gen.persons++;
            if (!earlier) {
                kind[n] = EMAIL; number[n] = person; x1[n++] = person + 1;
            }
            kind[n] = COOKIE; number[n] = i; x1[n++] = person + 1;
            if (earlier && gen.random.nextDouble() < 0.02) {
                gen.random.nextLong(gen.persons);
                linksLeftOut++;
            } else if (gen.random.nextBoolean()) {
                kind[n] = DEVICE; number[n] = i; x1[n++] = person + 1;
            }
        }
        long persons = gen.persons;
        String[] values = new String[n];
        Integer[] order = new Integer[n];
        for (int r = 0; r < n; r++) {
            values[r] = value(kind[r], number[r]);
            order[r] = r;
        }
        java.util.Arrays.sort(order, (a, b) -> kind[a] != kind[b] ? Byte.compare(kind[a], kind[b]) : values[a].compareTo(values[b]));
        System.out.printf("generated %,d rows of %,d records (%,d persons, %,d links left out) in %.1f s%n", n, records,
                persons, linksLeftOut, (System.nanoTime() - t0) / 1e9);

        try (Database db = Database.open(location(o, dir), 4, Database.Holder.SERVER)) {
            long now = System.currentTimeMillis();
            AccountStore.Created account = new AccountStore(db.jdbi()).create("bench", now);
            long accountId = account.account().accountId();
            Registration reg = Registration.parse(JSON.readTree("{\"name\":\"bench\",\"endpointTypes\":{\"event\":"
                    + "{\"source\":{\"enabled\":true}}},\"identifiers\":[{\"name\":\"email\",\"type\":\"email\"},"
                    + "{\"name\":\"cookieId\"},{\"name\":\"deviceId\"}]}"));
            EndpointStore.Created e = new EndpointStore(db.jdbi(), new SigningSecrets(db.jdbi(), SecretsKey.load(dir))).create(accountId, reg, now);
            long endpointId = e.endpoint().endpointId();
            long t1 = System.nanoTime();
            for (long from = 1; from <= persons; from += batch) {
                long first = from;
                db.jdbi().useTransaction(h -> {
                    PreparedBatch b = h.prepareBatch("INSERT INTO x1_person (x1, account_id, merged_into, created) VALUES (:x, :a, NULL, :t)");
                    for (long x = first; x < Math.min(first + batch, persons + 1); x++) {
                        b.bind("x", x).bind("a", accountId).bind("t", now).add();
                    }
                    b.execute();
                });
            }
            db.jdbi().useHandle(h -> h.execute("ALTER SEQUENCE x1_seq RESTART WITH " + (persons + 1)));
            long t2 = System.nanoTime();
            for (int from = 0; from < n; from += batch) {
                int first = from;
                int last = Math.min(from + batch, n);
                db.jdbi().useTransaction(h -> {
                    PreparedBatch b = h.prepareBatch("INSERT INTO x1_identifier (account_id, id_name, id_value, x1, endpoint_id)"
                            + " VALUES (:a, :n, :v, :x, :e)");
                    for (int r = first; r < last; r++) {
                        int row = order[r];
                        b.bind("a", accountId).bind("n", NAMES[kind[row]]).bind("v", values[row]).bind("x", x1[row])
                                .bind("e", endpointId).add();
                    }
                    b.execute();
                });
                if ((from / batch) % 100 == 99) {
                    System.out.printf("  %,d rows, %,.0f rows/s%n", last, last / ((System.nanoTime() - t2) / 1e9));
                }
            }
            long t3 = System.nanoTime();
            System.out.printf("filled: %,d persons in %.1f s, %,d identifier rows in %.1f s (%,.0f rows/s)%n",
                    persons, (t2 - t1) / 1e9, n, (t3 - t2) / 1e9, n / ((t3 - t2) / 1e9));
            Files.writeString(dir.resolve("bench-endpoint.json"), JSON.writeValueAsString(JSON.createObjectNode()
                    .put("accountId", accountId).put("endpointId", endpointId).put("key", e.key().key())));
            Files.writeString(dir.resolve("bench-persons.txt"), persons + " " + records);
            Files.writeString(dir.resolve("bench-stored.txt"), Integer.toString(n));
        }
    }

    static final byte COOKIE = 0;
    static final byte DEVICE = 1;
    static final byte EMAIL = 2;
    /** Identifier names by kind, in the order of the lookup key (cookieId < deviceId < email). */
    static final String[] NAMES = {"cookieId", "deviceId", "email"};

    static String value(byte kind, long number) {
        return switch (kind) {
            case COOKIE -> Long.toHexString(mix(number + 1)) + Long.toHexString(mix(number + 7));
            case DEVICE -> Long.toHexString(mix(~number));
            default -> Records.email(number);
        };
    }

    // ---- probe ------------------------------------------------------------------------------------------------

    /**
     * The lookup of `GET /v1/identity?email=` inside this process, without HTTP or a server: per lookup, the bytes
     * allocated (by the looking-up thread, and by every thread of this process) and the time. --rate N paces the
     * lookups at N a second; --threads prints the threads that allocated most. (The H2 era's page-read counts and
     * B-tree shapes are gone with H2: `disk` shows the PostgreSQL tables' and indexes' sizes.)
     */
    static void probe(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        int lookups = Integer.parseInt(o.getOrDefault("lookups", "20000"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "20000"));
        long pace = o.containsKey("rate") ? 1_000_000_000L / Integer.parseInt(o.get("rate")) : 0;
        var k = JSON.readTree(dir.resolve("bench-endpoint.json").toFile());
        long accountId = k.get("accountId").asLong();
        long endpointId = k.get("endpointId").asLong();
        long persons = Long.parseLong(Files.readString(dir.resolve("bench-persons.txt")).trim().split(" ")[0]);
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Database db = Database.open(location(o, dir), 4, Database.Holder.SERVER)) {
            IdentityStore store = new IdentityStore(db.jdbi());
            SplittableRandom random = new SplittableRandom(7);
            Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            Map<Long, Long> perThread = new HashMap<>();
            long alloc0 = 0, all0 = 0, measuredStart = 0;
            long start = System.nanoTime();
            for (int i = 0; i < warmup + lookups; i++) {
                if (i == warmup) {
                    for (long id : threads.getAllThreadIds()) {
                        perThread.put(id, threads.getThreadAllocatedBytes(id));
                    }
                    alloc0 = threads.getCurrentThreadAllocatedBytes();
                    all0 = allThreadsAllocated(threads);
                    measuredStart = System.nanoTime();
                }
                if (pace > 0) {
                    long wait = start + i * pace - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
                Identifier id = new Identifier("email", Records.email(random.nextLong(persons)));
                long t = System.nanoTime();
                store.holders(accountId, endpointId, id);
                if (i >= warmup) {
                    histogram.recordValue(Math.min(System.nanoTime() - t, histogram.getHighestTrackableValue()));
                }
            }
            double seconds = (System.nanoTime() - measuredStart) / 1e9;
            long alloc = threads.getCurrentThreadAllocatedBytes() - alloc0;
            long all = allThreadsAllocated(threads) - all0;
            if (o.containsKey("threads")) {
                for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
                    long d = info == null ? 0 : threads.getThreadAllocatedBytes(info.getThreadId()) - perThread.getOrDefault(info.getThreadId(), 0L);
                    if (d > 1 << 20) {
                        System.out.printf("  thread %s: %,.0f MB%n", info.getThreadName(), d / 1048576.0);
                    }
                }
            }
            ObjectNode result = JSON.createObjectNode().put("lookups", lookups)
                    .put("allocatedBytesPerLookup", alloc / lookups).put("allThreadsBytesPerLookup", all / lookups)
                    .put("allThreadsMBPerSecond", all / seconds / 1048576)
                    .put("p50ms", histogram.getValueAtPercentile(50) / 1e6).put("p99ms", histogram.getValueAtPercentile(99) / 1e6);
            System.out.println(JSON.writeValueAsString(result));
            if (o.containsKey("out")) {
                Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
            }
        }
    }

    /** Bytes allocated so far by every live thread of this process. */
    static long allThreadsAllocated(com.sun.management.ThreadMXBean threads) {
        long sum = 0;
        for (long a : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            sum += Math.max(0, a);
        }
        return sum;
    }

    // ---- disk -------------------------------------------------------------------------------------------------

    /**
     * Disk bytes per stored identifier of the embedded store in `dir`: `du -sb` of the cluster (with and without
     * pg_wal), pg_database_size, and per identity table its heap, indexes, TOAST, live and dead tuples and when
     * (auto)vacuum last ran, divided by `count(*)` of x1_identifier. Works with a server running on `dir` (it
     * connects to that server's cluster) and without one (it starts the cluster and stops it again).
     */
    static void disk(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        ObjectNode r = JSON.createObjectNode().put("label", o.getOrDefault("label", "")).put("at", java.time.Instant.now().toString())
                .put("loadAverage", Files.readString(Path.of("/proc/loadavg")).trim());
        try (Database db = Database.open(location(o, dir), 2, Database.Holder.ADMIN)) {
            if (o.containsKey("checkpoint")) {
                db.jdbi().useHandle(h -> h.execute("CHECKPOINT"));
            }
            if (o.containsKey("sql")) {
                db.jdbi().useHandle(h -> h.execute(o.get("sql")));
                r.put("sql", o.get("sql"));
            }
            // du after the connection: the cluster runs (its pg_wal as a running server has it)
            Path cluster = dir.resolve("postgres");
            long du = du(cluster);
            long wal = du(cluster.resolve("pg_wal"));
            db.jdbi().useHandle(h -> {
                long ids = h.createQuery("SELECT count(*) FROM x1_identifier").mapTo(Long.class).one();
                long persons = h.createQuery("SELECT count(*) FROM x1_person").mapTo(Long.class).one();
                long dbSize = h.createQuery("SELECT pg_database_size(current_database())").mapTo(Long.class).one();
                r.put("identifiers", ids).put("persons", persons).put("duCluster", du).put("duWal", wal)
                        .put("databaseSize", dbSize)
                        .put("bytesPerIdentifierCluster", (double) du / ids)
                        .put("bytesPerIdentifierClusterWithoutWal", (double) (du - wal) / ids)
                        .put("bytesPerIdentifierDatabase", (double) dbSize / ids);
                System.out.printf("%s: %,d identifiers, %,d x1 persons; load %s%n", r.get("label").asText(), ids, persons,
                        r.get("loadAverage").asText());
                System.out.printf("  du -sb postgres  %,15d B  %7.1f B/identifier%n", du, (double) du / ids);
                System.out.printf("    of it pg_wal   %,15d B  %7.1f B/identifier%n", wal, (double) wal / ids);
                System.out.printf("    without pg_wal %,15d B  %7.1f B/identifier%n", du - wal, (double) (du - wal) / ids);
                System.out.printf("  pg_database_size %,15d B  %7.1f B/identifier%n", dbSize, (double) dbSize / ids);
                ObjectNode tables = r.putObject("tables");
                for (String t : List.of("x1_identifier", "x1_person")) {
                    var row = h.createQuery("SELECT pg_relation_size(c.oid) AS heap, pg_indexes_size(c.oid) AS idx,"
                                    + " pg_total_relation_size(c.oid) AS total, coalesce(s.n_live_tup, 0) AS live,"
                                    + " coalesce(s.n_dead_tup, 0) AS dead, coalesce(s.autovacuum_count, 0) AS autovacuums,"
                                    + " coalesce(s.vacuum_count, 0) AS vacuums, coalesce(s.autoanalyze_count, 0) AS autoanalyzes,"
                                    + " cast(s.last_autovacuum AS text) AS last_autovacuum"
                                    + " FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:t AS regclass)")
                            .bind("t", t).mapToMap().one();
                    ObjectNode tn = tables.putObject(t);
                    row.forEach((key, v) -> {
                        if (v instanceof Number n) {
                            tn.put(key, n.longValue());
                        } else {
                            tn.put(key, v == null ? null : v.toString());
                        }
                    });
                    long heap = ((Number) row.get("heap")).longValue();
                    long idx = ((Number) row.get("idx")).longValue();
                    long total = ((Number) row.get("total")).longValue();
                    System.out.printf("  %-14s total %,15d B (%7.1f B/identifier): heap %,d (%.1f), indexes %,d (%.1f),"
                                    + " other (TOAST, FSM, VM) %,d; live %,d, dead %,d tuples; autovacuums %s, vacuums %s, last autovacuum %s%n",
                            t, total, (double) total / ids, heap, (double) heap / ids, idx, (double) idx / ids,
                            total - heap - idx, row.get("live"), row.get("dead"), row.get("autovacuums"), row.get("vacuums"),
                            row.get("last_autovacuum"));
                    ObjectNode in = tn.putObject("indexes");
                    for (var ix : h.createQuery("SELECT i.relname AS name, pg_relation_size(i.oid) AS size FROM pg_index x"
                                    + " JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = CAST(:t AS regclass) ORDER BY 1")
                            .bind("t", t).mapToMap().list()) {
                        long size = ((Number) ix.get("size")).longValue();
                        in.put((String) ix.get("name"), size);
                        System.out.printf("    index %-28s %,15d B  %7.1f B/identifier%n", ix.get("name"), size, (double) size / ids);
                    }
                }
                long others = h.createQuery("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                        + " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public'"
                        + " AND c.relname NOT IN ('x1_identifier', 'x1_person')").mapTo(Long.class).one();
                r.put("otherTablesBytes", others);
                long identity = tables.get("x1_identifier").get("total").asLong() + tables.get("x1_person").get("total").asLong();
                r.put("identityTablesBytes", identity).put("bytesPerIdentifierIdentityTables", (double) identity / ids);
                System.out.printf("  identity tables (x1_identifier + x1_person, with indexes) %,d B  %.1f B/identifier%n",
                        identity, (double) identity / ids);
                System.out.printf("  other tables (salt buckets and snapshot, jobs, …) %,d B%n", others);
            });
        }
        System.out.println(JSON.writeValueAsString(r));
        if (o.containsKey("out")) {
            Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
        }
    }

    static long du(Path p) throws Exception {
        Process proc = new ProcessBuilder("du", "-sb", p.toString()).redirectErrorStream(false).start();
        String out = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        proc.waitFor();
        return Long.parseLong(out.trim().split("\\s+")[0]);
    }

    // ---- churn ------------------------------------------------------------------------------------------------

    /**
     * A day of writes through the HTTP API on a filled store: --requests single-event `POST /v1/event` requests
     * (each its own transaction, as a site's events arrive), --connections at a time, as fast as the server takes
     * them. --new of them (0.3) come from a new person (a new email, a new cookieId, half of them a deviceId); the
     * others from a stored person (a random earlier email), half of those with a new cookieId (a new browser),
     * half with the email alone (nothing new to store). Every --delete-every'th request (100) is instead a
     * `DELETE /v1/identity?…` of a cookieId sent earlier in this run or of a stored email, in turn; every
     * --filter-every'th (2000) an identity filter change of the endpoint (POST, PUT, DELETE of a deviceId filter,
     * in turn). Updates bench-persons.txt with the new persons.
     */
    static void churn(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        int port = Integer.parseInt(o.get("port"));
        long requests = Long.parseLong(o.getOrDefault("requests", "200000"));
        int connections = Integer.parseInt(o.getOrDefault("connections", "8"));
        double fresh = Double.parseDouble(o.getOrDefault("new", "0.3"));
        int deleteEvery = Integer.parseInt(o.getOrDefault("delete-every", "100"));
        int filterEvery = Integer.parseInt(o.getOrDefault("filter-every", "2000"));
        long maxNanos = (long) (Double.parseDouble(o.getOrDefault("max-seconds", "1e9")) * 1e9);
        String key = JSON.readTree(dir.resolve("bench-endpoint.json").toFile()).get("key").asText();
        String[] progress = Files.readString(dir.resolve("bench-persons.txt")).trim().split(" ");
        long persons = Long.parseLong(progress[0]);
        long recordOffset = Long.parseLong(progress[1]);
        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
                .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(connections));
        SplittableRandom random = new SplittableRandom(11);
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
        AtomicLong errors = new AtomicLong();
        AtomicLong[] kinds = {new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong()};
        java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(connections);
        List<String> sentCookies = new ArrayList<>();
        long newPersons = 0;
        long deletes = 0;
        long filters = 0;
        String firstError = null;
        java.util.concurrent.atomic.AtomicReference<String> error = new java.util.concurrent.atomic.AtomicReference<>();
        long start = System.nanoTime();
        long report = start;
        long sentRequests = 0;
        for (long i = 0; i < requests && System.nanoTime() - start < maxNanos; i++, sentRequests++) {
            inFlight.acquire();
            HttpMethod method;
            String uri;
            String body = null;
            int kind;
            if (filterEvery > 0 && i % filterEvery == filterEvery - 1) {
                kind = 3;
                long f = filters++;
                String filter = "[{\"identifierName\":\"deviceId\",\"publishFilter\":true,\"subscribeFilter\":" + (f % 3 == 1) + "}]";
                switch ((int) (f % 3)) {
                    case 0 -> { method = HttpMethod.POST; uri = "/v1/identityfilters"; body = filter; }
                    case 1 -> { method = HttpMethod.PUT; uri = "/v1/identityfilters"; body = filter; }
                    default -> { method = HttpMethod.DELETE; uri = "/v1/identityfilters/deviceId"; }
                }
            } else if (deleteEvery > 0 && i % deleteEvery == deleteEvery - 1) {
                kind = 4;
                method = HttpMethod.DELETE;
                if (deletes++ % 2 == 0 && !sentCookies.isEmpty()) {
                    uri = "/v1/identity?cookieId=" + sentCookies.get(random.nextInt(sentCookies.size()));
                } else {
                    uri = "/v1/identity?email=" + java.net.URLEncoder.encode(Records.email(random.nextLong(persons)),
                            java.nio.charset.StandardCharsets.UTF_8);
                }
            } else {
                method = HttpMethod.POST;
                uri = "/v1/event";
                long n = recordOffset + i;
                ObjectNode event = JSON.createObjectNode().put("code", "pageview").put("timestamp", java.time.Instant.now().toString());
                var ids = event.putArray("identifiers");
                String cookie = Long.toHexString(mix(n + 1)) + Long.toHexString(mix(n + 7));
                if (random.nextDouble() < fresh) {
                    kind = 0;
                    ids.addObject().put("name", "email").put("value", Records.email(persons + newPersons++));
                    ids.addObject().put("name", "cookieId").put("value", cookie);
                    if (random.nextBoolean()) {
                        ids.addObject().put("name", "deviceId").put("value", Long.toHexString(mix(~n)));
                    }
                    sentCookies.add(cookie);
                } else {
                    ids.addObject().put("name", "email").put("value", Records.email(random.nextLong(persons)));
                    if (random.nextBoolean()) {
                        kind = 1;
                        ids.addObject().put("name", "cookieId").put("value", cookie);
                        sentCookies.add(cookie);
                    } else {
                        kind = 2;
                    }
                }
                body = JSON.writeValueAsString(event);
            }
            kinds[kind].incrementAndGet();
            long sent = System.nanoTime();
            String payload = body;
            RequestOptions ro = new RequestOptions().setMethod(method).setURI(uri).putHeader("Authorization", "Bearer " + key);
            if (payload != null) {
                ro.putHeader("Content-Type", "application/json");
            }
            client.request(ro)
                    .compose(req -> (payload == null ? req.send() : req.send(payload)).compose(resp -> resp.body().map(b -> {
                        if (resp.statusCode() / 100 != 2) {
                            errors.incrementAndGet();
                            error.compareAndSet(null, method + " " + uri + " -> " + resp.statusCode() + " " + b);
                        }
                        return b;
                    })))
                    .onComplete(ar -> {
                        if (ar.failed()) {
                            errors.incrementAndGet();
                            error.compareAndSet(null, ar.cause().toString());
                        }
                        synchronized (histogram) {
                            histogram.recordValue(Math.min(System.nanoTime() - sent, histogram.getHighestTrackableValue()));
                        }
                        inFlight.release();
                    });
            if (System.nanoTime() - report > 10_000_000_000L) {
                report = System.nanoTime();
                System.out.printf("  %,d requests, %,.0f/s, errors %d%n", i + 1, (i + 1) / ((report - start) / 1e9), errors.get());
            }
        }
        if (!inFlight.tryAcquire(connections, 60, TimeUnit.SECONDS)) {
            System.out.println("some requests did not finish within 60 s");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Files.writeString(dir.resolve("bench-persons.txt"), (persons + newPersons) + " " + (recordOffset + sentRequests));
        ObjectNode result = JSON.createObjectNode().put("requests", sentRequests).put("requestsAsked", requests)
                .put("seconds", seconds).put("requestsPerSecond", sentRequests / seconds).put("connections", connections).put("errors", errors.get())
                .put("eventsNewPerson", kinds[0].get()).put("eventsKnownPersonNewCookie", kinds[1].get())
                .put("eventsKnownPersonEmailOnly", kinds[2].get()).put("filterChanges", kinds[3].get())
                .put("deletes", kinds[4].get()).put("newPersons", newPersons)
                .put("p50ms", histogram.getValueAtPercentile(50) / 1e6).put("p99ms", histogram.getValueAtPercentile(99) / 1e6)
                .put("p999ms", histogram.getValueAtPercentile(99.9) / 1e6).put("maxMs", histogram.getMaxValue() / 1e6);
        if (error.get() != null) {
            result.put("firstError", error.get());
        }
        System.out.println(JSON.writeValueAsString(result));
        if (o.containsKey("out")) {
            Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        }
        vertx.close().await();
    }

    // ---- lookup -----------------------------------------------------------------------------------------------

    static void lookup(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        int port = Integer.parseInt(o.get("port"));
        int rate = Integer.parseInt(o.getOrDefault("rate", "1000"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "10"));
        int duration = Integer.parseInt(o.getOrDefault("duration", "30"));
        int connections = Integer.parseInt(o.getOrDefault("connections", "16"));
        long serverPid = Long.parseLong(o.getOrDefault("server-pid", "0"));
        String key = JSON.readTree(dir.resolve("bench-endpoint.json").toFile()).get("key").asText();
        long persons = Long.parseLong(Files.readString(dir.resolve("bench-persons.txt")).trim().split(" ")[0]);

        Vertx vertx = Vertx.vertx();
        HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
                .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(connections));
        SplittableRandom random = new SplittableRandom(5);
        Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        AtomicLong errors = new AtomicLong();
        AtomicLong empty = new AtomicLong();
        long periodNs = 1_000_000_000L / rate;
        long total = (long) rate * (warmup + duration);
        long warmupCount = (long) rate * warmup;
        CountDownLatch done = new CountDownLatch((int) total);
        // The server's GC and CPU counters from 2 s before the measured part to its end (jstat starts a JVM: read on
        // a thread of its own, before the measured part rather than in it).
        long sampleAt = Math.max(0, warmupCount - 2L * rate);
        ServerCounters[] before = new ServerCounters[1];
        Thread sampler = null;
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
            if (serverPid > 0 && i == sampleAt) {
                sampler = new Thread(() -> before[0] = ServerCounters.read(serverPid));
                sampler.start();
            }
            long intended = start + i * periodNs;
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            boolean measured = i >= warmupCount;
            String email = "user" + random.nextLong(persons) + "@example.com";
            client.request(new RequestOptions().setMethod(HttpMethod.GET)
                            .setURI("/v1/identity?email=" + java.net.URLEncoder.encode(email, java.nio.charset.StandardCharsets.UTF_8))
                            .putHeader("Authorization", "Bearer " + key))
                    .compose(req -> req.send().compose(resp -> resp.body().map(body -> {
                        if (resp.statusCode() != 200) {
                            errors.incrementAndGet();
                        } else if (body.length() <= 2) {
                            empty.incrementAndGet();
                        }
                        return body;
                    })))
                    .onComplete(ar -> {
                        if (ar.failed()) {
                            errors.incrementAndGet();
                        }
                        if (measured) {
                            synchronized (histogram) {
                                histogram.recordValue(Math.min(System.nanoTime() - intended, histogram.getHighestTrackableValue()));
                            }
                        }
                        done.countDown();
                    });
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            System.out.println("some requests did not finish within 60 s");
        }
        double achieved = (double) total / ((System.nanoTime() - start) / 1e9);
        ObjectNode result = JSON.createObjectNode().put("rate", rate).put("achievedRate", achieved)
                .put("requests", histogram.getTotalCount()).put("errors", errors.get()).put("notFound", empty.get())
                .put("p50ms", histogram.getValueAtPercentile(50) / 1e6).put("p99ms", histogram.getValueAtPercentile(99) / 1e6)
                .put("p999ms", histogram.getValueAtPercentile(99.9) / 1e6).put("maxMs", histogram.getMaxValue() / 1e6);
        if (sampler != null) {
            sampler.join();
            ServerCounters after = ServerCounters.read(serverPid);
            if (before[0] != null && after != null) {
                after.describe(before[0], rate, result);
            }
        }
        System.out.println(JSON.writeValueAsString(result));
        if (o.containsKey("out")) {
            Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        }
        vertx.close().await();
    }

    /** A server's collector and CPU counters (`jstat -gc` and /proc/PID/stat), to compare two moments. */
    record ServerCounters(long nanos, Map<String, Double> gc, double cpuSeconds) {
        static ServerCounters read(long pid) {
            try {
                Process p = new ProcessBuilder("jstat", "-gc", Long.toString(pid)).redirectErrorStream(true).start();
                String[] lines = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim().split("\n");
                p.waitFor(10, TimeUnit.SECONDS);
                String[] head = lines[0].trim().split("\\s+");
                String[] vals = lines[lines.length - 1].trim().split("\\s+");
                Map<String, Double> gc = new HashMap<>();
                for (int i = 0; i < head.length && i < vals.length; i++) {
                    if (!vals[i].equals("-")) {
                        gc.put(head[i], Double.parseDouble(vals[i]));
                    }
                }
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return new ServerCounters(System.nanoTime(), gc, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0);
            } catch (Exception e) {
                return null;
            }
        }

        /** Adds what happened between `before` and this moment, at `rate` requests a second, to `out`. */
        void describe(ServerCounters before, int rate, ObjectNode out) {
            double seconds = (nanos - before.nanos) / 1e9;
            double requests = rate * seconds;
            double young = gc.get("YGC") - before.gc.get("YGC");
            double full = gc.get("FGC") - before.gc.get("FGC");
            out.put("serverSeconds", seconds).put("serverCpuMsPerRequest", (cpuSeconds - before.cpuSeconds) * 1000 / requests)
                    .put("youngGcs", young).put("youngGcMeanMs", young == 0 ? 0 : (gc.get("YGCT") - before.gc.get("YGCT")) * 1000 / young)
                    .put("fullGcs", full).put("fullGcSeconds", gc.get("FGCT") - before.gc.get("FGCT"));
            if (gc.containsKey("EC")) {
                // Eden is full at every young collection (SerialGC, ParallelGC): allocation = eden per collection.
                double kb = young * gc.get("EC") + gc.get("EU") - before.gc.get("EU");
                out.put("serverAllocatedKbPerRequest", kb / requests).put("serverAllocatedMbPerSecond", kb / 1024 / seconds);
            }
        }
    }
}
