-- Exchange tenancy: accounts, their endpoints, and bearer keys (account-level when endpoint_id is NULL).
CREATE SEQUENCE exchange_account_seq;
CREATE SEQUENCE exchange_endpoint_seq;
CREATE SEQUENCE exchange_filter_seq;

CREATE TABLE exchange_account (
    account_id BIGINT PRIMARY KEY,
    name       VARCHAR(256) NOT NULL,
    created    BIGINT NOT NULL
);

-- The registration is kept as the JSON the API answers with; the columns beside it are what queries filter on.
CREATE TABLE exchange_endpoint (
    endpoint_id    BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES exchange_account (account_id),
    name           VARCHAR(256) NOT NULL,
    audience_role  VARCHAR(16) NOT NULL,
    audience_mode  VARCHAR(16),
    event_source   BOOLEAN NOT NULL,
    event_destination BOOLEAN NOT NULL,
    registration   VARCHAR(1000000) NOT NULL,
    created        BIGINT NOT NULL,
    updated        BIGINT NOT NULL
);
CREATE INDEX exchange_endpoint_account ON exchange_endpoint (account_id, endpoint_id);

-- The key itself is never stored: key_id (its public prefix) finds the row, a salted SHA-256 verifies it.
CREATE TABLE exchange_key (
    key_id      VARCHAR(32) PRIMARY KEY,
    key_hash    VARCHAR(64) NOT NULL,
    key_salt    VARCHAR(64) NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES exchange_account (account_id),
    endpoint_id BIGINT REFERENCES exchange_endpoint (endpoint_id),
    created     BIGINT NOT NULL,
    revoked     BIGINT,
    updated     BIGINT NOT NULL
);
CREATE INDEX exchange_key_account ON exchange_key (account_id);

-- Identity filters: which identifiers an endpoint never publishes or never receives.
CREATE TABLE exchange_identity_filter (
    filter_id        BIGINT PRIMARY KEY,
    account_id       BIGINT NOT NULL,
    endpoint_id      BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    identifier_name  VARCHAR(128) NOT NULL,
    publish_filter   BOOLEAN NOT NULL,
    subscribe_filter BOOLEAN NOT NULL,
    CONSTRAINT exchange_identity_filter_unique UNIQUE (endpoint_id, identifier_name)
);

-- The identity store. An x1 is one person; x1 numbers grow, so the smallest is the oldest. A merged x1 stays as
-- an alias: merged_into names the survivor (kept flat: aliases of a merged x1 move to the new survivor).
CREATE SEQUENCE x1_seq;
CREATE TABLE x1_person (
    x1          BIGINT PRIMARY KEY,
    account_id  BIGINT NOT NULL,
    merged_into BIGINT,
    created     BIGINT NOT NULL
);
CREATE INDEX x1_person_merged_into ON x1_person (merged_into);

-- One row per identifier of an x1 per endpoint that contributed it. The primary key is the lookup index of
-- resolution, `GET /v1/identity?name=value` and `DELETE`: (account, name, value) first.
CREATE TABLE x1_identifier (
    account_id  BIGINT NOT NULL,
    id_name     VARCHAR(128) NOT NULL,
    id_value    VARCHAR(512) NOT NULL,
    x1          BIGINT NOT NULL,
    endpoint_id BIGINT NOT NULL,
    PRIMARY KEY (account_id, id_name, id_value, x1, endpoint_id)
);
CREATE INDEX x1_identifier_x1 ON x1_identifier (x1);
