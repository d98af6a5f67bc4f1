-- Escalation deadlines, written in the same transaction as the change that
-- sets them, so they survive restarts. NULL: nothing pending.
ALTER TABLE tasks ADD COLUMN next_escalation_at INTEGER;
ALTER TABLE pages ADD COLUMN next_escalation_at INTEGER;
CREATE INDEX tasks_by_escalation ON tasks (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
CREATE INDEX pages_by_escalation ON pages (next_escalation_at) WHERE next_escalation_at IS NOT NULL;
