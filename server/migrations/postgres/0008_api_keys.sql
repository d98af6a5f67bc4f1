-- API keys for other systems (as SQLite's migration of the same name). A key is `wpk_<id>_<secret>`:
-- only the SHA-256 of its secret is kept, the key itself is shown once. Each
-- key acts as a staff row of its own (its service account, no password), so
-- that what it writes through the hub is audited under the key's name.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,     -- the public part of the key
    name         TEXT NOT NULL UNIQUE,
    secret_hash  TEXT NOT NULL,        -- hex SHA-256 of the secret
    scopes       TEXT NOT NULL,        -- comma-separated, e.g. fhir:read,observations:write
    staff        TEXT NOT NULL,        -- the service account it acts as
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
-- Every use of a key, counted per key, minute and kind (read, write,
-- refused): reads are too many for one audit row each.
CREATE TABLE api_key_uses (
    key_id TEXT NOT NULL,
    minute BIGINT NOT NULL,           -- milliseconds since 1970, floored to the minute
    kind   TEXT NOT NULL,
    count  BIGINT NOT NULL,
    PRIMARY KEY (key_id, minute, kind)
);
-- FHIR searches page tasks and pages by their last change.
CREATE INDEX tasks_by_change ON tasks (updated_at, id);
CREATE INDEX pages_by_change ON pages (updated_at, id);
