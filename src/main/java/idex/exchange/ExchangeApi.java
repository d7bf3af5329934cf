package idex.exchange;

import idex.errors.Refusal;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import idex.exchange.accounts.ApiKeys;
import idex.exchange.accounts.Caller;
import idex.http.ApiError;
import idex.http.BodyBudget;
import idex.http.ErrorAnswers;
import idex.http.BoundedBody;
import idex.json.Json;
import idex.http.Reply;
import idex.http.StorableText;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The HTTP plumbing every exchange call shares: the bearer key is checked on the event loop (401 before a body is
 * read), the body is read up to a limit (413 beyond) within a budget shared by the process (503 when it does not
 * fit), and the call itself runs on the worker pool, which is sized
 * to the connection pool, so that JDBC never blocks an event loop. Failures are answered by {@link ErrorAnswers}.
 */
public final class ExchangeApi {

    /** JSON bodies of the exchange API (registrations, filters, event batches) stay well below this. */
    public static final int JSON_LIMIT = 16 * 1024 * 1024;

    /** One call of the API, run on a worker thread. */
    @FunctionalInterface
    public interface Call {
        Reply handle(ApiRequest request) throws Exception;
    }

    /**
     * A call that starts on a worker thread and answers later: the worker is free as soon as the call returns its
     * stage (for work that waits on others', such as events committed together, so that waiting holds no thread).
     */
    @FunctionalInterface
    public interface AsyncCall {
        CompletionStage<Reply> handle(ApiRequest request) throws Exception;
    }

    /** What a call sees of its request. */
    public record ApiRequest(Caller caller, MultiMap query, Map<String, String> path, Buffer body) {

        public String query(String name) {
            return query.get(name);
        }

        /** A query parameter that seed 004 spells two ways (`endpointId`, `endpointID` in job listings). */
        public String query(String name, String otherSpelling) {
            String value = query.get(name);
            return value != null ? value : query.get(otherSpelling);
        }

        public String path(String name) {
            return path.get(name);
        }

        /** The body as JSON; 400 when it is missing or not JSON. */
        public JsonNode json() {
            if (body == null || body.length() == 0) {
                throw Refusal.invalid("The request needs a JSON body.");
            }
            try {
                JsonNode tree = Json.MAPPER.readTree(body.getBytes());
                StorableText.requireInJson(tree);
                return tree;
            } catch (JsonProcessingException e) {
                if (e.getOriginalMessage() != null && e.getOriginalMessage().startsWith("Trailing token")) {
                    throw Refusal.invalid("The body goes on after its JSON value (line " + e.getLocation().getLineNr()
                            + ", column " + e.getLocation().getColumnNr() + "): send exactly one JSON document.");
                }
                throw Refusal.invalid("The body is not valid JSON: " + e.getOriginalMessage() + ".");
            } catch (java.io.IOException e) {
                throw Refusal.invalid("The body could not be read as JSON.");
            }
        }
    }

    private final Vertx vertx;
    private final ApiKeys keys;
    /** Shared with every other route that buffers bodies. */
    private final BodyBudget bodies;

    public ExchangeApi(Vertx vertx, ApiKeys keys, BodyBudget bodies) {
        this.vertx = vertx;
        this.keys = keys;
        this.bodies = bodies;
    }

    public ApiKeys keys() {
        return keys;
    }

    /** The worker pool the calls run on, for work a call leaves to be done after it returns. */
    public Executor workers() {
        return task -> vertx.executeBlocking(() -> {
            task.run();
            return null;
        }, false);
    }

    /** A call without a request body (GET, DELETE, and PUTs that carry none). */
    public Handler<RoutingContext> handler(Call call) {
        return ctx -> {
            Caller caller = authenticate(ctx);
            if (caller != null) {
                run(ctx, new ApiRequest(caller, ctx.queryParams(), ctx.pathParams(), null), call);
            }
        };
    }

    /**
     * A call with a JSON body of at most {@link #JSON_LIMIT} bytes (413 beyond), held within the process's
     * {@link BodyBudget} (503 with Retry-After when it does not fit now).
     */
    public Handler<RoutingContext> withBody(Call call) {
        return withBody((ctx, request) -> run(ctx, request, call));
    }

