package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.util.List;

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

    public static ArrayNode toJson(List<EventType> types) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        types.forEach(t -> a.add(t.toJson()));
        return a;
    }
}
