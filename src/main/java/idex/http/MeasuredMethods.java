package idex.http;

import io.vertx.core.http.HttpMethod;

import java.util.Set;

/**
 * The `method` tag of the request metrics: the methods of RFC 9110 and PATCH by name, any other as `OTHER`. A client
 * may send any token as a method, and a tag taken from it would make a new series per token, never freed.
 */
final class MeasuredMethods {

    static final String OTHER = "OTHER";
    private static final Set<HttpMethod> KNOWN = Set.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.POST, HttpMethod.PUT,
            HttpMethod.DELETE, HttpMethod.PATCH, HttpMethod.OPTIONS, HttpMethod.TRACE, HttpMethod.CONNECT);

    private MeasuredMethods() {
    }

    static String tag(HttpMethod method) {
        return KNOWN.contains(method) ? method.name() : OTHER;
    }
}
