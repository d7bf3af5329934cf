-- Client secrets are stored sealed (AES-256-GCM under the node's secrets key, kept apart from the store, so that a
-- copy of the store alone reveals none): `v1:` and the base64 of IV, ciphertext and tag is longer than the 44
-- characters of a plain secret. Rows still in plain text are sealed by the server at its next start.
ALTER TABLE uid2_client_key ALTER COLUMN secret TYPE VARCHAR(200);
