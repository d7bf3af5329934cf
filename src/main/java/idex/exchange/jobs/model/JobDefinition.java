package idex.exchange.jobs.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.errors.Refusal;
import idex.http.StorableText;
import idex.json.Json;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a job was asked to do (the body of `POST /v1/jobs/segmentExport` or `…/identityImport`), checked for shape.
 * Whether the endpoints and mappings fit the account's registrations is checked when a job is created (JobCreation).
 */
public record JobDefinition(Long producerEndpointId, Long producerSegmentId, String producerSegmentIdString,
                            Long destinationEndpointId, String destinationSegmentName,
                            String destinationSegmentDescription, String exportCategory, String shareAction,
                            boolean updateIdentities, Map<String, String> identityMappings,
                            List<String> sourceIdentifiers, String destinationIdentifier,
                            Map<String, String> attributeMappings, JsonNode scheduleDetails) {

    private static final Set<String> SHARE_ACTIONS = Set.of("ADD", "REPLACE", "REMOVE");
    private static final Set<String> FIELDS = Set.of("producerEndpointID", "producerSegmentID", "producerSegmentIDString",
            "destinationEndpointID", "destinationSegmentName", "destinationSegmentDescription", "exportCategory",
            "shareAction", "updateIdentities", "identityMappings", "sourceIdentifiers", "destinationIdentifier",
            "attributeMappings", "scheduleDetails");

    public boolean graphTranslation() {
        return destinationIdentifier != null;
    }

    public static JobDefinition parse(JsonNode body, JobCategory category) {
        if (!body.isObject()) {
            throw Refusal.invalid("The job must be a JSON object with \"producerEndpointID\" and its mappings.");
        }
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!FIELDS.contains(name)) {
                throw Refusal.invalid("Unknown field \"" + name + "\": the job fields are " + String.join(", ",
                        FIELDS.stream().sorted().toList()) + " (names are case-sensitive).");
            }
        }
        boolean export = category == JobCategory.SEGMENT_EXPORT;
        Long producer = id(body, "producerEndpointID");
        Long segmentId = id(body, "producerSegmentID");
        String segmentIdString = text(body, "producerSegmentIDString", 256);
        if (segmentId == null && segmentIdString != null) {
            // A numeric string id is the same segment as the number: keep both forms consistent.
            try {
                segmentId = Long.parseLong(segmentIdString);
            } catch (NumberFormatException ignored) {
                // a non-numeric segment id stays a string only
            }
        }
        Long destination = export ? id(body, "destinationEndpointID") : null;
        if (export && destination == null) {
            throw Refusal.invalid("\"destinationEndpointID\" is required: the audience destination endpoint.");
        }
        if (!export) {
            for (String f : List.of("destinationEndpointID", "destinationSegmentName", "destinationSegmentDescription",
                    "shareAction", "destinationIdentifier")) {
                if (body.has(f) && !body.get(f).isNull()) {
                    throw Refusal.invalid("An identity import has no destination: remove \"" + f + "\".");
                }
            }
        }
        String shareAction = text(body, "shareAction", 16);
        if (shareAction != null && !SHARE_ACTIONS.contains(shareAction)) {
            throw Refusal.invalid("\"shareAction\" must be ADD, REPLACE or REMOVE, not \"" + shareAction + "\".");
        }
        JsonNode update = body.path("updateIdentities");
        if (!update.isMissingNode() && !update.isNull() && !update.isBoolean()) {
            throw Refusal.invalid("\"updateIdentities\" must be true or false.");
        }
        Map<String, String> identityMappings = stringMap(body, "identityMappings");
        List<String> sourceIdentifiers = stringList(body, "sourceIdentifiers");
        String destinationIdentifier = text(body, "destinationIdentifier", 128);
        // Whether the mappings fit together and fit the endpoints is JobMapping.validate's, at creation.
        boolean graph = destinationIdentifier != null || !sourceIdentifiers.isEmpty();
        if (graph && !export) {
            throw Refusal.invalid("An identity import has no destination identifier: use \"identityMappings\".");
        }
        JsonNode schedule = body.path("scheduleDetails");
        if (!schedule.isMissingNode() && !schedule.isNull() && !schedule.isObject()) {
            throw Refusal.invalid("\"scheduleDetails\" must be an object.");
        }
        return new JobDefinition(producer, segmentId, segmentIdString, destination,
                text(body, "destinationSegmentName", 256), text(body, "destinationSegmentDescription", 4096),
                text(body, "exportCategory", 256), shareAction, update.asBoolean(false), identityMappings,
                sourceIdentifiers, destinationIdentifier, stringMap(body, "attributeMappings"),
                schedule.isObject() ? schedule : null);
    }

    /** The definition as stored, in the API's field names. */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("producerEndpointID", producerEndpointId);
        o.put("producerSegmentID", producerSegmentId);
        o.put("producerSegmentIDString", producerSegmentIdString);
        o.put("destinationEndpointID", destinationEndpointId);
        o.put("destinationSegmentName", destinationSegmentName);
        o.put("destinationSegmentDescription", destinationSegmentDescription);
        o.put("exportCategory", exportCategory);
        o.put("shareAction", shareAction);
        o.put("updateIdentities", updateIdentities);
        ObjectNode im = o.putObject("identityMappings");
        identityMappings.forEach(im::put);
        if (sourceIdentifiers.isEmpty()) {
            o.putNull("sourceIdentifiers");
        } else {
            sourceIdentifiers.forEach(o.putArray("sourceIdentifiers")::add);
        }
        o.put("destinationIdentifier", destinationIdentifier);
        ObjectNode am = o.putObject("attributeMappings");
        attributeMappings.forEach(am::put);
        o.set("scheduleDetails", scheduleDetails);
        return o;
    }

    public static JobDefinition fromStored(String json, JobCategory category) {
        try {
            ObjectNode o = (ObjectNode) Json.MAPPER.readTree(json);
            if (o.path("identityMappings").isEmpty()) {
                o.remove("identityMappings");
            }
            return parse(o, category == JobCategory.SEGMENT_POPULATE_DB ? JobCategory.SEGMENT_EXPORT : category);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Long id(JsonNode body, String field) {
        JsonNode v = body.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (v.isIntegralNumber() && v.canConvertToLong() && v.longValue() > 0) {
            return v.longValue();
        }
        if (v.isTextual()) {
            try {
                BigInteger b = new BigInteger(v.textValue().trim());
                if (b.signum() > 0 && b.bitLength() < 64) {
                    return b.longValue();
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
        }
        throw Refusal.invalid("\"" + field + "\" must be a positive whole number, not " + v + ".");
    }

    private static String text(JsonNode body, String field, int max) {
        JsonNode v = body.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (!v.isTextual() && !v.isNumber()) {
            throw Refusal.invalid("\"" + field + "\" must be a string.");
        }
        String s = v.asText().trim();
        if (s.length() > max) {
            throw Refusal.invalid("\"" + field + "\" has more than " + max + " characters.");
        }
        String nul = StorableText.nulIn("\"" + field + "\"", s); // a name given back to partners: text, not binary
        if (nul != null) {
            throw Refusal.invalid(nul);
        }
        return s.isEmpty() ? null : s;
    }

    private static Map<String, String> stringMap(JsonNode body, String field) {
        JsonNode v = body.path(field);
        Map<String, String> map = new LinkedHashMap<>();
        if (v.isMissingNode() || v.isNull()) {
            return map;
        }
        if (!v.isObject()) {
            throw Refusal.invalid("\"" + field + "\" must be an object of {\"source\":\"destination\"} names.");
        }
        v.fields().forEachRemaining(e -> {
            if (!e.getValue().isTextual() || e.getValue().textValue().isBlank()) {
                throw Refusal.invalid("\"" + field + "\"." + e.getKey() + " must name a destination as a string.");
            }
            map.put(e.getKey(), e.getValue().textValue().trim());
        });
        return map;
    }

    private static List<String> stringList(JsonNode body, String field) {
        JsonNode v = body.path(field);
        List<String> list = new ArrayList<>();
        if (v.isMissingNode() || v.isNull()) {
            return list;
        }
        if (!v.isArray()) {
            throw Refusal.invalid("\"" + field + "\" must be an array of identifier names.");
        }
        v.forEach(n -> {
            if (!n.isTextual() || n.textValue().isBlank()) {
                throw Refusal.invalid("\"" + field + "\" must hold identifier names as strings.");
            }
            list.add(n.textValue().trim());
        });
        return list;
    }
}
