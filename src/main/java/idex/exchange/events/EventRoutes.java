package idex.exchange.events;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.identity.IdentityStore;
import idex.exchange.identity.Rejection;
import idex.exchange.identity.Resolution;
import idex.exchange.identity.X1Ids;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.json.Json;
import idex.http.Reply;
import io.vertx.ext.web.Router;
import org.jdbi.v3.core.Jdbi;

import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;

/**
 * `POST /v1/event` (spec §6): an event source sends events, and the identifiers of each event become one record
 * of the identity store. The batch is validated whole before anything is stored, then all its records are resolved
 * in one transaction, so a request is taken entirely or not at all. Records that the resolution rule cannot place
 * (1000-identifier cap, unique conflicts) do not fail the request: they are answered as `rejected`, as a job's bad
 * rows are. The deliveries the events owe their subscribers are written in the same transaction ({@link Outbox}):
 * an event answered 200 is delivered even if the server stops right after. Concurrent requests of one account share
 * a transaction ({@link EventAcceptance}).
 */
public final class EventRoutes implements Feature {

    private final ExchangeApi api;
    private final EndpointScope scope;
    private final X1Ids x1Ids;
    private final EventAcceptance acceptance;
    private final LongSupplier clock;

    public EventRoutes(ExchangeApi api, EndpointStore endpoints, IdentityStore identities, X1Ids x1Ids, Jdbi jdbi,
                       Outbox outbox, LongSupplier clock) {
        this.api = api;
        this.scope = new EndpointScope(endpoints);
        this.x1Ids = x1Ids;
        this.acceptance = new EventAcceptance(jdbi, identities, outbox, api.workers());
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.post("/v1/event").handler(api.withBodyAnswering(this::receive));
        ApiServer.onlyMethods(router, "/v1/event", "POST");
    }

    /** Validates on the worker; the answer comes once the events are committed, with others of the account. */
    private CompletionStage<Reply> receive(ApiRequest req) {
        Endpoint source = eventSource(req);
        EventBatch batch = EventParser.parse(req.json(), source.registration());
        return acceptance.accept(source, batch, clock.getAsLong()).thenApply(r -> answer(batch, r));
    }

    private Reply answer(EventBatch batch, Resolution resolution) {
        ObjectNode answer = Json.object();
        answer.put("received", batch.events().size());
        ArrayNode ids = answer.putArray("x1Ids");
        for (long x1 : resolution.x1s()) {
            if (x1 == 0) {
                ids.addNull();
            } else {
                ids.add(x1Ids.encode(x1));
            }
        }
        ArrayNode rejected = answer.putArray("rejected");
        for (Rejection r : resolution.rejected()) {
            rejected.addObject().put("index", r.index()).put("reason", r.reason());
        }
        return Reply.json(answer);
    }

    /**
     * The endpoint the events come from: the caller's own with an endpoint key, the named one (`?endpointId=`)
     * with an account key; it must be in the caller's account (404) and registered as an event source (403).
     */
    private Endpoint eventSource(ApiRequest req) {
        return scope.endpoint(req.caller(), req.query("endpointId")).requireEventSource("sending events");
    }
}
