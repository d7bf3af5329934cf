package idex.exchange.events;

import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;
import idex.exchange.endpoints.DeclaredIdentifier;
import idex.exchange.endpoints.Registration;
import idex.exchange.identity.Identifier;
import idex.exchange.identity.ValueForm;
import idex.http.StorableText;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Reads the body of `POST /v1/event` in its three shapes (spec §6) and validates every event against the sending
 * endpoint's registration:
 * <ul>
 *   <li>a single event: `{"code":…,"timestamp":…,"identifiers":[…],…}`;</li>
 *   <li>a batch: `{"events":[…]}`, each event with its own `identifiers`;</li>
 *   <li>a compound batch: `{"identifiers":[…],"events":[…]}`, the identifiers given once for every event.</li>
 * </ul>
 * The whole body is checked before anything is stored, so that a batch is taken entirely or not at all: a bad
 * event throws {@link InvalidEvent} with its index, a bad batch (shape, size, shared identifiers) an
 * invalid-request {@link Refusal}.
 */
public final class EventParser {

    /** Events in one request; more are refused rather than resolved in one long transaction under the account lock. */
    public static final int MAX_EVENTS = 10_000;
    static final int MAX_CODE = 128;
    static final int MAX_CHANNEL = 128;
    static final int MAX_ATTRIBUTE_NAME = 128;
    static final int MAX_ATTRIBUTE_TYPE = 64;
    /** What the identity store's id_value column holds. */
    static final int MAX_IDENTIFIER_VALUE = 512;

    private static final String TIMESTAMP_EXAMPLES = "2026-11-23T10:00:00Z or 2026-11-23T10:00:00.123+01:00";

    private final Registration registration;

    private EventParser(Registration registration) {
        this.registration = registration;
    }

    /** The events of a request body, sent by the endpoint with this registration. */
    public static EventBatch parse(JsonNode body, Registration registration) {
        return new EventParser(registration).batch(body);
    }

    private EventBatch batch(JsonNode body) {
        if (!body.isObject()) {
            throw Refusal.invalid("The body must be a JSON object: one event {\"code\":…,\"timestamp\":…,"
                    + "\"identifiers\":[…]}, a batch {\"events\":[…]}, or a compound batch {\"identifiers\":[…],\"events\":[…]}.");
        }
        JsonNode events = body.get("events");
        if (absent(events)) {
            return new EventBatch(List.of(event(0, body, null)));
        }
        if (!events.isArray()) {
            throw Refusal.invalid("\"events\" must be an array of event objects, not " + kind(events) + ".");
        }
        if (events.isEmpty()) {
            throw Refusal.invalid("\"events\" is empty: send at least one event.");
        }
        if (events.size() > MAX_EVENTS) {
            throw Refusal.invalid("The batch has " + events.size() + " events; a request takes at most " + MAX_EVENTS
                    + ": split it into several requests.");
        }
        for (String field : List.of("code", "timestamp", "channel", "attributes")) {
            if (body.has(field)) {
                throw Refusal.invalid("A batch carries \"" + field + "\" inside each of its \"events\", not at the"
                        + " top: move it into the events.");
            }
        }
        // Present identifiers at the top make a compound batch: they are every event's record.
        List<Identifier> shared = null;
        JsonNode top = body.get("identifiers");
        if (!absent(top)) {
            shared = identifiers(top, problem -> Refusal.invalid("The compound batch's \"identifiers\" (given once"
                    + " for every event) " + problem));
        }
        List<Event> parsed = new ArrayList<>(events.size());
        for (int i = 0; i < events.size(); i++) {
            parsed.add(event(i, events.get(i), shared));
        }
        return new EventBatch(List.copyOf(parsed));
    }

    /** One event; `shared` is the compound batch's identifiers, or null when the event must carry its own. */
    private Event event(int index, JsonNode node, List<Identifier> shared) {
        if (!node.isObject()) {
            throw new InvalidEvent(index, "is " + kind(node) + ", not an event object: send {\"code\":…,"
                    + "\"timestamp\":…,\"identifiers\":[…]}.");
        }
        String code = code(index, node.get("code"));
        OffsetDateTime timestamp = timestamp(index, node.get("timestamp"));
        String channel = channel(index, node.get("channel"));
        List<EventAttribute> attributes = attributes(index, node.get("attributes"));
        JsonNode own = node.get("identifiers");
        List<Identifier> identifiers;
        if (shared != null) {
            // Two sources of identifiers for one event would leave it unclear which record it is: refuse rather
            // than silently ignore or merge one of them.
            if (!absent(own)) {
                throw new InvalidEvent(index, "carries its own \"identifiers\" in a compound batch, whose identifiers"
                        + " are given once at the top for every event: remove them from the event, or send a batch"
                        + " {\"events\":[…]} without top-level identifiers where each event has its own.");
            }
            identifiers = shared;
        } else {
            identifiers = identifiers(own, problem -> new InvalidEvent(index, problem));
        }
        return new Event(code, timestamp, channel, identifiers, attributes);
    }

