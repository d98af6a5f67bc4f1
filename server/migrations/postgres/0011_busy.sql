-- A member of staff's busy state (as SQLite's migration of the same name):
-- the protocol's `BusyView` as JSON, NULL when not busy.
ALTER TABLE shifts ADD COLUMN busy TEXT;
