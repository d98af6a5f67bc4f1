-- An event's recipients, a row each, replace the encoded list in
-- `events.recipients`: see the SQLite migration of the same name.
CREATE TABLE event_recipients (
    event BIGINT NOT NULL,
    staff TEXT   NOT NULL,
    seq   BIGINT NOT NULL,
    PRIMARY KEY (event, staff)
);

-- Only the tail moves: below the watermark every event has its inbox rows.
INSERT INTO event_recipients (event, staff, seq)
SELECT e.id, split_part(item, ':', 1), split_part(item, ':', 2)::BIGINT
FROM events e, unnest(string_to_array(e.recipients, ',')) AS item
WHERE e.recipients <> ''
  AND e.id > (SELECT value FROM meta WHERE key = 'inbox_through');

ALTER TABLE events DROP COLUMN recipients;
