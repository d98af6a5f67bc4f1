-- Command answers are only ever read whole at start (into the hub's own
-- idempotency map) and pruned by age, so they are kept in arrival order
-- with no index on the client's random command id: an index on random keys
-- made every group commit rewrite pages all over it.
CREATE TABLE commands_by_arrival (
    id    TEXT NOT NULL,
    actor TEXT NOT NULL,
    op    TEXT NOT NULL,
    at    INTEGER NOT NULL,
    reply TEXT NOT NULL
);
INSERT INTO commands_by_arrival (id, actor, op, at, reply)
    SELECT id, actor, op, at, reply FROM commands ORDER BY at;
DROP TABLE commands;
ALTER TABLE commands_by_arrival RENAME TO commands;
CREATE INDEX commands_by_age ON commands (at);
