-- Segment catalogs: the audiences an audience source (producer) can share. A push producer publishes its own
-- (POST/PUT/DELETE /v1/endpoint/{id}/segments, source 'ENDPOINT'); a pull producer's is fetched from its partner
-- (GET {url}/v1/segments) and saved here whole (source 'PARTNER'). One exchange_segment_catalog row per endpoint
-- that has had a catalog: when it was last written (a partner's fetch time, for caching), by whom. Job creation
-- checks producerSegmentID against a non-empty catalog.
CREATE TABLE exchange_segment_catalog (
    endpoint_id BIGINT PRIMARY KEY REFERENCES exchange_endpoint (endpoint_id),
    account_id  BIGINT NOT NULL REFERENCES exchange_account (account_id),
    source      VARCHAR(16) NOT NULL,
    updated     BIGINT NOT NULL
);

-- The segments of a catalog, in the order they were added (position). segment_attributes is the JSON array
-- [{"name","type"}] as accepted.
CREATE TABLE exchange_segment (
    endpoint_id        BIGINT NOT NULL REFERENCES exchange_segment_catalog (endpoint_id),
    account_id         BIGINT NOT NULL,
    segment_id         VARCHAR(256) NOT NULL,
    position           INTEGER NOT NULL,
    name               VARCHAR(256),
    description        VARCHAR(4096),
    segment_attributes TEXT NOT NULL,
    PRIMARY KEY (endpoint_id, segment_id)
);
CREATE INDEX exchange_segment_order ON exchange_segment (endpoint_id, position);
