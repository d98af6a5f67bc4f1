-- An event's recipients, a row each, replace the "staff:seq,staff:seq"
-- list in `events.recipients` (which replay could only filter with LIKE).
-- They are read only for events above the inbox watermark (see
-- 0006_inbox_tail), whose inbox rows may not be written yet. The key leads
-- with the event, so a commit appends its rows side by side at the end of
-- the key and the tail above the watermark is one range; a key led by the
-- recipient would scatter a page per recipient on every commit, which is
-- what writing the inbox lazily avoids. Rows at or below the watermark are
-- never read again, and pruning removes them.
CREATE TABLE event_recipients (
    event INTEGER NOT NULL,
    staff TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    PRIMARY KEY (event, staff)
) WITHOUT ROWID;

-- Only the tail moves: below the watermark every event has its inbox rows.
WITH RECURSIVE split(event, item, rest) AS (
    SELECT id, NULL, recipients || ',' FROM events
    WHERE recipients IS NOT NULL AND recipients <> ''
      AND id > (SELECT value FROM meta WHERE key = 'inbox_through')
    UNION ALL
    SELECT event, substr(rest, 1, instr(rest, ',') - 1), substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> ''
)
INSERT INTO event_recipients (event, staff, seq)
SELECT event, substr(item, 1, instr(item, ':') - 1),
       CAST(substr(item, instr(item, ':') + 1) AS INTEGER)
FROM split WHERE item IS NOT NULL;

ALTER TABLE events DROP COLUMN recipients;
