package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import com.standardwebhooks.Webhook;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import idex.json.Json;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;

/**
 * A partner implementing the pull producer API on loopback, as docs/exchange-api.md describes it: it starts a job per
 * `POST /v1/jobs`, answers its status (RUNNING for the first polls, then READY with its data files, or FAILED), serves
 * the data files (gzipped when asked to), and lists its segments. Every request's Standard Webhooks signature is
 * checked with the official library; a request that fails the check is answered 401 and counted.
 */
final class FakePullPartner implements AutoCloseable {

    /** One request as it arrived. */
    record Call(String method, String path, String webhookId, String body, String idempotencyKey) {
    }

    private final HttpServer server;
    private final List<Call> calls = new ArrayList<>();
    private final Map<String, byte[]> dataFiles = new LinkedHashMap<>();
    private final AtomicInteger badSignatures = new AtomicInteger();
    private final AtomicInteger jobs = new AtomicInteger();
    private volatile String secret;
    /** Polls answered RUNNING before READY; negative: never ready. */
    private volatile int runningPolls;
    private volatile String failure;
    private volatile boolean gzip;
    /** Statuses answered to the first POSTs /v1/jobs, in order, before they are accepted. */
    private final java.util.Deque<Integer> startAnswers = new java.util.ArrayDeque<>();
    private final Map<String, Integer> polls = new HashMap<>();

    FakePullPartner() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "fake-pull-partner");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/partner";
    }

    FakePullPartner secret(String value) {
        secret = value;
        return this;
    }

    FakePullPartner readyAfter(int polls) {
        runningPolls = polls;
        return this;
    }

    FakePullPartner failing(String message) {
        failure = message;
        return this;
    }

    FakePullPartner gzip(boolean on) {
        gzip = on;
        return this;
    }

    synchronized FakePullPartner refusingStarts(Integer... statuses) {
        startAnswers.addAll(List.of(statuses));
        return this;
    }

    synchronized FakePullPartner data(String fileId, String csv) {
        dataFiles.put(fileId, csv.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    synchronized long count(String method, String pathPrefix) {
        return calls.stream().filter(c -> c.method().equals(method) && c.path().startsWith(pathPrefix)).count();
    }

    int badSignatures() {
        return badSignatures.get();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            byte[] body = x.getRequestBody().readAllBytes();
            String text = new String(body, StandardCharsets.UTF_8);
            String path = x.getRequestURI().getRawPath().substring("/partner".length());
            synchronized (this) {
                calls.add(new Call(x.getRequestMethod(), path, x.getRequestHeaders().getFirst("webhook-id"), text,
                        x.getRequestHeaders().getFirst("Idempotency-Key")));
            }
            Map<String, List<String>> headers = new HashMap<>();
            x.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
            try {
                new Webhook(secret).verify(text, headers);
            } catch (Exception e) {
                badSignatures.incrementAndGet();
                answer(x, 401, "{\"message\":\"bad signature\"}");
                return;
            }
            route(x, path, text);
        }
    }

    private void route(HttpExchange x, String path, String body) throws IOException {
        String method = x.getRequestMethod();
        if (method.equals("GET") && path.equals("/v1/segments")) {
            answer(x, 200, "[{\"id\":\"45311\",\"name\":\"Buyers\",\"description\":\"Bought this year\","
                    + "\"segment_attributes\":[{\"name\":\"firstName\",\"type\":\"string\"}]}]");
        } else if (method.equals("POST") && path.equals("/v1/jobs")) {
            Integer refusal;
            synchronized (this) {
                refusal = startAnswers.poll();
            }
            if (refusal != null) {
                answer(x, refusal, "{\"message\":\"no segment like that here\"}");
                return;
            }
            JsonNode request = Json.readStored(body);
            answer(x, 201, "{\"jobId\":\"p-" + jobs.incrementAndGet() + "-" + request.path("segmentId").asText() + "\"}");
        } else if (method.equals("GET") && path.matches("/v1/jobs/[^/]+")) {
            String id = path.substring("/v1/jobs/".length());
            int n;
            synchronized (this) {
                n = polls.merge(id, 1, Integer::sum);
            }
            if (failure != null) {
                answer(x, 200, Json.write(Json.object().put("status", "FAILED").put("message", failure)));
            } else if (runningPolls < 0 || n <= runningPolls) {
                answer(x, 200, "{\"status\":\"RUNNING\"}");
            } else {
                var ready = Json.object().put("status", "READY");
                synchronized (this) {
                    dataFiles.keySet().forEach(ready.putArray("dataFiles")::add);
                }
                answer(x, 200, Json.write(ready));
            }
        } else if (method.equals("GET") && path.matches("/v1/jobs/[^/]+/data/[^/]+")) {
            byte[] content;
            synchronized (this) {
                content = dataFiles.get(path.substring(path.lastIndexOf('/') + 1));
            }
            if (content == null) {
                answer(x, 404, "{}");
                return;
            }
            x.getResponseHeaders().set("Content-Type", "text/csv");
            if (gzip) {
                ByteArrayOutputStream packed = new ByteArrayOutputStream();
                try (GZIPOutputStream z = new GZIPOutputStream(packed)) {
                    z.write(content);
                }
                content = packed.toByteArray();
                x.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            x.sendResponseHeaders(200, content.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(content);
            }
        } else {
            answer(x, 404, "{}");
        }
    }

    private static void answer(HttpExchange x, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
