package idex.exchange.jobs.pull;

import com.fasterxml.jackson.databind.node.ArrayNode;
import idex.errors.Refusal;
import idex.exchange.endpoints.Endpoint;
import idex.exchange.segments.CatalogSource;
import idex.exchange.segments.PartnerCatalog;
import idex.exchange.segments.RequestedSegments;
import idex.exchange.segments.SegmentCatalogStore;
import idex.json.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * A pull producer's segment catalog, kept from what its partner answers at `GET {url}/v1/segments`: fetched when the
 * stored copy is older than {@link #FRESH_MS} (or there is none), or when asked (`?refresh=true`). When the partner
 * cannot be reached, a stored copy is listed as it is (and the failure logged); with none, or when a refresh was
 * asked for, the answer is 409 saying what the partner answered.
 */
public final class PulledCatalog implements PartnerCatalog {

    private static final Logger LOG = LoggerFactory.getLogger(PulledCatalog.class);
    static final long FRESH_MS = 5 * 60_000L;

    private final PartnerSegments partner;
    private final SegmentCatalogStore store;
    private final LongSupplier clock;

    public PulledCatalog(PartnerSegments partner, SegmentCatalogStore store, LongSupplier clock) {
        this.partner = partner;
        this.store = store;
        this.clock = clock;
    }

    @Override
    public void bringUpToDate(Endpoint producer, boolean refresh) {
        long now = clock.getAsLong();
        Optional<Long> updated = store.updated(producer.accountId(), producer.endpointId());
        if (!refresh && updated.isPresent() && now - updated.get() < FRESH_MS) {
            return;
        }
        ArrayNode items = Json.MAPPER.createArrayNode();
        try {
            partner.catalogItems(producer).forEach(items::add);
        } catch (PartnerCallFailed e) {
            if (refresh || updated.isEmpty()) {
                throw Refusal.conflict("The catalog of pull producer " + producer.endpointId() + " could not be"
                        + " fetched from its partner: " + e.getMessage() + ".");
            }
            LOG.warn("Listing the stored catalog of pull producer {}: its partner could not be asked: {}",
                    producer.endpointId(), e.getMessage());
            return;
        }
        try {
            store.replace(producer.accountId(), producer.endpointId(), RequestedSegments.parse(items, true),
                    CatalogSource.PARTNER, now);
        } catch (Refusal invalid) {
            throw Refusal.conflict("The partner of pull producer " + producer.endpointId() + " answered a catalog"
                    + " this server cannot keep: " + invalid.getMessage());
        }
    }
}
