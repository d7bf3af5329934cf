package idex.exchange.events;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * An attribute of an event. The value stays the JSON scalar that was sent (string, number or boolean), so that a
 * number keeps its exact digits; `type` is the sender's optional label and is not checked against the value.
 */
public record EventAttribute(String name, JsonNode value, String type) {
}
