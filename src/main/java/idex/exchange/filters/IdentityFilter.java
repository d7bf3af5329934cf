package idex.exchange.filters;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.util.List;

/**
 * A stored filter: one identifier that one endpoint never publishes (`publishFilter`) and/or never receives
 * (`subscribeFilter`).
 */
public record IdentityFilter(long endpointFilterId, long endpointId, String identifierName,
                             boolean publishFilter, boolean subscribeFilter) {

    /** The shape of seed 003, field names byte-exact; ids are JSON numbers. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("endpointFilterId", endpointFilterId);
        o.put("endpointId", endpointId);
        o.put("identifierName", identifierName);
        o.put("publishFilter", publishFilter);
        o.put("subscribeFilter", subscribeFilter);
        return o;
    }

    /** Every call of the API answers with a list, even for one filter. */
    public static ArrayNode toJson(List<IdentityFilter> filters) {
        return Json.array(filters, IdentityFilter::toJson);
    }
}
