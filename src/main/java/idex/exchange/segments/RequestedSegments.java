package idex.exchange.segments;

import com.fasterxml.jackson.databind.JsonNode;
import idex.errors.Refusal;
import idex.exchange.endpoints.Registration;
import idex.http.StorableText;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The body of `POST` and `PUT /v1/endpoint/{endpointId}/segments`, validated whole before anything is stored, so that
 * bad input changes nothing.
 */
public final class RequestedSegments {

    /** The most segments a catalog holds (and so a request carries). */
    public static final int MAX_SEGMENTS = 1000;
    /** The most columns one segment declares: as many as an endpoint may declare identifiers. */
    public static final int MAX_ATTRIBUTES = 1000;
    /** As long as a job's `producerSegmentIDString` may be. */
    public static final int MAX_ID_LENGTH = 256;
    /** What a segment id may be, for messages. */
    public static final String ID_RULE = "1 to " + MAX_ID_LENGTH + " characters, no '/' and no control characters";

    private static final String EXAMPLE = "[{\"id\":\"vip\",\"name\":\"VIP customers\",\"description\":\"…\","
            + "\"segment_attributes\":[{\"name\":\"tier\",\"type\":\"string\"}]}]";
    private static final Set<String> FIELDS = Set.of("id", "name", "description", "segment_attributes");
    private static final Set<String> ATTRIBUTE_FIELDS = Set.of("name", "type");

    private RequestedSegments() {
    }

    /** The segments of a body; an empty array only where `emptyAllowed` (a PUT that clears the catalog). */
    public static List<Segment> parse(JsonNode body, boolean emptyAllowed) {
        if (!body.isArray()) {
            throw Refusal.invalid("The body must be a JSON array of segments, e.g. " + EXAMPLE + ".");
        }
        if (body.isEmpty() && !emptyAllowed) {
            throw Refusal.invalid("The array is empty: send at least one segment, e.g. " + EXAMPLE + ".");
        }
        if (body.size() > MAX_SEGMENTS) {
            throw Refusal.invalid("The array holds " + body.size() + " segments: a catalog holds at most "
                    + MAX_SEGMENTS + ".");
        }
        List<Segment> segments = new ArrayList<>(body.size());
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < body.size(); i++) {
            Segment s = parseOne(body.get(i), "Segment [" + i + "]");
            if (!ids.add(s.id())) {
                throw Refusal.invalid("Segment id \"" + s.id() + "\" appears more than once in the request: each"
                        + " segment of a catalog has its own id. Nothing was changed.");
            }
            segments.add(s);
        }
        return List.copyOf(segments);
    }

    /** A segment id as a path names it: 400 when it could not be one. */
    public static String pathId(String text) {
        String problem = idProblem(text);
        if (problem != null) {
            throw Refusal.invalid("\"" + text + "\" is not a segment id: " + problem + ".");
        }
        return text;
    }

    private static Segment parseOne(JsonNode item, String where) {
        if (!item.isObject()) {
            throw Refusal.invalid(where + " must be an object like " + EXAMPLE.substring(1, EXAMPLE.length() - 1) + ".");
        }
        unknownFields(item, FIELDS, where, "a segment has id, name, description and segment_attributes");
        JsonNode idNode = item.path("id");
        if (idNode.isMissingNode() || idNode.isNull()) {
            throw Refusal.invalid(where + " needs \"id\": the id jobs name as their producerSegmentID.");
        }
        if (!idNode.isTextual() && !idNode.isIntegralNumber()) {
            throw Refusal.invalid(where + ": \"id\" must be a string or a whole number, not " + idNode + ".");
        }
        String id = idNode.asText().trim();
        String problem = idProblem(id);
        if (problem != null) {
            throw Refusal.invalid(where + ": \"id\" " + idNode + " is not valid: " + problem + ".");
        }
        String at = "Segment \"" + id + "\"";
        String name = text(item, "name", 256, at);
        String description = text(item, "description", 4096, at);
        return new Segment(id, name, description, attributes(item.path("segment_attributes"), at));
    }

    private static List<SegmentAttribute> attributes(JsonNode a, String at) {
        if (a.isMissingNode() || a.isNull()) {
            return List.of();
        }
        if (!a.isArray()) {
            throw Refusal.invalid(at + ": \"segment_attributes\" must be an array of {\"name\",\"type\"} objects.");
        }
        if (a.size() > MAX_ATTRIBUTES) {
            throw Refusal.invalid(at + " declares " + a.size() + " segment_attributes: at most " + MAX_ATTRIBUTES + ".");
        }
        List<SegmentAttribute> list = new ArrayList<>(a.size());
        Set<String> names = new HashSet<>();
        for (int i = 0; i < a.size(); i++) {
            JsonNode x = a.get(i);
            String where = at + ": segment_attributes[" + i + "]";
            if (!x.isObject()) {
                throw Refusal.invalid(where + " must be an object like {\"name\":\"tier\",\"type\":\"string\"}.");
            }
            unknownFields(x, ATTRIBUTE_FIELDS, where, "an attribute has name and type");
            JsonNode n = x.path("name");
            if (!n.isTextual() || !Registration.isValidName(n.textValue())) {
                throw Refusal.invalid(where + ".name " + (n.isMissingNode() ? "is missing" : n + " is not valid") + ": "
                        + Registration.NAME_RULE + ".");
            }
            if (!names.add(n.textValue())) {
                throw Refusal.invalid(at + " declares attribute \"" + n.textValue() + "\" twice: declare each once.");
            }
            String type = text(x, "type", 64, where);
            list.add(new SegmentAttribute(n.textValue(), type == null ? "string" : type));
        }
        return list;
    }

    /** Why `id` cannot be a segment id, or null: it must be addressable as one path segment and printable. */
    private static String idProblem(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_ID_LENGTH) {
            return ID_RULE;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (c == 0) {
                return "it contains U+0000 (NUL), which no text field can hold";
            }
            if (c == '/' || Character.isISOControl(c)) {
                return ID_RULE;
            }
        }
        return null;
    }

    private static String text(JsonNode node, String field, int max, String where) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw Refusal.invalid(where + ": \"" + field + "\" must be a string.");
        }
        String s = v.textValue().trim();
        if (s.length() > max) {
            throw Refusal.invalid(where + ": \"" + field + "\" has more than " + max + " characters.");
        }
        String nul = StorableText.nulIn(where + ": \"" + field + "\"", s); // PostgreSQL text cannot hold U+0000
        if (nul != null) {
            throw Refusal.invalid(nul);
        }
        return s.isEmpty() ? null : s;
    }

    private static void unknownFields(JsonNode item, Set<String> known, String where, String shape) {
        for (Iterator<String> it = item.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!known.contains(field)) {
                // Ignoring e.g. "segmentAttributes" silently would store a segment without the columns meant.
                throw Refusal.invalid(where + " has an unknown field \"" + field + "\": " + shape + ".");
            }
        }
    }
}
