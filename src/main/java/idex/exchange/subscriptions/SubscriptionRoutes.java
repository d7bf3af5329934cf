package idex.exchange.subscriptions;

import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.http.PositiveId;
import idex.http.Reply;
import idex.json.Json;
import io.vertx.ext.web.Router;

import java.util.function.LongSupplier;

/**
 * `/v1/subscriptions`: which events an event destination receives. A subscription belongs to its destination: an
 * endpoint key subscribes and unsubscribes its own endpoint, an account key any of the account's. Delivery itself
 * comes with a later version; the checks here are those it will rely on (an enabled destination with a URL).
 */
public final class SubscriptionRoutes implements Feature {

    private static final String LIST = "/v1/subscriptions";
    private static final String ONE = LIST + "/:subscriptionId";

    private final ExchangeApi api;
    private final SubscriptionStore store;
    private final EndpointStore endpoints;
    private final EndpointScope scope;
    private final LongSupplier clock;

    public SubscriptionRoutes(ExchangeApi api, SubscriptionStore store, EndpointStore endpoints, LongSupplier clock) {
        this.api = api;
        this.store = store;
        this.endpoints = endpoints;
        this.scope = new EndpointScope(endpoints);
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.get(LIST).handler(api.handler(this::list));
        router.post(LIST).handler(api.withBody(this::create));
        router.delete(ONE).handler(api.handler(this::delete));
        ApiServer.onlyMethods(router, LIST, "GET, POST");
        ApiServer.onlyMethods(router, ONE, "DELETE");
    }

    private Reply create(ApiRequest req) {
        Caller caller = req.caller();
        RequestedSubscription r = RequestedSubscription.parse(req.json());
        if (!caller.actsFor(r.destinationEndpointId())) {
            throw Refusal.forbidden("This key belongs to endpoint " + caller.endpointId() + " and can subscribe only"
                    + " that endpoint, not endpoint " + r.destinationEndpointId() + "; use an account-level key.");
        }
        // Checked as the endpoints are now; delivery must check the destination again, since it may change later.
        requireDestination(endpoints.require(caller.accountId(), r.destinationEndpointId()));
        if (r.sourceEndpointId() != null) {
            Endpoint source = endpoints.require(caller.accountId(), r.sourceEndpointId());
            if (!source.registration().eventSource()) {
                throw Refusal.invalid("sourceEndpointId " + source.endpointId() + " is not an event source: enable its"
                        + " endpointTypes.event.source, or leave sourceEndpointId out for every event source.");
            }
        }
        return Reply.json(201, store.create(caller.accountId(), r, clock.getAsLong()).toJson());
    }

    private static void requireDestination(Endpoint destination) {
        if (!destination.registration().eventDestination()) {
            throw Refusal.invalid("destinationEndpointId " + destination.endpointId() + " is not an event destination:"
                    + " enable endpointTypes.event.destination and set its url (PUT /v1/endpoint).");
        }
        if (destination.registration().eventDestinationUrl() == null
                || destination.registration().eventDestinationUrl().isEmpty()) {
            throw Refusal.invalid("destinationEndpointId " + destination.endpointId() + " has no"
                    + " endpointTypes.event.destination.url: set the URL events are sent to (PUT /v1/endpoint).");
        }
    }

    private Reply list(ApiRequest req) {
        Long endpoint = scope.narrowing(req.caller(), req.query("endpointId"));
        return Reply.json(Json.array(store.list(req.caller().accountId(), endpoint), Subscription::toJson));
    }

    private Reply delete(ApiRequest req) {
        Caller caller = req.caller();
        long id = PositiveId.parse(req.path("subscriptionId")).orElseThrow(() -> unknown(req.path("subscriptionId")));
        Subscription s = store.find(caller.accountId(), id)
                .filter(found -> caller.actsFor(found.destinationEndpointId())
                        || caller.actsFor(found.sourceEndpointId()))
                .orElseThrow(() -> unknown(req.path("subscriptionId")));
        if (!caller.actsFor(s.destinationEndpointId())) {
            throw Refusal.forbidden("Subscription " + id + " belongs to its destination, endpoint "
                    + s.destinationEndpointId() + ": its key or an account-level key may delete it.");
        }
        if (!store.delete(caller.accountId(), id)) {
            throw unknown(req.path("subscriptionId")); // deleted meanwhile
        }
        return Reply.json(true);
    }

    private static Refusal unknown(String id) {
        return Refusal.notFound("There is no subscription " + id + " in this account: GET /v1/subscriptions lists them.");
    }
}
