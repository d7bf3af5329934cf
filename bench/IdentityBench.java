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
//
// Every request goes to 127.0.0.1 only; loops are bounded in time and count.

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.accounts.AccountStore;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Resolution;
import idex.store.Database;
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
            throw new IllegalArgumentException("usage: IdentityBench resolve|lookup [--option value ...]");
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
        // The server's own store settings, unless --cache-mb asks for a larger H2 page cache (to fill a big store
        // faster; the measured part runs with the server's settings).
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
                EndpointStore.Created e = new EndpointStore(db.jdbi()).create(accountId, reg, now);
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
     * The store: the database of --db-url (PostgreSQL), else the embedded one in `dir` with the server's settings or
     * with other H2 settings to compare: --cache-mb / --cache-kb (H2 page cache) and --url-extra (appended to the
     * URL, e.g. `;AUTO_COMPACT_FILL_RATE=90`). The bench's own files (key, counts) are in `dir` either way.
     */
    static StoreLocation location(Map<String, String> o, Path dir) {
        if (o.containsKey("db-url")) {
            return StoreLocation.of(o.get("db-url"), dir);
        }
        StoreLocation l = StoreLocation.of(null, dir);
        String kb = o.containsKey("cache-mb") ? Integer.toString(Integer.parseInt(o.get("cache-mb")) * 1024) : o.get("cache-kb");
        String url = l.jdbcUrl();
        if (kb != null) {
            url = url.replaceFirst("CACHE_SIZE=\\d+", "CACHE_SIZE=" + Integer.parseInt(kb));
        }
        return new StoreLocation(url + o.getOrDefault("url-extra", ""), l.user(), l.password());
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
            EndpointStore.Created e = new EndpointStore(db.jdbi()).create(accountId, reg, now);
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
     * allocated (by the looking-up thread, and by every thread — H2's background housekeeping included), the pages
     * H2 read from its file (its page-cache misses), and the time. --rate N paces the lookups at N a second and
     * reports every 10 s, so that background work is measured over real time; --tree TABLE first prints the shape
     * of the table's B-trees; --threads prints the threads that allocated most.
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
            org.h2.mvstore.MVStore mv;
            try (var c = db.dataSource().getConnection()) {
                mv = ((org.h2.engine.SessionLocal) c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession())
                        .getDatabase().getStore().getMvStore();
            }
            if (o.containsKey("tree")) {
                tree(db, o.get("tree"));
            }
            var file = mv.getFileStore();
            SplittableRandom random = new SplittableRandom(7);
            Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
            Map<Long, Long> perThread = new HashMap<>();
            long alloc0 = 0, all0 = 0, reads0 = 0, bytes0 = 0, measuredStart = 0, lastReport = 0, lastAll = 0;
            long start = System.nanoTime();
            for (int i = 0; i < warmup + lookups; i++) {
                if (i == warmup) {
                    for (long id : threads.getAllThreadIds()) {
                        perThread.put(id, threads.getThreadAllocatedBytes(id));
                    }
                    alloc0 = threads.getCurrentThreadAllocatedBytes();
                    all0 = allThreadsAllocated(threads);
                    reads0 = file.getReadCount();
                    bytes0 = file.getReadBytes();
                    measuredStart = System.nanoTime();
                }
                if (pace > 0) {
                    long wait = start + i * pace - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    if (System.nanoTime() - lastReport >= 10_000_000_000L) {
                        long all = allThreadsAllocated(threads);
                        if (lastReport != 0) {
                            System.out.printf("  %,d lookups: all threads %.0f MB/s; file %,d MB, %d%% of it in chunks,"
                                            + " chunks %d%% live%n", i, (all - lastAll) / ((System.nanoTime() - lastReport) / 1e9) / 1048576,
                                    file.size() >> 20, file.getFillRate(), file.getChunksFillRate());
                        }
                        lastReport = System.nanoTime();
                        lastAll = all;
                    }
                }
                Identifier id = new Identifier("email", Records.email(random.nextLong(persons)));
                long t = System.nanoTime();
                store.holders(accountId, endpointId, id);
                if (i >= warmup) {
                    histogram.recordValue(System.nanoTime() - t);
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
            ObjectNode result = JSON.createObjectNode().put("lookups", lookups).put("cacheMb", mv.getCacheSize())
                    .put("allocatedBytesPerLookup", alloc / lookups).put("allThreadsBytesPerLookup", all / lookups)
                    .put("allThreadsMBPerSecond", all / seconds / 1048576)
                    .put("pageReadsPerLookup", (double) (file.getReadCount() - reads0) / lookups)
                    .put("readBytesPerLookup", (file.getReadBytes() - bytes0) / lookups)
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

    /** Pages per level of every B-tree of a table: how much of each tree a page cache would have to hold. */
    static void tree(Database db, String table) throws Exception {
        try (var c = db.dataSource().getConnection()) {
            var session = (org.h2.engine.SessionLocal) c.unwrap(org.h2.jdbc.JdbcConnection.class).getSession();
            for (var index : session.getDatabase().getSchema("public").findTableOrView(session, table).getIndexes()) {
                if (!(index instanceof org.h2.mvstore.db.MVIndex<?, ?> mvIndex)) {
                    continue;
                }
                List<org.h2.mvstore.Page<?, ?>> level = List.of(mvIndex.getMVMap().getRootPage());
                StringBuilder out = new StringBuilder(String.format("%s (%,d entries):", index.getName(), mvIndex.getMVMap().sizeAsLong()));
                for (int depth = 0; !level.isEmpty(); depth++) {
                    long memory = 0, keys = 0, children = 0;
                    List<org.h2.mvstore.Page<?, ?>> next = new ArrayList<>();
                    for (var p : level) {
                        memory += p.getMemory();
                        keys += p.getKeyCount();
                        if (!p.isLeaf()) {
                            children += p.getRawChildPageCount();
                            if (!p.getChildPage(0).isLeaf()) {
                                for (int i = 0; i < p.getRawChildPageCount(); i++) {
                                    next.add(p.getChildPage(i));
                                }
                            }
                        }
                    }
                    out.append(String.format("%n  level %d: %,d pages, %,d keys, %.1f MB as H2 estimates it (%,d B a page)",
                            depth, level.size(), keys, memory / 1048576.0, memory / level.size()));
                    if (next.isEmpty() && children > 0) {
                        out.append(String.format("%n  level %d: %,d leaf pages (not read)", depth + 1, children));
                    }
                    level = next;
                }
                System.out.println(out);
            }
        }
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
