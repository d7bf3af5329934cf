package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.standardwebhooks.Webhook;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import idex.json.Json;

import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * A push destination's segment API on loopback (a JDK HttpServer), as a partner would build it: `GET` and `POST
 * /v1/segments`, `POST`/`PUT /v1/segments/{id}/data`, `POST /v1/segments/{id}/data/remove`. Every request is
 * checked with the official Standard Webhooks library against the secret the test gives it ({@link #verifying}); a
 * request that fails the check is answered 401 and recorded as unverified. Data requests are answered as the test
 * says ({@link #answeringData}, {@link #answeringFiles}): a status for the n-th data request (or the n-th request of
 * one file, as files may arrive two at a time), or a {@link Hold} that keeps the answer back.
 */
public final class SegmentPartner implements AutoCloseable {

    /** One request as it arrived, and what it was answered. */
    public record Received(String method, String path, String webhookId, byte[] body, boolean verified, int status) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** An answer held back until the test releases it (the request has arrived once {@link #arrived} returns). */
    public static final class Hold {
        private final java.util.concurrent.CountDownLatch arrived = new java.util.concurrent.CountDownLatch(1);
        private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
        private final int status;

        public Hold(int status) {
            this.status = status;
        }

        public void arrived(int seconds) throws InterruptedException {
            if (!arrived.await(seconds, TimeUnit.SECONDS)) {
                throw new AssertionError("the held request did not arrive within " + seconds + " s");
            }
        }

        public void release() {
            released.countDown();
        }
    }

    private final HttpServer server;
    private final List<Received> received = new ArrayList<>();
    private final Map<String, String> segments = new LinkedHashMap<>(); // id → name
    private volatile String secret;
    private volatile IntFunction<Object> dataAnswers = n -> 200;
    private volatile BiFunction<String, Integer, Object> fileAnswers;
    private final Map<String, Integer> fileRequests = new HashMap<>(); // webhook-id → data requests with it
    private volatile String errorBody = "";
    private Hold lookupHold;
    private int dataRequests;

    private SegmentPartner() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "segment-partner");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public static SegmentPartner start() {
        try {
            return new SegmentPartner();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The base URL to register as the push destination's `url`. */
    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The signing secret (`whsec_…`) the exchange gave the destination at registration. */
    public SegmentPartner verifying(String signingSecret) {
        this.secret = signingSecret;
        return this;
    }

    /** A segment the partner already has. */
    public synchronized SegmentPartner withSegment(String id, String name) {
        segments.put(id, name);
        return this;
    }

    /** How to answer data request number n (from 1): an Integer status, or a {@link Hold}. */
    public SegmentPartner answeringData(IntFunction<Object> answers) {
        this.dataAnswers = answers;
        return this;
    }

    /**
     * How to answer the n-th data request (from 1) of the file whose webhook-id ends with the given text (e.g.
     * "-0002.csv"): an Integer status, or a {@link Hold}; in place of {@link #answeringData}.
     */
    public SegmentPartner answeringFiles(BiFunction<String, Integer, Object> answers) {
        this.fileAnswers = answers;
        return this;
    }

    /** Holds back the answer of the next `GET /v1/segments` (the push's segment lookup) until the test releases it. */
    public synchronized SegmentPartner holdingLookup(Hold hold) {
        this.lookupHold = hold;
        return this;
    }

    /** The body of every non-2xx answer. */
    public SegmentPartner withErrorBody(String body) {
        this.errorBody = body;
        return this;
    }

    private void handle(HttpExchange exchange) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath();
        boolean verified = verified(exchange, body);
        int status;
        String answer = "";
        Hold hold = null;
        synchronized (this) {
            if (!verified) {
                status = 401;
            } else if (path.equals("/v1/segments") && method.equals("GET")) {
                ArrayNode list = Json.MAPPER.createArrayNode();
                segments.forEach((id, name) -> list.addObject().put("id", id).put("name", name));
                status = 200;
                answer = Json.write(list);
                hold = lookupHold;
                lookupHold = null;
            } else if (path.equals("/v1/segments") && method.equals("POST")) {
                JsonNode req = Json.readStored(new String(body, StandardCharsets.UTF_8));
                String id = "seg-" + (segments.size() + 1);
                segments.put(id, req.get("name").asText());
                status = 201;
                answer = "{\"id\":\"" + id + "\"}";
            } else if (path.matches("/v1/segments/[^/]+/data(/remove)?")) {
                ++dataRequests;
                String id = exchange.getRequestHeaders().getFirst("webhook-id");
                Object a = fileAnswers == null ? dataAnswers.apply(dataRequests)
                        : fileAnswers.apply(id, fileRequests.merge(id, 1, Integer::sum));
                if (a instanceof Hold h) {
                    hold = h;
                    status = h.status;
                } else {
                    status = (Integer) a;
                }
            } else {
                status = 404;
            }
            if (status >= 300) {
                answer = errorBody;
            }
        }
        if (hold != null) {
            hold.arrived.countDown();
            try {
                hold.released.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (received) {
            received.add(new Received(method, path, exchange.getRequestHeaders().getFirst("webhook-id"), body, verified,
                    status));
            received.notifyAll();
        }
        byte[] out = answer.getBytes(StandardCharsets.UTF_8);
        try {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
            if (out.length > 0) {
                try (OutputStream o = exchange.getResponseBody()) {
                    o.write(out);
                }
            }
        } catch (IOException ignored) {
            // the caller went away (a killed server): nothing to answer
        }
        exchange.close();
    }

    private boolean verified(HttpExchange exchange, byte[] body) {
        if (secret == null) {
            return false;
        }
        Map<String, List<String>> headers = new HashMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), v));
        try {
            new Webhook(secret).verify(new String(body, StandardCharsets.UTF_8), headers);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    /** Every request answered so far. */
    public List<Received> requests() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** The data requests answered so far of the file whose webhook-id ends with `suffix` (e.g. "-0002.csv"). */
    public List<Received> dataRequests(String suffix) {
        return dataRequests().stream().filter(r -> r.webhookId().endsWith(suffix)).toList();
    }

    /** The data requests (file deliveries) answered so far. */
    public List<Received> dataRequests() {
        return requests().stream().filter(r -> r.path().contains("/data")).toList();
    }

    /** Waits (up to `seconds`) until `count` data requests were answered. */
    public List<Received> awaitData(int count, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (received) {
            while (dataRequests().size() < count) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("expected " + count + " data requests within " + seconds + " s, got "
                            + dataRequests().size());
                }
                received.wait(left);
            }
        }
        return dataRequests();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
