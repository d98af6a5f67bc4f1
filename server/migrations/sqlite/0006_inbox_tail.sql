-- The inbox is written lazily. Each event now carries its recipients and
-- their sequence numbers ("staff:seq,staff:seq"), appended with the event
-- itself; the per-recipient inbox rows follow in large batches, which
-- write each recipient's rows side by side instead of scattering one row
-- per recipient over the index on every group commit.
-- `inbox_through`: every event with an id up to it has all its inbox rows;
-- an event above it may have some (a bulk write under way). Replay reads
-- the inbox and the events' own recipient lists above it, by seq once.
ALTER TABLE events ADD COLUMN recipients TEXT;
INSERT INTO meta (key, value) SELECT 'inbox_through', COALESCE(MAX(id), 0) FROM events;
