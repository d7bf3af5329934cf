package idex.exchange.subscriptions;

import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.http.Reply;
import idex.json.Json;
import io.vertx.ext.web.Router;

import java.util.function.LongSupplier;

/**
 * `/v1/eventtype`: an event source declares the codes it publishes, so that destinations know what to subscribe to.
 * Declaring is optional: `POST /v1/event` takes undeclared codes as well.
 */
public final class EventTypeRoutes implements Feature {

    private static final String PATH = "/v1/eventtype";

    private final ExchangeApi api;
    private final EventTypeStore store;
    private final EndpointScope scope;
    private final LongSupplier clock;

    public EventTypeRoutes(ExchangeApi api, EventTypeStore store, EndpointStore endpoints, LongSupplier clock) {
        this.api = api;
        this.store = store;
        this.scope = new EndpointScope(endpoints);
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.get(PATH).handler(api.handler(this::list));
        router.post(PATH).handler(api.withBody(this::declare));
        ApiServer.onlyMethods(router, PATH, "GET, POST");
    }

    private Reply declare(ApiRequest req) {
        long endpoint = scope.endpoint(req.caller(), req.query("endpointId"))
                .requireEventSource("declaring event types").endpointId();
        RequestedEventType type = RequestedEventType.parse(req.json());
        return Reply.json(201, store.declare(req.caller().accountId(), endpoint, type, clock.getAsLong()).toJson());
    }

    private Reply list(ApiRequest req) {
        Long endpoint = scope.narrowing(req.caller(), req.query("endpointId"));
        return Reply.json(Json.array(store.list(req.caller().accountId(), endpoint), EventType::toJson));
    }
}
