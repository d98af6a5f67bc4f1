-- wardpage schema, version 1 (SQLite).
-- Tasks and pages are stored whole as JSON (the domain's own shape) with
-- the columns the hub filters on pulled out beside them.

CREATE TABLE wards (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    beds  TEXT NOT NULL            -- JSON array of bed labels
);

CREATE TABLE staff (
    id            TEXT PRIMARY KEY,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    skills        TEXT NOT NULL,   -- JSON array
    password_hash TEXT,            -- argon2id PHC string; NULL: cannot log in
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    INTEGER NOT NULL
);

CREATE TABLE shifts (
    staff     TEXT PRIMARY KEY,
    role      TEXT NOT NULL,
    wards     TEXT NOT NULL,       -- JSON array of ward ids
    starts_at INTEGER NOT NULL,
    ends_at   INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,   -- SHA-256 of the token; the token itself is never stored
    staff      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE tasks (
    id         TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    ward       TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);
CREATE INDEX tasks_by_state ON tasks (state, updated_at);

CREATE TABLE pages (
    id         TEXT PRIMARY KEY,
    state      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    data       TEXT NOT NULL
);

-- Event bodies, stored once however many recipients they have.
CREATE TABLE events (
    id   INTEGER PRIMARY KEY,
    at   INTEGER NOT NULL,
    body TEXT NOT NULL
);

-- Each recipient's gap-free stream.
CREATE TABLE inbox (
    staff TEXT NOT NULL,
    seq   INTEGER NOT NULL,
    event INTEGER NOT NULL,
    PRIMARY KEY (staff, seq)
) WITHOUT ROWID;

CREATE TABLE streams (
    staff     TEXT PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    acked_seq INTEGER NOT NULL DEFAULT 0
);

-- Idempotency: a command id's first answer, kept at least a day.
CREATE TABLE commands (
    id    TEXT PRIMARY KEY,
    actor TEXT NOT NULL,
    op    TEXT NOT NULL,
    at    INTEGER NOT NULL,
    reply TEXT NOT NULL
);

-- Append-only audit trail. `hash` is reserved for chaining each row to the
-- previous one (hash of prev hash + row); rows are never updated or deleted.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
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

CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;

-- Bumped whenever wards, staff or shifts change outside the hub (CLI,
-- roster import) so a running hub reloads its roster.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('roster_version', 0);
