-- Jobs of pull producers: the exchange asks the producer's API for the data instead of waiting for an upload.
-- One row per job being pulled, kept until its data is accepted or the job fails, so that a restarted node resumes
-- polling the partner's job (partner_job_id) instead of starting a second one. A node works on a row only while it
-- holds its lease (leased_by, leased_until); between polls no thread waits for it, the row says when it is due.
CREATE TABLE exchange_job_pull (
    job_id         BIGINT PRIMARY KEY REFERENCES exchange_job (job_id),
    partner_job_id VARCHAR(256),
    started        BIGINT NOT NULL,
    next_poll      BIGINT NOT NULL,
    wait_ms        BIGINT NOT NULL,
    polls          INTEGER NOT NULL DEFAULT 0,
    last_error     VARCHAR(2000),
    leased_by      VARCHAR(128),
    leased_until   BIGINT
);
CREATE INDEX exchange_job_pull_due ON exchange_job_pull (next_poll);
