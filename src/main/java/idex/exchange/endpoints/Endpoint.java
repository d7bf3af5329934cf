package idex.exchange.endpoints;

import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

/** A registered endpoint of an account. */
public record Endpoint(long endpointId, long accountId, Registration registration, long created, long updated) {

    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("endpointId", endpointId);
        o.put("accountId", accountId);
        registration.toJson(o);
        o.put("created", created);
        o.put("updated", updated);
        return o;
    }
}