    private static String code(int index, JsonNode v) {
        if (absent(v)) {
            throw new InvalidEvent(index, "\"code\" is missing: name what happened, e.g. \"code\":\"purchase\".");
        }
        if (!v.isTextual()) {
            throw new InvalidEvent(index, "\"code\" must be a string, not " + kind(v) + ".");
        }
        String code = v.textValue().trim();
        if (code.isEmpty()) {
            throw new InvalidEvent(index, "\"code\" is empty: name what happened, e.g. \"code\":\"purchase\".");
        }
        if (code.length() > MAX_CODE) {
            throw new InvalidEvent(index, "\"code\" has " + code.length() + " characters; use at most " + MAX_CODE + ".");
        }
        return withoutNul(index, "\"code\"", code);
    }

    /** ISO-8601 with an offset: a time without one would mean a different instant on every sender's clock. */
    private static OffsetDateTime timestamp(int index, JsonNode v) {
        if (absent(v)) {
            throw new InvalidEvent(index, "\"timestamp\" is missing: say when the event happened in ISO-8601 with an"
                    + " offset, e.g. " + TIMESTAMP_EXAMPLES + ".");
        }
        if (!v.isTextual()) {
            throw new InvalidEvent(index, "\"timestamp\" must be an ISO-8601 string such as " + TIMESTAMP_EXAMPLES
                    + ", not " + kind(v) + ".");
        }
        try {
            return OffsetDateTime.parse(v.textValue(), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            throw new InvalidEvent(index, "\"timestamp\" '" + shorten(v.textValue()) + "' is not an ISO-8601 date and"
                    + " time with an offset: write it like " + TIMESTAMP_EXAMPLES + ".");
        }
    }

    private static String channel(int index, JsonNode v) {
        if (absent(v)) {
            return null;
        }
        if (!v.isTextual()) {
            throw new InvalidEvent(index, "\"channel\" must be a string, not " + kind(v) + ", or be left out.");
        }
        String channel = v.textValue().trim();
        if (channel.length() > MAX_CHANNEL) {
            throw new InvalidEvent(index, "\"channel\" has " + channel.length() + " characters; use at most "
                    + MAX_CHANNEL + ".");
        }
        return channel.isEmpty() ? null : withoutNul(index, "\"channel\"", channel);
    }

    private static List<EventAttribute> attributes(int index, JsonNode v) {
        if (absent(v)) {
            return List.of();
        }
        if (!v.isArray()) {
            throw new InvalidEvent(index, "\"attributes\" must be an array of {\"name\":…,\"value\":…,\"type\":…}"
                    + " objects, not " + kind(v) + ".");
        }
        List<EventAttribute> attributes = new ArrayList<>(v.size());
        Set<String> names = new HashSet<>();
        for (int k = 0; k < v.size(); k++) {
            JsonNode a = v.get(k);
            String at = "attributes[" + k + "]";
            if (!a.isObject()) {
                throw new InvalidEvent(index, at + " is " + kind(a) + ": each attribute is an object"
                        + " {\"name\":…,\"value\":…,\"type\":…}.");
            }
            JsonNode name = a.get("name");
            if (absent(name) || !name.isTextual() || name.textValue().isBlank()) {
                throw new InvalidEvent(index, at + ".name must be a non-empty string"
                        + (absent(name) ? " and is missing." : "."));
            }
            String n = name.textValue().trim();
            if (n.length() > MAX_ATTRIBUTE_NAME) {
                throw new InvalidEvent(index, at + ".name has " + n.length() + " characters; use at most "
                        + MAX_ATTRIBUTE_NAME + ".");
            }
            withoutNul(index, at + ".name", n);
            // A second value under the same name would leave the event's attribute ambiguous.
            if (!names.add(n)) {
                throw new InvalidEvent(index, "attribute \"" + n + "\" is given twice: send each attribute once.");
            }
            JsonNode value = a.get("value");
            if (value == null || !(value.isTextual() || value.isNumber() || value.isBoolean())) {
                throw new InvalidEvent(index, at + ".value (\"" + n + "\") must be a string, a number or true/false"
                        + (value == null ? " and is missing." : ", not " + kind(value) + "."));
            }
            JsonNode type = a.get("type");
            String t = null;
            if (!absent(type)) {
                if (!type.isTextual() || type.textValue().trim().length() > MAX_ATTRIBUTE_TYPE) {
                    throw new InvalidEvent(index, at + ".type (\"" + n + "\") must be a string of at most "
                            + MAX_ATTRIBUTE_TYPE + " characters, or be left out.");
                }
                t = withoutNul(index, at + ".type (\"" + n + "\")", type.textValue().trim());
            }
            if (value.isTextual()) {
                withoutNul(index, at + ".value (\"" + n + "\")", value.textValue());
            }
            attributes.add(new EventAttribute(n, value, t));
        }
        return List.copyOf(attributes);
    }

    /** Text the event carries on to its subscribers and the store: PostgreSQL text cannot hold U+0000. */
    private static String withoutNul(int index, String what, String text) {
        String nul = StorableText.nulIn(what, text);
        if (nul != null) {
            throw new InvalidEvent(index, nul);
        }
        return text;
    }

    /** Identifiers of one record: declared by the endpoint, values in the form the identity store keeps them. */
    private List<Identifier> identifiers(JsonNode v, Function<String, RuntimeException> fail) {
        if (absent(v)) {
            throw fail.apply("\"identifiers\" is missing: give at least one {\"name\":…,\"value\":…} of the identifiers"
                    + " the endpoint declared; " + declared() + ".");
        }
        if (!v.isArray()) {
            throw fail.apply("\"identifiers\" must be an array of {\"name\":…,\"value\":…} objects, not " + kind(v) + ".");
        }
        if (v.isEmpty()) {
            throw fail.apply("\"identifiers\" is empty: give at least one {\"name\":…,\"value\":…} of the identifiers"
                    + " the endpoint declared; " + declared() + ".");
        }
        List<Identifier> identifiers = new ArrayList<>(v.size());
        for (int k = 0; k < v.size(); k++) {
            JsonNode i = v.get(k);
            String at = "identifiers[" + k + "]";
            if (!i.isObject()) {
                throw fail.apply(at + " is " + kind(i) + ": each identifier is an object {\"name\":…,\"value\":…}.");
            }
            JsonNode name = i.get("name");
            if (absent(name) || !name.isTextual()) {
                throw fail.apply(at + ".name must be the name of an identifier the endpoint declared ("
                        + declared() + ")" + (absent(name) ? ", and is missing." : ", not " + kind(name) + "."));
            }
            String n = name.textValue();
            DeclaredIdentifier declaredIdentifier = registration.identifier(n).orElse(null);
            if (declaredIdentifier == null) {
                throw fail.apply(at + ".name '" + shorten(n) + "' is not an identifier this endpoint declared ("
                        + declared() + "): use a declared one, or add it to the registration with PUT /v1/endpoint.");
            }
            JsonNode value = i.get("value");
            if (absent(value) || !value.isTextual()) {
                throw fail.apply(at + ".value (" + n + ") must be a string" + (absent(value) ? " and is missing."
                        : ", not " + kind(value) + (value.isNumber() ? ": put numbers in quotes." : ".")));
            }
            String trimmed = value.textValue().trim();
            if (trimmed.isEmpty()) {
                throw fail.apply(at + ".value (" + n + ") is empty: give the identifier's value, or leave the"
                        + " identifier out.");
            }
            if (trimmed.length() > MAX_IDENTIFIER_VALUE) {
                throw fail.apply(at + ".value (" + n + ") has " + trimmed.length() + " characters; an identifier value"
                        + " has at most " + MAX_IDENTIFIER_VALUE + ".");
            }
            // PostgreSQL cannot store U+0000, and no identifier (email, phone, cookie, id) has control characters.
            if (trimmed.chars().anyMatch(Character::isISOControl)) {
                throw fail.apply(at + ".value (" + n + ") contains a control character (such as a tab, a line break"
                        + " or \\u0000): send the identifier's value only.");
            }
            String stored = ValueForm.of(declaredIdentifier.type()).normalize(trimmed);
            if (stored == null) {
                throw fail.apply(at + ".value " + ValueForm.notAPhone(n, trimmed) + ".");
            }
            identifiers.add(new Identifier(n, stored));
        }
        return List.copyOf(identifiers);
    }

    /** Which identifiers the endpoint declared, for messages (the first few when there are many). */
    private String declared() {
        List<String> names = registration.identifiers().stream().map(DeclaredIdentifier::name).toList();
        if (names.isEmpty()) {
            return "it declares none yet";
        }
        String shown = names.stream().limit(10).collect(Collectors.joining(", "));
        return "it declares " + (names.size() > 10 ? shown + ", …" : shown);
    }

    private static boolean absent(JsonNode v) {
        return v == null || v.isNull() || v.isMissingNode();
    }

    /** What a JSON value is, for messages that should not echo a whole object back. */
    private static String kind(JsonNode v) {
        if (v == null || v.isNull()) {
            return "null";
        }
        if (v.isObject()) {
            return "an object";
        }
        if (v.isArray()) {
            return "an array";
        }
        if (v.isBoolean()) {
            return v.booleanValue() ? "true" : "false";
        }
        if (v.isNumber()) {
            return "the number " + shorten(v.asText());
        }
        return "the string '" + shorten(v.asText()) + "'";
    }

    private static String shorten(String s) {
        return s.length() <= 64 ? s : s.substring(0, 61) + "…";
    }
}
