-- The whole salt set in a compact binary form, in parts of 1 MB, tagged with the (epoch, generation) it shows.
-- A server loads it in well under a second, where reading a million rows takes several. Parts are written after
-- the change they show has committed, each in its own small transaction; a reader uses a snapshot only when all
-- `parts` of the current (epoch, generation) are there, and otherwise reads the rows.
CREATE TABLE uid2_salt_snapshot (
    epoch      BIGINT NOT NULL,
    generation BIGINT NOT NULL,
    part       INTEGER NOT NULL,
    parts      INTEGER NOT NULL,
    data       BYTEA NOT NULL,
    PRIMARY KEY (epoch, generation, part)
);
