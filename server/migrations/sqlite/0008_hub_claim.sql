-- The hub's claim on the database, as on PostgreSQL (see its migration of
-- the same name): each claim raises `epoch`. SQLite's claim is a lock on a
-- file that the kernel holds for the hub's process, so its commits need
-- not check the epoch; the row counts claims and keeps the schemas alike.
CREATE TABLE hub_claim (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    epoch      INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL
);
INSERT INTO hub_claim (id, epoch, claimed_at) VALUES (1, 0, 0);
