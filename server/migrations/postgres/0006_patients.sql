-- Patients and their bedside observations (as SQLite's migration of the same
-- name). Observations are clinical records: written once, never changed,
-- never pruned.
CREATE TABLE patients (
    id            TEXT PRIMARY KEY,
    ward          TEXT NOT NULL,
    bed           TEXT NOT NULL,
    discharged_at BIGINT,
    updated_at    BIGINT NOT NULL,
    next_check_at BIGINT,
    data          TEXT NOT NULL
);
CREATE INDEX patients_by_ward ON patients (ward, bed);
CREATE TABLE observations (
    id          TEXT PRIMARY KEY,
    patient     TEXT NOT NULL,
    taken_at    BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    data        TEXT NOT NULL
);
CREATE INDEX observations_by_patient ON observations (patient, taken_at);
CREATE FUNCTION observations_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'observations are clinical records: append-only';
END $$;
CREATE TRIGGER observations_append_only BEFORE UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION observations_append_only();
