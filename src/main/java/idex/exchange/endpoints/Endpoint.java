package idex.exchange.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.errors.Refusal;
import idex.json.Json;

/**
 * A registered endpoint of an account. `deliveryDisabled` says why delivery turned its event destination off (every
 * attempt failed for too long), null otherwise; `pushDisabled` the same of its push destination.
 */
public record Endpoint(long endpointId, long accountId, Registration registration, long created, long updated,
                       String deliveryDisabled, String pushDisabled) {

    /** Whether events can be delivered to it now: an enabled event destination with a URL. */
    public boolean receivesEvents() {
        String url = registration.eventDestinationUrl();
        return registration.eventDestination() && url != null && !url.isEmpty();
    }

    /** This endpoint, if it is registered as an event source; 403 saying what to enable before `doing` otherwise. */
    public Endpoint requireEventSource(String doing) {
        if (!registration.eventSource()) {
            throw Refusal.forbidden("Endpoint " + endpointId + " is not an event source: enable"
                    + " endpointTypes.event.source in its registration (PUT /v1/endpoint) before " + doing + ".");
        }
        return this;
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("endpointId", endpointId);
        o.put("accountId", accountId);
        registration.toJson(o);
        if (deliveryDisabled != null) {
            ((ObjectNode) o.path("endpointTypes").path("event").path("destination")).put("disabledReason", deliveryDisabled);
        }
        if (pushDisabled != null) {
            // Still the destination of its jobs (enabled stays true): only delivery to it waits.
            ((ObjectNode) o.path("endpointTypes").path("audience").path("destination")).put("disabledReason", pushDisabled);
        }
        o.put("created", created);
        o.put("updated", updated);
        return o;
    }
}
