package idex.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The server's OpenAPI document (`openapi.yaml` on the classpath, as the server serves it), and the check that every
 * answer a test receives is one the document allows: the operation is found by method and path, then the status,
 * the content type and, for JSON and plain text, the body are checked against it; the schemas are checked by a JSON
 * Schema 2020-12 validator (networknt, OpenAPI 3.1 dialect), not by hand.
 */
public final class OpenApiDocument {

    /** The document's base IRI for the validator: `$ref`s resolve within the document under it. */
    private static final String IRI = "https://idex.invalid/openapi.json";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final OpenApiDocument INSTANCE = load();

    private final JsonNode root;
    private final SchemaRegistry registry;
    private final List<PathTemplate> paths = new ArrayList<>();
    private final Map<String, Schema> schemas = new ConcurrentHashMap<>();

    /** A documented path, with the pattern request paths match it by. */
    public record PathTemplate(String template, Pattern pattern, int parameters) {
        static PathTemplate of(String template) {
            StringBuilder regex = new StringBuilder();
            int parameters = 0;
            for (String part : template.split("(?=\\{)|(?<=\\})")) {
                if (part.startsWith("{")) {
                    regex.append("[^/]+");
                    parameters++;
                } else {
                    regex.append(Pattern.quote(part));
                }
            }
            return new PathTemplate(template, Pattern.compile(regex.toString()), parameters);
        }
    }

    /** An operation: its path and method, and where it is in the document (a JSON pointer, `$ref`s followed). */
    public record Operation(String template, String method, String pointer, JsonNode node) {
    }

