package idex.exchange.filters;

import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.exchange.endpoints.Registration;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.http.Reply;
import io.vertx.ext.web.Router;

import java.util.List;

/**
 * The identityFilters API of seed 003. Every call acts on one endpoint: an endpoint key on its own, an account key
 * on the one it names with `?endpointId=`, which must be in its account (404 otherwise, as if it did not exist).
 */
public final class IdentityFilterRoutes implements Feature {

    /** The path as the API has it, and as the seed's heading spells it (`identityFilters`): both route alike. */
    private static final String[] LISTS = {"/v1/identityfilters", "/v1/identityFilters"};

    private final ExchangeApi api;
    private final IdentityFilterStore store;
    private final EndpointScope scope;

    public IdentityFilterRoutes(ExchangeApi api, IdentityFilterStore store, EndpointStore endpoints) {
        this.api = api;
        this.store = store;
        this.scope = new EndpointScope(endpoints);
    }

    @Override
    public void mount(Router router) {
        for (String list : LISTS) {
            String one = list + "/:identifierName";
            router.get(list).handler(api.handler(this::list));
            router.post(list).handler(api.withBody(this::add));
            router.put(list).handler(api.withBody(this::replace));
            router.get(one).handler(api.handler(this::one));
            router.delete(one).handler(api.handler(this::delete));
            ApiServer.onlyMethods(router, list, "GET, POST, PUT");
            ApiServer.onlyMethods(router, one, "GET, DELETE");
        }
    }

    private Reply list(ApiRequest req) {
        return Reply.json(IdentityFilter.toJson(store.list(req.caller().accountId(), endpointOf(req))));
    }

    private Reply one(ApiRequest req) {
        long endpoint = endpointOf(req);
        String name = identifierNameOf(req);
        // The seed fixes this answer: no filter for the identifier is 400 "Invalid request", not 404.
        IdentityFilter filter = store.find(req.caller().accountId(), endpoint, name)
                .orElseThrow(() -> Refusal.invalid("Invalid request"));
        return Reply.json(IdentityFilter.toJson(List.of(filter)));
    }

    private Reply add(ApiRequest req) {
        long endpoint = endpointOf(req);
        List<RequestedFilter> filters = RequestedFilter.parseAll(req.json(), endpoint);
        return Reply.json(201, IdentityFilter.toJson(store.add(req.caller().accountId(), endpoint, filters)));
    }

    private Reply replace(ApiRequest req) {
        long endpoint = endpointOf(req);
        List<RequestedFilter> filters = RequestedFilter.parseAll(req.json(), endpoint);
        return Reply.json(IdentityFilter.toJson(store.replace(req.caller().accountId(), endpoint, filters)));
    }

    private Reply delete(ApiRequest req) {
        long endpoint = endpointOf(req);
        String name = identifierNameOf(req);
        if (!store.delete(req.caller().accountId(), endpoint, name)) {
            throw Refusal.notFound("Endpoint " + endpoint + " has no filter for \"" + name + "\": list its filters with"
                    + " GET /v1/identityfilters.");
        }
        return Reply.json(true);
    }

    private long endpointOf(ApiRequest req) {
        return scope.endpointId(req.caller(), req.query("endpointId"));
    }

    private static String identifierNameOf(ApiRequest req) {
        String name = req.path("identifierName");
        if (!Registration.isValidName(name)) {
            throw Refusal.invalid("\"" + name + "\" is not an identifier name: " + Registration.NAME_RULE + ".");
        }
        return name;
    }
}
