package idex.http;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

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
}
