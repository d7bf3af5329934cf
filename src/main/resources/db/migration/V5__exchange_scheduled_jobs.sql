-- Scheduled jobs (spec §4.5): a segment export that repeats, or runs once later. Its db-scheduler task instance
-- (task exchange-scheduled-job, instance id = scheduled_job_id) fires each occurrence; the definition is the one every
-- occurrence's job gets. state: SCHEDULED (active: more occurrences to come), COMPLETE (the schedule is over),
-- CANCELLED (deleted through the API: no longer listed, its occurrences do nothing).
CREATE SEQUENCE exchange_scheduled_job_seq;
CREATE TABLE exchange_scheduled_job (
    scheduled_job_id        BIGINT PRIMARY KEY,
    account_id              BIGINT NOT NULL REFERENCES exchange_account (account_id),
    category                VARCHAR(32) NOT NULL,
    state                   VARCHAR(32) NOT NULL,
    producer_endpoint_id    BIGINT NOT NULL,
    destination_endpoint_id BIGINT,
    definition              VARCHAR(1000000) NOT NULL,
    error_details           VARCHAR(4000),
    created                 BIGINT NOT NULL,
    updated                 BIGINT NOT NULL
);
CREATE INDEX exchange_scheduled_job_account ON exchange_scheduled_job (account_id, category, scheduled_job_id);
CREATE INDEX exchange_scheduled_job_state ON exchange_scheduled_job (state);

-- The occurrence (Unix milliseconds) a scheduled job's job is for. One job per occurrence: the handler that creates
-- it looks first, under a row lock on the scheduled job, and this key refuses a second one whatever happens. Jobs
-- created directly have both columns NULL, which a unique index allows any number of times (H2 and PostgreSQL).
ALTER TABLE exchange_job ADD COLUMN occurrence BIGINT;
CREATE UNIQUE INDEX exchange_job_occurrence ON exchange_job (scheduled_job_id, occurrence);
