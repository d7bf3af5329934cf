-- Jobs of the exchange (spec §4). A job's definition (mappings, segment fields, schedule) is kept as the JSON the
-- API answers with; the columns beside it are what queries filter on and what the lifecycle changes. Every status
-- change is one UPDATE guarded by the status it leaves, so two nodes (or a retry) cannot both make it.
CREATE SEQUENCE exchange_job_seq;
CREATE TABLE exchange_job (
    job_id                   BIGINT PRIMARY KEY,
    account_id               BIGINT NOT NULL REFERENCES exchange_account (account_id),
    category                 VARCHAR(32) NOT NULL,
    status                   VARCHAR(32) NOT NULL,
    producer_endpoint_id     BIGINT NOT NULL,
    destination_endpoint_id  BIGINT,
    scheduled_job_id         BIGINT,
    parent_job_id            BIGINT,
    definition               VARCHAR(1000000) NOT NULL,
    error_details            VARCHAR(1000000),
    source_record_count      BIGINT,
    translated_record_count  BIGINT,
    destination_record_count BIGINT,
    upload_file              VARCHAR(256),
    created                  BIGINT NOT NULL,
    started                  BIGINT,
    ended                    BIGINT,
    updated                  BIGINT NOT NULL,
    claimed_by               VARCHAR(128),
    heartbeat                BIGINT
);
CREATE INDEX exchange_job_account ON exchange_job (account_id, category, job_id);
CREATE INDEX exchange_job_queue ON exchange_job (status, job_id);

-- Output files of a job for a pull destination; names are opaque, content lives in the data directory.
CREATE TABLE exchange_job_file (
    job_id     BIGINT NOT NULL REFERENCES exchange_job (job_id),
    file_name  VARCHAR(128) NOT NULL,
    seq        INTEGER NOT NULL,
    row_count  BIGINT NOT NULL,
    byte_count BIGINT NOT NULL,
    PRIMARY KEY (job_id, file_name)
);
