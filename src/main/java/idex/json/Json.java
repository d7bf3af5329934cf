package idex.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.function.Function;

/** The one ObjectMapper of the process (JSON bodies, stored definitions, the CLI), and small helpers to build JSON. */
public final class Json {

    /**
     * A body is one JSON document: `{"a":1} xyz` or `[…] ]` is refused rather than read up to its first value, so
     * that what a client meant and what was stored cannot differ.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    public static final JsonFactory FACTORY = MAPPER.getFactory();

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** A JSON array of `items`, each as `toJson` gives it, in order. */
    public static <T> ArrayNode array(List<T> items, Function<? super T, ? extends JsonNode> toJson) {
        ArrayNode a = MAPPER.createArrayNode();
        items.forEach(item -> a.add(toJson.apply(item)));
        return a;
    }

    public static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON this server wrote itself (a stored column): unreadable text is a bug, not bad input. */
    public static JsonNode readStored(String text) {
        try {
            return MAPPER.readTree(text);
        } catch (Exception e) {
            throw new IllegalStateException("stored JSON does not parse: " + e.getMessage(), e);
        }
    }
}