    /** As {@link #withBody(Call)}, for a call that answers later. */
    public Handler<RoutingContext> withBodyAnswering(AsyncCall call) {
        return withBody((ctx, request) -> run(ctx, request, call));
    }

    private Handler<RoutingContext> withBody(java.util.function.BiConsumer<RoutingContext, ApiRequest> run) {
        return ctx -> {
            Caller caller = authenticate(ctx);
            if (caller == null) {
                return;
            }
            ctx.request().pause();
            BoundedBody.read(ctx, JSON_LIMIT, bodies).onComplete(ar -> {
                if (ar.failed()) {
                    if (ar.cause() instanceof BoundedBody.TooLarge) {
                        ErrorAnswers.sendDroppingBody(ctx, new ApiError(413, "The body is larger than " + JSON_LIMIT / (1024 * 1024)
                                + " MiB (" + JSON_LIMIT + " bytes), the limit of a request: send fewer items per"
                                + " request."));
                    } else if (ar.cause() instanceof BoundedBody.OverBudget) {
                        // the body is being dropped as it arrives: the connection stays usable
                        ctx.response().putHeader("Retry-After", Integer.toString(BodyBudget.RETRY_AFTER_SECONDS));
                        ErrorAnswers.send(ctx, bodies.busy());
                    } else {
                        ctx.fail(ar.cause());
                    }
                    return;
                }
                run.accept(ctx, new ApiRequest(caller, ctx.queryParams(), ctx.pathParams(), ar.result()));
            });
        };
    }

    /** The caller of a request, or null after answering 401. */
    public Caller authenticate(RoutingContext ctx) {
        return authenticate(ctx, false);
    }

    /**
     * The same for a request whose body is streamed later (an upload): a 401 then drops the unread body as
     * {@link ErrorAnswers#sendDroppingBody} does. A client that sent `Expect: 100-continue` has not sent its body and must not
     * be left on a connection where the server still expects it.
     */
    public Caller authenticateBeforeBody(RoutingContext ctx) {
        return authenticate(ctx, true);
    }

    /** Also refuses (400) query and path parameters the store could not keep ({@link StorableText}). */
    private Caller authenticate(RoutingContext ctx, boolean bodyUnread) {
        Caller caller = keys.authenticate(ctx.request().getHeader("Authorization"));
        RuntimeException refusal = null;
        if (caller == null) {
            ctx.response().putHeader("WWW-Authenticate", "Bearer");
            refusal = ApiError.unauthorized();
        } else {
            try {
                StorableText.requireInParameters(ctx.queryParams(), ctx.pathParams());
            } catch (Refusal e) {
                refusal = e;
            }
        }
        if (refusal == null) {
            return caller;
        }
        if (bodyUnread) {
            ErrorAnswers.sendDroppingBody(ctx, refusal);
        } else {
            ErrorAnswers.send(ctx, refusal);
        }
        return null;
    }

    private void run(RoutingContext ctx, ApiRequest request, Call call) {
        vertx.executeBlocking(() -> call.handle(request), false).onComplete(ar -> answer(ctx, ar));
    }

    private void run(RoutingContext ctx, ApiRequest request, AsyncCall call) {
        vertx.executeBlocking(() -> call.handle(request), false)
                .compose(stage -> Future.fromCompletionStage(stage, ctx.vertx().getOrCreateContext()))
                .onComplete(ar -> answer(ctx, ar));
    }

    private static void answer(RoutingContext ctx, AsyncResult<Reply> ar) {
        if (ar.succeeded()) {
            Reply r = ar.result();
            ctx.response().setStatusCode(r.status()).putHeader("Content-Type", r.contentType()).end(r.body());
        } else {
            // A stage derived from a failed one wraps the failure: answer the failure itself.
            Throwable cause = ar.cause();
            ErrorAnswers.send(ctx, cause instanceof CompletionException && cause.getCause() != null
                    ? cause.getCause() : cause);
        }
    }
}
