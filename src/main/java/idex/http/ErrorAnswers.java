package idex.http;

import idex.errors.Refusal;
import idex.json.Json;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a failure becomes an HTTP answer of the exchange API and the operational endpoints: a
 * {@link Refusal} or an {@link ApiError} its status and `{"message":…}`, anything else a logged 500. (The UID2
 * operator paths answer in their own envelope: EncryptedEndpoint.)
 */
public final class ErrorAnswers {

    private static final Logger LOG = LoggerFactory.getLogger(ErrorAnswers.class);
    private static final String INTERNAL = "Internal server error.";
    /** HTTP/2 error code CANCEL: the stream is no longer needed. */
    private static final long CANCEL = 0x8;

    private ErrorAnswers() {
    }

    /** The status a failure is answered with. */
    public static int status(Throwable failure) {
        if (failure instanceof ApiError e) {
            return e.status();
        }
        if (failure instanceof Refusal r) {
            return switch (r.kind()) {
                case INVALID -> 400;
                case FORBIDDEN -> 403;
                case NOT_FOUND -> 404;
                case CONFLICT -> 409;
            };
        }
        return 500;
    }

    /** Whether the failure is one the caller is told about, rather than a fault of the server. */
    public static boolean isRefusal(Throwable failure) {
        return failure instanceof ApiError || failure instanceof Refusal;
    }

    /** The JSON body of the answer to a failure. */
    public static String body(Throwable failure) {
        if (failure instanceof Refusal r) {
            return Json.write(r.toJson());
        }
        return body(failure instanceof ApiError ? failure.getMessage() : INTERNAL);
    }

    public static String body(String message) {
        return Json.write(Json.object().put("message", message));
    }

    /** Answers a failure, unless an answer was already sent; a fault of the server is logged first. */
    public static void send(RoutingContext ctx, Throwable failure) {
        if (ctx.response().ended()) {
            return;
        }
        logIfFault(ctx, failure);
        end(ctx, status(failure), body(failure));
    }

    /** Answers `status` with `{"message":…}`. */
    public static void send(RoutingContext ctx, int status, String message) {
        end(ctx, status, body(message));
    }

    /** 405 with the Allow header: `allowed` names the methods the path takes. */
    public static void methodNotAllowed(RoutingContext ctx, String allowed) {
        ctx.response().putHeader("Allow", allowed);
        send(ctx, 405, "Method " + ctx.request().method().name() + " is not allowed on " + ctx.request().path()
                + ": use " + allowed + ".");
    }

    /**
     * Answers a failure and then drops the rest of a body that is never read: on HTTP/1.x the connection is closed
     * (a client still sending would otherwise wait forever on a paused socket, and the connection could never
     * carry another request); on HTTP/2 only the stream is reset.
     */
    public static void sendDroppingBody(RoutingContext ctx, Throwable failure) {
        if (ctx.response().ended()) {
            return;
        }
        logIfFault(ctx, failure);
        boolean http2 = ctx.request().version() == HttpVersion.HTTP_2;
        if (!http2) {
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
        ctx.response().setStatusCode(status(failure)).putHeader("Content-Type", "application/json")
                .end(body(failure))
                .onComplete(done -> {
                    if (http2) {
                        ctx.response().reset(CANCEL);
                    } else {
                        ctx.request().connection().close();
                    }
                });
    }

    private static void end(RoutingContext ctx, int status, String body) {
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }

    private static void logIfFault(RoutingContext ctx, Throwable failure) {
        if (!isRefusal(failure)) {
            LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), failure);
        }
    }
}
