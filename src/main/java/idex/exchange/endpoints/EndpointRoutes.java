package idex.exchange.endpoints;

import com.fasterxml.jackson.databind.node.ArrayNode;
import idex.exchange.ExchangeApi;
import idex.exchange.accounts.Caller;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.json.Json;
import idex.http.Reply;
import io.vertx.ext.web.Router;

import java.util.function.LongSupplier;

/** `POST`, `GET` and `PUT /v1/endpoint`: registering the applications of an account. */
public final class EndpointRoutes implements Feature {

    private final ExchangeApi api;
    private final EndpointStore endpoints;
    private final EndpointScope scope;
    private final LongSupplier clock;

    public EndpointRoutes(ExchangeApi api, EndpointStore endpoints, LongSupplier clock) {
        this.api = api;
        this.endpoints = endpoints;
        this.scope = new EndpointScope(endpoints);
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.post("/v1/endpoint").handler(api.withBody(req -> {
            req.caller().requireAccountKey("Registering an endpoint");
            Registration registration = Registration.parse(req.json());
            EndpointStore.Created created = endpoints.create(req.caller().accountId(), registration, clock.getAsLong());
            // The new key must work on the very next request, before the periodic reload sees it.
            api.keys().add(created.key().stored());
            return Reply.json(201, created.endpoint().toJson().put("key", created.key().key()));
        }));
        router.get("/v1/endpoint").handler(api.handler(req -> {
            Caller caller = req.caller();
            String named = req.query("endpointId");
            if (caller.isAccountKey() && named == null) {
                ArrayNode all = Json.MAPPER.createArrayNode();
                endpoints.list(caller.accountId()).forEach(e -> all.add(e.toJson()));
                return Reply.json(all);
            }
            return Reply.json(scope.endpoint(caller, named).toJson());
        }));
        router.put("/v1/endpoint").handler(api.withBody(req -> {
            long endpointId = req.caller().requireEndpointKey("Updating a registration");
            Registration registration = Registration.parse(req.json());
            return Reply.json(endpoints.update(req.caller().accountId(), endpointId, registration, clock.getAsLong()).toJson());
        }));
        ApiServer.onlyMethods(router, "/v1/endpoint", "GET, POST, PUT");
    }
}
