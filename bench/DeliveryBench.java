// Benchmark of idex's event delivery (issue 14), run with the JDK source launcher against the server jar:
//
//   java -cp target/idex.jar bench/DeliveryBench.java --port P --key ACCOUNT_KEY [--option value ...]
//
// Against a server started with --delivery-allow-private-networks (bench/run-delivery.sh starts one), in one run:
//   1. accept:   events/s the server accepts with no subscription: single events per POST /v1/event from
//                --clients concurrent clients (closed loop) for --duration s (after --warmup s).
//   2. latency:  --rate events/s offered (open loop) to one subscription whose destination is a fast receiver on
//                loopback in this JVM; p50/p99 from the 200 (as the client sees it) to the receiver getting the event
//                (matched by the event's uid identifier). Goal p99 < 250 ms.
//   3. max:      events offered as fast as the server accepts them (closed loop) for --duration s to the same
//                subscription; the rate at which they reach the receiver over the window. Goal >= 0.5 of 1.
//   4. dead:     2 again, with a second destination that never answers (a socket that accepts and reads nothing)
//                subscribed to the same events: the healthy one's p50/p99 should not change beyond noise.
//   5. memory:   --pending deliveries for a dead destination (a closed port) accumulate from events posted in
//                batches of 1000; the server's heap (the sum of /metrics jvm_memory_used_bytes{area="heap"}) after a
//                full collection (jcmd <pid> GC.run) before and after, and the most seen while they accumulate.
// Every request goes to 127.0.0.1 only; every loop is bounded in time or count. Prints one JSON object.

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class DeliveryBench {

    static int port;
    /** Events per request (`--batch`): 1 posts single events; more post `{"events":[…]}`. */
    static int batch = 1;
    static String accountKey;
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).executor(Executors.newFixedThreadPool(8)).build();
    static final AtomicLong SEQ = new AtomicLong();
    static final Pattern UID = Pattern.compile("\"value\":\"(b-[0-9]+)\"");
    static final Pattern ID = Pattern.compile("\"endpointId\":([0-9]+)");
    static final Pattern KEY = Pattern.compile("\"key\":\"([^\"]+)\"");

    /** The fast receiver: when each uid arrived (nanoTime), first arrival only; how many requests in all. */
    static final Map<String, Long> ARRIVED = new ConcurrentHashMap<>();
    static final AtomicLong REQUESTS = new AtomicLong();

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        port = Integer.parseInt(o.get("port"));
        accountKey = o.get("key");
        int clients = Integer.parseInt(o.getOrDefault("clients", "8"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "5"));
        int duration = Integer.parseInt(o.getOrDefault("duration", "15"));
        int rate = Integer.parseInt(o.getOrDefault("rate", "1000"));
        batch = Integer.parseInt(o.getOrDefault("batch", "1"));
        int pending = Integer.parseInt(o.getOrDefault("pending", "1000000"));
        long serverPid = Long.parseLong(o.getOrDefault("server-pid", "0"));
        SERVER_PID = serverPid;
        String only = o.getOrDefault("phases", "1,2,3,4,5");

        HttpServer fast = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 256);
        fast.setExecutor(Executors.newFixedThreadPool(16));
        fast.createContext("/", ex -> {
            long now = System.nanoTime();
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readAllBytes();
            }
            REQUESTS.incrementAndGet();
            Matcher m = UID.matcher(new String(body, StandardCharsets.UTF_8));
            while (m.find()) {
                ARRIVED.putIfAbsent(m.group(1), now);
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        fast.start();
        DeadReceiver dead = new DeadReceiver();
        String fastUrl = "http://127.0.0.1:" + fast.getAddress().getPort() + "/fast";
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // closed again: connections are refused
        }

        Map<String, Object> result = new LinkedHashMap<>();
        String ids = "[{\"name\":\"uid\",\"type\":\"string\"}]";
        String[] src1 = register("{\"name\":\"Bulk\",\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + ids + "}");
        String[] src2 = register("{\"name\":\"Web\",\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + ids + "}");
        String[] src3 = register("{\"name\":\"Backlog\",\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":" + ids + "}");
        String[] fastDest = register(destination("Fast", fastUrl));

        if (only.contains("1")) {
            System.err.println("== 1. accept rate, no subscription: " + clients + " clients, " + duration + " s ==");
            closedLoop(src1[1], clients, warmup, null);
            Map<String, Object> r = closedLoop(src1[1], clients, duration, null);
            result.put("accept", r);
            System.err.println(r);
        }
        subscribe(fastDest[0], src2[0]);
        if (only.contains("2")) {
            System.err.println("== 2. latency at " + rate + "/s to a fast receiver, " + duration + " s ==");
            openLoop(src2[1], rate, warmup); // warm-up: the delivery path's code compiled, connections open
            drain(60);
            Map<String, Object> r = openLoop(src2[1], rate, duration);
            result.put("latency", r);
            System.err.println(r);
        }
        if (only.contains("3")) {
            System.err.println("== 3. the most events/s delivered: " + clients + " clients, " + duration + " s ==");
            Map<String, Object> r = closedLoop(src2[1], clients, duration, ARRIVED);
            result.put("max", r);
            System.err.println(r);
            drain(180);
        }
        if (only.contains("4")) {
            String[] deadDest = register(destination("Dead", "http://127.0.0.1:" + dead.port() + "/dead"));
            subscribe(deadDest[0], src2[0]);
            System.err.println("== 4. latency at " + rate + "/s with a dead destination also subscribed, " + duration + " s ==");
            Map<String, Object> r = openLoop(src2[1], rate, duration);
            r.put("deadConnectionsHeld", dead.accepted());
            result.put("latencyWithDead", r);
            System.err.println(r);
        }
        if (only.contains("5")) {
            String[] closed = register(destination("Closed", "http://127.0.0.1:" + closedPort + "/closed"));
            subscribe(closed[0], src3[0]);
            System.err.println("== 5. heap while " + pending + " deliveries for a dead destination accumulate ==");
            result.put("memory", memory(src3[1], pending, serverPid));
            System.err.println(result.get("memory"));
        }
        System.out.println(json(result));
        fast.stop(0);
        dead.close();
        System.exit(0);
    }

    static long SERVER_PID;

    /** {server JVM's CPU ms, whole machine's busy CPU ms} so far (Linux /proc; zeros elsewhere). */
    static long[] cpu() {
        try {
            long tick = 10; // USER_HZ is 100 on Linux
            String[] stat = Files.readString(Path.of("/proc/" + SERVER_PID + "/stat")).replaceFirst(".*\\) ", "")
                    .split(" ");
            long server = (Long.parseLong(stat[11]) + Long.parseLong(stat[12])) * tick;
            String[] all = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < all.length; i++) {
                if (i != 4 && i != 5) { // all but idle and iowait
                    busy += Long.parseLong(all[i]);
                }
            }
            return new long[]{server, busy * tick};
        } catch (Exception e) {
            return new long[]{0, 0};
        }
    }

    static void putCpu(Map<String, Object> r, long[] before, int events) {
        putCpu(r, before, cpu(), events);
    }

    /** The server's and the machine's CPU per accepted event over a phase (the machine's includes PostgreSQL and us). */
    static void putCpu(Map<String, Object> r, long[] before, long[] after, int events) {
        if (events > 0 && after[0] > 0) {
            r.put("serverCpuMsPerEvent", round((after[0] - before[0]) / (double) events));
            r.put("machineCpuMsPerEvent", round((after[1] - before[1]) / (double) events));
        }
    }

    static String destination(String name, String url) {
        return "{\"name\":\"" + name + "\",\"endpointTypes\":{\"event\":{\"destination\":{\"enabled\":true,\"url\":\""
                + url + "\"}}},\"identifiers\":[{\"name\":\"uid\",\"type\":\"string\"}]}";
    }

    /** {endpointId, key}. */
    static String[] register(String json) throws Exception {
        HttpResponse<String> r = send("/v1/endpoint", accountKey, json);
        if (r.statusCode() != 201) {
            throw new IllegalStateException("registration: " + r.statusCode() + " " + r.body());
        }
        Matcher id = ID.matcher(r.body());
        Matcher key = KEY.matcher(r.body());
        id.find();
        key.find();
        return new String[]{id.group(1), key.group(1)};
    }

    static void subscribe(String destination, String source) throws Exception {
        HttpResponse<String> r = send("/v1/subscriptions", accountKey, "{\"destinationEndpointId\":" + destination
                + ",\"sourceEndpointId\":" + source + ",\"eventCodes\":[\"*\"]}");
        if (r.statusCode() != 201) {
            throw new IllegalStateException("subscription: " + r.statusCode() + " " + r.body());
        }
    }

    static HttpResponse<String> send(String path, String key, String json) throws Exception {
        return HTTP.send(request(path, key, json), HttpResponse.BodyHandlers.ofString());
    }

    static HttpRequest request(String path, String key, String json) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    static String event(String uid) {
        return "{\"code\":\"visit\",\"timestamp\":\"2026-12-03T10:00:00Z\",\"identifiers\":[{\"name\":\"uid\",\"value\":\""
                + uid + "\"}]}";
    }

    /** `batch` new uids, and the request body that posts them (one event, or {"events":[…]}). */
    static List<String> uids() {
        List<String> uids = new ArrayList<>(batch);
        for (int i = 0; i < batch; i++) {
            uids.add("b-" + SEQ.incrementAndGet());
        }
        return uids;
    }

    static String body(List<String> uids) {
        if (uids.size() == 1) {
            return event(uids.get(0));
        }
        StringBuilder b = new StringBuilder("{\"events\":[");
        for (int i = 0; i < uids.size(); i++) {
            b.append(i == 0 ? "" : ",").append(event(uids.get(i)));
        }
        return b.append("]}").toString();
    }

    /**
     * `clients` threads post single events back to back for `seconds`; the accepted rate, and with `arrivals` the
     * rate at which those events reached the receiver within the window and until the last arrived.
     */
    static Map<String, Object> closedLoop(String key, int clients, int seconds, Map<String, Long> arrivals)
            throws Exception {
        long[] cpuBefore = cpu();
        List<String> accepted = new CopyOnWriteArrayList<>();
        AtomicLong errors = new AtomicLong();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                List<String> mine = new ArrayList<>();
                while (System.nanoTime() < end) {
                    List<String> uids = uids();
                    try {
                        HttpResponse<String> r = send("/v1/event", key, body(uids));
                        if (r.statusCode() == 200) {
                            mine.addAll(uids);
                        } else {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                }
                accepted.addAll(mine);
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        double window = (System.nanoTime() - start) / 1e9;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("clients", clients);
        r.put("seconds", round(window));
        r.put("accepted", accepted.size());
        r.put("acceptedPerSecond", round(accepted.size() / window));
        r.put("errors", errors.get());
        putCpu(r, cpuBefore, accepted.size());
        if (arrivals != null) {
            long inWindow = accepted.stream().map(arrivals::get).filter(a -> a != null && a <= end).count();
            r.put("deliveredInWindow", inWindow);
            r.put("deliveredPerSecondInWindow", round(inWindow / window));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (System.nanoTime() < deadline && !accepted.stream().allMatch(arrivals::containsKey)) {
                Thread.sleep(100);
            }
            long last = accepted.stream().map(arrivals::get).filter(a -> a != null).mapToLong(Long::longValue)
                    .max().orElse(start);
            long delivered = accepted.stream().filter(arrivals::containsKey).count();
            r.put("delivered", delivered);
            r.put("secondsToLastDelivery", round((last - start) / 1e9));
            r.put("deliveredPerSecondToLast", round(delivered / ((last - start) / 1e9)));
        }
        return r;
    }

    /**
     * Posts single events at `rate` per second (open loop, asynchronous) for `seconds`; then waits (up to 60 s) for
     * all accepted to reach the receiver, and answers the latency from each 200 to its arrival.
     */
    static Map<String, Object> openLoop(String key, int rate, int seconds) throws Exception {
        long[] cpuBefore = cpu();
        Map<String, Long> acceptedAt = new ConcurrentHashMap<>();
        AtomicLong errors = new AtomicLong();
        AtomicLong late = new AtomicLong();
        long requests = Math.max(1, (long) rate * seconds / batch);
        long total = requests * batch;
        long start = System.nanoTime();
        List<java.util.concurrent.CompletableFuture<?>> inFlight = new ArrayList<>();
        for (long i = 0; i < requests; i++) {
            long due = start + i * 1_000_000_000L * batch / rate;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            } else if (wait < -100_000_000L) {
                late.incrementAndGet(); // the client fell behind: the offered rate is lower than asked
            }
            List<String> uids = uids();
            inFlight.add(HTTP.sendAsync(request("/v1/event", key, body(uids)), HttpResponse.BodyHandlers.ofString())
                    .whenComplete((r, e) -> {
                        long now = System.nanoTime();
                        if (e == null && r.statusCode() == 200) {
                            uids.forEach(uid -> acceptedAt.put(uid, now));
                        } else {
                            errors.incrementAndGet();
                        }
                    }));
        }
        for (var f : inFlight) {
            try {
                f.join();
            } catch (RuntimeException ignored) {
                // counted as an error
            }
        }
        double offeredSeconds = (System.nanoTime() - start) / 1e9;
        long[] cpuOffered = cpu();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && !ARRIVED.keySet().containsAll(acceptedAt.keySet())) {
            Thread.sleep(50);
        }
        long[] ms = acceptedAt.entrySet().stream().filter(e -> ARRIVED.containsKey(e.getKey()))
                .mapToLong(e -> Math.max(0, ARRIVED.get(e.getKey()) - e.getValue())).sorted().toArray();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("rateAsked", rate);
        r.put("eventsPerRequest", batch);
        r.put("offeredPerSecond", round(total / offeredSeconds));
        putCpu(r, cpuBefore, cpuOffered, acceptedAt.size());
        r.put("accepted", acceptedAt.size());
        r.put("errors", errors.get());
        r.put("delivered", ms.length);
        r.put("p50ms", round(pct(ms, 0.50) / 1e6));
        r.put("p90ms", round(pct(ms, 0.90) / 1e6));
        r.put("p99ms", round(pct(ms, 0.99) / 1e6));
        r.put("maxms", round(pct(ms, 1.0) / 1e6));
        return r;
    }

    /** Waits until every uid posted so far that the server accepted has arrived (or `seconds` pass). */
    static void drain(int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        long seen = -1;
        while (System.nanoTime() < deadline) {
            long now = REQUESTS.get();
            if (now == seen) {
                return; // a second with nothing new: the backlog is delivered
            }
            seen = now;
            Thread.sleep(1000);
        }
    }

    static Map<String, Object> memory(String key, int pending, long serverPid) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("heapAfterGcBeforeMb", mb(heapAfterGc(serverPid)));
        long start = System.nanoTime();
        long maxHeap = 0;
        int batches = pending / 1000;
        int uids = 5000; // events of the same 5,000 people again and again: identity resolution is a lookup
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        AtomicLong max = new AtomicLong();
        sampler.scheduleAtFixedRate(() -> {
            try {
                max.accumulateAndGet(heap(), Math::max);
            } catch (Exception ignored) {
                // a missed sample
            }
        }, 0, 500, TimeUnit.MILLISECONDS);
        List<Thread> threads = new ArrayList<>();
        AtomicLong next = new AtomicLong();
        AtomicLong errors = new AtomicLong();
        for (int c = 0; c < 4; c++) {
            Thread t = new Thread(() -> {
                for (long b; (b = next.getAndIncrement()) < batches; ) {
                    StringBuilder body = new StringBuilder("{\"events\":[");
                    for (int i = 0; i < 1000; i++) {
                        body.append(i == 0 ? "" : ",").append(event("p-" + ((b * 1000 + i) % uids)));
                    }
                    body.append("]}");
                    try {
                        if (send("/v1/event", key, body.toString()).statusCode() != 200) {
                            errors.incrementAndGet();
                        }
                    } catch (Exception e) {
                        errors.incrementAndGet();
                    }
                    if (b % 100 == 99) {
                        System.err.printf("  %,d events posted, heap %.0f MB (max so far %.0f MB)%n", (b + 1) * 1000,
                                mb(safeHeap()), mb(max.get()));
                    }
                }
            });
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Thread.sleep(5000); // let it settle: the engine keeps retrying the closed port
        sampler.shutdown();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
        r.put("eventsPosted", (long) batches * 1000);
        r.put("postErrors", errors.get());
        r.put("postSeconds", round(seconds));
        r.put("pendingMetric", pendingMetric());
        r.put("heapMaxWhileAccumulatingMb", mb(max.get()));
        r.put("heapAfterGcAfterMb", mb(heapAfterGc(serverPid)));
        r.put("heapNowMb", mb(heap()));
        return r;
    }

    static long safeHeap() {
        try {
            return heap();
        } catch (Exception e) {
            return 0;
        }
    }

    /** Runs a full collection in the server (jcmd GC.run), then reads its heap. */
    static long heapAfterGc(long pid) throws Exception {
        if (pid > 0) {
            new ProcessBuilder("jcmd", Long.toString(pid), "GC.run").redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
        }
        return heap();
    }

    static String metrics() throws Exception {
        HttpRequest q = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(30)).GET().build();
        return HTTP.send(q, HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The sum of jvm_memory_used_bytes over the heap's pools. */
    static long heap() throws Exception {
        long sum = 0;
        for (String line : metrics().split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    static String pendingMetric() throws Exception {
        StringBuilder b = new StringBuilder();
        for (String line : metrics().split("\n")) {
            if (line.startsWith("idex_delivery_pending")) {
                b.append(b.length() == 0 ? "" : "; ").append(line);
            }
        }
        return b.toString();
    }

    /** A destination that accepts connections and never reads or answers. */
    static final class DeadReceiver implements AutoCloseable {
        final ServerSocket socket = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
        final List<Socket> held = new CopyOnWriteArrayList<>();

        DeadReceiver() throws IOException {
            Thread t = new Thread(() -> {
                while (!socket.isClosed()) {
                    try {
                        held.add(socket.accept());
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "dead-receiver");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        int accepted() {
            return held.size();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : held) {
                s.close();
            }
        }
    }

    static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1 < 0 ? 0
                : (int) Math.ceil(p * sorted.length) - 1)];
    }

    static double mb(long bytes) {
        return round(bytes / 1048576.0);
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    static String json(Object o) {
        if (o instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            m.forEach((k, v) -> b.append(b.length() == 1 ? "" : ",").append('"').append(k).append("\":").append(json(v)));
            return b.append('}').toString();
        }
        if (o instanceof String s) {
            return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
        }
        return String.valueOf(o);
    }
}
