-- Event delivery. An accepted event that matches a subscription is kept (exchange_event) with one delivery per
-- destination (exchange_delivery), in the transaction that accepts it: the outbox. A delivery travels in a message
-- (one HTTP request, its webhook-id), formed at its first attempt and kept for every retry; a batching destination's
-- message carries several deliveries. Attempts are logged per message.

-- The delivery state of an event destination: its signing secrets (sealed under the secrets key, bound to the
-- endpoint), the previous one kept for the overlap of a rotation, and since when every attempt has failed.
CREATE TABLE exchange_event_destination (
    endpoint_id     BIGINT PRIMARY KEY REFERENCES exchange_endpoint (endpoint_id),
    account_id      BIGINT NOT NULL REFERENCES exchange_account (account_id),
    signing_secret  VARCHAR(512) NOT NULL,
    previous_secret VARCHAR(512),
    previous_until  BIGINT,
    failing_since   BIGINT
);

-- Why an event destination was turned off by delivery (every attempt failed too long); null while it is not.
ALTER TABLE exchange_endpoint ADD COLUMN event_destination_disabled VARCHAR(512);

CREATE SEQUENCE exchange_event_seq;
CREATE TABLE exchange_event (
    event_id           BIGINT PRIMARY KEY,
    account_id         BIGINT NOT NULL REFERENCES exchange_account (account_id),
    source_endpoint_id BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    x1                 BIGINT NOT NULL,
    content            TEXT NOT NULL,
    accepted           BIGINT NOT NULL
);

CREATE SEQUENCE exchange_delivery_seq;
CREATE TABLE exchange_delivery (
    delivery_id             BIGINT PRIMARY KEY,
    account_id              BIGINT NOT NULL REFERENCES exchange_account (account_id),
    destination_endpoint_id BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    event_id                BIGINT NOT NULL REFERENCES exchange_event (event_id) ON DELETE CASCADE,
    message_id              BIGINT,
    status                  VARCHAR(9) NOT NULL,
    attempts                INT NOT NULL,
    -- The attempts made before it was last queued again by hand (retry, recover): its retry schedule starts there.
    attempts_before         INT NOT NULL,
    -- PENDING: when it is due; while an attempt is in flight, when that attempt's lease ends (a node that died
    -- mid-attempt leaves it due again then).
    next_attempt            BIGINT NOT NULL,
    -- While an attempt is in flight, the end of its lease; null otherwise (a retry asked for meanwhile leaves the
    -- attempt in flight alone rather than sending the message a second time at once).
    leased_until            BIGINT,
    created                 BIGINT NOT NULL,
    updated                 BIGINT NOT NULL
);
CREATE INDEX exchange_delivery_due ON exchange_delivery (destination_endpoint_id, next_attempt) WHERE status = 'PENDING';
CREATE INDEX exchange_delivery_log ON exchange_delivery (account_id, destination_endpoint_id, delivery_id);
CREATE INDEX exchange_delivery_message ON exchange_delivery (message_id);
CREATE INDEX exchange_delivery_event ON exchange_delivery (event_id);
CREATE INDEX exchange_delivery_updated ON exchange_delivery (updated) WHERE status <> 'PENDING';

CREATE TABLE exchange_delivery_attempt (
    message_id  BIGINT NOT NULL,
    attempt     INT NOT NULL,
    at          BIGINT NOT NULL,
    http_status INT,
    error       VARCHAR(1024),
    duration_ms INT NOT NULL,
    PRIMARY KEY (message_id, attempt)
);
