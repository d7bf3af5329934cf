package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.util.List;

/**
 * Which events an event destination receives: those of one source endpoint (or, `sourceEndpointId` null, of every
 * event source of the account) whose code is one of `eventCodes` (or any, `["*"]`).
 */
public record Subscription(long subscriptionId, long destinationEndpointId, Long sourceEndpointId,
                           List<String> eventCodes, long created) {

    public Subscription {
        eventCodes = List.copyOf(eventCodes);
    }

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("subscriptionId", subscriptionId);
        o.put("destinationEndpointId", destinationEndpointId);
        o.put("sourceEndpointId", sourceEndpointId);
        eventCodes.forEach(o.putArray("eventCodes")::add);
        o.put("created", created);
        return o;
    }
}
