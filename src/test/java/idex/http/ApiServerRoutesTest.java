package idex.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

class ApiServerRoutesTest {

    @Test
    void listsEveryMountedRouteOnceWithItsMethodAndHeadOnlyWhereItStandsAlone() {
        Vertx vertx = Vertx.vertx();
        try {
            ApiServer api = new ApiServer(vertx, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), false)
                    .mount(router -> {
                        router.get("/v1/things/:thingId").handler(ctx -> ctx.end());
                        router.delete("/v1/things/:thingId").handler(ctx -> ctx.end());
                        ApiServer.onlyMethods(router, "/v1/things/:thingId", "GET, DELETE");
                    });

            assertThat(api.routes()).containsExactly(
                    new RouteInfo("GET", "/ops/healthcheck"),
                    new RouteInfo("GET", "/metrics"),
                    new RouteInfo("GET", "/v1/things/:thingId"),
                    new RouteInfo("DELETE", "/v1/things/:thingId"));
            assertThat(api.routes().get(2).openApiPath()).isEqualTo("/v1/things/{thingId}");
        } finally {
            vertx.close().await();
        }
    }

    /** A feature that does not list its methods again still gets 405s with the Allow its routes make. */
    @Test
    void aMethodNoRouteTakesIs405WithTheAllowOfTheRoutesOnThatPath() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            ApiServer api = new ApiServer(vertx, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), false)
                    .mount(router -> {
                        router.get("/v1/things/:thingId").handler(ctx -> ctx.end());
                        router.delete("/v1/things/:thingId").handler(ctx -> ctx.end());
                        router.post("/v1/things/special").handler(ctx -> ctx.end());
                    });
            int port = api.start("127.0.0.1", 0, 1);
            HttpClient http = HttpClient.newHttpClient();

            HttpResponse<String> patch = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/things/7")).method("PATCH", HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(patch.statusCode()).isEqualTo(405);
            assertThat(patch.headers().firstValue("Allow")).hasValue("GET, HEAD, DELETE");
            assertThat(patch.body()).contains("\"message\"").contains("use GET, HEAD, DELETE");

            // A literal path that a parameter route also matches takes the methods of both.
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/v1/things/special")).PUT(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).isEqualTo(405);
            assertThat(put.headers().firstValue("Allow")).hasValue("GET, HEAD, POST, DELETE");
        } finally {
            vertx.close().await();
        }
    }
}
