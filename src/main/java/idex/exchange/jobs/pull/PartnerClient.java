package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.JsonNode;
import idex.auth.KeyHash;
import idex.exchange.delivery.PartnerRequests;
import idex.exchange.delivery.SafeTargets;
import idex.exchange.delivery.UnsafeTarget;
import idex.exchange.delivery.WebhookSignature;
import idex.exchange.endpoints.SigningSecret;
import idex.json.Json;
import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;

/**
 * Calls a partner's API as the exchange: every request signed per Standard Webhooks with the endpoint's signing
 * secrets (a fresh webhook-id per call), sent only to the address {@link SafeTargets} approved at that moment (Host
 * and TLS still name the URL's host), never following a redirect. A call whose answer is read whole is bounded by
 * the delivery timeout in total, and its answer by {@value #MAX_ANSWER_BYTES} bytes; a streamed answer (a data file)
 * by the timeout until its headers and then between two pieces of its body.
 *
 * <p>Its methods block until the answer: call them from worker threads, never from an event loop.
 */
public final class PartnerClient implements AutoCloseable {

    static final int MAX_ANSWER_BYTES = 1024 * 1024;

    private final Vertx vertx;
    /**
     * Where every call starts, its timer included: one event-loop context of the client's own. Calls come from job
     * worker threads; from such a thread Vert.x delivers the response to the callback as a separate task, and an
     * answer that arrived whole meanwhile had ended before the callback could set its handlers (the call then
     * waited out its timeout). Started here, the callback runs as the answer's head arrives.
     */
    private final Context context;
    private final HttpClient client;
    private final SafeTargets targets;
    private final long timeoutMs;
    private final LongSupplier clock;

