package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import idex.json.Json;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * A webhook receiver on loopback for delivery tests: it records every request (headers, body, arrival time) and
 * answers as the test says — by default 204; `answers` maps the request's number (from 1) to a status, and a
 * negative status means "never answer" (the request is held until the receiver closes).
 */
public final class WebhookReceiver implements AutoCloseable {

    /** One request as it arrived. */
    public record Received(String path, Map<String, List<String>> headers, byte[] body, long arrivedMillis) {
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }

        public JsonNode json() {
            return Json.readStored(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private final HttpServer server;
    private final List<Received> received = new ArrayList<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile IntFunction<Integer> answers = n -> 204;
    private volatile Map<String, String> answerHeaders = Map.of();
    private volatile long holdMillis;
    private final AtomicInteger inProgress = new AtomicInteger();
    private final AtomicInteger mostAtOnce = new AtomicInteger();

    private WebhookReceiver() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "webhook-receiver");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    public static WebhookReceiver start() {
        try {
            return new WebhookReceiver();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The URL to register, with `path`. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** How to answer request number n (from 1): a status, or a negative number to never answer. */
    public WebhookReceiver answering(IntFunction<Integer> statusOfRequest) {
        this.answers = statusOfRequest;
        return this;
    }

    /** Headers sent with every answer (e.g. Location, Retry-After). */
    public WebhookReceiver withAnswerHeaders(Map<String, String> headers) {
        this.answerHeaders = Map.copyOf(headers);
        return this;
    }

    /** Keeps each request this long before answering it, so that a sender's concurrent requests overlap here. */
    public WebhookReceiver holding(java.time.Duration hold) {
        this.holdMillis = hold.toMillis();
        return this;
    }

    /** The most requests this receiver had in hand at one moment. */
    public int mostAtOnce() {
        return mostAtOnce.get();
    }

    private void handle(HttpExchange exchange) throws IOException {
        mostAtOnce.accumulateAndGet(inProgress.incrementAndGet(), Math::max);
        AtomicBoolean inHand = new AtomicBoolean(true);
        Runnable done = () -> {
            if (inHand.getAndSet(false)) {
                inProgress.decrementAndGet();
            }
        };
        try {
            answer(exchange, done);
        } finally {
            done.run();
        }
    }

    /** `answered` runs just before the answer is written: from then on the sender may start its next request. */
    private void answer(HttpExchange exchange, Runnable answered) throws IOException {
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        int n;
        synchronized (received) {
            received.add(new Received(exchange.getRequestURI().toString(), Map.copyOf(exchange.getRequestHeaders()),
                    body, System.currentTimeMillis()));
            n = received.size();
            received.notifyAll();
        }
        int status = answers.apply(n);
        if (status < 0) {
            try {
                closing.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
        }
        if (holdMillis > 0) {
            try {
                Thread.sleep(holdMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        answerHeaders.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        answered.run();
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }

    /** Every request so far. */
    public List<Received> requests() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    /** Waits (up to `seconds`) until at least `count` requests arrived; answers them all. */
    public List<Received> await(int count, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (received) {
            while (received.size() < count) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new AssertionError("expected " + count + " requests within " + seconds + " s, got "
                            + received.size());
                }
                received.wait(left);
            }
            return List.copyOf(received);
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
    }
}
