package idex.exchange.jobs.push;

import idex.exchange.delivery.DeliverySettings;
import idex.exchange.delivery.PartnerRequests;
import idex.exchange.delivery.SafeTargets;
import idex.exchange.delivery.UnsafeTarget;
import idex.exchange.delivery.WebhookSignature;
import idex.exchange.endpoints.SigningSecret;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Calls a push destination's segment API: one signed request per call, to the address {@link SafeTargets} approves
 * at that moment (Host and TLS still name the URL's host), no redirects followed, the whole attempt bounded by the
 * delivery timeout. Called from a job worker thread, which waits for the answer; the request itself runs on Vert.x.
 * A file body is streamed from disk (read once to sign it, once to send it), never held in memory.
 */
final class SegmentApi implements AutoCloseable {

    /** The most of an answer's body kept: enough for a segment list or an error message, bounded against abuse. */
    static final int MAX_ANSWER_BYTES = 1024 * 1024;
    /**
     * The slowest transfer a file's attempt is given time for, on top of the delivery timeout (1 MiB/s, 8 Mbit/s); a
     * stalled transfer still ends after the timeout without a byte (the idle timeout).
     */
    static final long MIN_TRANSFER_BYTES_PER_SECOND = 1024 * 1024;
    /** Bytes of a file read per chunk as it is sent: Vert.x's default (8 KiB) costs a system call every 8 KiB. */
    private static final int FILE_CHUNK = 64 * 1024;

    private final Vertx vertx;
    private final HttpClient client;
    private final SafeTargets targets;
    private final long timeoutMs;
    private final LongSupplier clock;
    private final PushMetrics metrics;

    SegmentApi(Vertx vertx, SafeTargets targets, DeliverySettings settings, PushMetrics metrics, LongSupplier clock) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.targets = targets;
        this.timeoutMs = settings.timeout().toMillis();
        this.clock = clock;
        this.client = PartnerRequests.client(vertx, timeoutMs, 8, false);
    }

    /** What one call got: a status (null when there was no answer), an error text, Retry-After, the body read. */
    record Answer(Integer status, String error, Long retryAfterMs, String body) {

        boolean ok() {
            return status != null && status >= 200 && status < 300;
        }

        /** The answer as errorDetails name it: the status and the start of the body, or what went wrong. */
        String describe() {
            if (status == null) {
                return error;
            }
            String excerpt = body == null ? "" : body.strip();
            if (excerpt.length() > 300) {
                excerpt = excerpt.substring(0, 300) + "…";
            }
            return error + (excerpt.isEmpty() ? "" : ": " + excerpt);
        }
    }

    /** A JSON call (`body` null: none), signed as message `webhookId`. */
    Answer json(HttpMethod method, String url, String webhookId, String body, List<SigningSecret> secrets)
            throws InterruptedException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        long seconds = clock.getAsLong() / 1000;
        String signature = WebhookSignature.header(webhookId, seconds, bytes, secrets);
        return call(method, url, webhookId, seconds, signature, body == null ? null : "application/json",
                bytes.length, request -> request.send(Buffer.buffer(bytes)));
    }

    /** A file as the body (`text/csv`), streamed from disk, signed as message `webhookId`. */
    Answer file(HttpMethod method, String url, String webhookId, Path file, List<SigningSecret> secrets)
            throws InterruptedException, IOException {
        long seconds = clock.getAsLong() / 1000;
        String signature = WebhookSignature.header(webhookId, seconds, file, secrets);
        long size = Files.size(file);
        Answer answer = call(method, url, webhookId, seconds, signature, "text/csv; charset=utf-8", size,
                request -> vertx.fileSystem().open(file.toString(), new OpenOptions().setRead(true))
                        .compose(in -> request.send(in.setReadBufferSize(FILE_CHUNK))
                                .andThen(ignored -> in.close())));
        if (answer.ok()) {
            metrics.fileAccepted(size);
        }
        return answer;
    }

    @FunctionalInterface
    private interface Body {
        Future<HttpClientResponse> send(HttpClientRequest request);
    }

    private Answer call(HttpMethod method, String url, String webhookId, long seconds, String signature,
                        String contentType, long length, Body body) throws InterruptedException {
        long started = System.nanoTime();
        Answer answer = attempt(method, url, webhookId, seconds, signature, contentType, length, body);
        metrics.attempted(answer.ok(), started);
        return answer;
    }

    private Answer attempt(HttpMethod method, String url, String webhookId, long seconds, String signature,
                           String contentType, long length, Body body) throws InterruptedException {
        SafeTargets.Target target;
        try {
            target = targets.connectTarget(url);
        } catch (UnsafeTarget e) {
            return new Answer(null, e.getMessage(), null, null);
        }
        RequestOptions options = PartnerRequests.signed(method, target, timeoutMs, "idex-segments", webhookId, seconds,
                signature).putHeader("Accept", "application/json");
        if (contentType != null) {
            options.putHeader("Content-Type", contentType);
        }
        if (method != HttpMethod.GET) {
            options.putHeader("Content-Length", Long.toString(length));
        }
        long at = clock.getAsLong();
        Promise<Answer> done = Promise.promise();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        // The whole attempt, connection, body and answer, is bounded: an idle timeout alone is not (a receiver could
        // read or answer a byte at a time forever). A file gets the timeout plus its transfer at a modest rate: a
        // million-row file is over 100 MB, which no partner link takes in the timeout alone.
        long deadlineMs = timeoutMs + length * 1000 / MIN_TRANSFER_BYTES_PER_SECOND;
        long timer = vertx.setTimer(deadlineMs, id -> {
            if (done.tryComplete(new Answer(null, "no answer within " + deadlineMs + " ms", null, null))) {
                HttpClientRequest r = sent.get();
                if (r != null) {
                    r.reset();
                }
            }
        });
        client.request(options)
                .compose(request -> {
                    sent.set(request);
                    return body.send(request);
                })
                .onSuccess(response -> read(response, at, done))
                .onFailure(e -> done.tryComplete(new Answer(null, e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()), null, null)));
        try {
            return done.future().toCompletionStage().toCompletableFuture().get(deadlineMs + 5_000,
                    TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return new Answer(null, "no answer within " + deadlineMs + " ms", null, null);
        } finally {
            vertx.cancelTimer(timer);
        }
    }

    /** Reads the answer's body up to {@link #MAX_ANSWER_BYTES}; the rest is dropped with the connection. */
    private static void read(HttpClientResponse response, long at, Promise<Answer> done) {
        int status = response.statusCode();
        Buffer kept = Buffer.buffer();
        response.handler(chunk -> {
            if (kept.length() < MAX_ANSWER_BYTES) {
                kept.appendBuffer(chunk.length() <= MAX_ANSWER_BYTES - kept.length() ? chunk
                        : chunk.slice(0, MAX_ANSWER_BYTES - kept.length()));
            }
        });
        response.exceptionHandler(e -> done.tryComplete(answer(response, status, at, kept)));
        response.endHandler(v -> done.tryComplete(answer(response, status, at, kept)));
    }

    private static Answer answer(HttpClientResponse response, int status, long at, Buffer body) {
        String text = body.toString(StandardCharsets.UTF_8);
        if (status >= 200 && status < 300) {
            return new Answer(status, null, null, text);
        }
        String error = status >= 300 && status < 400
                ? "HTTP " + status + ": redirects are not followed; register the final URL"
                : "HTTP " + status;
        Long retryAfter = status == 429 || status == 503 ? PartnerRequests.retryAfterMs(response.getHeader("Retry-After"), at) : null;
        return new Answer(status, error, retryAfter, text);
    }

    @Override
    public void close() {
        client.close();
    }
}
