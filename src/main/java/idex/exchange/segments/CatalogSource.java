package idex.exchange.segments;

/**
 * Who wrote an endpoint's catalog: the endpoint itself (a push producer, through the segments API) or its partner (a
 * pull producer's catalog, fetched from `GET {url}/v1/segments` and saved whole).
 */
public enum CatalogSource {
    ENDPOINT, PARTNER
}
