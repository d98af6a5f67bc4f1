//! The SQL both backends run, with `$N` placeholders (which both accept;
//! SQLite numbers them by first appearance, so they appear in number
//! order). Group-commit writes are [`RowWrite`]s, so that the multi-row
//! statements of PostgreSQL and the single-row ones of SQLite's commit are
//! built from the same text and cannot drift apart.

/// One group-commit write: `head`, then `VALUES` rows of `columns` values,
/// then `tail`: written by the walk in `batch`, as multi-row statements on
/// PostgreSQL and a row at a time by SQLite's commit.
pub struct RowWrite {
    pub head: &'static str,
    pub columns: usize,
    pub tail: &'static str,
}

impl RowWrite {
    /// The statement for a single row, with `$1`..`$n` placeholders.
    pub fn one_row(&self) -> String {
        let values: Vec<String> = (1..=self.columns).map(|i| format!("${i}")).collect();
        format!("{}VALUES ({}){}", self.head, values.join(", "), self.tail)
    }
}

pub const TASK_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO tasks (id, state, ward, updated_at, next_escalation_at, data) ",
    columns: 6,
    tail: " ON CONFLICT (id) DO UPDATE SET state = excluded.state, ward = excluded.ward, \
           updated_at = excluded.updated_at, next_escalation_at = excluded.next_escalation_at, \
           data = excluded.data",
};
pub const PAGE_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO pages (id, state, updated_at, next_escalation_at, data) ",
    columns: 5,
    tail: " ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
           updated_at = excluded.updated_at, next_escalation_at = excluded.next_escalation_at, \
           data = excluded.data",
};
pub const PATIENT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO patients (id, ward, bed, discharged_at, updated_at, next_check_at, data) ",
    columns: 7,
    tail: " ON CONFLICT (id) DO UPDATE SET ward = excluded.ward, bed = excluded.bed, \
           discharged_at = excluded.discharged_at, updated_at = excluded.updated_at, \
           next_check_at = excluded.next_check_at, data = excluded.data",
};
pub const OBSERVATION_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO observations (id, patient, taken_at, recorded_at, data) ",
    columns: 5,
    tail: "",
};
/// Admitted patients, and the sets of theirs taken since `$1`.
pub const LOAD_PATIENTS: &str = "SELECT data FROM patients WHERE discharged_at IS NULL";
pub const LOAD_OBSERVATIONS: &str = "SELECT o.data FROM observations o \
     JOIN patients p ON p.id = o.patient \
     WHERE p.discharged_at IS NULL AND o.taken_at >= $1 ORDER BY o.taken_at";

pub const SHIFT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO shifts (staff, role, wards, starts_at, ends_at, busy) ",
    columns: 6,
    tail: " ON CONFLICT (staff) DO UPDATE SET role = excluded.role, wards = excluded.wards, \
           starts_at = excluded.starts_at, ends_at = excluded.ends_at, busy = excluded.busy",
};
/// A shift set from outside the hub (roster import, CLI): it keeps the
/// person's busy state, which only the hub changes; a nightly import
/// re-stating the shift of a doctor in resus must not set her phone ringing.
pub const IMPORT_SHIFT: &str = "INSERT INTO shifts (staff, role, wards, starts_at, ends_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (staff) DO UPDATE SET role = excluded.role, \
     wards = excluded.wards, starts_at = excluded.starts_at, ends_at = excluded.ends_at";
pub const AUDIT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO audit (at, actor, entity, entity_id, action, from_state, to_state, detail, hash) ",
    columns: 9,
    tail: "",
};
pub const EVENT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO events (id, at, body) ",
    columns: 3,
    tail: "",
};
/// An event's recipients, with their seqs (see the `0010_event_recipients`
/// migration).
pub const RECIPIENT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO event_recipients (event, staff, seq) ",
    columns: 3,
    tail: "",
};
pub const INBOX_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO inbox (staff, seq, event) ",
    columns: 3,
    // After a crash in the middle of a bulk write, the rows still owed are
    // rebuilt from the events above the watermark, some already written.
    tail: " ON CONFLICT (staff, seq) DO NOTHING",
};
pub const STREAM_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO streams (staff, last_seq) ",
    columns: 2,
    tail: " ON CONFLICT (staff) DO UPDATE SET last_seq = excluded.last_seq",
};
pub const COMMAND_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO commands (id, actor, op, at, reply, digest) ",
    columns: 6,
    tail: "",
};
pub const UPSERT_STAFF: &str =
    "INSERT INTO staff (id, login, name, role, skills, password_hash, active, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (login) DO UPDATE SET name = excluded.name, role = excluded.role, \
     skills = excluded.skills, active = excluded.active, \
     password_hash = COALESCE(excluded.password_hash, staff.password_hash)";
