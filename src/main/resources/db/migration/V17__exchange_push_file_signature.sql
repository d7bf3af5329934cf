-- A push export's file is signed while the export writes it, so that its delivery reads it once (as a download
-- does) instead of a second time for its signature. The signature is used while it is fresh and was taken with the
-- destination's current secrets (signed_with: a tag of them, which reveals nothing of the secrets); otherwise, and
-- for every attempt after a failed one, the file is signed again as it goes out.
ALTER TABLE exchange_push_file ADD COLUMN signature VARCHAR(1000);
ALTER TABLE exchange_push_file ADD COLUMN signed_at BIGINT;
ALTER TABLE exchange_push_file ADD COLUMN signed_with VARCHAR(200);
