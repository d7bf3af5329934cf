package idex.http;

/** One route the server serves: a method and a path as Vert.x spells it (`/v1/jobs/:jobId/data`). */
public record RouteInfo(String method, String path) {

    /** The path as OpenAPI spells it: `/v1/jobs/{jobId}/data`. */
    public String openApiPath() {
        return path.replaceAll(":([A-Za-z0-9_]+)", "{$1}");
    }
}
