package idex.exchange.jobs.push;

import idex.exchange.delivery.DeliverySettings;
import idex.exchange.delivery.PartnerRequests;
import idex.exchange.delivery.SafeTargets;
import idex.exchange.delivery.UnsafeTarget;
import idex.exchange.delivery.WebhookSignature;
import idex.exchange.endpoints.SigningSecret;
import idex.files.AlignedFileInput;
import idex.files.FileIo;
import idex.http.FileBodyPump;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Calls a push destination's segment API: one signed request per call, to the address {@link SafeTargets} approves
 * at that moment (Host and TLS still name the URL's host), no redirects followed, the whole attempt bounded by the
 * delivery timeout. Called from a job worker thread, which waits for the answer; the request itself runs on Vert.x.
 * A file body is streamed from disk (read once to sign it, once to send it), never held in memory; a file's request
 * is started without waiting for its answer, so that the caller can sign the next file (or send two) meanwhile.
 */
final class SegmentApi implements AutoCloseable {

    /** The most of an answer's body kept: enough for a segment list or an error message, bounded against abuse. */
    static final int MAX_ANSWER_BYTES = 1024 * 1024;
    /**
     * The slowest transfer a file's attempt is given time for, on top of the delivery timeout (1 MiB/s, 8 Mbit/s); a
     * stalled transfer still ends after the timeout without a byte (the idle timeout).
     */
    static final long MIN_TRANSFER_BYTES_PER_SECOND = 1024 * 1024;

    private final Vertx vertx;
    /**
     * Where calls start, each with its timer on one of these event-loop contexts of this client's own, in turn (see
     * PartnerClient#context: started from a job's worker thread, an answer could end before the callback set its
     * handlers). Several, so that the files on the wire, of one job or of several, are sent by several event loops.
     */
    private final Context[] contexts;
    private final AtomicInteger nextContext = new AtomicInteger();
    private final HttpClient client;
    private final SafeTargets targets;
    private final long timeoutMs;
    private final LongSupplier clock;
    private final PushMetrics metrics;
    private final FileIo io;

    SegmentApi(Vertx vertx, SafeTargets targets, DeliverySettings settings, PushMetrics metrics, FileIo io,
               LongSupplier clock) {
        this.vertx = vertx;
        // Asked from a thread that is not Vert.x's, each call makes a new context, on the next event loop.
        this.contexts = new Context[Math.max(2, Runtime.getRuntime().availableProcessors())];
        for (int i = 0; i < contexts.length; i++) {
            contexts[i] = vertx.getOrCreateContext();
        }
        this.io = io;
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

    /** A JSON call (`body` null: none), signed as message `webhookId`; waits for the answer. */
    Answer json(HttpMethod method, String url, String webhookId, String body, List<SigningSecret> secrets)
            throws InterruptedException {
        byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        long seconds = clock.getAsLong() / 1000;
        String signature = WebhookSignature.header(webhookId, seconds, bytes, secrets);
        Call call = start(method, url, webhookId, seconds, signature, body == null ? null : "application/json",
                bytes.length, request -> request.send(Buffer.buffer(bytes)));
        try {
            return call.answer().get(call.deadlineMs() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            return new Answer(null, "no answer within " + call.deadlineMs() + " ms", null, null);
        }
    }

    /**
     * A file's request, signed before it starts: the signature is a header, so the whole file is read for it before
     * the body's first byte; signing the next file while one is on the wire keeps the wire busy. `signedAt` (ms) is
     * when its timestamp was taken.
     */
    record SignedFile(HttpMethod method, String url, String webhookId, Path path, long size, long signedAt,
                      String signature) {
    }

    /** Signs a file as message `webhookId` (its timestamp now), reading it once; blocks while it reads. */
    SignedFile sign(HttpMethod method, String url, String webhookId, Path file, List<SigningSecret> secrets)
            throws IOException {
        long at = clock.getAsLong();
        try (AlignedFileInput in = AlignedFileInput.open(io, file, 0)) {
            String signature = WebhookSignature.header(webhookId, at / 1000, in, secrets);
            return new SignedFile(method, url, webhookId, file, Files.size(file), at, signature);
        }
    }

    /**
     * Sends a signed file as the body (`text/csv`), streamed from disk as downloads are ({@link FileBodyPump}: direct
     * I/O where available, read ahead, never through the heap); completes with the answer, within the attempt's
     * deadline, never exceptionally.
     */
    CompletableFuture<Answer> send(SignedFile f) {
        return start(f.method(), f.url(), f.webhookId(), f.signedAt() / 1000, f.signature(), "text/csv; charset=utf-8",
                f.size(), request -> f.size() == 0 ? request.send() : vertx.executeBlocking(
                                () -> AlignedFileInput.open(io, f.path(), 0, FileBodyPump.CHUNK), false)
                        .compose(in -> {
                            new FileBodyPump(vertx, in, request, f.size()).start();
                            return request.response();
                        }))
                .answer().thenApply(answer -> {
                    if (answer.ok()) {
                        metrics.fileAccepted(f.size());
                    }
                    return answer;
                });
    }

    @FunctionalInterface
    private interface Body {
        Future<HttpClientResponse> send(HttpClientRequest request);
    }

    /**
     * How long an attempt with a body of `length` bytes may take. The whole attempt, connection, body and answer, is
     * bounded: an idle timeout alone is not (a receiver could read or answer a byte at a time forever). A file gets
     * the timeout plus its transfer at a modest rate: a million-row file is over 100 MB, which no partner link takes
     * in the timeout alone.
     */
    long deadlineMs(long length) {
        return timeoutMs + length * 1000 / MIN_TRANSFER_BYTES_PER_SECOND;
    }

    /** A request under way: its answer, due within `deadlineMs`. */
    private record Call(CompletableFuture<Answer> answer, long deadlineMs) {
    }

    private Call start(HttpMethod method, String url, String webhookId, long seconds, String signature,
                       String contentType, long length, Body body) {
        long started = System.nanoTime();
        long deadlineMs = deadlineMs(length);
        SafeTargets.Target target;
        try {
            target = targets.connectTarget(url);
        } catch (UnsafeTarget e) {
            Answer refused = new Answer(null, e.getMessage(), null, null);
            metrics.attempted(false, started);
            return new Call(CompletableFuture.completedFuture(refused), deadlineMs);
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
        AtomicLong timer = new AtomicLong(-1);
        contexts[Math.floorMod(nextContext.getAndIncrement(), contexts.length)].runOnContext(v -> {
            timer.set(vertx.setTimer(deadlineMs, id -> {
                if (done.tryComplete(new Answer(null, "no answer within " + deadlineMs + " ms", null, null))) {
                    HttpClientRequest r = sent.get();
                    if (r != null) {
                        r.reset();
                    }
                }
            }));
            client.request(options)
                    .compose(request -> {
                        if (done.future().isComplete()) {
                            // given up while connecting (its timer runs on this same context): never sent late
                            request.reset();
                            return Future.failedFuture("given up");
                        }
                        sent.set(request);
                        return body.send(request);
                    })
                    .onSuccess(response -> read(response, at, done))
                    .onFailure(e -> done.tryComplete(new Answer(null, e.getClass().getSimpleName()
                            + (e.getMessage() == null ? "" : ": " + e.getMessage()), null, null)));
        });
        CompletableFuture<Answer> answer = done.future().toCompletionStage().toCompletableFuture()
                .thenApply(a -> {
                    vertx.cancelTimer(timer.get()); // set before the request started, so before any answer
                    metrics.attempted(a.ok(), started);
                    return a;
                });
        return new Call(answer, deadlineMs);
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