pub const UPSERT_WARD: &str = "INSERT INTO wards (id, name, beds) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, beds = excluded.beds";
/// Claiming raises the epoch that stale hubs' commits are fenced by
/// (see `postgres.rs`); the new epoch is the claim's.
pub const RAISE_CLAIM_EPOCH: &str =
    "UPDATE hub_claim SET epoch = epoch + 1, claimed_at = $1 WHERE id = 1 RETURNING epoch";
pub const END_SHIFT: &str = "DELETE FROM shifts WHERE staff = $1";
/// A stream's row may not exist yet when its first events are still above
/// the inbox watermark; its `last_seq` then comes from the inbox write.
/// (Placeholders appear in number order: SQLite numbers `$N` by first
/// appearance.)
pub const STORE_ACK: &str = "INSERT INTO streams (staff, last_seq, acked_seq) \
     VALUES ($1, 0, $2) ON CONFLICT (staff) DO UPDATE SET acked_seq = \
     CASE WHEN streams.acked_seq > excluded.acked_seq THEN streams.acked_seq \
     ELSE excluded.acked_seq END";
pub const SET_INBOX_THROUGH: &str = "UPDATE meta SET value = $1 WHERE key = 'inbox_through'";
/// The recipients of the events above the inbox watermark: (event, staff,
/// seq), the inbox rows still to write.
pub const INBOX_TAIL: &str = "SELECT event, staff, seq FROM event_recipients \
     WHERE event > (SELECT value FROM meta WHERE key = 'inbox_through') ORDER BY event, staff";
/// One recipient's stream after a seq: the inbox part (up to the
/// watermark, limited) and the events above the watermark that went to
/// them, found by the event-first key's range and an exact match on the
/// recipient.
pub const REPLAY: &str = "SELECT seq, at, body FROM (\
     SELECT i.seq AS seq, e.at AS at, e.body AS body \
     FROM inbox i JOIN events e ON e.id = i.event \
     WHERE i.staff = $1 AND i.seq > $2 ORDER BY i.seq LIMIT $3) AS flushed \
     UNION ALL SELECT r.seq, e.at, e.body FROM event_recipients r JOIN events e ON e.id = r.event \
     WHERE r.event > (SELECT value FROM meta WHERE key = 'inbox_through') \
     AND r.staff = $1 AND r.seq > $2";

/// Rows per pruning transaction: small enough that a group commit waiting
/// behind one is not held up for long, large enough that pruning a night
/// of history takes a few hundred transactions rather than a million.
pub const PRUNE_CHUNK: i64 = 2_000;
/// Streams with acknowledged entries not yet pruned: (staff, acked seq).
pub const PRUNABLE_STREAMS: &str =
    "SELECT staff, acked_seq FROM streams WHERE acked_seq > pruned_through ORDER BY staff";
/// One chunk of a stream's acknowledged entries for old events, oldest
/// first (a prefix of the stream: seqs rise with event ids).
pub const PRUNE_INBOX: &str = "DELETE FROM inbox WHERE staff = $1 AND seq IN (\
     SELECT i.seq FROM inbox i JOIN events e ON e.id = i.event \
     WHERE i.staff = $1 AND i.seq <= $2 AND e.at < $3 ORDER BY i.seq LIMIT $4)";
/// The floor is just below the oldest entry kept (or the top, if none is).
pub const PRUNE_FLOOR: &str = "UPDATE streams SET pruned_through = COALESCE(\
     (SELECT MIN(seq) - 1 FROM inbox WHERE inbox.staff = streams.staff), last_seq) \
     WHERE staff = $1";
/// The next window of event ids after $1, never above the watermark: its
/// top id and oldest time.
pub const PRUNE_EVENTS_WINDOW: &str = "SELECT MAX(id), MIN(at) FROM (\
     SELECT id, at FROM events WHERE id > $1 \
     AND id <= (SELECT value FROM meta WHERE key = 'inbox_through') \
     ORDER BY id LIMIT $2) AS w";
/// The old events of one window that no stream refers to any more.
pub const PRUNE_EVENTS: &str = "DELETE FROM events WHERE id > $1 AND id <= $2 AND at < $3 \
     AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.event = events.id)";
/// The newest `at` among the next chunk of command answers older than $1.
pub const PRUNE_COMMANDS_WINDOW: &str =
    "SELECT MAX(at) FROM (SELECT at FROM commands WHERE at < $1 ORDER BY at LIMIT $2) AS w";
pub const PRUNE_COMMANDS: &str = "DELETE FROM commands WHERE at <= $1";
/// The top event of the next chunk of recipient rows at or below the
/// watermark: their events' inbox rows are written, so nothing reads them.
pub const PRUNE_RECIPIENTS_WINDOW: &str = "SELECT MAX(event) FROM (SELECT event FROM event_recipients \
     WHERE event <= (SELECT value FROM meta WHERE key = 'inbox_through') ORDER BY event LIMIT $1) AS w";
pub const PRUNE_RECIPIENTS: &str = "DELETE FROM event_recipients WHERE event <= $1";
