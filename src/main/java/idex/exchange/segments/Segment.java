package idex.exchange.segments;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.json.Json;

import java.util.List;

/**
 * One audience of a producer's segment catalog: `id` is what a job names as its `producerSegmentID` (or
 * `producerSegmentIDString`); `attributes` the columns its data carries.
 */
public record Segment(String id, String name, String description, List<SegmentAttribute> attributes) {

    public Segment {
        attributes = List.copyOf(attributes);
    }

    /** The segment in the shape it is sent: `{"id","name","description","segment_attributes":[{"name","type"}]}`. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("id", id);
        o.put("name", name);
        o.put("description", description);
        o.set("segment_attributes", attributesJson());
        return o;
    }

    ArrayNode attributesJson() {
        ArrayNode a = Json.MAPPER.createArrayNode();
        attributes.forEach(x -> a.add(Json.object().put("name", x.name()).put("type", x.type())));
        return a;
    }
}
