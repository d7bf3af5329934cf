package idex.exchange.delivery;

import idex.exchange.endpoints.SigningSecret;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Sends one signed message to a destination, without blocking: a Vert.x HTTP client that connects to the address
 * {@link SafeTargets} approved at this moment (while Host and TLS name the URL's host), never follows a redirect, and
 * gives up after the delivery timeout. The answer is read as far as its status; its body is discarded.
 */
public final class WebhookSender implements AutoCloseable {

    private final Vertx vertx;
    /**
     * Where requests start and their timers run: one event-loop context of its own. Senders are not Vert.x threads,
     * and Vert.x gives a call from such a thread a new context each time; a timer keeps its context until its deadline
     * even when cancelled, so a dead destination failing thousands of attempts a second held tens of MB of them.
     */
    private final Context context;
    private final HttpClient client;
    private final SafeTargets targets;
    private final long timeoutMs;
    private final LongSupplier clock;

    public WebhookSender(Vertx vertx, SafeTargets targets, DeliverySettings settings, LongSupplier clock) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.targets = targets;
        this.timeoutMs = settings.timeout().toMillis();
        this.clock = clock;
        this.client = PartnerRequests.client(vertx, timeoutMs, Math.max(8, settings.concurrency()), false);
    }

    /**
     * Sends `body` to `url` as message `message`, signed with `secrets`; `done` gets the attempt, always exactly once
     * (on a Vert.x thread, or on the caller's when the target is refused before connecting).
     */
    public void send(Message message, String url, byte[] body, List<SigningSecret> secrets, Consumer<Attempt> done) {
        long started = System.nanoTime();
        long at = clock.getAsLong();
        SafeTargets.Target target;
        try {
            target = targets.connectTarget(url);
        } catch (UnsafeTarget e) {
            done.accept(new Attempt(message, at, null, e.getMessage(), elapsedMs(started), null));
            return;
        }
        if (secrets.isEmpty()) {
            done.accept(new Attempt(message, at, null, "the destination has no signing secret: enable it again"
                    + " (PUT /v1/endpoint) or rotate its secret", elapsedMs(started), null));
            return;
        }
        long seconds = at / 1000;
        RequestOptions request = PartnerRequests.signed(HttpMethod.POST, target, timeoutMs, "idex-webhooks",
                        message.webhookId(), seconds, WebhookSignature.header(message.webhookId(), seconds, body, secrets))
                .putHeader("Content-Type", "application/json");
        context.runOnContext(v -> start(message, request, body, at, started, done));
    }

    /** Starts the request, on the sender's context. */
    private void start(Message message, RequestOptions request, byte[] body, long at, long started,
                       Consumer<Attempt> done) {
        AtomicBoolean finished = new AtomicBoolean();
        Consumer<Attempt> once = a -> {
            if (finished.compareAndSet(false, true)) {
                done.accept(a);
            }
        };
        // The whole attempt, connection and answer included, is bounded; an idle timeout alone is not (a receiver
        // could trickle bytes forever).
        // A request given up is reset, not left on the wire: its lane slot is freed for the next one, and the
        // destination must not see more requests at once than its concurrency.
        AtomicReference<HttpClientRequest> onTheWire = new AtomicReference<>();
        long timer = vertx.setTimer(timeoutMs, id -> {
            once.accept(new Attempt(message, at, null, "no answer within " + timeoutMs + " ms", elapsedMs(started),
                    null));
            HttpClientRequest sent = onTheWire.get();
            if (sent != null) {
                sent.reset();
            }
        });
        client.request(request)
                .compose(r -> {
                    if (finished.get()) {
                        // given up while connecting (its timer runs on this same context): never sent late
                        r.reset();
                        return Future.failedFuture("given up");
                    }
                    onTheWire.set(r);
                    return r.send(Buffer.buffer(body));
                })
                .onSuccess(response -> {
                    vertx.cancelTimer(timer);
                    // Recorded first: whatever draining the body does, the attempt must finish (else its lane
                    // slot stays taken and the message goes again when its lease ends).
                    once.accept(answered(message, at, response, elapsedMs(started)));
                    try {
                        response.handler(ignored -> { }).exceptionHandler(ignored -> { });
                    } catch (IllegalStateException alreadyEnded) {
                        // An answer without a body can end before this callback runs: nothing left to drain.
                    }
                })
                .onFailure(e -> {
                    vertx.cancelTimer(timer);
                    once.accept(new Attempt(message, at, null, describe(e), elapsedMs(started), null));
                });
    }

    private static Attempt answered(Message message, long at, HttpClientResponse response, int ms) {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return new Attempt(message, at, status, null, ms, null);
        }
        String error = status >= 300 && status < 400
                ? "HTTP " + status + ": redirects are not followed; register the final URL"
                : "HTTP " + status;
        Long retryAfter = status == 429 || status == 503 ? PartnerRequests.retryAfterMs(response.getHeader("Retry-After"), at) : null;
        return new Attempt(message, at, status, error, ms, retryAfter);
    }

    private static String describe(Throwable e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    private static int elapsedMs(long startedNanos) {
        return (int) Math.min(Integer.MAX_VALUE, (System.nanoTime() - startedNanos) / 1_000_000);
    }

    @Override
    public void close() {
        client.close();
    }
}
