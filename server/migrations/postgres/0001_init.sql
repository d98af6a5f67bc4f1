-- wardpage schema, version 1 (PostgreSQL). Same shape as the SQLite schema:
-- tasks and pages stored whole as JSON text with their filter columns.

CREATE TABLE wards (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    beds  TEXT NOT NULL
);

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    skills        TEXT NOT NULL,
    password_hash TEXT,
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL
);

CREATE TABLE shifts (
    staff     TEXT PRIMARY KEY,
    role      TEXT NOT NULL,
    wards     TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at   BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    staff      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY,
    state              TEXT NOT NULL,
    ward               TEXT NOT NULL,
    updated_at         BIGINT NOT NULL,
    next_escalation_at BIGINT,
    data               TEXT NOT NULL
);
CREATE INDEX tasks_by_state ON tasks (state, updated_at);
CREATE INDEX tasks_by_escalation ON tasks (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

CREATE TABLE pages (
    id                 TEXT PRIMARY KEY,
    state              TEXT NOT NULL,
    updated_at         BIGINT NOT NULL,
    next_escalation_at BIGINT,
    data               TEXT NOT NULL
);
CREATE INDEX pages_by_escalation ON pages (next_escalation_at) WHERE next_escalation_at IS NOT NULL;

CREATE TABLE events (
    id   BIGINT PRIMARY KEY,
    at   BIGINT NOT NULL,
    body TEXT NOT NULL
);

CREATE TABLE inbox (
    staff TEXT NOT NULL,
    seq   BIGINT NOT NULL,
    event BIGINT NOT NULL,
    PRIMARY KEY (staff, seq)
);

CREATE TABLE streams (
    staff     TEXT PRIMARY KEY,
    last_seq  BIGINT NOT NULL,
    acked_seq BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE commands (
    id    TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    op    TEXT NOT NULL,
    at    BIGINT NOT NULL,
    reply TEXT NOT NULL
);

CREATE TABLE audit (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    action     TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT,
    detail     TEXT NOT NULL,
    hash       TEXT
);
CREATE INDEX audit_by_entity ON audit (entity_id, id);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END $$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('roster_version', 0);
