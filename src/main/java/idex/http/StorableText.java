package idex.http;

import idex.errors.Refusal;
import com.fasterxml.jackson.databind.JsonNode;
import io.vertx.core.MultiMap;

import java.util.Iterator;
import java.util.Map;

/**
 * The one check, at the edge of the exchange API, that text from a request is text the store can keep and give back.
 * An unpaired UTF-16 surrogate (JSON `"\ud800"`) would be stored as `?` by the UTF-8 encoder and could then never be
 * looked up or deleted under the name it was sent with; PostgreSQL refuses U+0000 in text outright (a 500 deep in a
 * transaction). Both are refused with 400 before a call runs. JSON bodies are checked for surrogates only: a NUL
 * there is each parser's to name, with its place (an event's index, say).
 */
public final class StorableText {

    private StorableText() {
    }

    /** Query names and values, and path parameters. */
    public static void requireInParameters(MultiMap query, Map<String, String> path) {
        for (Map.Entry<String, String> p : path.entrySet()) {
            require(p.getValue(), "The path parameter " + p.getKey(), true);
        }
        for (Map.Entry<String, String> q : query) {
            require(q.getKey(), "The query parameter name '" + printable(q.getKey()) + "'", true);
            require(q.getValue(), "The query parameter " + printable(q.getKey()), true);
        }
    }

    /** Every string and field name of a JSON body. */
    public static void requireInJson(JsonNode node) {
        walk(node, "");
    }

    private static void walk(JsonNode node, String pointer) {
        if (node.isTextual()) {
            require(node.textValue(), "The body's " + (pointer.isEmpty() ? "text" : pointer), false);
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                walk(node.get(i), pointer + "/" + i);
            }
        } else if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                String at = pointer + "/" + printable(field.getKey());
                require(field.getKey(), "The body's field name at " + at, false);
                walk(field.getValue(), at);
            }
        }
    }

    private static void require(String text, String what, boolean nul) {
        if (text == null) {
            return;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (nul && c == 0) {
                throw Refusal.invalid(what + " contains the NUL character (%00), which no name or value here"
                        + " can hold: remove it.");
            }
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw Refusal.invalid(what + " contains an unpaired UTF-16 surrogate (\\u"
                        + Integer.toHexString(c) + "), which is not Unicode text and could never be found again: send"
                        + " the character it was meant to be, or pair the escape (\\ud800-\\udbff then \\udc00-\\udfff).");
            }
        }
    }

    /**
     * Why a JSON text field holding U+0000 is refused, or null when it holds none: each parser says where the field
     * is (its name, an event's index) and how it refuses, in words that are the same everywhere.
     */
    public static String nulIn(String what, String text) {
        return text != null && text.indexOf('\u0000') >= 0
                ? what + " contains U+0000 (NUL), which no text field can hold." : null;
    }

    /** A name for a message: unpaired surrogates and NULs would make the message itself unreadable. */
    private static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == 0 || (Character.isSurrogate(c) && !(Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1)))
                    && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(text.charAt(i - 1))))) {
                out.append("\\u").append(String.format("%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
