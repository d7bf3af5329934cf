-- How many times processing of a job has been started: a job whose runs keep being cut off (the server crashes on
-- it, or is stopped during it) is ended in ERROR after a few attempts instead of being retried for ever.
ALTER TABLE exchange_job ADD COLUMN attempts INTEGER DEFAULT 0 NOT NULL;
