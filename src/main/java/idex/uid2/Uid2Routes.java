package idex.uid2;

import idex.uid2.buckets.BucketsEndpoint;
import idex.uid2.clients.Role;
import idex.uid2.envelope.EncryptedEndpoint;
import idex.uid2.map.IdentityMapEndpoints;
import idex.http.Feature;
import io.vertx.ext.web.Router;

/** The UID2/EUID operator routes. */
public final class Uid2Routes implements Feature {

    private final EncryptedEndpoint envelope;
    private final BucketsEndpoint buckets;
    private final IdentityMapEndpoints map;

    public Uid2Routes(EncryptedEndpoint envelope, BucketsEndpoint buckets, IdentityMapEndpoints map) {
        this.envelope = envelope;
        this.buckets = buckets;
        this.map = map;
    }

    @Override
    public void mount(Router router) {
        // The bucket list is served from memory; small answers are built on the event loop, large ones streamed.
        router.post("/v2/identity/buckets").handler(envelope.handler(Role.MAPPER, false, buckets::answer));
        // Mapping 5,000 identities is several milliseconds of hashing: it runs on the worker pool.
        router.post("/v2/identity/map").handler(envelope.handler(Role.MAPPER, true, map::v2));
        router.post("/v3/identity/map").handler(envelope.handler(Role.MAPPER, true, map::v3));
        for (String path : new String[]{"/v2/identity/buckets", "/v2/identity/map", "/v3/identity/map"}) {
            // The operator's own error shape, as every other error of these paths.
            router.route(path).handler(ctx -> {
                ctx.response().putHeader("Allow", "POST");
                EncryptedEndpoint.sendError(ctx, 405, "Method " + ctx.request().method().name() + " is not allowed on "
                        + path + ": use POST.");
            });
        }
    }
}
