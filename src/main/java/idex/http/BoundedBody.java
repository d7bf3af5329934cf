package idex.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * Reads a whole request body up to a limit, counted as sent, within the process's {@link BodyBudget}: a body over
 * {@link BodyBudget#SMALL_BODY} reserves its declared length (or, sent chunked, what has arrived) before it is held,
 * and keeps the reservation until the request's answer is sent, as handling it costs memory too; a body that does
 * not fit fails with {@link OverBudget} at once, and the rest of it is read and dropped. Used instead of
 * Vert.x's BodyHandler where the body must stay untouched bytes: BodyHandler would parse
 * `application/x-www-form-urlencoded`, which the UID2 SDKs send for base64 envelopes.
 */
public final class BoundedBody {

    /** Failure of a body that went past the limit. */
    public static final class TooLarge extends RuntimeException {
        public TooLarge() {
            super("request body too large", null, false, false);
        }
    }

    /** Failure of a body that does not fit in the budget now: answer {@link BodyBudget#busy()}. */
    public static final class OverBudget extends RuntimeException {
        public OverBudget() {
            super("request bodies in flight over budget", null, false, false);
        }
    }

    private BoundedBody() {
    }

    /** Reads the body of a paused request; the reservation ends with `ctx`. */
    public static Future<Buffer> read(RoutingContext ctx, int limit, BodyBudget budget) {
        HttpServerRequest request = ctx.request();
        long declared = declaredLength(request);
        if (declared > limit) {
            return Future.failedFuture(new TooLarge());
        }
        Reservation reservation = new Reservation(budget);
        ctx.addEndHandler(v -> reservation.release());
        if (declared > BodyBudget.SMALL_BODY && !reservation.grow(declared)) {
            discard(request, limit, 0);
            return Future.failedFuture(new OverBudget());
        }
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer(declared >= 0 ? (int) declared : 1024);
        request.handler(chunk -> {
            long size = (long) body.length() + chunk.length();
            if (size > limit) {
                if (promise.tryFail(new TooLarge())) {
                    request.pause();
                }
                return;
            }
            // a body sent chunked, or longer than declared, reserves as it grows (in steps, to spare the counter)
            if (size > BodyBudget.SMALL_BODY && size > reservation.bytes
                    && !reservation.grow(Math.min(limit, Math.max(size, 2 * reservation.bytes)))) {
                if (promise.tryFail(new OverBudget())) {
                    discard(request, limit, size);
                }
                return;
            }
            if (!promise.future().isComplete()) {
                body.appendBuffer(chunk);
            }
        });
        request.exceptionHandler(promise::tryFail);
        request.endHandler(v -> promise.tryComplete(body));
        request.resume();
        return promise.future();
    }

    /**
     * Reads the rest of a body refused for the budget without keeping it, so that the client, still sending, reads
     * the 503 rather than a reset connection, and the connection carries its next request; past the limit it is
     * closed. `seen` bytes have arrived already.
     */
    private static void discard(HttpServerRequest request, int limit, long seen) {
        long[] bytes = {seen};
        request.handler(chunk -> {
            bytes[0] += chunk.length();
            if (bytes[0] > limit) {
                request.connection().close();
            }
        });
        request.endHandler(null);
        request.resume();
    }

    /** The declared Content-Length, or -1. */
    private static long declaredLength(HttpServerRequest request) {
        String declared = request.getHeader("Content-Length");
        if (declared == null) {
            return -1;
        }
        try {
            return Math.max(0, Long.parseLong(declared.trim()));
        } catch (NumberFormatException e) {
            return -1; // Netty refuses malformed lengths before we get here; counting still applies
        }
    }

    /** What one body holds of the budget; released once, when its request ends. */
    private static final class Reservation {
        private final BodyBudget budget;
        private long bytes;
        private boolean released;

        Reservation(BodyBudget budget) {
            this.budget = budget;
        }

        /** Grows the reservation to `total` bytes; false (unchanged) when that does not fit. */
        boolean grow(long total) {
            if (released || !budget.tryReserve(total - bytes)) {
                return false;
            }
            bytes = total;
            return true;
        }

        void release() {
            if (!released) {
                released = true;
                budget.release(bytes);
            }
        }
    }
}
