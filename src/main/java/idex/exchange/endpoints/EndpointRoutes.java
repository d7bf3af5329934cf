package idex.exchange.endpoints;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.errors.Refusal;
import idex.exchange.ExchangeApi;
import idex.exchange.accounts.Caller;
import idex.http.ApiServer;
import idex.http.Feature;
import idex.http.PositiveId;
import idex.json.Json;
import idex.http.Reply;
import io.vertx.ext.web.Router;

import java.util.function.LongSupplier;

/**
 * `POST`, `GET` and `PUT /v1/endpoint`: registering the applications of an account; and
 * `POST /v1/endpoint/{endpointId}/signingSecret`, rotating an event destination's signing secret. A signing secret
 * is shown once: in the answer that registers or first enables an event destination, and in the rotation's.
 */
public final class EndpointRoutes implements Feature {

    private static final String DESTINATION_URL = "endpointTypes.event.destination.url";

    private final ExchangeApi api;
    private final EndpointStore endpoints;
    private final EndpointScope scope;
    private final EventUrlPolicy urls;
    private final LongSupplier clock;

    public EndpointRoutes(ExchangeApi api, EndpointStore endpoints, EventUrlPolicy urls, LongSupplier clock) {
        this.api = api;
        this.endpoints = endpoints;
        this.scope = new EndpointScope(endpoints);
        this.urls = urls;
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.post("/v1/endpoint").handler(api.withBody(req -> {
            req.caller().requireAccountKey("Registering an endpoint");
            Registration registration = checked(Registration.parse(req.json()));
            EndpointStore.Created created = endpoints.create(req.caller().accountId(), registration, clock.getAsLong());
            // The new key must work on the very next request, before the periodic reload sees it.
            api.keys().add(created.key().stored());
            ObjectNode answer = created.endpoint().toJson().put("key", created.key().key());
            created.signingSecret().ifPresent(s -> answer.put("signingSecret", s.text()));
            return Reply.json(201, answer);
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
            Registration registration = checked(Registration.parse(req.json()));
            EndpointStore.Updated updated = endpoints.update(req.caller().accountId(), endpointId, registration,
                    clock.getAsLong());
            ObjectNode answer = updated.endpoint().toJson();
            updated.signingSecret().ifPresent(s -> answer.put("signingSecret", s.text()));
            return Reply.json(answer);
        }));
        ApiServer.onlyMethods(router, "/v1/endpoint", "GET, POST, PUT");
        router.post("/v1/endpoint/:endpointId/signingSecret").handler(api.handler(req -> {
            String named = req.path("endpointId");
            if (PositiveId.parse(named).isEmpty()) {
                throw Refusal.notFound("There is no endpoint " + named + " in this account.");
            }
            Endpoint endpoint = scope.endpoint(req.caller(), named);
            if (endpoint.registration().eventDestinationUrl() == null && !endpoint.registration().needsSigningSecret()) {
                throw Refusal.invalid("Endpoint " + endpoint.endpointId() + " is neither an event destination, a push"
                        + " destination nor a pull producer: register endpointTypes.event.destination with a url (or"
                        + " an audience destination with destinationType \"push\", or a pull producer, with its url)"
                        + " before rotating its signing secret.");
            }
            long now = clock.getAsLong();
            SigningSecrets.Rotated fresh = endpoints.secrets().rotate(endpoint.accountId(), endpoint.endpointId(), now);
            ObjectNode answer = Json.object();
            answer.put("endpointId", endpoint.endpointId());
            answer.put("signingSecret", fresh.secret().text());
            answer.put("previousSecretValidUntil", fresh.replacedOne() ? now + SigningSecrets.OVERLAP_MS : null);
            return Reply.json(answer);
        }));
    }

    /**
     * The registration, once its event destination URL (if any) passes the delivery target rules, and the `url` of a
     * push destination or a pull producer (their APIs, which the exchange calls) is given and passes them too.
     */
    private Registration checked(Registration registration) {
        if (registration.eventDestination() && registration.eventDestinationUrl() != null) {
            urls.checkRegistration(registration.eventDestinationUrl(), DESTINATION_URL);
        }
        if (registration.pullProducer()) {
            if (registration.url() == null || registration.url().isEmpty()) {
                throw Refusal.invalid("A pull producer (endpointTypes.audience.source.producerType \"pull\") needs"
                        + " \"url\": the base URL of its API, which the exchange calls for the data of its jobs.");
            }
            urls.checkRegistration(registration.url(), "url");
        }
        if (registration.pushDestination()) {
            urls.checkRegistration(registration.url(), "url");
        }
        return registration;
    }
}
