// Benchmark of idex's segment export (issue 4), run with the JDK source launcher against the server jar:
//
//   java -cp target/idex.jar bench/ExportBench.java <command> [--option value ...]
//
// Commands (bench/run-export.sh and bench/run-push.sh string them together; see BENCHMARKS.md):
//   generate --file F [--rows 10000000] [--seed 1]
//            a CSV with header "email,cookieId": a distinct email and a 64-character cookie id per row (~1 GB at 10M)
//   baseline --file F --out DIR
//            the FastCSV floor: parse F and write every record to DIR/baseline.csv, as fast as FastCSV does it
//   export   --file F --port P --key ACCOUNT_KEY --out DIR [--pid SERVER_PID] [--downloads 2]
//            end to end through a running server: register a push source and a pull destination, create a segment
//            export mapping email → EMAIL_SHA256 and copying cookieId, upload F (streamed), wait for
//            READY_FOR_DOWNLOAD, download every segment data file into DIR (with curl, --downloads files at a time),
//            complete the job. Samples the server's resident memory (VmRSS of --pid) every 100 ms throughout.
//   verify   --file F --dir DIR
//            checks the downloaded files in DIR against F row by row (SHA-256 of the lower-cased email, the cookie id)
//   push     --file F --port P --key ACCOUNT_KEY --out DIR [--pid SERVER_PID] [--sink disk|count]
//            the same export to a push destination (issue 15): starts a receiver of the segment API on loopback in
//            this JVM (GET/POST /v1/segments, POST|PUT /v1/segments/{id}/data streamed to DIR, one file per call, 204;
//            with --sink count, bodies are not stored: their data rows are counted and CRC32C-summed as they arrive),
//            registers a push source and a push destination at it, uploads F (streamed), waits for COMPLETE.
//            The server needs --delivery-allow-private-networks.
//   digest   --dir DIR
//            the data rows of DIR's *.csv files (in name order, each file's header line left out; every header must be
//            the same): their count, and the SHA-256 and CRC32C of their bytes concatenated, to compare a push with a pull
// Each command prints one JSON line of results.
//
// Every request goes to 127.0.0.1 only; loops are bounded in time.

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import de.siegmar.fastcsv.writer.CsvWriter;

