// Load driver for idex's UID2 operator API, run with the JDK source launcher against the server jar:
//
//   java -cp target/idex.jar bench/Uid2Bench.java <command> [--option value ...]
//
// Commands (bench/run-uid2.sh strings them together; see BENCHMARKS.md):
//   salts    --out DIR [--buckets 1048576] [--days 365] [--seed 42]
//            writes a reference-format salt snapshot (metadata.json + salts.txt) whose lastUpdated values are spread
//            over the past --days days, oldest first, one rotation batch a day at 00:00:00.001 UTC
//   startup  --port P --pid-file F --log F [--timeout 120] [--key startup_seconds] -- <server command…>
//            launches the server, measures process start -> GET /ops/healthcheck = OK, leaves it running; the time
//            is written under --key (startup_reuse_seconds for a start that finds the store's PostgreSQL running)
//   load     --port P --key K --secret S --pid PID --snapshot DIR --out FILE [scenario options, see Load]
//            scenarios 1-3 over loopback, with the server's VmRSS sampled throughout; results as JSON
//   summary  FILE…   medians over the per-run result files, as a Markdown table
//   jfr-top  FILE.jfr [--top 25] [--from SECONDS]   hottest methods (self and with callees) in a JFR recording
//   stop-store DATA_DIR   stops the embedded PostgreSQL of a data dir that no idex process holds (a killed server's)
//
// Every request goes to 127.0.0.1 only; every request loop is bounded both in time and in count.

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.uid2.envelope.EnvelopeCodec;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public final class Uid2Bench {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    static final long DAY_MS = 86_400_000L;
    static final String HOST = "127.0.0.1";

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: Uid2Bench salts|startup|load|summary|jfr-top|stop-store …  (see the header of Uid2Bench.java)");
            System.exit(2);
        }
        Opts o = Opts.parse(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "salts" -> Salts.run(o);
            case "startup" -> Startup.run(o);
            case "load" -> Load.run(o);
            case "summary" -> Summary.run(o);
            case "jfr-top" -> JfrTop.run(o);
            case "stop-store" -> System.out.println(idex.store.embedded.EmbeddedPostgres.stopIfUnheld(Path.of(o.positional.get(0)))
                    ? "the store's PostgreSQL is stopped" : "an idex process holds " + o.positional.get(0) + "; left alone");
            default -> {
                System.err.println("unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ options

    static final class Opts {
        final Map<String, String> named = new HashMap<>();
        final List<String> positional = new ArrayList<>();
        final List<String> rest = new ArrayList<>(); // after "--"

        static Opts parse(String[] args) {
            Opts o = new Opts();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--")) {
                    o.rest.addAll(Arrays.asList(args).subList(i + 1, args.length));
                    break;
                } else if (a.startsWith("--")) {
                    int eq = a.indexOf('=');
                    if (eq > 0) {
                        o.named.put(a.substring(2, eq), a.substring(eq + 1));
                    } else {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException("option " + a + " needs a value");
                        }
                        o.named.put(a.substring(2), args[++i]);
                    }
                } else {
                    o.positional.add(a);
                }
            }
            return o;
        }

        String str(String name) {
            String v = named.get(name);
            if (v == null || v.isEmpty()) {
                throw new IllegalArgumentException("missing --" + name);
            }
            return v;
        }

        String str(String name, String dflt) {
            String v = named.get(name);
            return v == null || v.isEmpty() ? dflt : v;
        }

        int integer(String name, int dflt) {
            return Integer.parseInt(str(name, Integer.toString(dflt)));
        }

        double dbl(String name, double dflt) {
            return Double.parseDouble(str(name, Double.toString(dflt)));
        }
    }

    // ------------------------------------------------------------------------------------------------ salts

    /**
     * A reference-format snapshot: one rotation batch a day at 00:00:00.001 UTC (the reference rotates daily and
     * its timestamps end in .001), the newest batch today, oldest first in the file. With 1,048,576 buckets over
     * 365 days a batch is 2,872-2,873 buckets; `since_timestamp` = 00:00 UTC two days back covers three batches.
     */
    static final class Salts {
        static void run(Opts o) throws IOException {
            Path out = Path.of(o.str("out"));
            int buckets = o.integer("buckets", 1 << 20);
            int days = o.integer("days", 365);
            SplittableRandom rnd = new SplittableRandom(Long.parseLong(o.str("seed", "42")));
            long now = System.currentTimeMillis();
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            long todayStart = today.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
            long windowStart = todayStart - 2 * DAY_MS;
            Files.createDirectories(out);
            long inWindow = 0;
            byte[] salt = new byte[32];
            Base64.Encoder b64 = Base64.getEncoder();
            try (BufferedWriter w = Files.newBufferedWriter(out.resolve("salts.txt"), StandardCharsets.US_ASCII)) {
                StringBuilder line = new StringBuilder(160);
                for (int d = 0; d < days; d++) {
                    int from = (int) ((long) d * buckets / days);
                    int to = (int) ((long) (d + 1) * buckets / days);
                    long dayStart = todayStart - (long) (days - 1 - d) * DAY_MS;
                    long lastUpdated = dayStart + 1;
                    long refreshFrom = dayStart + (long) days * DAY_MS; // its next rotation, a year on
                    boolean withPrevious = lastUpdated >= now - 90 * DAY_MS; // reference keeps it ~90 days
                    if (lastUpdated >= windowStart) {
                        inWindow += to - from;
                    }
                    for (int i = from; i < to; i++) {
                        line.setLength(0);
                        rnd.nextBytes(salt);
                        line.append(1_000_000L + i).append(',').append(lastUpdated).append(',')
                                .append(b64.encodeToString(salt)).append(',').append(refreshFrom).append(',');
                        if (withPrevious) {
                            rnd.nextBytes(salt);
                            line.append(b64.encodeToString(salt));
                        }
                        line.append(",,,,,,\n");
                        w.append(line);
                    }
                }
            }
            ObjectNode meta = JSON.createObjectNode();
            meta.put("version", now);
            meta.put("generated", now / 1000);
            rnd.nextBytes(salt);
            meta.put("first_level", b64.encodeToString(salt));
            meta.put("id_prefix", "b");
            rnd.nextBytes(salt);
            meta.put("id_secret", b64.encodeToString(salt));
            ObjectNode snap = meta.putArray("salts").addObject();
            snap.put("effective", now - 60_000);
            snap.put("expires", 253402329599000L);
            snap.put("location", "salts.txt");
            snap.put("size", buckets);
            JSON.writeValue(out.resolve("metadata.json").toFile(), meta);
            System.out.printf(Locale.ROOT, "wrote %,d buckets over %d days to %s; %,d with lastUpdated >= %s%n",
                    buckets, days, out, inWindow, Instant.ofEpochMilli(windowStart));
        }
    }

    /** What the driver needs from the snapshot: `lastUpdated` per line (to count windows) and the salts. */
    static final class Snapshot {
        final long[] lastUpdated;
        final String[] currentSalt;
        final String firstLevel;

        private Snapshot(long[] lastUpdated, String[] currentSalt, String firstLevel) {
            this.lastUpdated = lastUpdated;
            this.currentSalt = currentSalt;
            this.firstLevel = firstLevel;
        }

        static Snapshot read(Path dir) throws IOException {
            JsonNode meta = JSON.readTree(dir.resolve("metadata.json").toFile());
            int size = meta.get("salts").get(0).get("size").asInt();
            long[] lu = new long[size];
            String[] salts = new String[size];
            int n = 0;
            try (BufferedReader r = Files.newBufferedReader(dir.resolve("salts.txt"), StandardCharsets.US_ASCII)) {
                for (String line; (line = r.readLine()) != null; ) {
                    int c1 = line.indexOf(',');
                    int c2 = line.indexOf(',', c1 + 1);
                    int c3 = line.indexOf(',', c2 + 1);
                    lu[n] = Long.parseLong(line, c1 + 1, c2, 10);
                    salts[n] = line.substring(c2 + 1, c3);
                    n++;
                }
            }
            if (n != size) {
                throw new IllegalStateException("snapshot declares " + size + " rows, has " + n);
            }
            return new Snapshot(lu, salts, meta.get("first_level").asText());
        }

        int countSince(long sinceMillis) {
            int c = 0;
            for (long v : lastUpdated) {
                if (v >= sinceMillis) {
                    c++;
                }
            }
            return c;
        }

        /** Raw UID2 v2 of a (plain, already normalised) email per spec §5, computed independently of the server. */
        String expectedUid(String normalisedEmail) throws Exception {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            Base64.Encoder b64 = Base64.getEncoder();
            byte[] identityHash = sha.digest(normalisedEmail.getBytes(StandardCharsets.UTF_8));
            sha.update(b64.encodeToString(identityHash).getBytes(StandardCharsets.US_ASCII));
            byte[] flh = sha.digest(firstLevel.getBytes(StandardCharsets.US_ASCII));
            int idx = ((flh[0] & 0xFF) << 12) | ((flh[1] & 0xFF) << 4) | (flh[2] & 0x0F);
            if (currentSalt.length != 1 << 20) {
                idx %= currentSalt.length;
            }
            sha.update(b64.encodeToString(flh).getBytes(StandardCharsets.US_ASCII));
            return b64.encodeToString(sha.digest(currentSalt[idx].getBytes(StandardCharsets.US_ASCII)));
        }
    }

    // ------------------------------------------------------------------------------------------------ startup

    /** Process start -> healthcheck OK, polled every 5 ms with a raw socket (nothing to warm up in the driver). */
    static final class Startup {
        static void run(Opts o) throws Exception {
            int port = o.integer("port", 18080);
            Path pidFile = Path.of(o.str("pid-file"));
            Path log = Path.of(o.str("log"));
            double timeout = o.dbl("timeout", 120);
            if (o.rest.isEmpty()) {
                throw new IllegalArgumentException("give the server command after --");
            }
            if (healthy(port)) {
                throw new IllegalStateException("something already answers on port " + port);
            }
            healthy(port); // load the classes used by the poll loop before the clock starts
            ProcessBuilder pb = new ProcessBuilder(o.rest).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            long t0 = System.nanoTime();
            Process p = pb.start();
            Files.writeString(pidFile, Long.toString(p.pid()));
            long deadline = t0 + (long) (timeout * 1e9);
            long polls = 0;
            while (true) {
                polls++;
                if (healthy(port)) {
                    break;
                }
                if (!p.isAlive()) {
                    throw new IllegalStateException("server exited with " + p.exitValue() + " before it was healthy; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    p.destroy();
                    throw new IllegalStateException("server not healthy within " + timeout + " s; see " + log);
                }
                Thread.sleep(5);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            long rss = Rss.read(p.pid());
            double cpu = cpuSeconds(p.pid());
            String load = Files.readString(Path.of("/proc/loadavg")).trim();
            System.out.printf(Locale.ROOT, "startup: healthy after %.3f s (%d polls), server CPU %.2f s, pid %d, VmRSS %s, load %s%n",
                    seconds, polls, cpu, p.pid(), Rss.mb(rss), load);
            ObjectNode r = JSON.createObjectNode();
            r.put(o.str("key", "startup_seconds"), seconds);
            r.put("startup_server_cpu_seconds", cpu);
            r.put("load_average", load);
            r.put("rss_after_startup_kb", rss);
            r.put("pid", p.pid());
            JSON.writeValue(Path.of(o.str("out")).toFile(), r);
            // the server keeps running; the script stops it by pid
        }

        /** User + system CPU seconds of a process so far (/proc/PID/stat; not its children, e.g. PostgreSQL). */
        static double cpuSeconds(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
            } catch (IOException | RuntimeException e) {
                return Double.NaN;
            }
        }

        static boolean healthy(int port) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(HOST, port), 500);
                s.setSoTimeout(2000);
                OutputStream out = s.getOutputStream();
                out.write(("GET /ops/healthcheck HTTP/1.1\r\nHost: " + HOST + "\r\nConnection: close\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                return answer.startsWith("HTTP/1.1 200") && answer.endsWith("OK");
            } catch (IOException e) {
                return false;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ RSS

    static final class Rss implements Runnable {
        final long pid;
        volatile String phase = "idle";
        volatile boolean stop;
        final Map<String, Long> peakKb = new LinkedHashMap<>();
        long overallPeakKb;
        Thread thread;

        Rss(long pid) {
            this.pid = pid;
        }

        static long read(long pid) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                    if (line.startsWith("VmRSS:")) {
                        return Long.parseLong(line.replaceAll("[^0-9]", ""));
                    }
                }
            } catch (IOException | NumberFormatException e) {
                return -1;
            }
            return -1;
        }

        static String mb(long kb) {
            return kb < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MB", kb / 1024.0);
        }

        void start() {
            thread = new Thread(this, "rss-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        synchronized void sample() {
            long kb = read(pid);
            if (kb > 0) {
                peakKb.merge(phase, kb, Math::max);
                overallPeakKb = Math.max(overallPeakKb, kb);
            }
        }

        @Override
        public void run() {
            while (!stop) {
                sample();
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        void phase(String name) {
            phase = name;
            sample();
        }
    }

    // ------------------------------------------------------------------------------------------------ GC

    /** The server's GC counters, read with `jstat -gc` (a separate short JVM, run only between phases). */
    record Gc(long young, double youngSeconds, long full, double fullSeconds) {
        static Gc read(long pid) {
            try {
                Process p = new ProcessBuilder("jstat", "-gc", Long.toString(pid)).redirectErrorStream(true).start();
                String[] lines = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim().split("\n");
                p.waitFor(10, TimeUnit.SECONDS);
                String[] head = lines[0].trim().split("\\s+");
                String[] vals = lines[lines.length - 1].trim().split("\\s+");
                Map<String, String> m = new HashMap<>();
                for (int i = 0; i < head.length && i < vals.length; i++) {
                    m.put(head[i], vals[i]);
                }
                return new Gc(Long.parseLong(m.get("YGC")), Double.parseDouble(m.get("YGCT")),
                        Long.parseLong(m.get("FGC")), Double.parseDouble(m.get("FGCT")));
            } catch (Exception e) {
                return null;
            }
        }

        Gc minus(Gc o) {
            return o == null ? null : new Gc(young - o.young, youngSeconds - o.youngSeconds, full - o.full, fullSeconds - o.fullSeconds);
        }
    }

    // ------------------------------------------------------------------------------------------------ CPU

    static final class Cpu {
        /** utime + stime of a process, in seconds (from /proc/PID/stat, clock ticks of 1/100 s). */
        static double process(long pid) {
            try {
                String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
            } catch (IOException | RuntimeException e) {
                return Double.NaN;
            }
        }

        /** [busy, total] jiffies of the whole machine, from the first line of /proc/stat. */
        static long[] machine() {
            try {
                String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
                long total = 0;
                for (int i = 1; i < f.length && i <= 8; i++) {
                    total += Long.parseLong(f[i]);
                }
                long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
                return new long[] {total - idle, total};
            } catch (IOException | RuntimeException e) {
                return new long[] {0, 0};
            }
        }

        /**
         * A fixed single-core workload (SHA-256 of 64-byte inputs for 2 s, after 1 s of warm-up), so that runs on a
         * shared or throttled machine can be told apart. Hashes a second.
         */
        static double calibrate() throws Exception {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] in = new byte[64];
            double rate = 0;
            for (int round = 0; round < 2; round++) {
                long n = 0;
                long start = System.nanoTime();
                long end = start + (round == 0 ? 1_000_000_000L : 2_000_000_000L);
                while (System.nanoTime() < end) {
                    for (int i = 0; i < 1000; i++) {
                        in[0] = (byte) i;
                        sha.update(in);
                        in[1] ^= sha.digest()[0];
                    }
                    n += 1000;
                }
                rate = n / ((System.nanoTime() - start) / 1e9);
            }
            return rate;
        }

        static double self() {
            return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
        }
    }

    // ------------------------------------------------------------------------------------------------ load

    /** One pre-encrypted request: the body as sent, and what is needed to check its answer. */
    record Req(byte[] body, byte[] nonce, int tag) {
    }

    /** An answer kept (outside the timing) for decryption and checking afterwards. */
    record Sample(Req req, byte[] body, int status) {
    }

    /** What one closed-loop phase measured. */
    static final class PhaseResult {
        final Histogram latencyMicros = new Histogram(TimeUnit.MINUTES.toMicros(10), 3);
        long ok;
        long notOk;
        long failed;
        long bytes;
        double seconds;
        double serverCpuSeconds;
        double clientCpuSeconds;
        double machineBusy;
        Gc gc;
        final List<Sample> samples = new ArrayList<>();
        final List<String> errors = new ArrayList<>();

        double perSecond() {
            return ok / seconds;
        }

        /** Cores busy with neither the server nor the load generator (another workload on the machine). */
        double otherCores() {
            return Math.max(0, machineBusy * Runtime.getRuntime().availableProcessors()
                    - (serverCpuSeconds + clientCpuSeconds) / seconds);
        }

        double ms(double percentile) {
            return latencyMicros.getValueAtPercentile(percentile) / 1000.0;
        }
    }

    static final class Load {
        final Vertx vertx;
        final HttpClient client;
        final int port;
        final String auth;
        final byte[] secret;
        final long serverPid;
        /** Read the server's GC counters around measured phases (not warm-up slices: jstat is a JVM start). */
        boolean gcEnabled = true;

        Load(int port, String key, byte[] secret, long serverPid, int clientThreads, int maxConnections) {
            this.port = port;
            this.serverPid = serverPid;
            this.auth = "Bearer " + key;
            this.secret = secret;
            this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(clientThreads).setWorkerPoolSize(1));
            this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true)
                            .setDefaultHost(HOST).setDefaultPort(port),
                    new PoolOptions().setHttp1MaxSize(maxConnections));
        }

        static void run(Opts o) throws Exception {
            int port = o.integer("port", 18080);
            String key = o.str("key", System.getenv("BENCH_KEY"));
            byte[] secret = Base64.getDecoder().decode(o.str("secret", System.getenv("BENCH_SECRET")));
            long pid = Long.parseLong(o.str("pid"));
            int s1Conns = o.integer("s1-connections", 16);
            double s1Warm = o.dbl("s1-warmup", 5);
            double s1Secs = o.dbl("s1-duration", 20);
            int s2Runs = o.integer("s2-runs", 5);
            int s3Conns = o.integer("s3-connections", 4);
            double s3Warm = o.dbl("s3-warmup", 5);
            double s3Secs = o.dbl("s3-duration", 20);
            int s3Batch = o.integer("s3-batch", 5000);
            Set<String> scenarios = new HashSet<>(Arrays.asList(o.str("scenarios", "1,1b,2,2b,3").split(",")));
            int clientThreads = o.integer("client-threads", 1);

            System.out.println("reading the snapshot to know the expected answers…");
            Snapshot snap = Snapshot.read(Path.of(o.str("snapshot")));
            LocalDate today = LocalDate.now(ZoneOffset.UTC);
            String since = today.minusDays(2) + "T00:00:00";
            long sinceMillis = today.minusDays(2).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
            int expectedWindow = snap.countSince(sinceMillis);
            System.out.printf(Locale.ROOT, "since_timestamp %s: %,d buckets expected (of %,d)%n",
                    since, expectedWindow, snap.lastUpdated.length);

            double calibrationBefore = Cpu.calibrate();
            System.out.printf(Locale.ROOT, "CPU check (one core, server idle): %,.0f SHA-256 of 64 bytes a second%n",
                    calibrationBefore);
            Rss rss = new Rss(pid);
            rss.start();
            Load load = new Load(port, key, secret, pid, clientThreads, 64);
            ObjectNode results = JSON.createObjectNode();
            results.put("time", Instant.now().toString());
            results.put("rss_before_kb", Rss.read(pid));
            results.put("cpu_check_sha256_per_second", calibrationBefore);
            try {
                // 2, first part: the first full answer of this freshly started server, checked whole
                ObjectNode s2 = results.putObject("s2_buckets_full");
                if (scenarios.contains("2")) {
                    rss.phase("s2");
                    load.fullFirst(s2, "s2 text   (cold server)", false, snap.lastUpdated.length);
                }

                save(results, o);
                // 1. buckets, two days back
                byte[] windowJson = ("{\"since_timestamp\":\"" + since + "\"}").getBytes(StandardCharsets.UTF_8);
                if (scenarios.contains("1")) {
                    ObjectNode s1 = results.putObject("s1_buckets_window");
                    s1.put("since_timestamp", since);
                    s1.put("expected_buckets", expectedWindow);
                    s1.put("connections", s1Conns);
                    rss.phase("s1");
                    load.bucketsPhase(s1, "s1 text  ", windowJson, false, s1Conns, s1Warm, s1Secs, expectedWindow, sinceMillis);
                }
                if (scenarios.contains("1") && !o.str("s1-sweep", "").isEmpty()) {
                    ArrayNode sweep = results.putArray("s1_sweep");
                    for (String c : o.str("s1-sweep").split(",")) {
                        ObjectNode point = sweep.addObject();
                        int conns = Integer.parseInt(c.trim());
                        point.put("connections", conns);
                        load.sweepPoint(point, "s1 text, " + conns + " connections", windowJson, conns,
                                o.dbl("s1-sweep-duration", 10));
                    }
                }
                save(results, o);
                if (scenarios.contains("1b")) {
                    ObjectNode s1b = results.putObject("s1b_buckets_window_binary");
                    s1b.put("connections", s1Conns);
                    rss.phase("s1b");
                    load.bucketsPhase(s1b, "s1 binary", windowJson, true, s1Conns, s1Warm, s1Secs, expectedWindow, sinceMillis);
                }

                save(results, o);
                // 2. the full answer
                if (scenarios.contains("2")) {
                    rss.phase("s2");
                    load.fullTimed(s2, "s2 text  ", false, s2Runs);
                } else {
                    results.remove("s2_buckets_full");
                }
                if (scenarios.contains("2b")) {
                    rss.phase("s2b");
                    ObjectNode s2b = results.putObject("s2b_buckets_full_binary");
                    load.fullFirst(s2b, "s2 binary", true, snap.lastUpdated.length);
                    load.fullTimed(s2b, "s2 binary", true, s2Runs);
                }

                save(results, o);
                // 3. identity map, 5,000 emails a request
                if (scenarios.contains("3")) {
                    rss.phase("s3");
                    ObjectNode s3 = results.putObject("s3_map");
                    s3.put("connections", s3Conns);
                    s3.put("batch", s3Batch);
                    load.mapPhase(s3, snap, s3Conns, s3Batch, s3Warm, s3Secs, o.str("s3-sweep", ""),
                            o.dbl("s3-sweep-duration", 10));
                }

                save(results, o);
                // 5. memory after the scenarios
                rss.phase("after");
                Thread.sleep(3000);
                rss.sample();
            } finally {
                rss.stop = true;
                load.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            ObjectNode mem = results.putObject("rss_kb");
            rss.peakKb.forEach(mem::put);
            results.put("rss_peak_kb", rss.overallPeakKb);
            results.put("rss_after_kb", Rss.read(pid));
            System.out.printf(Locale.ROOT, "server VmRSS: peak %s, 3 s after the scenarios %s (per phase peak: %s)%n",
                    Rss.mb(rss.overallPeakKb), Rss.mb(results.get("rss_after_kb").asLong()), rss.peakKb);
            results.put("complete", true);
            JSON.writeValue(Path.of(o.str("out")).toFile(), results);
            boolean allOk = results.findValues("all_ok").stream().allMatch(JsonNode::asBoolean);
            if (!allOk) {
                System.out.println("SOME CHECKS FAILED: see " + o.str("out"));
                System.exit(1);
            }
        }

        /** Results so far, written after every scenario so that an interrupted run keeps what it measured. */
        static void save(ObjectNode results, Opts o) throws IOException {
            results.put("complete", false);
            JSON.writeValue(Path.of(o.str("out")).toFile(), results);
        }

        // ---- scenario 1

        void bucketsPhase(ObjectNode out, String label, byte[] json, boolean binary, int conns, double warm,
                          double secs, int expected, long sinceMillis) throws Exception {
            Warm w = warmUp(label + " warm-up", "/v2/identity/buckets", () -> pool(List.of(json), 4096), binary, conns,
                    binary ? 10 : 30, warm, 2_000_000, 1);
            PhaseResult r = closedLoop("/v2/identity/buckets", pool(List.of(json), 4096), binary, conns, secs,
                    2_000_000, 997, 40);
            report(label, r, 1);
            // checks, outside the timing
            int checked = 0;
            int good = 0;
            List<String> problems = new ArrayList<>(r.errors);
            for (Sample s : r.samples) {
                checked++;
                try {
                    byte[] plain = decrypt(s, binary);
                    int[] counts = countBuckets(plain, sinceMillis, null);
                    if (counts[0] == expected && counts[1] == 0) {
                        good++;
                    } else {
                        problems.add("answer had " + counts[0] + " buckets (" + counts[1] + " older than since), expected " + expected);
                    }
                } catch (Exception e) {
                    problems.add(e.toString());
                }
            }
            System.out.printf(Locale.ROOT, "  %s: decrypted %d sampled answers: %d with the right nonce and %,d buckets%n",
                    label, checked, good, expected);
            fill(out, r, 1);
            w.into(out);
            out.put("binary", binary);
            out.put("samples_checked", checked);
            out.put("samples_good", good);
            out.put("all_ok", r.notOk == 0 && r.failed == 0 && w.bad == 0 && checked > 0 && good == checked);
            putProblems(out, problems);
        }

        /** What the warm-up saw: requests per second in each 5 s slice. */
        static final class Warm {
            final List<Double> perSecond = new ArrayList<>();
            double seconds;
            long ok;
            long bad;

            void into(ObjectNode out) {
                out.put("warmup_seconds", seconds);
                out.put("warmup_requests", ok);
                ArrayNode a = out.putArray("warmup_requests_per_second_each_5s");
                perSecond.forEach(v -> a.add(Math.round(v * 10) / 10.0));
            }
        }

        /**
         * Closed-loop load in 5 s slices until the throughput of two consecutive slices differs by less than 5 %
         * (after at least `minSeconds`: a fresh server's JIT needs about 30 s on 2 busy cores), or `maxSeconds` have
         * passed.
         */
        Warm warmUp(String label, String path, java.util.function.Supplier<List<Req>> pools, boolean binary, int conns,
                    double minSeconds, double maxSeconds, long maxRequestsPerSlice, int items) throws Exception {
            Warm w = new Warm();
            double previous = -1;
            gcEnabled = false;
            while (w.seconds < maxSeconds - 0.5) {
                PhaseResult p = closedLoop(path, pools.get(), binary, conns, Math.min(5, maxSeconds - w.seconds),
                        maxRequestsPerSlice, 0, 0);
                w.seconds += p.seconds;
                w.ok += p.ok;
                w.bad += p.notOk + p.failed;
                w.perSecond.add(p.perSecond());
                for (String e : p.errors.subList(0, Math.min(3, p.errors.size()))) {
                    System.out.println("    error: " + e);
                }
                double now = p.perSecond();
                if (w.seconds >= Math.min(minSeconds, maxSeconds) && previous > 0 && Math.abs(now - previous) / previous < 0.05) {
                    break;
                }
                previous = now;
            }
            gcEnabled = true;
            StringBuilder curve = new StringBuilder();
            for (double v : w.perSecond) {
                curve.append(curve.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%,.0f", v * items));
            }
            System.out.printf(Locale.ROOT, "%s: %.0f s, %,d x 200, %,d not; %s a second in each 5 s: %s%n", label,
                    w.seconds, w.ok, w.bad, items > 1 ? "items" : "requests", curve);
            return w;
        }

        /** A shorter measured phase at another concurrency (the server is already warm). */
        void sweepPoint(ObjectNode out, String label, byte[] json, int conns, double secs) throws Exception {
            PhaseResult r = closedLoop("/v2/identity/buckets", pool(List.of(json), 4096), false, conns, secs,
                    2_000_000, 0, 0);
            report(label, r, 1);
            fill(out, r, 1);
            out.put("all_ok", r.notOk == 0 && r.failed == 0);
            putProblems(out, r.errors);
        }

        // ---- scenario 2

        static final byte[] FULL_JSON = "{\"since_timestamp\":\"2000-01-01T00:00:00\"}".getBytes(StandardCharsets.UTF_8);

        /**
         * The first full answer: kept whole by the client, then decrypted and checked outside the timing (1,048,576
         * entries, all bucket ids distinct). Timed too, but apart: it includes the client's buffering, and when it
         * is the server's first large answer, the server's JIT warm-up.
         */
        void fullFirst(ObjectNode out, String label, boolean binary, int expected) throws Exception {
            List<String> problems = new ArrayList<>();
            Req first = pool(List.of(FULL_JSON), 1).get(0);
            double serverCpu0 = Cpu.process(serverPid);
            long t0 = System.nanoTime();
            Sample s = single("/v2/identity/buckets", first, binary, true);
            double firstSeconds = (System.nanoTime() - t0) / 1e9;
            double serverCpu = Cpu.process(serverPid) - serverCpu0;
            boolean verified = false;
            long entries = -1;
            long bytes = s.body() == null ? 0 : s.body().length;
            try {
                if (s.status() != 200) {
                    throw new IllegalStateException("HTTP " + s.status());
                }
                byte[] plain = decrypt(s, binary);
                Set<String> ids = new HashSet<>(expected * 2);
                int[] counts = countBuckets(plain, 0, ids);
                entries = counts[0];
                verified = counts[0] == expected && ids.size() == expected;
                if (!verified) {
                    problems.add("full answer had " + counts[0] + " entries, " + ids.size() + " distinct ids; expected " + expected);
                }
            } catch (Exception e) {
                problems.add(e.toString());
            }
            System.out.printf(Locale.ROOT, "%s: first answer %,d bytes in %.3f s (client buffering it; server CPU %.3f s);"
                            + " decrypted: %,d entries%s%n",
                    label, bytes, firstSeconds, serverCpu, entries, verified ? ", all distinct: OK" : " — CHECK FAILED");
            out.put("binary", binary);
            out.put("bytes", bytes);
            out.put("entries", entries);
            out.put("first_seconds", firstSeconds);
            out.put("first_server_cpu_seconds", serverCpu);
            out.put("first_ok", verified);
            out.put("all_ok", verified);
            putProblems(out, problems);
        }

        /** `runs` more full answers, only counted by the client: time from sending to the last byte. */
        void fullTimed(ObjectNode out, String label, boolean binary, int runs) throws Exception {
            List<String> problems = new ArrayList<>();
            out.path("problems").forEach(p -> problems.add(p.asText()));
            double[] times = new double[runs];
            Req[] reqs = pool(List.of(FULL_JSON), runs).toArray(new Req[0]);
            boolean allOk = out.path("first_ok").asBoolean();
            long bytes = out.path("bytes").asLong();
            double serverCpu0 = Cpu.process(serverPid);
            double clientCpu0 = Cpu.self();
            for (int i = 0; i < runs; i++) {
                long start = System.nanoTime();
                Sample timed = single("/v2/identity/buckets", reqs[i], binary, false);
                times[i] = (System.nanoTime() - start) / 1e9;
                if (timed.status() != 200) {
                    allOk = false;
                    problems.add("timed run " + i + ": HTTP " + timed.status());
                }
                System.out.printf(Locale.ROOT, "%s: run %d: %.3f s to last byte%n", label, i + 1, times[i]);
            }
            double serverCpu = (Cpu.process(serverPid) - serverCpu0) / runs;
            double clientCpu = (Cpu.self() - clientCpu0) / runs;
            double[] sorted = times.clone();
            Arrays.sort(sorted);
            out.put("server_cpu_seconds_per_answer", serverCpu);
            out.put("client_cpu_seconds_per_answer", clientCpu);
            ArrayNode arr = out.putArray("seconds");
            for (double t : times) {
                arr.add(t);
            }
            out.put("median_seconds", median(sorted));
            out.put("min_seconds", sorted[0]);
            out.put("max_seconds", sorted[sorted.length - 1]);
            out.put("all_ok", allOk);
            putProblems(out, problems);
            System.out.printf(Locale.ROOT, "%s: time to last byte median %.3f s (min %.3f, max %.3f), %.0f MB/s;"
                            + " CPU a request: server %.3f s, load generator %.3f s%n",
                    label, median(sorted), sorted[0], sorted[sorted.length - 1], bytes / median(sorted) / 1e6,
                    serverCpu, clientCpu);
        }

        // ---- scenario 3

        void mapPhase(ObjectNode out, Snapshot snap, int conns, int batch, double warm, double secs, String sweep,
                      double sweepSecs) throws Exception {
            int distinctRequests = 64;
            List<String[]> emailSets = new ArrayList<>();
            List<byte[]> bodies = new ArrayList<>();
            SplittableRandom rnd = new SplittableRandom(7);
            String[] domains = {"example.com", "gmail.com", "yahoo.co.jp", "mail.example.org", "outlook.com", "icloud.com"};
            String[] names = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"};
            int n = 0;
            for (int r = 0; r < distinctRequests; r++) {
                String[] emails = new String[batch];
                StringBuilder sb = new StringBuilder(batch * 32).append("{\"email\":[");
                for (int i = 0; i < batch; i++, n++) {
                    // distinct even after normalisation (a unique number, no dots or '+' in gmail local parts)
                    String domain = domains[rnd.nextInt(domains.length)];
                    String sep = domain.equals("gmail.com") ? "" : ".";
                    emails[i] = names[rnd.nextInt(names.length)] + sep + "user" + n + "@" + domain;
                    sb.append(i == 0 ? "\"" : ",\"").append(emails[i]).append('"');
                }
                sb.append("]}");
                emailSets.add(emails);
                bodies.add(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
            out.put("distinct_emails", (long) n);
            out.put("request_json_bytes", bodies.get(0).length);
            Warm w = warmUp("s3 map    warm-up", "/v2/identity/map", () -> pool(bodies, distinctRequests), false, conns,
                    15, warm, 100_000, batch);
            PhaseResult r = closedLoop("/v2/identity/map", pool(bodies, distinctRequests), false, conns, secs, 100_000, 13, 20);
            report("s3 map   ", r, batch);
            int checked = 0;
            int good = 0;
            int uidsChecked = 0;
            List<String> problems = new ArrayList<>(r.errors);
            for (Sample s : r.samples) {
                checked++;
                try {
                    JsonNode doc = JSON.readTree(decrypt(s, false));
                    JsonNode mapped = doc.path("body").path("mapped");
                    String[] emails = emailSets.get(s.req().tag());
                    boolean ok = "success".equals(doc.path("status").asText()) && mapped.size() == batch
                            && doc.path("body").path("unmapped").isMissingNode();
                    for (int i = 0; ok && i < mapped.size(); i++) {
                        ok = emails[i].equals(mapped.get(i).path("identifier").asText())
                                && mapped.get(i).path("advertising_id").asText().length() == 44
                                && mapped.get(i).path("bucket_id").asText().startsWith("b");
                    }
                    // a few advertising ids recomputed independently from the snapshot (spec §5)
                    for (int i = 0; ok && i < batch; i += batch / 5) {
                        String expectedUid = snap.expectedUid(emails[i].toLowerCase(Locale.ROOT));
                        ok = expectedUid.equals(mapped.get(i).path("advertising_id").asText());
                        uidsChecked++;
                        if (!ok) {
                            problems.add(emails[i] + ": advertising_id " + mapped.get(i).path("advertising_id").asText()
                                    + ", expected " + expectedUid);
                        }
                    }
                    if (ok) {
                        good++;
                    } else if (problems.size() < 10) {
                        problems.add("map answer not as expected (mapped " + mapped.size() + ")");
                    }
                } catch (Exception e) {
                    problems.add(e.toString());
                }
            }
            System.out.printf(Locale.ROOT, "  s3 map: decrypted %d sampled answers: %d complete and in order; %d advertising ids recomputed%n",
                    checked, good, uidsChecked);
            fill(out, r, batch);
            w.into(out);
            out.put("samples_checked", checked);
            out.put("samples_good", good);
            out.put("all_ok", r.notOk == 0 && r.failed == 0 && w.bad == 0 && checked > 0 && good == checked);
            putProblems(out, problems);
            if (!sweep.isEmpty()) {
                ArrayNode points = out.putArray("sweep");
                for (String c : sweep.split(",")) {
                    int n2 = Integer.parseInt(c.trim());
                    PhaseResult p = closedLoop("/v2/identity/map", pool(bodies, distinctRequests), false, n2, sweepSecs,
                            100_000, 0, 0);
                    report("s3 map, " + n2 + " connections", p, batch);
                    ObjectNode point = points.addObject();
                    point.put("connections", n2);
                    fill(point, p, batch);
                    point.put("all_ok", p.notOk == 0 && p.failed == 0);
                    putProblems(point, p.errors);
                }
            }
        }

        // ---- engine

        /** Pre-encrypts `count` requests cycling over the JSON bodies, each with its own nonce, stamped now. */
        List<Req> pool(List<byte[]> jsons, int count) {
            List<Req> reqs = new ArrayList<>(count);
            long now = System.currentTimeMillis();
            for (int i = 0; i < count; i++) {
                byte[] nonce = EnvelopeCodec.randomNonce();
                int tag = i % jsons.size();
                reqs.add(new Req(EnvelopeCodec.encryptRequest(jsons.get(tag), secret, now, nonce), nonce, tag));
            }
            return reqs;
        }

        RequestOptions options(String path, boolean binary) {
            return new RequestOptions().setMethod(HttpMethod.POST).setHost(HOST).setPort(port).setURI(path)
                    .putHeader("Authorization", auth)
                    // the Java SDK sends base64 text as x-www-form-urlencoded; binary is the raw envelope
                    .putHeader("Content-Type", binary ? "application/octet-stream" : "application/x-www-form-urlencoded");
        }

        Buffer wire(Req r, boolean binary) {
            return Buffer.buffer(binary ? r.body() : Base64.getEncoder().encode(r.body()));
        }

        /**
         * `conns` request loops, each sending its next request when the previous answer's last byte arrived, until
         * `seconds` have passed or `maxRequests` were sent. Every `sampleEvery`-th answer (up to `maxSamples`) is
         * kept whole for checking afterwards; the others are only counted.
         */
        PhaseResult closedLoop(String path, List<Req> reqs, boolean binary, int conns, double seconds, long maxRequests,
                               int sampleEvery, int maxSamples) throws Exception {
            // encode the wire bodies up front, so the loop only copies bytes
            Buffer[] wires = new Buffer[reqs.size()];
            for (int i = 0; i < wires.length; i++) {
                wires[i] = wire(reqs.get(i), binary);
            }
            PhaseResult res = new PhaseResult();
            AtomicLong issued = new AtomicLong();
            AtomicInteger running = new AtomicInteger(conns);
            AtomicLong answered = new AtomicLong();
            ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            CompletableFuture<Void> done = new CompletableFuture<>();
            Gc gc0 = gcEnabled ? Gc.read(serverPid) : null;
            double serverCpu0 = Cpu.process(serverPid);
            double clientCpu0 = Cpu.self();
            long[] machine0 = Cpu.machine();
            long start = System.nanoTime();
            long deadline = start + (long) (seconds * 1e9);
            Object lock = new Object();
            long[] endOfLast = {start};
            Runnable[] loop = new Runnable[1];
            loop[0] = () -> {
                long n = issued.getAndIncrement();
                if (System.nanoTime() >= deadline || n >= maxRequests) {
                    if (running.decrementAndGet() == 0) {
                        done.complete(null);
                    }
                    return;
                }
                int which = (int) (n % wires.length);
                long t0 = System.nanoTime();
                client.request(options(path, binary))
                        .compose(req -> req.send(wires[which].copy()))
                        .onSuccess(resp -> {
                            int status = resp.statusCode();
                            long k = answered.incrementAndGet();
                            boolean keep = status != 200
                                    || (sampleEvery > 0 && k % sampleEvery == 1 && samples.size() < maxSamples);
                            Buffer whole = keep ? Buffer.buffer() : null;
                            long[] len = {0};
                            resp.handler(b -> {
                                len[0] += b.length();
                                if (whole != null) {
                                    whole.appendBuffer(b);
                                }
                            });
                            resp.exceptionHandler(e -> errors.add(e.toString()));
                            resp.endHandler(v -> {
                                long t1 = System.nanoTime();
                                synchronized (lock) {
                                    res.latencyMicros.recordValue(Math.max(1, (t1 - t0) / 1000));
                                    res.bytes += len[0];
                                    if (status == 200) {
                                        res.ok++;
                                    } else {
                                        res.notOk++;
                                    }
                                    endOfLast[0] = Math.max(endOfLast[0], t1);
                                }
                                if (whole != null) {
                                    if (status != 200 && errors.size() < 10) {
                                        errors.add("HTTP " + status + ": " + whole.toString(StandardCharsets.UTF_8));
                                    } else if (status == 200 && samples.size() < maxSamples) {
                                        samples.add(new Sample(reqs.get(which), whole.getBytes(), status));
                                    }
                                }
                                loop[0].run();
                            });
                        })
                        .onFailure(e -> {
                            synchronized (lock) {
                                res.failed++;
                            }
                            if (errors.size() < 10) {
                                errors.add(e.toString());
                            }
                            loop[0].run();
                        });
            };
            for (int i = 0; i < conns; i++) {
                vertx.runOnContext(v -> loop[0].run());
            }
            done.get((long) seconds + 120, TimeUnit.SECONDS);
            res.serverCpuSeconds = Cpu.process(serverPid) - serverCpu0;
            res.clientCpuSeconds = Cpu.self() - clientCpu0;
            long[] machine1 = Cpu.machine();
            res.machineBusy = (double) (machine1[0] - machine0[0]) / Math.max(1, machine1[1] - machine0[1]);
            Gc gc1 = gcEnabled ? Gc.read(serverPid) : null;
            res.gc = gc1 == null || gc0 == null ? null : gc1.minus(gc0);
            // requests in flight at the deadline are waited for and counted: the elapsed time runs to the last one
            res.seconds = (endOfLast[0] - start) / 1e9;
            res.samples.addAll(samples);
            res.errors.addAll(errors);
            return res;
        }

        /** One request; the answer kept whole when `keep`, else only counted (time to last byte). */
        Sample single(String path, Req r, boolean binary, boolean keep) throws Exception {
            CompletableFuture<Sample> result = new CompletableFuture<>();
            Buffer body = wire(r, binary);
            vertx.runOnContext(v -> client.request(options(path, binary))
                    .compose(req -> req.send(body))
                    .onSuccess(resp -> {
                        Buffer whole = keep ? Buffer.buffer(128 << 20) : null;
                        long[] len = {0};
                        resp.handler(b -> {
                            len[0] += b.length();
                            if (whole != null) {
                                whole.appendBuffer(b);
                            }
                        });
                        resp.exceptionHandler(result::completeExceptionally);
                        resp.endHandler(x -> result.complete(new Sample(r, whole == null ? new byte[0] : whole.getBytes(),
                                resp.statusCode())));
                    })
                    .onFailure(result::completeExceptionally));
            return result.get(120, TimeUnit.SECONDS);
        }

        byte[] decrypt(Sample s, boolean binary) {
            byte[] raw = binary ? s.body() : Base64.getDecoder().decode(s.body());
            return EnvelopeCodec.decryptResponse(raw, secret, s.req().nonce()); // checks the nonce
        }

        /** [entries, entries older than since] of a buckets answer; collects the bucket ids when `ids` is given. */
        static int[] countBuckets(byte[] json, long sinceMillis, Set<String> ids) throws IOException {
            DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS");
            int entries = 0;
            int older = 0;
            String status = null;
            try (JsonParser p = new JsonFactory().createParser(json)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new IOException("not a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    p.nextToken();
                    if (field.equals("body")) {
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            entries++;
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String name = p.currentName();
                                p.nextToken();
                                if (name.equals("last_updated")) {
                                    long t = LocalDateTime.parse(p.getText(), f).toInstant(ZoneOffset.UTC).toEpochMilli();
                                    if (t < sinceMillis) {
                                        older++;
                                    }
                                } else if (name.equals("bucket_id") && ids != null) {
                                    ids.add(p.getText());
                                }
                            }
                        }
                    } else if (field.equals("status")) {
                        status = p.getText();
                    } else {
                        p.skipChildren();
                    }
                }
            }
            if (!"success".equals(status)) {
                throw new IOException("status " + status);
            }
            return new int[] {entries, older};
        }

        static void report(String label, PhaseResult r, int itemsPerRequest) {
            System.out.printf(Locale.ROOT,
                    "%s: %,d x 200 (%,d other, %,d failed) in %.2f s = %,.0f req/s%s; latency p50 %.2f ms, p90 %.2f, p99 %.2f, max %.2f; %.0f MB/s received%n",
                    label, r.ok, r.notOk, r.failed, r.seconds, r.perSecond(),
                    itemsPerRequest > 1 ? String.format(Locale.ROOT, " = %,.0f items/s", r.perSecond() * itemsPerRequest) : "",
                    r.ms(50), r.ms(90), r.ms(99), r.latencyMicros.getMaxValue() / 1000.0, r.bytes / r.seconds / 1e6);
            long n = Math.max(1, r.ok + r.notOk);
            System.out.printf(Locale.ROOT,
                    "    CPU: server %.2f cores (%.3f ms a request), load generator %.2f cores (%.3f ms a request);"
                            + " machine %.0f%% busy, %.2f cores used by other processes%n",
                    r.serverCpuSeconds / r.seconds, r.serverCpuSeconds * 1000 / n,
                    r.clientCpuSeconds / r.seconds, r.clientCpuSeconds * 1000 / n, r.machineBusy * 100, r.otherCores());
            if (r.gc != null) {
                System.out.printf(Locale.ROOT, "    server GC: %,d young (%.3f s), %,d full (%.3f s)%n",
                        r.gc.young(), r.gc.youngSeconds(), r.gc.full(), r.gc.fullSeconds());
            }
            for (String e : r.errors.subList(0, Math.min(5, r.errors.size()))) {
                System.out.println("    error: " + e);
            }
        }

        static void fill(ObjectNode out, PhaseResult r, int itemsPerRequest) {
            out.put("requests_ok", r.ok);
            out.put("requests_not_ok", r.notOk);
            out.put("requests_failed", r.failed);
            out.put("seconds", r.seconds);
            out.put("requests_per_second", r.perSecond());
            if (itemsPerRequest > 1) {
                out.put("items_per_second", r.perSecond() * itemsPerRequest);
            }
            out.put("p50_ms", r.ms(50));
            out.put("p90_ms", r.ms(90));
            out.put("p99_ms", r.ms(99));
            out.put("max_ms", r.latencyMicros.getMaxValue() / 1000.0);
            out.put("server_cpu_cores", r.serverCpuSeconds / r.seconds);
            out.put("server_cpu_ms_per_request", r.serverCpuSeconds * 1000 / Math.max(1, r.ok + r.notOk));
            out.put("client_cpu_cores", r.clientCpuSeconds / r.seconds);
            out.put("machine_busy_fraction", r.machineBusy);
            out.put("other_processes_cores", r.otherCores());
            if (r.gc != null) {
                out.put("server_gc_young", r.gc.young());
                out.put("server_gc_young_seconds", r.gc.youngSeconds());
                out.put("server_gc_full", r.gc.full());
                out.put("server_gc_full_seconds", r.gc.fullSeconds());
            }
            out.put("bytes_per_answer", r.ok + r.notOk == 0 ? 0 : r.bytes / (r.ok + r.notOk));
        }

        static void putProblems(ObjectNode out, List<String> problems) {
            ArrayNode a = out.putArray("problems");
            problems.stream().limit(10).forEach(a::add);
        }
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ------------------------------------------------------------------------------------------------ summary

    /** Medians over runs: `summary --machine FILE run1/load.json run1/startup.json run2/… ` */
    static final class Summary {
        record Row(String what, String target, String reference, String unit, String path, boolean higherIsBetter,
                   double goal) {
        }

        static long runs(List<JsonNode> loads, List<JsonNode> startups) {
            return Math.max(loads.size(), startups.stream().filter(n -> n.has("startup_seconds")).count());
        }

        static void run(Opts o) throws IOException {
            List<JsonNode> loads = new ArrayList<>();
            List<JsonNode> startups = new ArrayList<>();
            for (String f : o.positional) {
                if (!Files.isRegularFile(Path.of(f))) {
                    System.out.println("(no results in " + f + ": that run was interrupted)");
                    continue;
                }
                JsonNode n = JSON.readTree(Path.of(f).toFile());
                if (n.has("complete") && !n.get("complete").asBoolean()) {
                    System.out.println("(" + f + " holds the results of an interrupted run, up to where it stopped)");
                }
                (n.has("startup_seconds") || n.has("startup_reuse_seconds") ? startups : loads).add(n);
            }
            List<Row> rows = List.of(
                    new Row("1. buckets, 2 days back: throughput", "≥ 2,000 req/s", "25 req/s", "req/s", "s1_buckets_window/requests_per_second", true, 2000),
                    new Row("1. buckets, 2 days back: p50 latency", "", "320 ms", "ms", "s1_buckets_window/p50_ms", false, Double.NaN),
                    new Row("1. buckets, 2 days back: p99 latency", "< 20 ms", "", "ms", "s1_buckets_window/p99_ms", false, 20),
                    new Row("1. server CPU a request (load generator shares the 2 cores)", "", "", "ms", "s1_buckets_window/server_cpu_ms_per_request", false, Double.NaN),
                    new Row("1. CPU used by other processes meanwhile (of 2 cores)", "", "", "cores", "s1_buckets_window/other_processes_cores", false, Double.NaN),
                    new Row("1. server full GCs during the 20 s run (count / pause s)", "", "", "n", "s1_buckets_window/server_gc_full|s1_buckets_window/server_gc_full_seconds", false, Double.NaN),
                    new Row("1b. same, binary envelope: throughput", "", "", "req/s", "s1b_buckets_window_binary/requests_per_second", true, Double.NaN),
                    new Row("1b. same, binary envelope: p50 / p99", "", "", "ms", "s1b_buckets_window_binary/p50_ms|s1b_buckets_window_binary/p99_ms", false, Double.NaN),
                    new Row("2. full answer (1,048,576 buckets): time to last byte", "< 1 s", "2.6–3.9 s", "s", "s2_buckets_full/median_seconds", false, 1),
                    new Row("2. same, first answer of a freshly started server (client buffers it whole)", "", "", "s", "s2_buckets_full/first_seconds", false, Double.NaN),
                    new Row("2b. same, binary envelope", "", "", "s", "s2b_buckets_full_binary/median_seconds", false, Double.NaN),
                    new Row("3. map, 5,000 emails a request: emails/s", "≥ 500,000/s", "174,000/s", "emails/s", "s3_map/items_per_second", true, 500_000),
                    new Row("3. map: p50 / p99 latency per request", "", "", "ms", "s3_map/p50_ms|s3_map/p99_ms", false, Double.NaN),
                    new Row("3. server CPU a 5,000-email request", "", "", "ms", "s3_map/server_cpu_ms_per_request", false, Double.NaN),
                    new Row("3. CPU used by other processes meanwhile (of 2 cores)", "", "", "cores", "s3_map/other_processes_cores", false, Double.NaN),
                    new Row("3. server full GCs during the 20 s run (count / pause s)", "", "", "n", "s3_map/server_gc_full|s3_map/server_gc_full_seconds", false, Double.NaN),
                    new Row("4. start-up to healthy (populated store; embedded PostgreSQL stopped: pg_ctl start included)", "< 3 s", "14 s", "s", "startup_seconds", false, 3),
                    new Row("4b. same, PostgreSQL left running by a killed server (reused)", "< 3 s", "", "s", "startup_reuse_seconds", false, 3),
                    new Row("4. server CPU until healthy (not PostgreSQL's)", "", "", "s", "startup_server_cpu_seconds", false, Double.NaN),
                    new Row("5. server VmRSS, peak during the scenarios", "< 512 MB", "4 GB", "MB", "rss_peak_kb", false, 512),
                    new Row("5. server VmRSS, 3 s after the scenarios", "< 512 MB", "", "MB", "rss_after_kb", false, 512),
                    new Row("CPU check before the load: SHA-256 of 64 B a second, one core (higher = faster machine)", "", "", "hashes/s", "cpu_check_sha256_per_second", true, Double.NaN));
            System.out.println();
            System.out.printf("| measure | idex (median of %d run%s) | runs | target | reference operator |%n",
                    runs(loads, startups), runs(loads, startups) == 1 ? "" : "s");
            System.out.println("| --- | --- | --- | --- | --- |");
            for (Row row : rows) {
                List<JsonNode> src = row.path().startsWith("startup") ? startups : loads;
                String[] paths = row.path().split("\\|");
                List<String> medians = new ArrayList<>();
                List<String> all = new ArrayList<>();
                double firstMedian = Double.NaN;
                for (String p : paths) {
                    double[] v = src.stream().map(n -> at(n, p)).filter(x -> !x.isMissingNode()).mapToDouble(JsonNode::asDouble)
                            .map(x -> row.unit().equals("MB") ? x / 1024 : x).toArray();
                    if (v.length == 0) {
                        continue;
                    }
                    double[] sorted = v.clone();
                    Arrays.sort(sorted);
                    double m = median(sorted);
                    if (Double.isNaN(firstMedian)) {
                        firstMedian = m;
                    }
                    medians.add(fmt(m, row.unit()));
                    StringBuilder sb = new StringBuilder();
                    for (double x : v) {
                        sb.append(sb.length() == 0 ? "" : ", ").append(fmt(x, row.unit()));
                    }
                    all.add(sb.toString());
                }
                if (medians.isEmpty()) {
                    continue;
                }
                String verdict = "";
                if (!Double.isNaN(row.goal())) {
                    boolean met = row.higherIsBetter() ? firstMedian >= row.goal() : firstMedian < row.goal();
                    verdict = met ? " ✅" : " ❌ missed";
                }
                String unit = row.unit().equals("n") ? "" : " " + row.unit();
                System.out.printf("| %s | **%s%s**%s | %s | %s | %s |%n", row.what(), String.join(" / ", medians), unit,
                        verdict, String.join(" / ", all), row.target(), row.reference());
            }
            sweep("Scenario 1 (buckets, 2 days back, base64 text) at other concurrencies", loads, "s1_sweep", "req/s", 1);
            sweep("Scenario 3 (map, 5,000 emails a request) at other concurrencies", loads, "s3_map/sweep", "emails/s", 0);
            List<String> bad = new ArrayList<>();
            for (JsonNode n : loads) {
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    if (e.getValue().has("all_ok") && !e.getValue().get("all_ok").asBoolean()) {
                        bad.add(e.getKey());
                    }
                }
            }
            System.out.println();
            System.out.println(bad.isEmpty()
                    ? "Checks: every answer was HTTP 200; sampled answers decrypted with the request's nonce and had the expected content."
                    : "CHECKS FAILED in: " + bad);
        }

        static void sweep(String title, List<JsonNode> loads, String path, String unit, int ignored) {
            Map<Integer, List<JsonNode>> byConns = new java.util.TreeMap<>();
            for (JsonNode n : loads) {
                for (JsonNode point : at(n, path)) {
                    byConns.computeIfAbsent(point.path("connections").asInt(), k -> new ArrayList<>()).add(point);
                }
            }
            if (byConns.isEmpty()) {
                return;
            }
            System.out.println();
            System.out.println(title + ":");
            System.out.println();
            System.out.println("| connections | " + unit + " (median) | p50 ms | p99 ms | server CPU, cores | server full GCs |");
            System.out.println("| --- | --- | --- | --- | --- | --- |");
            byConns.forEach((conns, points) -> {
                String field = unit.equals("req/s") ? "requests_per_second" : "items_per_second";
                System.out.printf("| %d | %s | %s | %s | %s | %s |%n", conns, fmt(med(points, field), unit),
                        fmt(med(points, "p50_ms"), "ms"), fmt(med(points, "p99_ms"), "ms"),
                        String.format(Locale.ROOT, "%.2f", med(points, "server_cpu_cores")),
                        points.get(0).has("server_gc_full") ? fmt(med(points, "server_gc_full"), "n") : "n/a");
            });
        }

        static double med(List<JsonNode> points, String field) {
            double[] v = points.stream().mapToDouble(p -> p.path(field).asDouble()).sorted().toArray();
            return median(v);
        }

        static JsonNode at(JsonNode n, String path) {
            JsonNode cur = n;
            for (String p : path.split("/")) {
                cur = cur.path(p);
            }
            return cur;
        }

        static String fmt(double v, String unit) {
            return switch (unit) {
                case "s" -> String.format(Locale.ROOT, "%.2f", v);
                case "ms" -> String.format(Locale.ROOT, "%.1f", v);
                case "cores" -> String.format(Locale.ROOT, "%.2f", v);
                case "n" -> v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
                case "MB" -> String.format(Locale.ROOT, "%.0f", v);
                default -> String.format(Locale.ROOT, "%,.0f", v);
            };
        }
    }

    // ------------------------------------------------------------------------------------------------ JFR

    /** Hottest methods of a JFR recording's execution samples: self time and "on the stack" time. */
    static final class JfrTop {
        static void run(Opts o) throws IOException {
            Path file = Path.of(o.positional.get(0));
            int top = o.integer("top", 25);
            Map<String, Integer> self = new HashMap<>();
            Map<String, Integer> total = new HashMap<>();
            Map<String, Integer> threads = new HashMap<>();
            int samples = 0;
            double fromSeconds = o.dbl("from", 0);
            Instant first = null;
            try (RecordingFile rf = new RecordingFile(file)) {
                while (rf.hasMoreEvents()) {
                    RecordedEvent e = rf.readEvent();
                    if (!e.getEventType().getName().equals("jdk.ExecutionSample")) {
                        continue;
                    }
                    if (first == null) {
                        first = e.getStartTime();
                    }
                    if (java.time.Duration.between(first, e.getStartTime()).toMillis() < fromSeconds * 1000) {
                        continue;
                    }
                    RecordedStackTrace st = e.getStackTrace();
                    if (st == null || st.getFrames().isEmpty()) {
                        continue;
                    }
                    samples++;
                    threads.merge(String.valueOf(e.getThread("sampledThread") == null ? "?" :
                            e.getThread("sampledThread").getJavaName()).replaceAll("-\\d+$", "-N"), 1, Integer::sum);
                    List<RecordedFrame> frames = st.getFrames();
                    self.merge(name(frames.get(0)), 1, Integer::sum);
                    Set<String> seen = new HashSet<>();
                    for (RecordedFrame f : frames) {
                        String n = name(f);
                        if (seen.add(n)) {
                            total.merge(n, 1, Integer::sum);
                        }
                    }
                }
            }
            System.out.println(samples + " execution samples");
            print("threads", threads, samples, top);
            print("self", self, samples, top);
            print("on stack (idex.* only)", filter(total, "idex."), samples, top);
        }

        static Map<String, Integer> filter(Map<String, Integer> m, String prefix) {
            Map<String, Integer> r = new HashMap<>();
            m.forEach((k, v) -> {
                if (k.startsWith(prefix)) {
                    r.put(k, v);
                }
            });
            return r;
        }

        static String name(RecordedFrame f) {
            return f.getMethod().getType().getName() + "." + f.getMethod().getName();
        }

        static void print(String title, Map<String, Integer> m, int samples, int top) {
            System.out.println("-- " + title);
            m.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
                    .forEach(e -> System.out.printf(Locale.ROOT, "%6.1f%%  %s%n", 100.0 * e.getValue() / samples, e.getKey()));
        }
    }
}