    public PartnerClient(Vertx vertx, SafeTargets targets, Duration timeout, LongSupplier clock) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.targets = targets;
        this.timeoutMs = timeout.toMillis();
        this.clock = clock;
        // A gzip data file is read as sent, then gunzipped.
        this.client = PartnerRequests.client(vertx, timeoutMs, 16, false);
    }

    /** A whole answer. */
    public record Answer(int status, byte[] body) {

        public boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The body as JSON; null when it is not JSON. */
        public JsonNode json() {
            try {
                return Json.MAPPER.readTree(body);
            } catch (java.io.IOException | RuntimeException e) {
                return null;
            }
        }

        /** What an error message quotes of the answer: its status and the start of its body. */
        public String describe() {
            String text = new String(body, 0, Math.min(body.length, 300), StandardCharsets.UTF_8).strip();
            return "HTTP " + status + (status >= 300 && status < 400 ? " (redirects are not followed)" : "")
                    + (text.isEmpty() ? "" : ": " + text);
        }
    }

    /** An answer whose body is read as it arrives; close it when done (early, it stops the transfer). */
    public record Streamed(int status, String contentEncoding, InputStream body) implements AutoCloseable {
        @Override
        public void close() {
            try {
                body.close();
            } catch (java.io.IOException ignored) {
                // nothing to give back
            }
        }
    }

    /** Sends `body` (null: none) to `url` and reads the whole answer. */
    public Answer call(HttpMethod method, String url, byte[] body, List<SigningSecret> secrets,
                       Map<String, String> headers) throws PartnerCallFailed {
        return exchange(options(method, url, body, secrets, headers), body, (response, answer, reset) -> {
            Buffer read = Buffer.buffer();
            response.handler(piece -> {
                if (read.length() + piece.length() > MAX_ANSWER_BYTES) {
                    if (answer.tryFail(new PartnerCallFailed("the answer is longer than " + MAX_ANSWER_BYTES
                            + " bytes"))) {
                        reset.run();
                    }
                } else {
                    read.appendBuffer(piece);
                }
            });
            response.exceptionHandler(e -> answer.tryFail(failed(e)));
            response.endHandler(end -> answer.tryComplete(new Answer(response.statusCode(), read.getBytes())));
        });
    }

    /** Sends a GET to `url` and answers as soon as its headers arrive; the body is read from the stream. */
    public Streamed stream(String url, List<SigningSecret> secrets, Map<String, String> headers)
            throws PartnerCallFailed {
        return exchange(options(HttpMethod.GET, url, null, secrets, headers), null, (response, answer, reset) -> {
            response.pause();
            StreamedBody body = new StreamedBody(context, timeoutMs, reset);
            if (answer.tryComplete(new Streamed(response.statusCode(), response.getHeader("Content-Encoding"),
                    body))) {
                pipe(response, body);
            } // else timed out meanwhile: the request was reset
        });
    }

    /** How a call reads its answer into `answer`; `reset` gives the request up. */
    @FunctionalInterface
    private interface Reading<T> {
        void read(HttpClientResponse response, Promise<T> answer, Runnable reset);
    }

    /**
     * One call: started on the client's own context with its timer (which fails it and resets the request after the
     * timeout), its answer read by `reading`; waits for the outcome.
     */
    private <T> T exchange(RequestOptions options, byte[] body, Reading<T> reading) throws PartnerCallFailed {
        Promise<T> answer = Promise.promise();
        AtomicReference<HttpClientRequest> sent = new AtomicReference<>();
        Runnable reset = () -> reset(sent.get());
        AtomicLong timer = new AtomicLong(NO_TIMER);
        context.runOnContext(v -> {
            timer.set(vertx.setTimer(timeoutMs, id -> {
                if (answer.tryFail(new PartnerCallFailed("no answer within " + timeoutMs + " ms"))) {
                    reset.run();
                }
            }));
            client.request(options)
                    .compose(r -> {
                        if (answer.future().isComplete()) {
                            // given up while connecting (its timer runs on this same context): never sent late
                            r.reset();
                            return Future.failedFuture("given up");
                        }
                        sent.set(r);
                        return body == null ? r.send() : r.send(Buffer.buffer(body));
                    })
                    .onSuccess(response -> reading.read(response, answer, reset))
                    .onFailure(e -> answer.tryFail(failed(e)));
        });
        try {
            return await(answer, timeoutMs);
        } finally {
            cancel(timer);
        }
    }

    private static final long NO_TIMER = -1;

    private void cancel(AtomicLong timer) {
        long id = timer.get();
        if (id != NO_TIMER) {
            vertx.cancelTimer(id);
        }
    }

    private static void pipe(HttpClientResponse response, StreamedBody body) {
        // Not ended on failure: a cut-off answer must fail the reader, not look like a short file.
        response.pipe().endOnFailure(false).to(body).onFailure(e -> body.fail(describe(e)));
    }

    private RequestOptions options(HttpMethod method, String url, byte[] body, List<SigningSecret> secrets,
                                   Map<String, String> headers) throws PartnerCallFailed {
        if (secrets.isEmpty()) {
            throw new PartnerCallFailed("the endpoint has no signing secret to sign calls with: rotate it"
                    + " (POST /v1/endpoint/{endpointId}/signingSecret) and give it to the partner");
        }
        SafeTargets.Target target;
        try {
            target = targets.connectTarget(url);
        } catch (UnsafeTarget e) {
            throw new PartnerCallFailed(e.getMessage());
        }
        long seconds = clock.getAsLong() / 1000;
        String webhookId = "msg_" + KeyHash.randomToken(12);
        byte[] signed = body == null ? new byte[0] : body;
        RequestOptions o = PartnerRequests.signed(method, target, timeoutMs, "idex-partner-calls", webhookId, seconds,
                WebhookSignature.header(webhookId, seconds, signed, secrets));
        if (body != null) {
            o.putHeader("Content-Type", "application/json");
        }
        headers.forEach(o::putHeader);
        return o;
    }

    private static void reset(HttpClientRequest request) {
        if (request != null) {
            request.reset();
        }
    }

    /**
     * The call's outcome. Its own timer fails it after `timeoutMs`; the wait is bounded as well, in case the timer
     * never ran (Vert.x closing under the call).
     */
    private static <T> T await(Promise<T> promise, long timeoutMs) throws PartnerCallFailed {
        try {
            return promise.future().toCompletionStage().toCompletableFuture()
                    .get(timeoutMs + 5_000, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new PartnerCallFailed("no answer within " + timeoutMs + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PartnerCallFailed f) {
                throw f;
            }
            throw failed(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PartnerCallFailed("interrupted: the server is stopping");
        }
    }

    private static PartnerCallFailed failed(Throwable e) {
        return e instanceof PartnerCallFailed f ? f : new PartnerCallFailed(describe(e));
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    @Override
    public void close() {
        client.close();
    }
}
