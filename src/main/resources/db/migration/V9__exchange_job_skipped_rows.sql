-- Rows a run skipped, so that a job's counts add up (source = translated + skipped): their number, and by reason as
-- the JSON object the API answers with ({"wrongColumnCount":2,"optedOut":1}).
ALTER TABLE exchange_job ADD COLUMN skipped_record_count BIGINT;
ALTER TABLE exchange_job ADD COLUMN skipped_records VARCHAR(4000);
