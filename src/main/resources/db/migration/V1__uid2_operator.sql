-- Deployment-wide settings (scope, identity environment) recorded by `serve` so admin commands agree with it.
CREATE TABLE idex_setting (
    setting_name  VARCHAR(64) PRIMARY KEY,
    setting_value VARCHAR(1024) NOT NULL
);

-- UID2/EUID client keys. The key itself is never stored: only key_id (the part before the '.') to find the row,
-- and a salted SHA-256 of the whole key to verify it. The secret is an AES key the server must use, so it is kept.
CREATE TABLE uid2_client_key (
    key_id     VARCHAR(64) PRIMARY KEY,
    key_hash   VARCHAR(64) NOT NULL,
    key_salt   VARCHAR(64) NOT NULL,
    secret     VARCHAR(64) NOT NULL,
    name       VARCHAR(256) NOT NULL,
    site_id    INTEGER NOT NULL,
    roles      VARCHAR(256) NOT NULL,
    created    BIGINT NOT NULL,
    disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    updated    BIGINT NOT NULL
);

-- One row: the deployment's first-level salt and bucket-id secret. `epoch` changes when the whole salt set is
-- replaced (an import); `generation` grows with every change, and each bucket row records the generation that
-- last changed it, so a running server reloads only what changed.
CREATE TABLE uid2_salt_settings (
    id               INTEGER PRIMARY KEY,
    first_level_salt VARCHAR(128) NOT NULL,
    id_prefix        VARCHAR(16) NOT NULL,
    id_secret        VARCHAR(256) NOT NULL,
    bucket_count     INTEGER NOT NULL,
    epoch            BIGINT NOT NULL,
    generation       BIGINT NOT NULL,
    last_rotation    BIGINT
);

-- One row per salt bucket; idx is the bucket's position, the bucket index an identity hashes to.
CREATE TABLE uid2_salt_bucket (
    idx           INTEGER PRIMARY KEY,
    bucket_id     BIGINT NOT NULL,
    bucket_key    VARCHAR(64) NOT NULL,
    salt          VARCHAR(64),
    previous_salt VARCHAR(64),
    last_updated  BIGINT NOT NULL,
    refresh_from  BIGINT NOT NULL,
    cur_key_id    INTEGER,
    cur_key       VARCHAR(64),
    cur_key_salt  VARCHAR(64),
    prev_key_id   INTEGER,
    prev_key      VARCHAR(64),
    prev_key_salt VARCHAR(64),
    generation    BIGINT NOT NULL
);
CREATE UNIQUE INDEX uid2_salt_bucket_id ON uid2_salt_bucket (bucket_id);
CREATE INDEX uid2_salt_bucket_last_updated ON uid2_salt_bucket (last_updated, idx);
CREATE INDEX uid2_salt_bucket_generation ON uid2_salt_bucket (generation);

-- Opted-out identities, by identity hash (SHA-256 of the normalised email or phone, base64), so that the list
-- survives a change of first-level salt.
CREATE TABLE uid2_optout (
    identity_hash VARCHAR(64) PRIMARY KEY,
    added         BIGINT NOT NULL
);

-- db-scheduler's table (salt rotation now; scheduled jobs later).
CREATE TABLE scheduled_tasks (
    task_name            VARCHAR(256) NOT NULL,
    task_instance        VARCHAR(256) NOT NULL,
    task_data            BYTEA,
    execution_time       TIMESTAMP WITH TIME ZONE NOT NULL,
    picked               BOOLEAN NOT NULL,
    picked_by            VARCHAR(256),
    last_success         TIMESTAMP WITH TIME ZONE,
    last_failure         TIMESTAMP WITH TIME ZONE,
    consecutive_failures INTEGER,
    last_heartbeat       TIMESTAMP WITH TIME ZONE,
    version              BIGINT NOT NULL,
    priority             SMALLINT,
    PRIMARY KEY (task_name, task_instance)
);
CREATE INDEX scheduled_tasks_execution_time ON scheduled_tasks (execution_time);
CREATE INDEX scheduled_tasks_last_heartbeat ON scheduled_tasks (last_heartbeat);
CREATE INDEX scheduled_tasks_priority_time ON scheduled_tasks (priority DESC, execution_time ASC);

