package idex.exchange.identity;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.accounts.Caller;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.json.Json;
import idex.http.Reply;
import io.vertx.ext.web.Router;

import java.util.List;
import java.util.Map;

/**
 * The identity API of seed 003: inspect an x1Id, find the x1Ids that hold an identifier, remove an identifier.
 * An endpoint key sees only what its endpoint contributed; an account key sees the account, and names the
 * endpoint where the call is about one endpoint's contributions.
 */
public final class IdentityRoutes implements Feature {

    private final ExchangeApi api;
    private final IdentityStore store;
    private final X1Ids x1Ids;
    private final EndpointStore endpoints;
    private final EndpointScope scope;

    public IdentityRoutes(ExchangeApi api, IdentityStore store, X1Ids x1Ids, EndpointStore endpoints) {
        this.api = api;
        this.store = store;
        this.x1Ids = x1Ids;
        this.endpoints = endpoints;
        this.scope = new EndpointScope(endpoints);
    }

    @Override
    public void mount(Router router) {
        router.get("/v1/identity/:x1Id").handler(api.handler(this::x1));
        router.get("/v1/identity").handler(api.handler(this::find));
        router.delete("/v1/identity").handler(api.handler(this::delete));
        ApiServer.onlyMethods(router, "/v1/identity/:x1Id", "GET");
        ApiServer.onlyMethods(router, "/v1/identity", "GET, DELETE");
    }

    private Reply x1(ApiRequest req) {
        Caller caller = req.caller();
        String x1Id = req.path("x1Id");
        Long endpoint = scope.narrowing(caller, req.query("endpointId"));
        long x1 = x1Ids.decode(x1Id).stream().boxed()
                .flatMap(n -> store.survivor(caller.accountId(), n).stream())
                .findFirst().orElseThrow(() -> unknown(x1Id));
        List<IdentityStore.StoredIdentifier> ids = store.identifiers(x1, endpoint);
        if (ids.isEmpty() && endpoint != null) {
            // An endpoint sees only its own contributions: an x1 it contributed nothing to does not exist for it.
            throw unknown(x1Id);
        }
        ArrayNode answer = Json.MAPPER.createArrayNode();
        ArrayNode list = person(answer, x1);
        for (IdentityStore.StoredIdentifier id : ids) {
            list.addObject().put("name", id.name()).put("value", id.value()).put("endpointId", id.endpointId());
        }
        return Reply.json(answer);
    }

    private Reply find(ApiRequest req) {
        long endpoint = scope.endpointId(req.caller(), req.query("endpointId"));
        Identifier identifier = storedForm(req, endpoint, identifierOf(req));
        ArrayNode answer = Json.MAPPER.createArrayNode();
        for (long x1 : store.holders(req.caller().accountId(), endpoint, identifier)) {
            person(answer, x1).addObject().put("name", identifier.name()).put("value", identifier.value())
                    .put("endpointId", endpoint);
        }
        return Reply.json(answer);
    }

    private Reply delete(ApiRequest req) {
        long endpoint = scope.endpointId(req.caller(), req.query("endpointId"));
        Identifier identifier = storedForm(req, endpoint, identifierOf(req));
        int updated = store.delete(req.caller().accountId(), endpoint, identifier);
        return Reply.text("A number of updated Identities: " + updated);
    }

    private ArrayNode person(ArrayNode answer, long x1) {
        ObjectNode p = answer.addObject();
        p.put("x1Id", x1Ids.encode(x1));
        return p.putArray("identifiers");
    }

    /**
     * The identifier as the store keeps it when the endpoint contributes it ({@link ValueForm}), so that a lookup in
     * any case finds the email; a phone that is not one is refused rather than looked up in vain.
     */
    private Identifier storedForm(ApiRequest req, long endpoint, Identifier identifier) {
        ValueForm form = endpoints.find(req.caller().accountId(), endpoint)
                .map(e -> ValueForm.of(e.registration(), identifier.name())).orElse(ValueForm.AS_SENT);
        String trimmed = identifier.value().trim();
        String stored = trimmed.isEmpty() ? null : form.normalize(trimmed);
        if (stored == null) {
            throw Refusal.invalid(trimmed.isEmpty() ? "The identifier '" + identifier.name() + "' needs a value: ?"
                    + identifier.name() + "=…." : "?" + identifier.name() + "=" + ValueForm.notAPhone(identifier.name(), trimmed) + ".");
        }
        return stored.equals(identifier.value()) ? identifier : new Identifier(identifier.name(), stored);
    }

    /** The one `{name}={value}` query parameter besides `endpointId`. */
    private static Identifier identifierOf(ApiRequest req) {
        Identifier found = null;
        for (Map.Entry<String, String> e : req.query()) {
            if (e.getKey().equals("endpointId")) {
                continue;
            }
            if (found != null) {
                throw Refusal.invalid("Name exactly one identifier as ?{identifierName}={identifierValue} (besides"
                        + " endpointId); this request names more.");
            }
            if (e.getValue() == null || e.getValue().isEmpty()) {
                throw Refusal.invalid("The identifier '" + e.getKey() + "' needs a value: ?" + e.getKey() + "=….");
            }
            found = new Identifier(e.getKey(), e.getValue());
        }
        if (found == null) {
            throw Refusal.invalid("Name the identifier as ?{identifierName}={identifierValue}, e.g. ?email=someone%40example.com.");
        }
        return found;
    }

    private static Refusal unknown(String x1Id) {
        return Refusal.notFound("There is no x1Id " + x1Id + " in this account.");
    }
}
