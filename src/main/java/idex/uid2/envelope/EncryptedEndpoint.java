package idex.uid2.envelope;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.http.BodyBudget;
import idex.http.BoundedBody;
import idex.json.Json;
import idex.uid2.clients.ClientKey;
import idex.uid2.clients.ClientKeys;
import idex.uid2.clients.Role;
import io.vertx.core.Handler;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Base64;
import java.util.function.LongSupplier;

/**
 * The HTTP side of the UID2 v2 envelope: authenticate the key before reading anything, read at most 1 MiB,
 * decrypt, run the endpoint (on a worker when it is heavy), and encrypt a 200 answer with the request's nonce.
 * Every other answer is plain JSON.
 */
public final class EncryptedEndpoint {

    /** The body limit of the reference operator, counted as sent. */
    public static final int BODY_LIMIT = 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(EncryptedEndpoint.class);
    private static final Buffer UNAUTHORIZED = Buffer.buffer("{\"status\":\"unauthorized\"}");

    /** The endpoint's own logic, given a decrypted request. */
    public interface Logic {
        Uid2Answer answer(DecodedRequest request, ClientKey key) throws Uid2ClientError;
    }

    private final ClientKeys keys;
    private final LongSupplier clock;
    /** Shared with every other route that buffers bodies. */
    private final BodyBudget bodies;

    public EncryptedEndpoint(ClientKeys keys, LongSupplier clock, BodyBudget bodies) {
        this.keys = keys;
        this.clock = clock;
        this.bodies = bodies;
    }

    /**
     * A route handler for an endpoint needing `role`. With `offload` the logic runs on the worker pool (for work
     * of more than a millisecond or so); otherwise on the event loop.
     */
    public Handler<RoutingContext> handler(Role role, boolean offload, Logic logic) {
        return ctx -> {
            ClientKey key = keys.authenticate(ctx.request().getHeader("Authorization"));
            if (key == null || !key.has(role)) {
                ctx.response().setStatusCode(401).putHeader("Content-Type", "application/json").end(UNAUTHORIZED);
                return;
            }
            boolean octetStream = isOctetStream(ctx.request().getHeader("Content-Type"));
            BoundedBody.read(ctx, BODY_LIMIT, bodies).onComplete(ar -> {
                if (ar.failed()) {
                    if (ar.cause() instanceof BoundedBody.TooLarge) {
                        ctx.response().setStatusCode(413).putHeader("Connection", "close");
                        sendError(ctx, 413, "Request body too large: the limit is " + BODY_LIMIT + " bytes.");
                    } else if (ar.cause() instanceof BoundedBody.OverBudget) {
                        ctx.response().putHeader("Retry-After", Integer.toString(BodyBudget.RETRY_AFTER_SECONDS));
                        sendError(ctx, 503, bodies.busy().getMessage());
                    } else {
                        ctx.fail(ar.cause());
                    }
                    return;
                }
                byte[] body = ar.result().getBytes();
                if (offload) {
                    ctx.vertx().executeBlocking(() -> process(body, octetStream, key, logic), false)
                            .onSuccess(outcome -> send(ctx, outcome, key))
                            .onFailure(ctx::fail);
                } else {
                    Outcome outcome;
                    try {
                        outcome = process(body, octetStream, key, logic);
                    } catch (RuntimeException e) {
                        ctx.fail(e);
                        return;
                    }
                    send(ctx, outcome, key);
                }
            });
        };
    }

    /** The result of decrypting and running the logic: an answer to encrypt, or a client error. */
    private record Outcome(DecodedRequest request, Uid2Answer answer, String error) {
    }

    private Outcome process(byte[] body, boolean octetStream, ClientKey key, Logic logic) {
        DecodedRequest request;
        try {
            request = EnvelopeCodec.decodeRequest(body, octetStream, key.secret(), clock.getAsLong());
        } catch (EnvelopeException e) {
            return new Outcome(null, null, e.getMessage());
        }
        try {
            return new Outcome(request, logic.answer(request, key), null);
        } catch (Uid2ClientError e) {
            return new Outcome(request, null, e.getMessage());
        }
    }

    private void send(RoutingContext ctx, Outcome outcome, ClientKey key) {
        if (outcome.error() != null) {
            sendError(ctx, 400, outcome.error());
            return;
        }
        DecodedRequest request = outcome.request();
        HttpServerResponse response = ctx.response();
        response.putHeader("Content-Type", request.binary() ? "application/octet-stream" : "text/plain");
        if (outcome.answer() instanceof Uid2Answer.Whole whole) {
            byte[] sealed = EnvelopeCodec.encryptResponse(whole.json(), request.nonce(), key.secret(), clock.getAsLong());
            response.end(wrap(request.binary() ? sealed : Base64.getEncoder().encode(sealed)));
        } else if (outcome.answer() instanceof Uid2Answer.Streamed streamed) {
            ResponseEncryptor encryptor = new ResponseEncryptor(key.secret(), request.nonce(), clock.getAsLong(), !request.binary());
            response.setChunked(true);
            pump(response, streamed.source(), encryptor);
        }
    }

    /** Writes pieces while the connection keeps up, then waits for it to drain: memory stays flat. */
    private static void pump(HttpServerResponse response, Uid2Answer.ChunkSource source, ResponseEncryptor encryptor) {
        if (response.ended() || response.closed()) {
            return; // a late drain event after the answer ended
        }
        try {
            while (!response.writeQueueFull()) {
                byte[] plain = source.next();
                if (plain == null) {
                    response.drainHandler(null);
                    response.end(wrap(encryptor.finish()));
                    return;
                }
                byte[] sealed = encryptor.update(plain, 0, plain.length);
                if (sealed.length > 0) {
                    response.write(wrap(sealed));
                }
            }
            response.drainHandler(v -> pump(response, source, encryptor));
        } catch (RuntimeException e) {
            LOG.error("Streaming an answer failed", e);
            response.reset();
        }
    }

    /** A buffer over the array without copying it: answers are written once and never touched again. */
    private static Buffer wrap(byte[] bytes) {
        return BufferInternal.buffer(Unpooled.wrappedBuffer(bytes));
    }

    public static void sendError(RoutingContext ctx, int status, String message) {
        ObjectNode error = Json.object();
        error.put("message", message);
        error.put("status", "client_error");
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(Json.write(error));
    }

    private static boolean isOctetStream(String contentType) {
        return contentType != null && contentType.regionMatches(true, 0, "application/octet-stream", 0, 24);
    }
}
