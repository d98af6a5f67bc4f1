-- See the SQLite migration of the same name. The two backends keep the same
-- schema: commands are kept in arrival order with no key on the client's
-- id, as on SQLite (the hub's own memory is what refuses a repeat; an id
-- re-sent after the hub forgot it must not fail the whole group commit on a
-- duplicate key), and the index on tasks by state, which SQLite dropped
-- because nothing reads through it, goes here too.
ALTER TABLE commands ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE commands DROP CONSTRAINT commands_pkey;
CREATE INDEX commands_by_age ON commands (at);
DROP INDEX IF EXISTS tasks_by_state;
