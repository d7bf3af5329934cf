package idex.exchange.endpoints;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import idex.errors.Refusal;
import idex.http.StorableText;
import idex.json.Json;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An endpoint's registration (the body of `POST` and `PUT /v1/endpoint`), validated: an audience endpoint is a
 * source or a destination, never both, and push or pull; identifiers and attributes have distinct names.
 */
public record Registration(String name, String description, String providerName, String url,
                           boolean eventSource, boolean eventDestination, String eventDestinationUrl,
                           int eventBatchSize, AudienceRole audienceRole, String audienceMode,
                           List<DeclaredIdentifier> identifiers, List<DeclaredAttribute> attributes) {

    /** Identifier and attribute names: what a CSV header, a query parameter and an event can carry safely. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.\\-]{0,127}");
    /** What to tell a caller whose identifier or attribute name breaks {@link #NAME}. */
    public static final String NAME_RULE = "use a letter then up to 127 letters, digits, '_', '.' or '-'";

    /** Whether a name follows the rule for identifier and attribute names. */
    public static boolean isValidName(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** The most events one delivery request carries: 1 (the default) sends each event alone, as JSON of its own. */
    public static final int MAX_BATCH_SIZE = 1000;

    public Optional<DeclaredIdentifier> identifier(String identifierName) {
        return identifiers.stream().filter(i -> i.name().equals(identifierName)).findFirst();
    }

    public Optional<DeclaredAttribute> attribute(String attributeName) {
        return attributes.stream().filter(a -> a.name().equals(attributeName)).findFirst();
    }

    /** A producer whose data the exchange fetches from its API at `url` (and signs its calls for). */
    public boolean pullProducer() {
        return audienceRole == AudienceRole.SOURCE && "pull".equals(audienceMode);
    }

    public Set<String> uniqueIdentifierNames() {
        Set<String> names = new HashSet<>();
        for (DeclaredIdentifier i : identifiers) {
            if (i.unique()) {
                names.add(i.name());
            }
        }
        return names;
    }

    public static Registration parse(JsonNode body) {
        if (!body.isObject()) {
            throw Refusal.invalid("The registration must be a JSON object with at least \"name\" and \"endpointTypes\".");
        }
        String name = text(body, "name", true, 256);
        String description = text(body, "description", false, 4096);
        String providerName = text(body, "providerName", false, 256);
        String url = text(body, "url", false, 2048);

        JsonNode types = body.path("endpointTypes");
        if (!types.isObject()) {
            throw Refusal.invalid("\"endpointTypes\" is required: an object with \"event\" and/or \"audience\".");
        }
        boolean eventSource = enabled(types, "event", "source");
        boolean eventDestination = enabled(types, "event", "destination");
        // Kept while the destination is off, so that a destination turned off (by its owner, or by delivery after
        // failing too long) is enabled again with its URL as it was.
        String eventUrl = text(types.path("event").path("destination"), "url", false, 2048);
        int batchSize = batchSize(types.path("event").path("destination"));
        boolean audienceSource = enabled(types, "audience", "source");
        boolean audienceDestination = enabled(types, "audience", "destination");
        if (audienceSource && audienceDestination) {
            throw Refusal.invalid("An endpoint is an audience source or an audience destination, not both: set"
                    + " endpointTypes.audience.source.enabled or endpointTypes.audience.destination.enabled to false"
                    + " and register the other side as its own endpoint.");
        }
        AudienceRole role = audienceSource ? AudienceRole.SOURCE : audienceDestination ? AudienceRole.DESTINATION : AudienceRole.NONE;
        String mode = null;
        if (audienceSource) {
            mode = pushOrPull(types.path("audience").path("source"), "producerType", "endpointTypes.audience.source");
        } else if (audienceDestination) {
            mode = pushOrPull(types.path("audience").path("destination"), "destinationType", "endpointTypes.audience.destination");
        }
        if (audienceDestination && "push".equals(mode) && url == null) {
            throw Refusal.invalid("\"url\" is required for a push destination (destinationType \"push\"): the base"
                    + " URL of its segment API, where segment exports are delivered.");
        }
        // An event destination turned off (by its owner, or by delivery) keeps its URL: it is paused, not roleless.
        if (role == AudienceRole.NONE && !eventSource && !eventDestination && eventUrl == null) {
            throw Refusal.invalid("Enable at least one of endpointTypes.audience.source, audience.destination,"
                    + " event.source or event.destination: an endpoint with no role cannot exchange anything.");
        }

        List<DeclaredIdentifier> identifiers = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode i : array(body, "identifiers")) {
            String n = declaredName(i, "identifiers");
            if (!names.add(n)) {
                throw Refusal.invalid("Identifier \"" + n + "\" is declared twice: declare each name once.");
            }
            String type = text(i, "type", false, 64);
            JsonNode unique = i.path("unique");
            if (!unique.isMissingNode() && !unique.isNull() && !unique.isBoolean()) {
                throw Refusal.invalid("identifiers[].unique of \"" + n + "\" must be true or false.");
            }
            identifiers.add(new DeclaredIdentifier(n, type == null ? "string" : type, unique.asBoolean(false)));
        }
        List<DeclaredAttribute> attributes = new ArrayList<>();
        for (JsonNode a : array(body, "attributes")) {
            String n = declaredName(a, "attributes");
            if (!names.add(n)) {
                throw Refusal.invalid("\"" + n + "\" is declared twice among identifiers and attributes: each"
                        + " column name must say what it is.");
            }
            String type = text(a, "type", false, 64);
            attributes.add(new DeclaredAttribute(n, type == null ? "string" : type));
        }
        if (identifiers.size() > 1000) {
            throw Refusal.invalid("An endpoint declares at most 1000 identifiers.");
        }
        return new Registration(name, description, providerName, url, eventSource, eventDestination, eventUrl,
                batchSize, role, mode, List.copyOf(identifiers), List.copyOf(attributes));
    }

    /** The registration in the shape it was sent. */
    public ObjectNode toJson(ObjectNode o) {
        o.put("name", name);
        o.put("description", description);
        o.put("providerName", providerName);
        o.put("url", url);
        ObjectNode types = o.putObject("endpointTypes");
        ObjectNode event = types.putObject("event");
        event.putObject("source").put("enabled", eventSource);
        ObjectNode eventDest = event.putObject("destination").put("enabled", eventDestination);
        if (eventDestinationUrl != null) {
            eventDest.put("url", eventDestinationUrl);
        }
        if (eventDestination || eventDestinationUrl != null) {
            eventDest.put("batchSize", eventBatchSize);
        }
        ObjectNode audience = types.putObject("audience");
        ObjectNode source = audience.putObject("source").put("enabled", audienceRole == AudienceRole.SOURCE);
        ObjectNode dest = audience.putObject("destination").put("enabled", audienceRole == AudienceRole.DESTINATION);
        if (audienceRole == AudienceRole.SOURCE) {
            source.put("producerType", audienceMode);
        } else if (audienceRole == AudienceRole.DESTINATION) {
            dest.put("destinationType", audienceMode);
        }
        ArrayNode ids = o.putArray("identifiers");
        for (DeclaredIdentifier i : identifiers) {
            ids.addObject().put("name", i.name()).put("type", i.type()).put("unique", i.unique());
        }
        ArrayNode attrs = o.putArray("attributes");
        for (DeclaredAttribute a : attributes) {
            attrs.addObject().put("name", a.name()).put("type", a.type());
        }
        return o;
    }

    /** A push destination: segment exports are delivered to its segment API at {@link #url()}. */
    public boolean pushDestination() {
        return audienceRole == AudienceRole.DESTINATION && "push".equals(audienceMode);
    }

    /**
     * Whether the exchange's requests to this endpoint are signed: it receives events or segment exports pushed to
     * it, or it is a pull producer whose API the exchange calls.
     */
    public boolean needsSigningSecret() {
        return eventDestination || pushDestination() || pullProducer();
    }

    public String toJsonText() {
        return Json.write(toJson(Json.object()));
    }

    private static boolean enabled(JsonNode types, String kind, String side) {
        JsonNode node = types.path(kind).path(side);
        if (node.isMissingNode() || node.isNull()) {
            return false;
        }
        JsonNode enabled = node.path("enabled");
        if (!enabled.isBoolean()) {
            throw Refusal.invalid("endpointTypes." + kind + "." + side + ".enabled must be true or false.");
        }
        return enabled.booleanValue();
    }

    /** This registration with its event destination turned off (URL and batch size kept). */
    public Registration withEventDestinationOff() {
        return new Registration(name, description, providerName, url, eventSource, false, eventDestinationUrl,
                eventBatchSize, audienceRole, audienceMode, identifiers, attributes);
    }

    private static int batchSize(JsonNode destination) {
        JsonNode v = destination.path("batchSize");
        if (v.isMissingNode() || v.isNull()) {
            return 1;
        }
        if (!v.canConvertToInt() || !v.isIntegralNumber() || v.intValue() < 1 || v.intValue() > MAX_BATCH_SIZE) {
            throw Refusal.invalid("endpointTypes.event.destination.batchSize must be a whole number from 1 to "
                    + MAX_BATCH_SIZE + ", not " + v + ".");
        }
        return v.intValue();
    }

    private static String pushOrPull(JsonNode node, String field, String where) {
        JsonNode v = node.path(field);
        String mode = v.isTextual() ? v.textValue().trim().toLowerCase(Locale.ROOT) : null;
        if (!"push".equals(mode) && !"pull".equals(mode)) {
            throw Refusal.invalid(where + "." + field + " must be \"push\" or \"pull\""
                    + (v.isMissingNode() ? "" : ", not " + v) + ".");
        }
        return mode;
    }

    private static Iterable<JsonNode> array(JsonNode body, String field) {
        JsonNode a = body.path(field);
        if (a.isMissingNode() || a.isNull()) {
            return List.of();
        }
        if (!a.isArray()) {
            throw Refusal.invalid("\"" + field + "\" must be an array of {\"name\":…,\"type\":…} objects.");
        }
        return a;
    }

    private static String declaredName(JsonNode item, String field) {
        if (!item.isObject()) {
            throw Refusal.invalid("Each of \"" + field + "\" must be an object with a \"name\".");
        }
        JsonNode n = item.path("name");
        if (!n.isTextual() || !NAME.matcher(n.textValue()).matches()) {
            throw Refusal.invalid(field + "[].name " + (n.isMissingNode() ? "is missing" : n + " is not valid")
                    + ": " + NAME_RULE + ".");
        }
        return n.textValue();
    }

    /** A string field of `node`, trimmed: null when absent (400 when `required`), 400 when over `max` characters. */
    public static String text(JsonNode node, String field, boolean required, int max) {
        JsonNode v = node.path(field);
        if (v.isMissingNode() || v.isNull()) {
            if (required) {
                throw Refusal.invalid("\"" + field + "\" is required.");
            }
            return null;
        }
        if (!v.isTextual()) {
            throw Refusal.invalid("\"" + field + "\" must be a string.");
        }
        String s = v.textValue().trim();
        if (required && s.isEmpty()) {
            throw Refusal.invalid("\"" + field + "\" must not be empty.");
        }
        if (s.length() > max) {
            throw Refusal.invalid("\"" + field + "\" has more than " + max + " characters.");
        }
        String nul = StorableText.nulIn("\"" + field + "\"", s); // PostgreSQL text cannot hold U+0000
        if (nul != null) {
            throw Refusal.invalid(nul);
        }
        return s;
    }
}
