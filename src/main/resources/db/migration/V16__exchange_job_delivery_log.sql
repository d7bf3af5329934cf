-- Partner calls of jobs in the delivery log: what a push export delivers (segment lookup, each file) and what a pull
-- producer's job fetches (the partner's job, each data file), one entry per thing delivered or fetched, with its
-- attempts. Entry ids come from exchange_delivery_seq, shared with event deliveries, so that one id names one entry
-- of either kind and the log has one newest-first order.
CREATE TABLE exchange_job_delivery (
    delivery_id  BIGINT PRIMARY KEY,
    account_id   BIGINT NOT NULL REFERENCES exchange_account (account_id),
    -- The partner called: the push destination, or the pull producer.
    endpoint_id  BIGINT NOT NULL REFERENCES exchange_endpoint (endpoint_id),
    job_id       BIGINT NOT NULL REFERENCES exchange_job (job_id),
    -- segmentLookup, segmentFile, pullJob, pullFile
    kind         VARCHAR(16) NOT NULL,
    -- The file (segmentFile, pullFile); '' for the others.
    item         VARCHAR(256) NOT NULL,
    webhook_id   VARCHAR(300),
    status       VARCHAR(9) NOT NULL,
    attempts     INT NOT NULL,
    next_attempt BIGINT,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL,
    UNIQUE (job_id, kind, item)
);
CREATE INDEX exchange_job_delivery_log ON exchange_job_delivery (account_id, endpoint_id, delivery_id);
CREATE INDEX exchange_job_delivery_updated ON exchange_job_delivery (updated) WHERE status <> 'PENDING';

CREATE TABLE exchange_job_delivery_attempt (
    delivery_id BIGINT NOT NULL REFERENCES exchange_job_delivery (delivery_id) ON DELETE CASCADE,
    attempt     INT NOT NULL,
    at          BIGINT NOT NULL,
    http_status INT,
    error       VARCHAR(1024),
    duration_ms INT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- A push destination that failed every attempt for --delivery-disable-after is turned off as an event destination
-- is: since when every call to it failed, and why it was turned off (null while it is not). Its delivering jobs
-- wait, without attempts, until its registration is PUT again.
ALTER TABLE exchange_endpoint ADD COLUMN push_failing_since BIGINT;
ALTER TABLE exchange_endpoint ADD COLUMN push_destination_disabled VARCHAR(512);
