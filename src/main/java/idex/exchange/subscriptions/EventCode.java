package idex.exchange.subscriptions;

import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;
import idex.exchange.endpoints.Registration;

/**
 * The rule for event codes that are declared and subscribed to: the rule of identifier names (128 characters at
 * most, as an event's code), so that a code is safe in a URL, a log line and a header.
 */
final class EventCode {

    /** In a subscription, every code. */
    static final String EVERY = "*";

    private EventCode() {
    }

    /** The code `value` holds; 400 naming `where` otherwise. */
    static String parse(JsonNode value, String where) {
        if (value == null || value.isMissingNode() || value.isNull()) {
            throw Refusal.invalid(where + " is missing: name the event code, e.g. \"signup\".");
        }
        if (!value.isTextual() || !Registration.isValidName(value.textValue())) {
            throw Refusal.invalid(where + " " + value + " is not an event code: " + Registration.NAME_RULE + ".");
        }
        return value.textValue();
    }
}
