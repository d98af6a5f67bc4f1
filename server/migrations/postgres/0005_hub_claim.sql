-- The hub's claim on the database, fenced. A hub claims with an advisory
-- lock and raises `epoch` while holding it; every group commit reads the
-- epoch (FOR SHARE) in its own transaction and fails if it is no longer the
-- one its hub's claim raised it to, so a hub that lost its claim without
-- noticing cannot commit beside the hub that claimed the database since.
CREATE TABLE hub_claim (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    epoch      BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL
);
INSERT INTO hub_claim (id, epoch, claimed_at) VALUES (1, 0, 0);
-- Pruning deletes old command answers in chunks by age (as SQLite's
-- `commands_by_age` does).
CREATE INDEX IF NOT EXISTS commands_by_age ON commands (at);
