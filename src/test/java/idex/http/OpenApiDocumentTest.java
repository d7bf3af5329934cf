package idex.http;

import com.fasterxml.jackson.databind.JsonNode;
import idex.support.OpenApiDocument;
import idex.support.OpenApiDocument.PathTemplate;
import idex.support.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document and the server agree on what is served: every route the server registers is documented with
 * its method, every documented operation is served, and the document is served at /openapi.yaml and browsable at
 * /docs from the classpath.
 */
class OpenApiDocumentTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final OpenApiDocument DOCUMENT = OpenApiDocument.get();

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() {
        server = TestServer.start(dir, 16);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void everyRouteIsDocumentedAndEveryDocumentedOperationIsServed() {
        Set<String> served = new TreeSet<>();
        for (RouteInfo route : server.routes()) {
            // HEAD is served wherever GET is, and the document says so once (info.description); routes() lists HEAD
            // only where a route has it without GET, which the document would then have to describe.
            assertThat(route.method()).as(route.path()).isNotEqualTo("HEAD");
            served.add(route.method() + " " + shape(route.path()));
        }
        Set<String> documented = new TreeSet<>();
        for (PathTemplate template : DOCUMENT.paths()) {
            for (String method : DOCUMENT.methods(template.template())) {
                documented.add(method.toUpperCase(Locale.ROOT) + " " + shape(template.template()));
            }
        }
        Set<String> undocumented = new TreeSet<>(served);
        undocumented.removeAll(documented);
        Set<String> notServed = new TreeSet<>(documented);
        notServed.removeAll(served);
        assertThat(undocumented).as("routes the server registers that openapi.yaml does not document").isEmpty();
        assertThat(notServed).as("operations openapi.yaml documents that the server does not serve").isEmpty();
        assertThat(served).hasSizeGreaterThan(30);
    }

    /**
     * A path's shape, parameters unnamed: `/v1/jobs/:jobId/data` and `/v1/jobs/{jobId}/data` alike. OpenAPI gives one
     * name to a position (the server's GET and DELETE on `/v1/scheduledjobs/:x` name it differently), and a
     * trailing `*` (a prefix route: Swagger UI's files) is one parameter.
     */
    private static String shape(String path) {
        return path.replaceAll(":[A-Za-z0-9_]+", "{}").replaceAll("\\{[^}]+}", "{}").replaceAll("/\\*$", "/{}");
    }

    @Test
    void everyOperationSaysWhoMayCallItAndWhatItAnswers() {
        List<String> incomplete = new ArrayList<>();
        Set<String> operationIds = new TreeSet<>();
        for (PathTemplate template : DOCUMENT.paths()) {
            for (String method : DOCUMENT.methods(template.template())) {
                JsonNode op = DOCUMENT.operation(method.toUpperCase(Locale.ROOT),
                        template.template().replaceAll("\\{[^}]+}", "x")).orElseThrow().node();
                String name = method + " " + template.template();
                if (!op.has("security")) {
                    incomplete.add(name + ": no security");
                }
                if (!op.path("responses").fieldNames().hasNext()) {
                    incomplete.add(name + ": no responses");
                }
                if (op.path("tags").isEmpty() || op.path("summary").asText().isBlank()) {
                    incomplete.add(name + ": no tag or summary");
                }
                if (op.has("operationId") && !operationIds.add(op.get("operationId").asText())) {
                    incomplete.add(name + ": operationId " + op.get("operationId").asText() + " used twice");
                }
                boolean bearer = false;
                for (JsonNode requirement : op.path("security")) {
                    bearer |= requirement.fieldNames().hasNext();
                }
                if (bearer && !op.path("responses").has("401")) {
                    incomplete.add(name + ": needs a key but documents no 401");
                }
            }
        }
        assertThat(incomplete).isEmpty();
        assertThat(DOCUMENT.root().path("openapi").asText()).isEqualTo("3.1.0");
    }

    /** The check the test clients run on every answer refuses what the document does not allow. */
    @Test
    void theCheckRefusesAnswersTheDocumentDoesNotAllow() {
        String filter = "{\"endpointFilterId\":1,\"endpointId\":2,\"identifierName\":\"email\",\"publishFilter\":true,"
                + "\"subscribeFilter\":false}";
        DOCUMENT.check("GET", "/v1/identityfilters", 200, "application/json", bytes("[" + filter + "]"));
        DOCUMENT.check("GET", "/v1/identityFilters/email", 200, "application/json", bytes("[" + filter + "]"));
        DOCUMENT.check("GET", "/v1/nothing", 404, "application/json", bytes("{\"message\":\"There is no /v1/nothing\"}"));
        assertRefused("GET", "/v1/identityfilters", 200, "application/json",
                "[" + filter.replace("true", "\"yes\"") + "]", "publishFilter");
        assertRefused("GET", "/v1/identityfilters", 200, "application/json", "[{\"identifierName\":\"email\"}]", "required");
        assertRefused("GET", "/v1/identityfilters", 200, "text/html", "[]", "allows only [application/json]");
        assertRefused("GET", "/v1/identityfilters", 418, "application/json", "[]", "lists no 418");
        assertRefused("GET", "/v1/identityfilters", 400, "application/json", "{\"error\":\"x\"}", "message");
        assertRefused("GET", "/v1/nothing", 200, "application/json", "{}", "documents no GET /v1/nothing");
        assertRefused("GET", "/v1/jobs/SEGMENT_EXPORT", 200, "application/json", "[{\"jobId\":1,\"status\":\"DONE\"}]",
                "status");
        assertRefused("DELETE", "/v1/identity", 200, "text/plain; charset=utf-8", "deleted", "pattern");
        assertRefused("POST", "/v2/identity/map", 200, "text/plain", "not base64!", "pattern");
        String endpoint = "{\"endpointId\":7,\"accountId\":1,\"name\":\"CRM\",\"description\":null,\"providerName\":null,"
                + "\"url\":null,\"endpointTypes\":{\"event\":{\"source\":{\"enabled\":true}}},\"identifiers\":[],"
                + "\"attributes\":[],\"created\":1,\"updated\":1";
        DOCUMENT.check("POST", "/v1/endpoint", 201, "application/json", bytes(endpoint + ",\"key\":\"idex_1_x\"}"));
        DOCUMENT.check("GET", "/v1/endpoint", 200, "application/json", bytes(endpoint + "}"));
        assertRefused("GET", "/v1/endpoint", 200, "application/json", endpoint + ",\"key\":\"idex_1_x\"}", "key");
        assertRefused("POST", "/v2/identity/map", 401, "application/json", "{\"status\":\"nope\"}", "unauthorized");
    }

    @Test
    void theCheckOfADecryptedAnswerRefusesWhatTheDocumentDoesNotAllow() {
        DOCUMENT.checkDecrypted("/v2/identity/buckets", "x-decrypted-response",
                "{\"body\":[{\"bucket_id\":\"bKaoveQoPR\",\"last_updated\":\"2027-03-30T00:00:00.001\"}],\"status\":\"success\"}");
        try {
            DOCUMENT.checkDecrypted("/v2/identity/buckets", "x-decrypted-response",
                    "{\"body\":[{\"bucket_id\":\"bKaoveQoPR\",\"last_updated\":\"2027-03-30T00:00:00Z\"}],\"status\":\"success\"}");
        } catch (AssertionError e) {
            assertThat(e.getMessage()).contains("Uid2BucketsResponse").contains("last_updated");
            return;
        }
        throw new AssertionError("a time with an offset passed the check");
    }

    private static void assertRefused(String method, String path, int status, String contentType, String body,
                                      String says) {
        try {
            DOCUMENT.check(method, path, status, contentType, bytes(body));
        } catch (AssertionError e) {
            assertThat(e.getMessage()).contains(says);
            return;
        }
        throw new AssertionError(method + " " + path + " " + status + " " + body + " passed the check");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void everyReferenceResolves() {
        List<String> broken = new ArrayList<>();
        references(DOCUMENT.root(), "", broken);
        assertThat(broken).as("$refs that point nowhere in openapi.yaml").isEmpty();
    }

    private static void references(JsonNode node, String at, List<String> broken) {
        if (node.has("$ref") && node.get("$ref").isTextual()) {
            String ref = node.get("$ref").asText();
            if (!ref.startsWith("#/") || DOCUMENT.root().at(ref.substring(1)).isMissingNode()) {
                broken.add(at + ": " + ref);
            }
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            references(e.getValue(), at + "/" + e.getKey(), broken);
        }
        for (int i = 0; node.isArray() && i < node.size(); i++) {
            references(node.get(i), at + "/" + i, broken);
        }
    }

    @Test
    void theDocumentIsServedAsItIsInTheJar() throws Exception {
        HttpResponse<byte[]> r = get("/openapi.yaml");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("application/yaml; charset=utf-8");
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("openapi.yaml")) {
            assertThat(r.body()).isEqualTo(in.readAllBytes());
        }
    }

    @Test
    void swaggerUiIsServedFromTheClasspathOnThisDocument() throws Exception {
        HttpResponse<byte[]> page = get("/docs");
        assertThat(page.statusCode()).isEqualTo(200);
        String html = new String(page.body(), StandardCharsets.UTF_8);
        assertThat(html).contains("/docs/swagger-ui-bundle.js").contains("/docs/swagger-initializer.js")
                .doesNotContain("http://").doesNotContain("https://");
        assertThat(get("/docs/").body()).as("/docs/ is the same page").isEqualTo(page.body());
        String initializer = new String(get("/docs/swagger-initializer.js").body(), StandardCharsets.UTF_8);
        assertThat(initializer).contains("url: \"/openapi.yaml\"").doesNotContain("petstore");
        for (String file : List.of("/docs/swagger-ui-bundle.js", "/docs/swagger-ui-standalone-preset.js",
                "/docs/swagger-ui.css", "/docs/favicon-32x32.png")) {
            HttpResponse<byte[]> r = get(file);
            assertThat(r.statusCode()).as(file).isEqualTo(200);
            assertThat(r.body().length).as(file).isGreaterThan(100);
        }
        assertThat(get("/docs/no-such-file.js").statusCode()).isEqualTo(404);
        HttpRequest head = HttpRequest.newBuilder(URI.create(server.url("/docs")))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<byte[]> r = HTTP.send(head, HttpResponse.BodyHandlers.ofByteArray());
        OpenApiDocument.check(head, r);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Length")).hasValue(Integer.toString(page.body().length));
    }

    @Test
    void aMethodTheDocsDoNotServeIs405() throws Exception {
        HttpRequest post = HttpRequest.newBuilder(URI.create(server.url("/openapi.yaml")))
                .POST(HttpRequest.BodyPublishers.noBody()).build();
        HttpResponse<byte[]> r = HTTP.send(post, HttpResponse.BodyHandlers.ofByteArray());
        OpenApiDocument.check(post, r);
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }

    /** Each documented path answers a method it does not serve as the document says: 405, JSON, Allow. */
    @Test
    void everyDocumentedPathRefusesOtherMethodsWith405AndAllow() throws Exception {
        List<String> wrong = new ArrayList<>();
        for (PathTemplate template : DOCUMENT.paths()) {
            String path = template.template().replaceAll("\\{[^}]+}", "1");
            HttpRequest patch = HttpRequest.newBuilder(URI.create(server.url(path)))
                    .method("PATCH", HttpRequest.BodyPublishers.noBody()).build();
            HttpResponse<byte[]> r = HTTP.send(patch, HttpResponse.BodyHandlers.ofByteArray());
            try {
                OpenApiDocument.check(patch, r);
                if (r.statusCode() != 405) {
                    wrong.add("PATCH " + path + " answered " + r.statusCode());
                }
            } catch (AssertionError e) {
                wrong.add(e.getMessage());
            }
        }
        assertThat(wrong).isEmpty();
    }

    private static HttpResponse<byte[]> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.url(path))).GET().build();
        HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
        OpenApiDocument.check(request, r);
        return r;
    }
}
