-- Retention: see the SQLite migration of the same name.
ALTER TABLE streams ADD COLUMN pruned_through BIGINT NOT NULL DEFAULT 0;
CREATE INDEX inbox_by_event ON inbox (event);
