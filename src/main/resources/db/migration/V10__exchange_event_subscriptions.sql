-- Event types: the codes an event-source endpoint declares it publishes (documentation for subscribers; events with
-- an undeclared code are still accepted). A code is declared once per endpoint.
CREATE TABLE exchange_event_type (
    account_id  BIGINT NOT NULL REFERENCES exchange_account (account_id),
    endpoint_id BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    code        VARCHAR(128) NOT NULL,
    name        VARCHAR(256),
    description VARCHAR(4096),
    created     BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, code)
);
CREATE INDEX exchange_event_type_account ON exchange_event_type (account_id, endpoint_id);

-- Subscriptions: which events an event destination receives. A null source is every event source of the account;
-- event_codes {'*'} is every code. Delivery (a later version) reads them by account and source.
CREATE SEQUENCE exchange_subscription_seq;
CREATE TABLE exchange_event_subscription (
    subscription_id         BIGINT PRIMARY KEY,
    account_id              BIGINT NOT NULL REFERENCES exchange_account (account_id),
    destination_endpoint_id BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    source_endpoint_id      BIGINT REFERENCES exchange_endpoint (endpoint_id),
    event_codes             VARCHAR(128)[] NOT NULL,
    created                 BIGINT NOT NULL
);
CREATE INDEX exchange_event_subscription_destination ON exchange_event_subscription (account_id, destination_endpoint_id);
CREATE INDEX exchange_event_subscription_source ON exchange_event_subscription (account_id, source_endpoint_id);
