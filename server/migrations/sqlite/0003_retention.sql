-- Retention: acknowledged events older than the retention period are
-- pruned from each stream; `pruned_through` is the highest seq gone, so a
-- client asking to resume from before it is told to resync.
ALTER TABLE streams ADD COLUMN pruned_through INTEGER NOT NULL DEFAULT 0;
CREATE INDEX inbox_by_event ON inbox (event);
