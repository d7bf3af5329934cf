package idex.http;

import io.vertx.ext.web.Router;

/**
 * How every feature exposes its HTTP side: it adds its routes to the server's router, each path with a 405 for the
 * methods it does not take ({@link ApiServer#onlyMethods}). What a feature needs comes through its constructor.
 */
@FunctionalInterface
public interface Feature {

    void mount(Router router);
}
