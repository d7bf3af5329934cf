package idex.exchange.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The delivery log: `GET /v1/deliveries` (newest first, paged with `before`), `POST /v1/deliveries/{id}/retry`
 * (send one again now) and `POST /v1/deliveries/recover` (queue again every FAILED delivery to an endpoint since a
 * time). An endpoint key sees the deliveries to its own endpoint; an account key those of the account, or of the
 * endpoint it names.
 */
public final class DeliveryRoutes implements Feature {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final ExchangeApi api;
    private final DeliveryLog log;
    private final EndpointScope scope;
    private final DeliveryEngine engine;
    private final LongSupplier clock;
    private final JobDeliveryLog jobLog;
    private final JobDeliveryRetry jobRetry;

    public DeliveryRoutes(ExchangeApi api, DeliveryLog log, JobDeliveryLog jobLog, JobDeliveryRetry jobRetry,
                          EndpointStore endpoints, DeliveryEngine engine, LongSupplier clock) {
        this.api = api;
        this.log = log;
        this.jobLog = jobLog;
        this.jobRetry = jobRetry;
        this.scope = new EndpointScope(endpoints);
        this.engine = engine;
        this.clock = clock;
    }

    @Override
    public void mount(Router router) {
        router.get("/v1/deliveries").handler(api.handler(this::list));
        ApiServer.onlyMethods(router, "/v1/deliveries", "GET");
        router.post("/v1/deliveries/recover").handler(api.withBody(this::recover));
        router.post("/v1/deliveries/:deliveryId/retry").handler(api.handler(this::retry));
    }

    private Reply list(ApiRequest req) {
        Long destination = scope.narrowing(req.caller(), req.query("endpointId"));
        DeliveryLog.Status status = status(req.query("status"));
        long since = req.query("since") == null ? 0 : time(req.query("since"), "since");
        Long before = null;
        if (req.query("before") != null) {
            before = PositiveId.parse(req.query("before")).stream().boxed().findFirst().orElseThrow(() ->
                    Refusal.invalid("\"before\" must be a deliveryId, as a page's nextBefore gives it."));
        }
        int limit = DEFAULT_LIMIT;
        if (req.query("limit") != null) {
            limit = (int) PositiveId.parse(req.query("limit")).stream().filter(n -> n <= MAX_LIMIT).findFirst()
                    .orElseThrow(() -> Refusal.invalid("\"limit\" must be a whole number from 1 to " + MAX_LIMIT + "."));
        }
        DeliveryLog.Page page = log.list(req.caller().accountId(), destination, status, since, before, limit);
        ObjectNode answer = Json.object();
        ArrayNode deliveries = answer.putArray("deliveries");
        page.deliveries().forEach(deliveries::add);
        answer.put("nextBefore", page.nextBefore());
        return Reply.json(answer);
    }

    private Reply retry(ApiRequest req) {
        Caller caller = req.caller();
        String named = req.path("deliveryId");
        long id = PositiveId.parse(named).orElseThrow(() -> unknown(named));
        Optional<Long> event = log.destinationOf(caller.accountId(), id);
        if (event.isEmpty()) {
            JobDeliveryLog.Entry entry = jobLog.find(caller.accountId(), id)
                    .filter(e -> caller.actsFor(e.endpointId())).orElseThrow(() -> unknown(named));
            jobRetry.retry(entry, clock.getAsLong());
            ObjectNode answer = Json.object();
            answer.put("deliveryId", id);
            answer.put("status", "PENDING");
            answer.put("queued", 1);
            return Reply.json(answer);
        }
        long destination = event.filter(caller::actsFor).orElseThrow(() -> unknown(named));
        int queued = log.retry(caller.accountId(), id, clock.getAsLong());
        engine.wake(Set.of(destination));
        ObjectNode answer = Json.object();
        answer.put("deliveryId", id);
        answer.put("status", "PENDING");
        answer.put("queued", queued);
        return Reply.json(answer);
    }

    private Reply recover(ApiRequest req) {
        JsonNode body = req.json();
        if (!body.isObject()) {
            throw Refusal.invalid("The body must be {\"endpointId\":N,\"since\":…}: the destination whose FAILED"
                    + " deliveries are queued again, and from when.");
        }
        JsonNode endpointId = body.path("endpointId");
        String named = endpointId.isMissingNode() || endpointId.isNull() ? null : endpointId.asText();
        if (named == null && req.caller().isAccountKey()) {
            throw Refusal.invalid("\"endpointId\" is required: the event destination whose deliveries to recover.");
        }
        Endpoint destination = scope.endpoint(req.caller(), named);
        JsonNode sinceNode = body.path("since");
        if (!sinceNode.isTextual() && !sinceNode.isIntegralNumber()) {
            throw Refusal.invalid("\"since\" is required: an ISO-8601 time or Unix milliseconds; FAILED deliveries"
                    + " created from then on are queued again.");
        }
        long since = time(sinceNode.asText(), "since");
        int queued = log.recover(req.caller().accountId(), destination.endpointId(), since, clock.getAsLong());
        engine.wake(Set.of(destination.endpointId()));
        ObjectNode answer = Json.object();
        answer.put("endpointId", destination.endpointId());
        answer.put("queued", queued);
        return Reply.json(answer);
    }

    private static DeliveryLog.Status status(String text) {
        if (text == null) {
            return null;
        }
        try {
            return DeliveryLog.Status.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw Refusal.invalid("\"status\" must be PENDING, DELIVERED or FAILED.");
        }
    }

    /** A time as Unix milliseconds or ISO-8601 with an offset (`2026-12-03T10:00:00Z`). */
    static long time(String text, String field) {
        String t = text.trim();
        if (!t.isEmpty() && t.chars().allMatch(Character::isDigit) && t.length() <= 15) {
            return Long.parseLong(t);
        }
        try {
            return OffsetDateTime.parse(t).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            try {
                return Instant.parse(t).toEpochMilli();
            } catch (DateTimeParseException e2) {
                throw Refusal.invalid("\"" + field + "\" must be Unix milliseconds or an ISO-8601 time with an offset,"
                        + " such as 2026-12-03T10:00:00Z.");
            }
        }
    }

    private static Refusal unknown(String id) {
        return Refusal.notFound("There is no delivery " + id + " in this account: GET /v1/deliveries lists them.");
    }
}