    private OpenApiDocument(JsonNode root) {
        this.root = root;
        this.registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(),
                builder -> builder.schemas(Map.of(IRI, root.toString())));
        for (Iterator<String> it = root.path("paths").fieldNames(); it.hasNext(); ) {
            paths.add(PathTemplate.of(it.next()));
        }
    }

    public static OpenApiDocument get() {
        return INSTANCE;
    }

    private static OpenApiDocument load() {
        try (InputStream in = OpenApiDocument.class.getClassLoader().getResourceAsStream("openapi.yaml")) {
            if (in == null) {
                throw new IllegalStateException("openapi.yaml is not on the classpath");
            }
            return new OpenApiDocument(YAML.readTree(in));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public JsonNode root() {
        return root;
    }

    public List<PathTemplate> paths() {
        return List.copyOf(paths);
    }

    /** The methods a documented path has (lower case, as the document spells them), its path item's `$ref` followed. */
    public List<String> methods(String template) {
        List<String> methods = new ArrayList<>();
        JsonNode item = resolve(pointer("paths", template)).node();
        for (String m : List.of("get", "put", "post", "delete", "options", "head", "patch", "trace")) {
            if (item.has(m)) {
                methods.add(m);
            }
        }
        return methods;
    }

    /**
     * The operation a request is answered by: among the documented paths the request path matches, the most
     * concrete one with the method (as OpenAPI has concrete paths win over templated ones). HEAD is GET's.
     */
    public Optional<Operation> operation(String method, String path) {
        String m = (method.equals("HEAD") ? "GET" : method).toLowerCase(Locale.ROOT);
        // The server routes `/docs/` as `/docs`, as the document says (info.description).
        String p = path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        PathTemplate best = null;
        for (PathTemplate t : paths) {
            if (t.pattern().matcher(p).matches() && methods(t.template()).contains(m)
                    && (best == null || t.parameters() < best.parameters())) {
                best = t;
            }
        }
        if (best == null) {
            return Optional.empty();
        }
        Located item = resolve(pointer("paths", best.template()));
        String at = item.pointer() + "/" + m;
        return Optional.of(new Operation(best.template(), m, at, item.node().path(m)));
    }

    /** Checks an answer received through java.net.http (a String or byte[] body). */
    public static void check(HttpRequest request, HttpResponse<?> response) {
        Object body = response.body();
        byte[] bytes = body instanceof byte[] b ? b : body instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : null;
        String method = request.method();
        String path = request.uri().getRawPath();
        INSTANCE.check(method, path, response.statusCode(), response.headers().firstValue("Content-Type").orElse(null),
                bytes);
        INSTANCE.checkHeaders(method, path, response.statusCode(), name -> response.headers().firstValue(name));
    }

    /**
     * Fails when an answer lacks a header the document says it has (`required: true`: Allow on a 405,
     * WWW-Authenticate on a 401, Retry-After on a 503, the range headers of a download).
     */
    public void checkHeaders(String method, String path, int status, Function<String, Optional<String>> header) {
        Optional<Operation> found = operation(method, path);
        String response;
        if (found.isPresent()) {
            JsonNode responses = found.get().node().path("responses");
            if (!responses.has(Integer.toString(status))) {
                return;
            }
            response = resolve(found.get().pointer() + "/responses/" + status).pointer();
        } else if (status == 405) {
            response = "/components/responses/MethodNotAllowed"; // what a path answers a method it does not serve
        } else {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.at(response + "/headers").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> h = it.next();
            JsonNode definition = resolve(response + "/headers/" + escape(h.getKey())).node();
            if (definition.path("required").asBoolean(false) && header.apply(h.getKey()).isEmpty()) {
                throw new AssertionError(method + " " + path + " answered " + status + " without the " + h.getKey()
                        + " header openapi.yaml (" + response + ") says it has");
            }
        }
    }

    /**
     * Fails (AssertionError) when the document does not allow this answer to `method path`. `body` null: not read
     * (a streamed body), only the status and the content type are checked.
     */
    public void check(String method, String path, int status, String contentType, byte[] body) {
        String call = method + " " + path + " answered " + status + " " + (contentType == null ? "(no Content-Type)"
                : contentType);
        Optional<Operation> found = operation(method, path);
        if (found.isEmpty()) {
            // No documented operation: the server must say so, as every error of the exchange (info.description).
            if (status != 404 && status != 405) {
                throw new AssertionError(call + ": openapi.yaml documents no " + method + " " + path
                        + ", yet the server answered it: document it.");
            }
            checkBody(call, "/components/schemas/Error", "application/json", contentType, method, body);
            return;
        }
        Operation op = found.get();
        JsonNode responses = op.node().path("responses");
        String code = Integer.toString(status);
        String key = responses.has(code) ? code : responses.has(code.charAt(0) + "XX") ? code.charAt(0) + "XX"
                : responses.has("default") ? "default" : null;
        if (key == null) {
            throw new AssertionError(call + ": openapi.yaml lists no " + status + " for " + op.method().toUpperCase(Locale.ROOT)
                    + " " + op.template() + " (it lists " + fieldNames(responses) + ")" + excerpt(body));
        }
        Located response = resolve(op.pointer() + "/responses/" + escape(key));
        JsonNode content = response.node().path("content");
        if (content.isMissingNode() || content.isEmpty()) {
            if (body != null && body.length > 0) {
                throw new AssertionError(call + ": openapi.yaml documents no body for it, yet one came" + excerpt(body));
            }
            return;
        }
        String media = mediaType(contentType);
        if (media == null || !content.has(media)) {
            throw new AssertionError(call + ": openapi.yaml allows only " + fieldNames(content) + " for "
                    + op.method().toUpperCase(Locale.ROOT) + " " + op.template() + " " + key + excerpt(body));
        }
        String schema = response.pointer() + "/content/" + escape(media) + "/schema";
        if (resolve(schema).node().isMissingNode()) {
            return;
        }
        checkBody(call, schema, media, contentType, method, body);
    }

    /**
     * Checks a JSON request body the server accepted (answered 2xx) against the operation's request schema: what the
     * server takes, the document must allow. Refused bodies are not checked: tests send those on purpose.
     */
    public void checkAccepted(String method, String path, int status, String json) {
        Optional<Operation> op = operation(method, path);
        if (status / 100 != 2 || json == null || op.isEmpty()) {
            return;
        }
        String schema = resolve(op.get().pointer() + "/requestBody").pointer() + "/content/application~1json/schema";
        if (resolve(schema).node().isMissingNode()) {
            throw new AssertionError(method + " " + path + " took a JSON body (" + status + "), yet openapi.yaml documents"
                    + " none for it" + excerpt(json.getBytes(StandardCharsets.UTF_8)));
        }
        List<Error> errors = schema(schema).validate(json, InputFormat.JSON);
        if (!errors.isEmpty()) {
            throw new AssertionError(method + " " + path + " took (" + status + ") a body that openapi.yaml (" + schema
                    + ") does not allow:\n  " + String.join("\n  ", errors.stream().map(Error::toString).toList())
                    + excerpt(json.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * Checks the JSON inside a UID2 envelope against the schema the operation names in `extension`
     * (`x-decrypted-request` for a request the server took, `x-decrypted-response` for its answer).
     */
    public void checkDecrypted(String path, String extension, String json) {
        Operation op = operation("POST", path).orElseThrow(() -> new AssertionError("openapi.yaml documents no POST " + path));
        JsonNode name = op.node().path(extension);
        if (!name.isTextual()) {
            throw new AssertionError("openapi.yaml gives POST " + path + " no " + extension + " schema");
        }
        List<Error> errors = schema("/components/schemas/" + escape(name.textValue())).validate(json, InputFormat.JSON);
        if (!errors.isEmpty()) {
            throw new AssertionError("POST " + path + ": decrypted JSON that openapi.yaml's " + name.textValue()
                    + " does not allow:\n  " + String.join("\n  ", errors.stream().map(Error::toString).toList())
                    + excerpt(json.getBytes(StandardCharsets.UTF_8)));
        }
    }

    private void checkBody(String call, String schemaPointer, String expectedMedia, String contentType, String method,
                           byte[] body) {
        String media = mediaType(contentType);
        if (method.equals("HEAD") || body == null) {
            return; // no body to check; the content type was checked against the operation already
        }
        if (!expectedMedia.equals(media)) {
            throw new AssertionError(call + ": expected " + expectedMedia + excerpt(body));
        }
        String text = new String(body, StandardCharsets.UTF_8);
        List<Error> errors;
        if (media.equals("application/json")) {
            errors = schema(schemaPointer).validate(text, InputFormat.JSON);
        } else if (media.equals("text/plain")) {
            // A text answer is checked as the JSON string it would be.
            errors = schema(schemaPointer).validate(YAML.getNodeFactory().textNode(text).toString(), InputFormat.JSON);
        } else {
            return; // CSV, HTML, scripts, YAML, octet streams: the content type is what the document says of them
        }
        if (!errors.isEmpty()) {
            throw new AssertionError(call + " with a body that openapi.yaml (" + schemaPointer + ") does not allow:\n  "
                    + String.join("\n  ", errors.stream().map(Error::toString).toList()) + excerpt(body));
        }
    }

    private Schema schema(String pointer) {
        return schemas.computeIfAbsent(pointer, p -> registry.getSchema(SchemaLocation.of(IRI + "#" + p)));
    }

    /** A node and where it is, once every `$ref` on the way is followed. */
    private record Located(String pointer, JsonNode node) {
    }

    private Located resolve(String pointer) {
        JsonNode node = root.at(pointer);
        for (int hops = 0; node.has("$ref"); hops++) {
            String ref = node.get("$ref").asText();
            if (!ref.startsWith("#/") || hops > 10) {
                throw new IllegalStateException("openapi.yaml: unsupported $ref " + ref + " at " + pointer);
            }
            pointer = ref.substring(1);
            node = root.at(pointer);
        }
        return new Located(pointer, node);
    }

    private static String pointer(String... keys) {
        StringBuilder p = new StringBuilder();
        for (String k : keys) {
            p.append('/').append(escape(k));
        }
        return p.toString();
    }

    private static String escape(String key) {
        return key.replace("~", "~0").replace("/", "~1");
    }

    private static String mediaType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String excerpt(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        String text = new String(body, 0, Math.min(body.length, 600), StandardCharsets.UTF_8);
        return "\n  body: " + text + (body.length > 600 ? "…" : "");
    }
}
