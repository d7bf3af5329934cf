package idex.http;

import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The HTTP server: one router, the operational endpoints every deployment has (`/ops/healthcheck`, `/metrics`),
 * request metrics, and a last-resort error handler. Features add their routes through `mount`.
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
        router.get("/ops/healthcheck").handler(ctx -> ctx.response().putHeader("Content-Type", "text/plain").end("OK"));
        router.get("/metrics").handler(ctx -> vertx.executeBlocking(metrics::scrape, false)
                .onSuccess(text -> ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(text))
                .onFailure(ctx::fail));
        router.route().failureHandler(this::failure);
    }

    public ApiServer mount(Consumer<Router> feature) {
        feature.accept(router);
        return this;
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

    /** Allows only `methods` on a path; anything else answers 405 with an Allow header. */
    public static void onlyMethods(Router router, String path, String allow) {
        Route route = router.route(path);
        route.handler(ctx -> ctx.response().setStatusCode(405).putHeader("Allow", allow).end());
    }

    private void measure(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addEndHandler(v -> {
            String route = ctx.currentRoute() == null || ctx.currentRoute().getPath() == null ? "unmatched" : ctx.currentRoute().getPath();
            Timer.builder("http.server.requests")
                    .tag("method", ctx.request().method().name())
                    .tag("route", route)
                    .tag("status", Integer.toString(ctx.response().getStatusCode()))
                    .register(metrics)
                    .record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        });
        ctx.next();
    }

    private void failure(RoutingContext ctx) {
        if (ctx.failure() instanceof ApiError error && !ctx.response().headWritten()) {
            ctx.response().setStatusCode(error.status()).putHeader("Content-Type", "application/json").end(error.body());
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
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end("{\"message\":\"" + message + "\"}");
    }
}
