package idex.http;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

/**
 * Reads a whole request body up to a limit, counted as sent. Used instead of Vert.x's BodyHandler where the body
 * must stay untouched bytes: BodyHandler would parse `application/x-www-form-urlencoded`, which the UID2 SDKs send
 * for base64 envelopes.
 */
public final class BoundedBody {

    /** Failure of a body that went past the limit. */
    public static final class TooLarge extends RuntimeException {
        public TooLarge() {
            super("request body too large", null, false, false);
        }
    }

    private BoundedBody() {
    }

    public static Future<Buffer> read(HttpServerRequest request, int limit) {
        String declared = request.getHeader("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.trim()) > limit) {
                    return Future.failedFuture(new TooLarge());
                }
            } catch (NumberFormatException ignored) {
                // Netty rejects malformed lengths before we get here; counting below still applies.
            }
        }
        Promise<Buffer> promise = Promise.promise();
        Buffer body = Buffer.buffer(declared != null ? Math.min(limit, safeParse(declared)) : 1024);
        request.handler(chunk -> {
            if (body.length() + chunk.length() > limit) {
                if (promise.tryFail(new TooLarge())) {
                    request.pause();
                }
                return;
            }
            body.appendBuffer(chunk);
        });
        request.exceptionHandler(promise::tryFail);
        request.endHandler(v -> promise.tryComplete(body));
        request.resume();
        return promise.future();
    }

    private static int safeParse(String declared) {
        try {
            return (int) Math.max(0, Long.parseLong(declared.trim()));
        } catch (NumberFormatException e) {
            return 1024;
        }
    }
}
