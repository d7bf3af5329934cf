package idex.http;

import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * One line per request on the `idex.access` logger: method, path, status, bytes sent, duration.
 *
 * <p>Not Vert.x's LoggerHandler: its formats log the URI with its query string (identity lookups carry emails and
 * phone numbers there) and the client's address. This one logs the path only, never the query, headers (so never the
 * Authorization key) or bodies.
 */
public final class AccessLog implements Handler<RoutingContext> {

    static final String LOGGER = "idex.access";
    private static final Logger LOG = LoggerFactory.getLogger(LOGGER);

    @Override
    public void handle(RoutingContext ctx) {
        long start = System.nanoTime();
        ctx.addEndHandler(v -> LOG.info(line(ctx.request().method().name(), ctx.request().path(),
                ctx.response().getStatusCode(), ctx.response().bytesWritten(), System.nanoTime() - start)));
        ctx.next();
    }

    /** `GET /v1/jobs/SEGMENT_EXPORT 200 1234 B 3.2 ms` */
    static String line(String method, String path, int status, long bytes, long nanos) {
        return method + " " + path + " " + status + " " + bytes + " B "
                + String.format(Locale.ROOT, "%.1f", nanos / 1e6) + " ms";
    }
}
