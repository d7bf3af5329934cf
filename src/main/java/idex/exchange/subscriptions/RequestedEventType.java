package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;
import idex.exchange.endpoints.Registration;

import java.util.Iterator;
import java.util.Set;

/** The body of `POST /v1/eventtype`, validated. */
record RequestedEventType(String code, String name, String description) {

    private static final Set<String> FIELDS = Set.of("code", "name", "description");

    static RequestedEventType parse(JsonNode body) {
        if (!body.isObject()) {
            throw Refusal.invalid("The body must be a JSON object like {\"code\":\"signup\",\"name\":\"Sign-up\","
                    + "\"description\":\"…\"}.");
        }
        for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!FIELDS.contains(field)) {
                throw Refusal.invalid("Unknown field \"" + field + "\": an event type has code, name and description.");
            }
        }
        return new RequestedEventType(EventCode.parse(body.get("code"), "\"code\""),
                Registration.text(body, "name", false, 256), Registration.text(body, "description", false, 4096));
    }
}
