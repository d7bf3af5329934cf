package idex.exchange.segments;

import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.ExchangeApi.ApiRequest;
import idex.exchange.endpoints.AudienceRole;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.endpoints.EndpointScope;
import idex.exchange.endpoints.EndpointStore;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.http.PositiveId;
import idex.http.Reply;
import idex.json.Json;
import io.vertx.ext.web.Router;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * `/v1/endpoint/{endpointId}/segments`: the segment catalog of an audience source, the audiences it can share. A push
 * producer writes its own (POST adds, PUT replaces, DELETE clears, DELETE …/{segmentId} removes one); a pull
 * producer's comes from its partner ({@link PartnerCatalog}) and is only read here. The endpoint's key or an account
 * key may call; another account's endpoint is 404. Every call answers the catalog as it is afterwards.
 */
public final class SegmentCatalogRoutes implements Feature {

    private static final String LIST = "/v1/endpoint/:endpointId/segments";
    private static final String ONE = LIST + "/:segmentId";

    private final ExchangeApi api;
    private final SegmentCatalogStore store;
    private final EndpointScope scope;
    private final PartnerCatalog partners;
    private final LongSupplier clock;

    public SegmentCatalogRoutes(ExchangeApi api, SegmentCatalogStore store, EndpointStore endpoints,
                                PartnerCatalog partners, LongSupplier clock) {
        this.api = api;
        this.store = store;
        this.scope = new EndpointScope(endpoints);
        this.partners = partners;
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.get(LIST).handler(api.handler(this::list));
        router.post(LIST).handler(api.withBody(req -> {
            Endpoint e = pushProducer(req, "adding segments");
            List<Segment> added = RequestedSegments.parse(req.json(), false);
            return answer(201, store.add(e.accountId(), e.endpointId(), added, clock.getAsLong()));
        }));
        router.put(LIST).handler(api.withBody(req -> {
            Endpoint e = pushProducer(req, "replacing its segments");
            List<Segment> all = RequestedSegments.parse(req.json(), true);
            return answer(200, store.replace(e.accountId(), e.endpointId(), all, CatalogSource.ENDPOINT,
                    clock.getAsLong()));
        }));
        router.delete(LIST).handler(api.handler(req -> {
            Endpoint e = pushProducer(req, "clearing its segments");
            return answer(200, store.replace(e.accountId(), e.endpointId(), List.of(), CatalogSource.ENDPOINT,
                    clock.getAsLong()));
        }));
        router.delete(ONE).handler(api.handler(req -> {
            Endpoint e = pushProducer(req, "removing a segment");
            String id = RequestedSegments.pathId(req.path("segmentId"));
            List<Segment> left = store.remove(e.accountId(), e.endpointId(), id, clock.getAsLong())
                    .orElseThrow(() -> Refusal.notFound("Endpoint " + e.endpointId() + "'s catalog has no segment \""
                            + id + "\": GET /v1/endpoint/" + e.endpointId() + "/segments lists it."));
            return answer(200, left);
        }));
        ApiServer.onlyMethods(router, LIST, "GET, POST, PUT, DELETE");
        ApiServer.onlyMethods(router, ONE, "DELETE");
    }

    private Reply list(ApiRequest req) {
        Endpoint e = producer(req);
        boolean refresh = refreshFlag(req.query("refresh"));
        if ("pull".equals(e.registration().audienceMode())) {
            partners.bringUpToDate(e, refresh);
        }
        return answer(200, store.list(e.accountId(), e.endpointId()));
    }

    /** The audience source the path names; 404 for an unknown id or another account's, 400 for any other role. */
    private Endpoint producer(ApiRequest req) {
        String named = req.path("endpointId");
        if (PositiveId.parse(named).isEmpty()) {
            throw Refusal.notFound("There is no endpoint " + named + " in this account.");
        }
        Endpoint e = scope.endpoint(req.caller(), named);
        if (e.registration().audienceRole() != AudienceRole.SOURCE) {
            throw Refusal.invalid("Endpoint " + e.endpointId() + " is not an audience source: only a producer"
                    + " (endpointTypes.audience.source.enabled true) has a segment catalog.");
        }
        return e;
    }

    /** A producer whose catalog this API writes: a push producer (a pull producer's partner publishes its own). */
    private Endpoint pushProducer(ApiRequest req, String doing) {
        Endpoint e = producer(req);
        if (!"push".equals(e.registration().audienceMode())) {
            throw Refusal.invalid("Endpoint " + e.endpointId() + " is a pull producer: its catalog is the one its"
                    + " partner answers at GET {url}/v1/segments, read with GET /v1/endpoint/" + e.endpointId()
                    + "/segments; " + doing + " here is for push producers.");
        }
        return e;
    }

    private static boolean refreshFlag(String v) {
        if (v == null || v.equals("false")) {
            return false;
        }
        if (!v.equals("true")) {
            throw Refusal.invalid("refresh must be true or false, not '" + v + "'.");
        }
        return true;
    }

    private static Reply answer(int status, List<Segment> catalog) {
        return Reply.json(status, Json.array(catalog, Segment::toJson));
    }
}
