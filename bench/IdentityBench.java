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
        StoreLocation location = StoreLocation.of(null, dir);
        if (o.containsKey("cache-mb")) {
            location = new StoreLocation(location.jdbcUrl().replaceFirst("CACHE_SIZE=\\d+",
                    "CACHE_SIZE=" + Integer.parseInt(o.get("cache-mb")) * 1024), location.user(), location.password());
        }
        try (Database db = Database.open(location, 4)) {
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

    // ---- lookup -----------------------------------------------------------------------------------------------

    static void lookup(Map<String, String> o) throws Exception {
        Path dir = Path.of(o.get("dir"));
        int port = Integer.parseInt(o.get("port"));
        int rate = Integer.parseInt(o.getOrDefault("rate", "1000"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "10"));
        int duration = Integer.parseInt(o.getOrDefault("duration", "30"));
        int connections = Integer.parseInt(o.getOrDefault("connections", "16"));
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
        long start = System.nanoTime();
        for (long i = 0; i < total; i++) {
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
        System.out.println(JSON.writeValueAsString(result));
        if (o.containsKey("out")) {
            Files.writeString(Path.of(o.get("out")), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
        }
        vertx.close().await();
    }
}
