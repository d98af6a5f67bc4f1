-- A member of staff's busy state ("In resus" until a time), kept with their
-- shift as JSON (the protocol's `BusyView`); NULL when not busy. Its
-- `until` is the deadline at which the hub ends it.
ALTER TABLE shifts ADD COLUMN busy TEXT;
