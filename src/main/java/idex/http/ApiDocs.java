package idex.http;

import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The API's description: the OpenAPI document at `/openapi.yaml` and Swagger UI on it at `/docs`. Swagger UI's files
 * come from its WebJar on the classpath, so the page works where no CDN can be reached; our own page and initializer
 * point it at `/openapi.yaml` (the WebJar's own initializer would load the Petstore example from the internet).
 */
public final class ApiDocs implements Feature {

    private static final String WEBJAR = "META-INF/resources/webjars/swagger-ui/";

    /** Reads the files now, at start, so that no request reads the classpath on an event loop. */
    @Override
    public void mount(Router router) {
        // Answered as text: Vert.x then sets a HEAD answer's Content-Length too (ApiServer#headLength).
        String document = resource("openapi.yaml");
        String page = resource("docs/index.html");
        String initializer = resource("docs/swagger-initializer.js");
        router.get("/openapi.yaml").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "application/yaml; charset=utf-8").end(document));
        router.get("/docs").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").end(page));
        router.get("/docs/swagger-initializer.js").handler(ctx -> ctx.response()
                .putHeader("Content-Type", "text/javascript; charset=utf-8").end(initializer));
        // StaticHandler reads through Vert.x's file system (off the event loop), with caching and ETags.
        router.get("/docs/*").handler(StaticHandler.create(WEBJAR + swaggerUiVersion()));
        // A file the WebJar does not have: the JSON 404 of every other path (the 405 route below would answer it).
        router.get("/docs/*").handler(ctx -> ctx.fail(404));
        ApiServer.onlyMethods(router, "/openapi.yaml", "GET");
        ApiServer.onlyMethods(router, "/docs", "GET");
        ApiServer.onlyMethods(router, "/docs/*", "GET");
    }

    /** The WebJar's version, from its Maven metadata: its files live under a directory of that name. */
    private static String swaggerUiVersion() {
        Properties p = new Properties();
        try (InputStream in = stream("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("version");
    }

    private static String resource(String name) {
        try (InputStream in = stream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream stream(String name) {
        InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException(name + " is missing from the classpath: the build packs it into the jar.");
        }
        return in;
    }
}
