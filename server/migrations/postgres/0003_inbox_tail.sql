-- The inbox is written lazily: see the SQLite migration of the same name.
ALTER TABLE events ADD COLUMN recipients TEXT;
INSERT INTO meta (key, value) SELECT 'inbox_through', COALESCE(MAX(id), 0) FROM events;
