-- Jobs that call partners: a push destination's export is delivered file by file, a pull producer's data fetched.
-- sub_status says which step a running job is at (DELIVERING, PULLING); null shows the job name, as before.
-- destination_segment_id is the partner's id of the segment a push export delivers to.
ALTER TABLE exchange_job ADD COLUMN sub_status VARCHAR(32);
ALTER TABLE exchange_job ADD COLUMN destination_segment_id VARCHAR(256);
