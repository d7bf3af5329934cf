package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

/** An event code that an event-source endpoint declares it publishes; name and description are for people. */
public record EventType(long endpointId, String code, String name, String description, long created) {

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("endpointId", endpointId);
        o.put("code", code);
        o.put("name", name);
        o.put("description", description);
        o.put("created", created);
        return o;
    }
}