import java.io.BufferedWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Locale;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class ExportBench {

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        switch (args[0]) {
            case "generate" -> generate(Path.of(o.get("file")), Integer.parseInt(o.getOrDefault("rows", "10000000")),
                    Long.parseLong(o.getOrDefault("seed", "1")));
            case "baseline" -> baseline(Path.of(o.get("file")), Path.of(o.get("out")));
            case "verify" -> verify(Path.of(o.get("file")), Path.of(o.get("dir")));
            case "export" -> export(Path.of(o.get("file")), Integer.parseInt(o.get("port")), o.get("key"),
                    Path.of(o.get("out")), o.containsKey("pid") ? Long.parseLong(o.get("pid")) : -1,
                    Integer.parseInt(o.getOrDefault("downloads", "2")));
            case "push" -> push(Path.of(o.get("file")), Integer.parseInt(o.get("port")), o.get("key"),
                    Path.of(o.get("out")), o.containsKey("pid") ? Long.parseLong(o.get("pid")) : -1,
                    o.getOrDefault("sink", "disk").equals("count"));
            case "digest" -> digest(Path.of(o.get("dir")));
            default -> throw new IllegalArgumentException("usage: ExportBench generate|baseline|export|verify|push|digest …");
        }
    }

    static void generate(Path file, int rows, long seed) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        String[] names = {"ann", "bob", "cyril", "dana", "eve", "frank", "gina", "hugo", "iris", "jon"};
        String[] domains = {"example.com", "mail.example.org", "corp.example.net", "example.co.uk"};
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("email,cookieId\n");
            for (int i = 0; i < rows; i++) {
                String name = names[random.nextInt(names.length)];
                w.write(Character.toUpperCase(name.charAt(0)) + name.substring(1) + "." + i + "@"
                        + domains[random.nextInt(domains.length)] + ",");
                w.write(String.format("%016x%016x%016x%016x", random.nextLong(), random.nextLong(), random.nextLong(),
                        random.nextLong()));
                w.write('\n');
            }
        }
        System.out.println(JSON.createObjectNode().put("rows", rows).put("bytes", Files.size(file)));
    }

    static void baseline(Path file, Path outDir) throws Exception {
        Files.createDirectories(outDir);
        Path out = outDir.resolve("baseline.csv");
        long t0 = System.nanoTime();
        long rows = 0;
        try (CsvReader<CsvRecord> r = CsvReader.builder().ofCsvRecord(file);
             CsvWriter w = CsvWriter.builder().build(out)) {
            for (CsvRecord rec : r) {
                w.writeRecord(rec.getFields());
                rows++;
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.println(JSON.createObjectNode().put("rows", rows - 1).put("seconds", s)
                .put("rowsPerSecond", (rows - 1) / s).put("bytes", Files.size(file)));
        Files.delete(out);
    }

    /**
     * Checks a downloaded export against its upload, row by row: the files (in name order, each with its header) hold
     * exactly the upload's rows in order, each as SHA-256 of the lower-cased email and the same cookie id.
     */
    static void verify(Path file, Path dir) throws Exception {
        List<Path> files;
        try (var listing = Files.list(dir)) {
            files = listing.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
        }
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        long rows = 0;
        try (CsvReader<CsvRecord> in = CsvReader.builder().ofCsvRecord(file)) {
            Iterator<CsvRecord> input = in.iterator();
            input.next(); // header
            for (Path f : files) {
                try (CsvReader<CsvRecord> out = CsvReader.builder().ofCsvRecord(f)) {
                    Iterator<CsvRecord> output = out.iterator();
                    if (!output.next().getFields().equals(List.of("EMAIL_SHA256", "cookieId"))) {
                        throw new IllegalStateException(f + ": unexpected header");
                    }
                    while (output.hasNext()) {
                        CsvRecord got = output.next();
                        CsvRecord sent = input.next();
                        String hash = HexFormat.of().formatHex(sha256.digest(
                                sent.getField(0).trim().toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8)));
                        if (!got.getField(0).equals(hash) || !got.getField(1).equals(sent.getField(1))) {
                            throw new IllegalStateException(f + ": row " + (rows + 1) + " is " + got + ", expected "
                                    + hash + "," + sent.getField(1));
                        }
                        rows++;
                    }
                }
            }
            if (input.hasNext()) {
                throw new IllegalStateException("the files hold " + rows + " rows; the upload has more");
            }
        }
        System.out.println(JSON.createObjectNode().put("verifiedRows", rows).put("files", files.size()));
    }

    static void export(Path file, int port, String accountKey, Path outDir, long pid, int downloads) throws Exception {
        String base = "http://127.0.0.1:" + port;
        String ids = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
        JsonNode source = call(base, accountKey, "POST", "/v1/endpoint", registration("CRM", "source", "push", ids));
        JsonNode destination = call(base, accountKey, "POST", "/v1/endpoint", registration("Ads", "destination", "pull", ids));
        String sourceKey = source.get("key").asText();
        String destinationKey = destination.get("key").asText();
        JsonNode job = call(base, sourceKey, "POST", "/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                + source.get("endpointId") + ",\"producerSegmentID\":1,\"destinationEndpointID\":"
                + destination.get("endpointId") + ",\"destinationSegmentName\":\"bench\",\"shareAction\":\"ADD\","
                + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"}}");
        long jobId = job.get("jobId").asLong();

        AtomicLong peakRss = new AtomicLong();
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        if (pid > 0) {
            sampler.scheduleAtFixedRate(() -> peakRss.accumulateAndGet(rssKb(pid), Math::max), 0, 100, TimeUnit.MILLISECONDS);
        }
        long[] cpu0 = cpuTicks(pid);
        long t0 = System.nanoTime();
        // The big transfers go through curl, streamed (-T), as an operator's script would: the JDK client's own
        // per-chunk costs would otherwise be measured instead of the server's.
        String upStatus = curl("-T", file.toString(), "-X", "POST", "-H", "Authorization: Bearer " + sourceKey,
                "-H", "Content-Type: text/csv", base + "/v1/jobs/" + jobId + "/data");
        if (!upStatus.equals("200")) {
            throw new IllegalStateException("upload: " + upStatus);
        }
        long uploaded = System.nanoTime();
        JsonNode ready;
        long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
        while (true) {
            ready = call(base, destinationKey, "GET", "/v1/jobs/SEGMENT_EXPORT/" + jobId, null).get(0);
            String status = ready.get("status").asText();
            if (status.equals("READY_FOR_DOWNLOAD")) {
                break;
            }
            if (status.equals("ERROR") || System.nanoTime() > deadline) {
                throw new IllegalStateException("job: " + ready);
            }
            Thread.sleep(50);
        }
        long processed = System.nanoTime();
        Files.createDirectories(outDir);
        // Files are fetched `downloads` at a time (two by default), as download tools can: the server serves them in parallel.
        AtomicLong downloadedBytes = new AtomicLong();
        ExecutorService fetchers = Executors.newFixedThreadPool(downloads);
        List<Future<?>> fetched = new ArrayList<>();
        for (JsonNode name : ready.get("segmentDataFiles")) {
            fetched.add(fetchers.submit(() -> {
                Path target = outDir.resolve(name.asText());
                String status = curl("-o", target.toString(), "-H", "Authorization: Bearer " + destinationKey,
                        base + "/v1/jobs/" + jobId + "/segmentDataFiles/" + name.asText());
                if (!status.equals("200")) {
                    throw new IllegalStateException("download " + name + ": " + status);
                }
                return downloadedBytes.addAndGet(Files.size(target));
            }));
        }
        for (Future<?> f : fetched) {
            f.get();
        }
        fetchers.shutdown();
        long downloaded = System.nanoTime();
        long[] cpu1 = cpuTicks(pid);
        call(base, destinationKey, "PUT", "/v1/jobs/" + jobId + "/status/complete", null);
        sampler.shutdownNow();
        long rows = ready.get("sourceRecordCount").asLong();
        double total = (downloaded - t0) / 1e9;
        System.out.println(JSON.createObjectNode().put("rows", rows)
                .put("destinationRows", ready.get("destinationRecordCount").asLong())
                .put("files", ready.get("segmentDataFiles").size())
                .put("uploadSeconds", (uploaded - t0) / 1e9).put("processSeconds", (processed - uploaded) / 1e9)
                .put("downloadSeconds", (downloaded - processed) / 1e9).put("totalSeconds", total)
                .put("rowsPerSecond", rows / total).put("uploadedBytes", Files.size(file))
                .put("downloadedBytes", downloadedBytes.get()).put("parallelDownloads", downloads)
                .put("serverUserSeconds", (cpu1[0] - cpu0[0]) / 100.0).put("serverSystemSeconds", (cpu1[1] - cpu0[1]) / 100.0)
                .put("serverPeakRssMb", peakRss.get() / 1024));
    }

    /**
     * The same export as {@link #export}, to a push destination: the server delivers every file to a receiver in this
     * JVM. Times: upload, then "processing after it" up to the first file's arrival, then delivery up to COMPLETE.
     */
    static void push(Path file, int port, String accountKey, Path outDir, long pid, boolean count) throws Exception {
        String base = "http://127.0.0.1:" + port;
        Files.createDirectories(outDir);
        try (SegmentReceiver receiver = SegmentReceiver.start(count ? null : outDir)) {
            String ids = "[{\"name\":\"email\",\"type\":\"email\"},{\"name\":\"cookieId\"}]";
            JsonNode source = call(base, accountKey, "POST", "/v1/endpoint", registration("CRM", "source", "push", ids));
            JsonNode destination = call(base, accountKey, "POST", "/v1/endpoint", "{\"name\":\"Partner\",\"url\":\""
                    + receiver.url() + "\",\"endpointTypes\":{\"audience\":{\"destination\":{\"enabled\":true,"
                    + "\"destinationType\":\"push\"}}},\"identifiers\":" + ids + "}");
            String sourceKey = source.get("key").asText();
            String destinationKey = destination.get("key").asText();
            JsonNode job = call(base, sourceKey, "POST", "/v1/jobs/segmentExport", "{\"producerEndpointID\":"
                    + source.get("endpointId") + ",\"producerSegmentID\":1,\"destinationEndpointID\":"
                    + destination.get("endpointId") + ",\"destinationSegmentName\":\"bench\",\"shareAction\":\"ADD\","
                    + "\"identityMappings\":{\"email\":\"EMAIL_SHA256\",\"cookieId\":\"cookieId\"}}");
            long jobId = job.get("jobId").asLong();

            AtomicLong peakRss = new AtomicLong();
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            if (pid > 0) {
                sampler.scheduleAtFixedRate(() -> peakRss.accumulateAndGet(rssKb(pid), Math::max), 0, 100, TimeUnit.MILLISECONDS);
            }
            long[] cpu0 = cpuTicks(pid);
            long t0 = System.nanoTime();
            String upStatus = curl("-T", file.toString(), "-X", "POST", "-H", "Authorization: Bearer " + sourceKey,
                    "-H", "Content-Type: text/csv", base + "/v1/jobs/" + jobId + "/data");
            if (!upStatus.equals("200")) {
                throw new IllegalStateException("upload: " + upStatus);
            }
            long uploaded = System.nanoTime();
            JsonNode done;
            long deadline = System.nanoTime() + Duration.ofMinutes(30).toNanos();
            while (true) {
                done = call(base, destinationKey, "GET", "/v1/jobs/SEGMENT_EXPORT/" + jobId, null).get(0);
                String status = done.get("status").asText();
                if (status.equals("COMPLETE")) {
                    break;
                }
                if (status.equals("ERROR") || System.nanoTime() > deadline) {
                    throw new IllegalStateException("job: " + done);
                }
                Thread.sleep(50);
            }
            long completed = System.nanoTime();
            long[] cpu1 = cpuTicks(pid);
            sampler.shutdownNow();
            long rows = done.get("sourceRecordCount").asLong();
            double total = (completed - t0) / 1e9;
            long firstFile = receiver.firstFileStarted.get();
            System.out.println(JSON.createObjectNode().put("rows", rows)
                    .put("destinationRows", done.get("destinationRecordCount").asLong())
                    .put("files", receiver.files.get()).put("repeatedFiles", receiver.repeats.get())
                    .put("uploadSeconds", (uploaded - t0) / 1e9)
                    .put("processSeconds", (firstFile - uploaded) / 1e9)
                    .put("deliverySeconds", (completed - firstFile) / 1e9)
                    .put("receivingSeconds", receiver.receivingNanos.get() / 1e9)
                    .put("totalSeconds", total).put("rowsPerSecond", rows / total)
                    .put("uploadedBytes", Files.size(file)).put("pushedBytes", receiver.bytes.get())
                    .put("destinationSegmentID", done.path("destinationSegmentID").asText())
                    .put("sink", count ? "count" : "disk")
                    .put("serverUserSeconds", (cpu1[0] - cpu0[0]) / 100.0)
                    .put("serverSystemSeconds", (cpu1[1] - cpu0[1]) / 100.0)
                    .put("sinkRows", receiver.rows.get()).put("sinkDataBytes", receiver.dataBytes.get())
                    .put("sinkHeader", receiver.header).put("sinkCrc32c", receiver.crc32c())
                    .put("serverPeakRssMb", peakRss.get() / 1024));
        }
    }

    /**
     * A partner's segment API on loopback (the contract of docs/exchange-api.md "Push destinations"): segments kept
     * in memory; each data call's body streamed to a file of `dir` named by arrival order and webhook-id (a repeated
     * webhook-id is counted and dropped, as a partner should), answered 204 once read; with no `dir`, counted only:
     * each file's header line left out (all must be equal), its data rows counted and CRC32C-summed in arrival order
     * (files arrive one at a time, in order), which costs far less than a disk or a SHA-256. Signatures are not verified:
     * the bench measures the server, and the test suite (PushDestinationTest) checks them.
     *
     * HTTP/1.1 on plain blocking sockets, a thread per connection, bodies read in 1 MiB reads (Content-Length only,
     * as the server sends them): a receiver about as lean as the curl that downloads the pull's files. The JDK's
     * HttpServer, used before, reads a body through 8 KiB buffers.
     */
    static final class SegmentReceiver implements AutoCloseable {
        final java.net.ServerSocket listener;
        final Path dir;
        final Map<String, String> segments = new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
        final AtomicLong files = new AtomicLong();
        final AtomicLong repeats = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong firstFileStarted = new AtomicLong();
        final AtomicLong receivingNanos = new AtomicLong();
        final ExecutorService threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "segment-receiver");
            t.setDaemon(true);
            return t;
        });
        final AtomicLong rows = new AtomicLong();
        final AtomicLong dataBytes = new AtomicLong();
        /** webhook-id → CRC32C of that file's data rows. */
        final Map<String, Long> crcs = new java.util.concurrent.ConcurrentHashMap<>();
        volatile String header;

        private SegmentReceiver(Path dir) throws Exception {
            this.dir = dir;
            listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        }

        static SegmentReceiver start(Path dir) throws Exception {
            SegmentReceiver r = new SegmentReceiver(dir);
            r.threads.execute(r::accept);
            return r;
        }

        String url() {
            return "http://127.0.0.1:" + listener.getLocalPort();
        }

        private void accept() {
            while (!listener.isClosed()) {
                try {
                    java.net.Socket s = listener.accept();
                    threads.execute(() -> serve(s));
                } catch (java.io.IOException closed) {
                    return;
                }
            }
        }

        /** One connection: requests one after another (keep-alive) until the client closes it. */
        private void serve(java.net.Socket socket) {
            try (socket) {
                var in = new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024);
                var out = new java.io.BufferedOutputStream(socket.getOutputStream());
                for (String requestLine; (requestLine = line(in)) != null && !requestLine.isEmpty(); ) {
                    String[] parts = requestLine.split(" ");
                    Map<String, String> headers = new java.util.HashMap<>();
                    for (String h; !(h = line(in)).isEmpty(); ) {
                        int colon = h.indexOf(':');
                        headers.put(h.substring(0, colon).trim().toLowerCase(java.util.Locale.ROOT), h.substring(colon + 1).trim());
                    }
                    if (headers.containsKey("transfer-encoding")) {
                        respond(out, 501, "{\"error\":\"only Content-Length bodies\"}");
                        return;
                    }
                    Body body = new Body(in, Long.parseLong(headers.getOrDefault("content-length", "0")));
                    Reply reply = handle(parts[0], java.net.URI.create(parts[1]).getPath(), headers, body);
                    body.transferTo(java.io.OutputStream.nullOutputStream());
                    respond(out, reply.status(), reply.body());
                }
            } catch (java.io.IOException | RuntimeException gone) {
                // the client closed the connection
            }
        }

        private static String line(java.io.InputStream in) throws java.io.IOException {
            StringBuilder b = new StringBuilder();
            for (int c; (c = in.read()) != '\n'; ) {
                if (c < 0) {
                    return b.length() == 0 ? null : b.toString();
                }
                if (c != '\r') {
                    b.append((char) c);
                }
            }
            return b.toString();
        }

        private static void respond(java.io.OutputStream out, int status, String body) throws java.io.IOException {
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + b.length
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b);
            out.flush();
        }

        /** A request's body: the next `length` bytes of the connection. */
        private static final class Body extends java.io.InputStream {
            private final java.io.InputStream in;
            private long left;

            Body(java.io.InputStream in, long length) {
                this.in = in;
                this.left = length;
            }

            @Override
            public int read() throws java.io.IOException {
                if (left == 0) {
                    return -1;
                }
                int c = in.read();
                if (c < 0) {
                    throw new java.io.EOFException();
                }
                left--;
                return c;
            }

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                if (left == 0) {
                    return -1;
                }
                int n = in.read(b, off, (int) Math.min(len, left));
                if (n < 0) {
                    throw new java.io.EOFException();
                }
                left -= n;
                return n;
            }
        }

        /** An answer: its status and JSON body. */
        private record Reply(int status, String body) {
        }

        private Reply handle(String method, String path, Map<String, String> headers, java.io.InputStream body)
                throws java.io.IOException {
            if (path.equals("/v1/segments") && method.equals("GET")) {
                StringBuilder list = new StringBuilder("[");
                segments.forEach((name, id) -> list.append(list.length() > 1 ? "," : "")
                        .append(JSON.createObjectNode().put("id", id).put("name", name)));
                return new Reply(200, list.append(']').toString());
            }
            if (path.equals("/v1/segments") && method.equals("POST")) {
                String name = JSON.readTree(body).get("name").asText();
                String id = segments.computeIfAbsent(name, n -> "seg-" + (segments.size() + 1));
                return new Reply(201, JSON.createObjectNode().put("id", id).toString());
            }
            if (!path.matches("/v1/segments/[^/]+/data") || !(method.equals("POST") || method.equals("PUT"))) {
                return new Reply(404, "{}");
            }
            long started = System.nanoTime();
            firstFileStarted.compareAndSet(0, started);
            String webhookId = headers.get("webhook-id");
            if (webhookId == null || !webhookId.matches("[A-Za-z0-9_.-]+")) {
                return new Reply(400, "{\"error\":\"webhook-id\"}");
            }
            if (!seen.add(webhookId)) {
                repeats.incrementAndGet();
            } else if (dir == null) {
                files.incrementAndGet();
                bytes.addAndGet(count(webhookId, body));
            } else {
                files.incrementAndGet();
                // named by webhook-id (job and file name), so that name order is the export's order
                try (var out = Files.newOutputStream(dir.resolve(webhookId))) {
                    bytes.addAndGet(transfer(body, out));
                }
            }
            receivingNanos.addAndGet(System.nanoTime() - started);
            return new Reply(204, "");
        }

        /**
         * Reads one file's body: its header line checked, its data rows counted and CRC32C-summed (per file: two files
         * may arrive at once, in either order); answers its bytes.
         */
        private long count(String webhookId, java.io.InputStream in) throws java.io.IOException {
            StringBuilder first = new StringBuilder();
            long total = 0;
            for (int c; (c = in.read()) != '\n'; total++) {
                if (c < 0) {
                    throw new java.io.IOException("no header line");
                }
                first.append((char) c);
            }
            total++;
            synchronized (this) {
                if (header == null) {
                    header = first.toString();
                } else if (!header.contentEquals(first)) {
                    throw new java.io.IOException("header " + first + ", not " + header);
                }
            }
            java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
            byte[] buffer = new byte[1 << 20];
            for (int n; (n = in.read(buffer)) >= 0; total += n) {
                crc.update(buffer, 0, n);
                dataBytes.addAndGet(n);
                long lines = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] == '\n') {
                        lines++;
                    }
                }
                rows.addAndGet(lines);
            }
            crcs.put(webhookId, crc.getValue());
            return total;
        }

        /** The files' CRC32C values, in webhook-id (so file name) order, summed as {@link #perFileCrc} does. */
        String crc32c() {
            return perFileCrc(new java.util.TreeMap<>(crcs).values());
        }

        private static long transfer(java.io.InputStream in, java.io.OutputStream out) throws java.io.IOException {
            byte[] buffer = new byte[1 << 20];
            long total = 0;
            for (int n; (n = in.read(buffer)) >= 0; total += n) {
                out.write(buffer, 0, n);
            }
            return total;
        }

        @Override
        public void close() {
            try {
                listener.close();
            } catch (java.io.IOException ignored) {
                // closing anyway
            }
            threads.shutdownNow();
        }
    }

    /**
     * The data rows of the *.csv files of `dir` (name order): the first line of each file is its header, left out
     * (all must be equal); the rest is hashed as one stream (SHA-256; CRC32C per file, see {@link #perFileCrc}) and its
     * lines counted.
     */
    static void digest(Path dir) throws Exception {
        List<Path> files;
        try (var listing = Files.list(dir)) {
            files = listing.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
        }
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        List<Long> crcs = new java.util.ArrayList<>();
        String header = null;
        long rows = 0;
        long dataBytes = 0;
        byte[] buffer = new byte[1 << 20];
        for (Path f : files) {
            try (var in = Files.newInputStream(f)) {
                StringBuilder first = new StringBuilder();
                for (int c; (c = in.read()) != '\n'; ) {
                    if (c < 0) {
                        throw new IllegalStateException(f + ": no header line");
                    }
                    first.append((char) c);
                }
                if (header == null) {
                    header = first.toString();
                } else if (!header.contentEquals(first)) {
                    throw new IllegalStateException(f + ": header " + first + ", not " + header);
                }
                int last = '\n';
                java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    sha256.update(buffer, 0, n);
                    crc.update(buffer, 0, n);
                    dataBytes += n;
                    for (int i = 0; i < n; i++) {
                        if (buffer[i] == '\n') {
                            rows++;
                        }
                    }
                    if (n > 0) {
                        last = buffer[n - 1];
                    }
                }
                if (last != '\n') {
                    throw new IllegalStateException(f + ": does not end with a line break");
                }
                crcs.add(crc.getValue());
            }
        }
        System.out.println(JSON.createObjectNode().put("files", files.size()).put("rows", rows)
                .put("dataBytes", dataBytes).put("header", header)
                .put("crc32c", perFileCrc(crcs))
                .put("sha256", HexFormat.of().formatHex(sha256.digest())));
    }

    /** Files' CRC32C values (of their data rows) in file order, summed as the CRC32C of their 4-byte values. */
    static String perFileCrc(java.util.Collection<Long> crcs) {
        java.util.zip.CRC32C sum = new java.util.zip.CRC32C();
        for (long c : crcs) {
            sum.update(java.nio.ByteBuffer.allocate(4).putInt((int) c).array());
        }
        return Long.toHexString(sum.getValue());
    }

    /** Runs curl quietly; answers the HTTP status it got. */
    static String curl(String... args) throws Exception {
        String[] command = new String[args.length + 4];
        command[0] = "curl";
        command[1] = "-sS";
        command[2] = "-w";
        command[3] = "%{http_code}";
        System.arraycopy(args, 0, command, 4, args.length);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        p.waitFor();
        return out.length() > 3 ? out.substring(out.length() - 3) : out;
    }

    /** The server's user and system CPU time so far, in clock ticks (1/100 s on Linux); zeros without a pid. */
    static long[] cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])}; // utime, stime: fields 14 and 15
        } catch (Exception e) {
            return new long[] {0, 0};
        }
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception ignored) {
            // the process is gone
        }
        return 0;
    }

    static String registration(String name, String role, String mode, String ids) {
        String audience = role.equals("source")
                ? "\"source\":{\"enabled\":true,\"producerType\":\"" + mode + "\"}"
                : "\"destination\":{\"enabled\":true,\"destinationType\":\"" + mode + "\"}";
        return "{\"name\":\"" + name + "\",\"endpointTypes\":{\"audience\":{" + audience + "}},\"identifiers\":" + ids + "}";
    }

    static JsonNode call(String base, String key, String method, String path, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + key)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
