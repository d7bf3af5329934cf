-- Push destinations: a segment export delivered file by file to the destination's segment API.
-- A delivering job stays RUNNING (sub_status DELIVERING); between attempts it has no node (claimed_by NULL) and
-- next_attempt says when the claim loop takes it up again, so that no worker thread sleeps through a retry wait.
-- push_failures counts the failed attempts of the current step (finding the segment, or the next file).
ALTER TABLE exchange_job ADD COLUMN next_attempt BIGINT;
ALTER TABLE exchange_job ADD COLUMN push_failures INTEGER DEFAULT 0 NOT NULL;
CREATE INDEX exchange_job_delivery_due ON exchange_job (next_attempt) WHERE status = 'RUNNING' AND claimed_by IS NULL;

-- The files of a push export, in order; delivered is set (Unix ms) once the partner accepted the file, which is then
-- deleted from disk and never sent again. A restart resumes at the lowest seq not delivered.
CREATE TABLE exchange_push_file (
    job_id     BIGINT NOT NULL REFERENCES exchange_job (job_id),
    seq        INTEGER NOT NULL,
    file_name  VARCHAR(128) NOT NULL,
    row_count  BIGINT NOT NULL,
    byte_count BIGINT NOT NULL,
    delivered  BIGINT,
    PRIMARY KEY (job_id, seq)
);
