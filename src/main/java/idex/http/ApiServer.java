package idex.http;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The HTTP server: one router, the operational endpoints every deployment has (`/ops/healthcheck`, `/metrics`),
 * request metrics, and a last-resort error handler. Features add their routes through `mount`; `routes` lists
 * them all.
 */
public final class ApiServer {

    private static final Logger LOG = LoggerFactory.getLogger(ApiServer.class);

    private final Vertx vertx;
    private final Router router;
    private final PrometheusMeterRegistry metrics;
    private final List<String> deployments = new ArrayList<>();
    private final List<HttpServer> servers = java.util.Collections.synchronizedList(new ArrayList<>());
    /** How long a stop waits for requests in flight before it cuts their connections. */
    private static final long DRAIN_SECONDS = 20;

    /** `accessLog`: one line per request ({@link AccessLog}); off by default, as a busy server would log a lot. */
    public ApiServer(Vertx vertx, PrometheusMeterRegistry metrics, boolean accessLog) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.router = Router.router(vertx);
        if (accessLog) {
            router.route().handler(new AccessLog());
        }
        router.route().handler(this::measure);
        // Not a HEAD-only route: Vert.x would then answer 405 rather than 404 for every unknown path.
        router.route().handler(ApiServer::headLength);
        router.get("/ops/healthcheck").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain").end("OK"));
        router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape, false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text))
                .onFailure(ctx::fail));
        onlyMethods(router, "/ops/healthcheck", "GET");
        onlyMethods(router, "/metrics", "GET");
        router.route().failureHandler(this::failure);
        // No route for the path at all: the same JSON as every other error, not Vert.x's HTML page.
        router.errorHandler(404, ctx -> ErrorAnswers.send(ctx, 404, "There is no " + ctx.request().path()
                + " in this API: see docs/exchange-api.md and docs/uid2-operator.md for the paths there are."));
        // A path some route serves with other methods: 405 with the Allow header those routes make, so that no
        // feature has to list its methods a second time (onlyMethods remains for paths that are worth saying so).
        router.errorHandler(405, ctx -> {
            String allowed = allowedOn(ctx.request().path());
            if (allowed.isEmpty()) {
                ErrorAnswers.send(ctx, 405, "Method " + ctx.request().method().name() + " is not allowed on "
                        + ctx.request().path() + ".");
            } else {
                ErrorAnswers.methodNotAllowed(ctx, allowed);
            }
        });
        headLikeGet();
    }

    public ApiServer mount(Feature feature) {
        feature.mount(router);
        headLikeGet();
        return this;
    }

    /**
     * Every route served, in the order it was mounted: method and path. HEAD is listed only where a route has it
     * without GET, since every GET route answers HEAD too ({@link #headLikeGet}); the catch-all 405 routes of
     * {@link #onlyMethods} name no method and are not listed.
     */
    public List<RouteInfo> routes() {
        List<RouteInfo> out = new ArrayList<>();
        for (Route route : router.getRoutes()) {
            if (route.getPath() == null || route.methods() == null || route.methods().isEmpty()) {
                continue;
            }
            route.methods().stream()
                    .filter(m -> m != HttpMethod.HEAD || !route.methods().contains(HttpMethod.GET))
                    .map(HttpMethod::name).sorted()
                    // A prefix route (`/docs/*`) keeps its `*`: Vert.x gives its path without it.
                    .forEach(m -> out.add(new RouteInfo(m, route.isExactPath() ? route.getPath() : route.getPath() + "*")));
        }
        return List.copyOf(out);
    }

    /** The order methods are named in an Allow header. */
    private static final List<HttpMethod> ALLOW_ORDER = List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST,
            HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE, HttpMethod.OPTIONS);

    /** The methods the mounted routes take on `path` ("GET, HEAD, POST"), empty when none names one. */
    String allowedOn(String path) {
        Set<HttpMethod> methods = new HashSet<>();
        for (Route route : router.getRoutes()) {
            if (route.getPath() != null && route.methods() != null && !route.methods().isEmpty()
                    && pathPattern(route).matcher(path).matches()) {
                methods.addAll(route.methods());
            }
        }
        return ALLOW_ORDER.stream().filter(methods::contains).map(HttpMethod::name).collect(Collectors.joining(", "));
    }

    /** A route's path as a pattern: each `:name` one segment; a prefix route (`/docs/*`) anything after it. */
    private static Pattern pathPattern(Route route) {
        StringBuilder regex = new StringBuilder();
        for (String segment : route.getPath().split("/", -1)) {
            if (regex.length() > 0 || !segment.isEmpty()) {
                regex.append('/');
            }
            regex.append(segment.startsWith(":") ? "[^/]+" : Pattern.quote(segment));
        }
        return Pattern.compile(route.isExactPath() ? regex.toString() : Pattern.quote(route.getPath()) + ".*");
    }

    /**
     * HEAD wherever GET: every GET route also answers HEAD (RFC 9110 §9.3.2), through the same handler, so that the
     * headers cannot drift apart; Vert.x drops the body of an answer to HEAD. Done here, for every route mounted, so
     * that no feature can forget it.
     */
    private void headLikeGet() {
        for (Route route : router.getRoutes()) {
            if (route.methods() != null && route.methods().contains(HttpMethod.GET)) {
                route.method(HttpMethod.HEAD);
            }
        }
    }

    /**
     * An answer to HEAD says the length the GET answer would have: Vert.x sets Content-Length from the body only for
     * other methods. Handlers that stream (a segment data file) set it themselves.
     */
    private static void headLength(RoutingContext ctx) {
        if (ctx.request().method() != HttpMethod.HEAD) {
            ctx.next();
            return;
        }
        HttpServerResponse response = ctx.response();
        ctx.addHeadersEndHandler(v -> {
            if (!response.headers().contains(HttpHeaders.CONTENT_LENGTH)
                    && !response.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
                response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(response.bytesWritten()));
            }
        });
        ctx.next();
    }

    public Vertx vertx() {
        return vertx;
    }

    /**
     * Listens with one HTTP server per event loop, so that requests use every core: a server created outside a
     * verticle would serve all connections from a single event loop. Vert.x shares one socket among servers
     * given the same host and port; port 0 is first resolved to a free port so that they can share it.
     *
     * @throws ListenFailure naming the host, the port and why (address in use, permission denied…)
     */
    public int start(String host, int port, int eventLoops) {
        int fixed = port != 0 ? port : freePort(host);
        try {
            for (int i = 0; i < eventLoops; i++) {
                listen(host, fixed);
            }
        } catch (Exception e) { // await() rethrows the transport's checked exception unchecked
            throw ListenFailure.of(host, fixed, e);
        }
        return fixed;
    }

    private static int freePort(String host) {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName(host))) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw ListenFailure.of(host, 0, e);
        }
    }

    private int listen(String host, int port) {
        HttpServerOptions options = new HttpServerOptions().setHost(host).setPort(port)
                .setCompressionSupported(false).setTcpNoDelay(true).setMaxChunkSize(64 * 1024);
        int[] bound = new int[1];
        deployments.add(vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                return vertx.createHttpServer(options).requestHandler(router).listen()
                        .onSuccess(server -> {
                            bound[0] = server.actualPort();
                            servers.add(server);
                        });
            }
        }).await());
        return bound[0];
    }

    /**
     * Stops accepting connections, lets the requests in flight finish (up to {@link #DRAIN_SECONDS}), then
     * undeploys: a graceful stop never closes the store under a request that is still being answered.
     */
    public void stop() {
        List<Future<Void>> drained = new ArrayList<>();
        synchronized (servers) {
            for (HttpServer server : servers) {
                drained.add(server.shutdown(DRAIN_SECONDS, TimeUnit.SECONDS));
            }
            servers.clear();
        }
        try {
            Future.join(drained).await();
        } catch (RuntimeException e) {
            LOG.warn("Stopping the HTTP server: {}", e.toString());
        }
        for (String id : deployments) {
            vertx.undeploy(id).await();
        }
        deployments.clear();
    }

    /**
     * Allows only `allow` (e.g. "GET, DELETE") on a path; anything else answers 405 `{"message":…}` with an Allow
     * header, which names HEAD too where GET is allowed.
     */
    public static void onlyMethods(Router router, String path, String allow) {
        String allowed = allowWithHead(allow);
        router.route(path).handler(ctx -> ErrorAnswers.methodNotAllowed(ctx, allowed));
    }

    /** The Allow value for `allow`: HEAD follows GET, as {@link #headLikeGet} makes it. */
    public static String allowWithHead(String allow) {
        return allow.matches("(.*, )?GET(, .*)?") && !allow.contains("HEAD") ? allow.replace("GET", "GET, HEAD") : allow;
    }

    private void measure(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addEndHandler(v -> {
            // Tags are never taken from the request as sent: each new value would be a new series, kept forever.
            Route current = ctx.currentRoute();
            String route = current == null || current.getPath() == null ? "unmatched" : current.getPath();
            Timer.builder("http.server.requests")
                    .tag("method", MeasuredMethods.tag(ctx.request().method()))
                    .tag("route", route)
                    .tag("status", Integer.toString(ctx.response().getStatusCode()))
                    .register(metrics)
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        });
        ctx.next();
    }

    private void failure(RoutingContext ctx) {
        if (ErrorAnswers.isRefusal(ctx.failure()) && !ctx.response().headWritten()) {
            ErrorAnswers.send(ctx, ctx.failure());
            return;
        }
        int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
        if (status >= 500) {
            LOG.error("Request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
        }
        if (ctx.response().headWritten()) {
            ctx.response().reset();
            return;
        }
        String message = status == 404 ? "Not found." : status == 405 ? "Method not allowed." : status < 500
                ? "Bad request." : "Internal server error.";
        ErrorAnswers.send(ctx, status, message);
    }
}
