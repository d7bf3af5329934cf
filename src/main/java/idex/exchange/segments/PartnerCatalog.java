package idex.exchange.segments;

import idex.exchange.endpoints.Endpoint;

/**
 * The hook through which a pull producer's catalog is fed by its partner: before `GET /v1/endpoint/{id}/segments`
 * lists a pull producer's catalog, it asks this to bring the stored copy up to date (when it is stale, or always with
 * `?refresh=true`). An implementation fetches `GET {url}/v1/segments` and saves the answer with
 * {@link SegmentCatalogStore#replace} and {@link CatalogSource#PARTNER}; {@link SegmentCatalogStore#updated} says when
 * the stored copy was last written. Calls run on a worker thread, so the fetch may block.
 */
@FunctionalInterface
public interface PartnerCatalog {

    /** No partner calls: a pull producer lists what was last saved for it (nothing, until a fetcher is wired in). */
    PartnerCatalog NONE = (producer, refresh) -> {
    };

    void bringUpToDate(Endpoint pullProducer, boolean refresh);
}
