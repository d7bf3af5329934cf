package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/** The body of `POST /v1/subscriptions`, validated (whether the endpoints exist and may take part is the store's). */
record RequestedSubscription(long destinationEndpointId, Long sourceEndpointId, List<String> eventCodes) {

    /** Beyond this a subscription to every code (`["*"]`) is what is meant. */
    static final int MAX_CODES = 1000;

    private static final String EXAMPLE = "{\"destinationEndpointId\":2,\"sourceEndpointId\":1,\"eventCodes\":[\"signup\"]}";
    private static final Set<String> FIELDS = Set.of("destinationEndpointId", "sourceEndpointId", "eventCodes");

    RequestedSubscription {
        eventCodes = List.copyOf(eventCodes);
    }

    static RequestedSubscription parse(JsonNode body) {
        if (!body.isObject()) {
            throw Refusal.invalid("The body must be a JSON object like " + EXAMPLE + ".");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw Refusal.invalid("Unknown field \"" + field + "\": a subscription has destinationEndpointId,"
                        + " sourceEndpointId (optional: every event source when left out) and eventCodes.");
            }
        }
        JsonNode destination = body.path("destinationEndpointId");
        if (destination.isMissingNode() || destination.isNull()) {
            throw Refusal.invalid("\"destinationEndpointId\" is required: the event destination that receives the"
                    + " events, e.g. " + EXAMPLE + ".");
        }
        JsonNode source = body.path("sourceEndpointId");
        return new RequestedSubscription(id(destination, "destinationEndpointId"),
                source.isMissingNode() || source.isNull() ? null : id(source, "sourceEndpointId"),
                codes(body.path("eventCodes")));
    }

    private static long id(JsonNode v, String field) {
        if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 1) {
            throw Refusal.invalid("\"" + field + "\" must be an endpoint id (a positive whole number), not " + v + ".");
        }
        return v.longValue();
    }

    private static List<String> codes(JsonNode v) {
        if (!v.isArray() || v.isEmpty()) {
            throw Refusal.invalid("\"eventCodes\" must be a non-empty array of event codes, e.g. [\"signup\"], or"
                    + " [\"*\"] for every code.");
        }
        if (v.size() > MAX_CODES) {
            throw Refusal.invalid("\"eventCodes\" holds " + v.size() + " codes: send at most " + MAX_CODES
                    + ", or [\"*\"] for every code.");
        }
        List<String> codes = new ArrayList<>(v.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < v.size(); i++) {
            JsonNode c = v.get(i);
            String code = c.isTextual() && c.textValue().equals(EventCode.EVERY) ? EventCode.EVERY
                    : EventCode.parse(c, "eventCodes[" + i + "]");
            if (!seen.add(code)) {
                throw Refusal.invalid("eventCodes holds \"" + code + "\" more than once: name each code once.");
            }
            codes.add(code);
        }
        if (codes.contains(EventCode.EVERY) && codes.size() > 1) {
            // "*" with other codes is ambiguous (every code, or a mistake?): the caller says which it means.
            throw Refusal.invalid("\"*\" (every code) stands alone in eventCodes: send [\"*\"] or only named codes.");
        }
        return codes;
    }
}
