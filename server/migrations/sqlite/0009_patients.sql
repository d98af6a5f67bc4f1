-- Patients and their bedside observations. A patient row is stored whole as
-- JSON with its filter columns beside it, like tasks; `next_check_at` is the
-- durable deadline of their next set (due, then overdue). Observations are
-- clinical records: written once, never changed, never pruned.
CREATE TABLE patients (
    id            TEXT PRIMARY KEY,
    ward          TEXT NOT NULL,
    bed           TEXT NOT NULL,
    discharged_at INTEGER,
    updated_at    INTEGER NOT NULL,
    next_check_at INTEGER,
    data          TEXT NOT NULL
);
CREATE INDEX patients_by_ward ON patients (ward, bed);
CREATE TABLE observations (
    id          TEXT PRIMARY KEY,
    patient     TEXT NOT NULL,
    taken_at    INTEGER NOT NULL,
    recorded_at INTEGER NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX observations_by_patient ON observations (patient, taken_at);
CREATE TRIGGER observations_append_only_update BEFORE UPDATE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are clinical records: append-only'); END;
CREATE TRIGGER observations_append_only_delete BEFORE DELETE ON observations
BEGIN SELECT RAISE(ABORT, 'observations are clinical records: append-only'); END;
