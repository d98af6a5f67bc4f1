//! What the SQLite and PostgreSQL backends share: the same schema, so the
//! same SQL (written with `$N` placeholders, which both accept), the same
//! row mapping and the same group-commit statements. [`sql_backend!`]
//! expands it all for one backend's pool, connection and row types; each
//! backend adds only how it opens and how it claims due escalations.

use super::*;
use std::collections::HashMap;
use std::str::FromStr;
use wardpage_proto::Role;

/// A task as its row is written.
pub(super) struct TaskRow {
    pub id: String,
    pub state: &'static str,
    pub ward: String,
    pub updated_at: Millis,
    pub next_escalation_at: Option<Millis>,
    pub data: String,
}

pub(super) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(super) fn parse_id<T: FromStr>(s: &str) -> StoreResult<T> {
    s.parse().map_err(|_| corrupt(format!("bad id `{s}`")))
}

pub(super) fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse().map_err(corrupt)
}

pub(super) fn json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(corrupt)
}

pub(super) fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Domain types serialise infallibly (string keys, no floats).
    serde_json::to_string(v).unwrap_or_default()
}

/// A page's last change: sent, or its latest receipt.
pub(super) fn page_updated_at(p: &Page) -> Millis {
    p.updated_at()
}

/// One group-commit write: `head`, then `VALUES` rows of `columns` values,
/// then `tail`. Both commits use these (sqlx's multi-row one here, SQLite's
/// row-by-row one in `sqlite_commit`), so their SQL cannot drift apart.
pub(super) struct RowWrite {
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

pub(super) const TASK_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO tasks (id, state, ward, updated_at, next_escalation_at, data) ",
    columns: 6,
    tail: " ON CONFLICT (id) DO UPDATE SET state = excluded.state, ward = excluded.ward, \
           updated_at = excluded.updated_at, next_escalation_at = excluded.next_escalation_at, \
           data = excluded.data",
};
pub(super) const PAGE_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO pages (id, state, updated_at, next_escalation_at, data) ",
    columns: 5,
    tail: " ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
           updated_at = excluded.updated_at, next_escalation_at = excluded.next_escalation_at, \
           data = excluded.data",
};
pub(super) const PATIENT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO patients (id, ward, bed, discharged_at, updated_at, next_check_at, data) ",
    columns: 7,
    tail: " ON CONFLICT (id) DO UPDATE SET ward = excluded.ward, bed = excluded.bed, \
           discharged_at = excluded.discharged_at, updated_at = excluded.updated_at, \
           next_check_at = excluded.next_check_at, data = excluded.data",
};
pub(super) const OBSERVATION_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO observations (id, patient, taken_at, recorded_at, data) ",
    columns: 5,
    tail: "",
};
/// Admitted patients, and the sets of theirs taken since `$1`.
pub(super) const LOAD_PATIENTS: &str = "SELECT data FROM patients WHERE discharged_at IS NULL";
pub(super) const LOAD_OBSERVATIONS: &str = "SELECT o.data FROM observations o \
     JOIN patients p ON p.id = o.patient \
     WHERE p.discharged_at IS NULL AND o.taken_at >= $1 ORDER BY o.taken_at";

/// A patient as its row is written.
pub(super) struct PatientRow {
    pub id: String,
    pub ward: String,
    pub bed: String,
    pub discharged_at: Option<Millis>,
    pub updated_at: Millis,
    pub next_check_at: Option<Millis>,
    pub data: String,
}

impl PatientRow {
    pub fn of(p: &crate::domain::patient::Patient) -> PatientRow {
        PatientRow {
            id: p.view.id.to_string(),
            ward: p.view.ward.0.clone(),
            bed: p.view.bed.clone(),
            discharged_at: p.view.discharged_at,
            updated_at: p.view.updated_at,
            next_check_at: p.next_check_at,
            data: to_json(p),
        }
    }
}

pub(super) const SHIFT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO shifts (staff, role, wards, starts_at, ends_at) ",
    columns: 5,
    tail: " ON CONFLICT (staff) DO UPDATE SET role = excluded.role, wards = excluded.wards, \
           starts_at = excluded.starts_at, ends_at = excluded.ends_at",
};
pub(super) const AUDIT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO audit (at, actor, entity, entity_id, action, from_state, to_state, detail, hash) ",
    columns: 9,
    tail: "",
};
pub(super) const EVENT_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO events (id, at, body, recipients) ",
    columns: 4,
    tail: "",
};
pub(super) const INBOX_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO inbox (staff, seq, event) ",
    columns: 3,
    // After a crash in the middle of a bulk write, the rows still owed are
    // rebuilt from the events above the watermark, some already written.
    tail: " ON CONFLICT (staff, seq) DO NOTHING",
};
pub(super) const STREAM_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO streams (staff, last_seq) ",
    columns: 2,
    tail: " ON CONFLICT (staff) DO UPDATE SET last_seq = excluded.last_seq",
};
pub(super) const COMMAND_ROWS: RowWrite = RowWrite {
    head: "INSERT INTO commands (id, actor, op, at, reply, digest) ",
    columns: 6,
    tail: "",
};
pub(super) const UPSERT_STAFF: &str =
    "INSERT INTO staff (id, login, name, role, skills, password_hash, active, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (login) DO UPDATE SET name = excluded.name, role = excluded.role, \
     skills = excluded.skills, active = excluded.active, \
     password_hash = COALESCE(excluded.password_hash, staff.password_hash)";
pub(super) const UPSERT_WARD: &str = "INSERT INTO wards (id, name, beds) VALUES ($1, $2, $3) \
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, beds = excluded.beds";
/// Claiming raises the epoch that stale hubs' commits are fenced by
/// (see `postgres.rs`); the new epoch is the claim's.
pub(super) const RAISE_CLAIM_EPOCH: &str =
    "UPDATE hub_claim SET epoch = epoch + 1, claimed_at = $1 WHERE id = 1 RETURNING epoch";
pub(super) const END_SHIFT: &str = "DELETE FROM shifts WHERE staff = $1";
/// A stream's row may not exist yet when its first events are still above
/// the inbox watermark; its `last_seq` then comes from the inbox write.
/// (Placeholders appear in number order: SQLite numbers `$N` by first
/// appearance.)
pub(super) const STORE_ACK: &str = "INSERT INTO streams (staff, last_seq, acked_seq) \
     VALUES ($1, 0, $2) ON CONFLICT (staff) DO UPDATE SET acked_seq = \
     CASE WHEN streams.acked_seq > excluded.acked_seq THEN streams.acked_seq \
     ELSE excluded.acked_seq END";
pub(super) const SET_INBOX_THROUGH: &str = "UPDATE meta SET value = $1 WHERE key = 'inbox_through'";
/// Events above the inbox watermark, with their recipient lists.
pub(super) const INBOX_TAIL: &str = "SELECT id, recipients FROM events \
     WHERE id > (SELECT value FROM meta WHERE key = 'inbox_through') ORDER BY id";
/// One recipient's stream after a seq: the inbox part (up to the
/// watermark, limited) and the events above the watermark that name them.
pub(super) const REPLAY: &str = "SELECT seq, at, body, recipients FROM (\
     SELECT i.seq AS seq, e.at AS at, e.body AS body, NULL AS recipients \
     FROM inbox i JOIN events e ON e.id = i.event \
     WHERE i.staff = $1 AND i.seq > $2 ORDER BY i.seq LIMIT $3) AS flushed \
     UNION ALL SELECT NULL, e.at, e.body, e.recipients FROM events e \
     WHERE e.id > (SELECT value FROM meta WHERE key = 'inbox_through') \
     AND e.recipients LIKE $4";

/// Rows per pruning transaction: small enough that a group commit waiting
/// behind one is not held up for long, large enough that pruning a night
/// of history takes a few hundred transactions rather than a million.
pub(super) const PRUNE_CHUNK: i64 = 2_000;
/// Streams with acknowledged entries not yet pruned: (staff, acked seq).
pub(super) const PRUNABLE_STREAMS: &str =
    "SELECT staff, acked_seq FROM streams WHERE acked_seq > pruned_through ORDER BY staff";
/// One chunk of a stream's acknowledged entries for old events, oldest
/// first (a prefix of the stream: seqs rise with event ids).
pub(super) const PRUNE_INBOX: &str = "DELETE FROM inbox WHERE staff = $1 AND seq IN (\
     SELECT i.seq FROM inbox i JOIN events e ON e.id = i.event \
     WHERE i.staff = $1 AND i.seq <= $2 AND e.at < $3 ORDER BY i.seq LIMIT $4)";
/// The floor is just below the oldest entry kept (or the top, if none is).
pub(super) const PRUNE_FLOOR: &str = "UPDATE streams SET pruned_through = COALESCE(\
     (SELECT MIN(seq) - 1 FROM inbox WHERE inbox.staff = streams.staff), last_seq) \
     WHERE staff = $1";
/// The next window of event ids after $1, never above the watermark: its
/// top id and oldest time.
pub(super) const PRUNE_EVENTS_WINDOW: &str = "SELECT MAX(id), MIN(at) FROM (\
     SELECT id, at FROM events WHERE id > $1 \
     AND id <= (SELECT value FROM meta WHERE key = 'inbox_through') \
     ORDER BY id LIMIT $2) AS w";
/// The old events of one window that no stream refers to any more.
pub(super) const PRUNE_EVENTS: &str = "DELETE FROM events WHERE id > $1 AND id <= $2 AND at < $3 \
     AND NOT EXISTS (SELECT 1 FROM inbox WHERE inbox.event = events.id)";
/// The newest `at` among the next chunk of command answers older than $1.
pub(super) const PRUNE_COMMANDS_WINDOW: &str =
    "SELECT MAX(at) FROM (SELECT at FROM commands WHERE at < $1 ORDER BY at LIMIT $2) AS w";
pub(super) const PRUNE_COMMANDS: &str = "DELETE FROM commands WHERE at <= $1";

/// Replay's rows in seq order, the tail's filtered to `staff` after `after`.
pub(super) fn replay_rows(
    rows: impl IntoIterator<Item = (Option<i64>, Millis, String, Option<String>)>,
    staff: StaffId,
    after: u64,
    limit: u32,
) -> StoreResult<Vec<StreamEvent>> {
    let mut out = Vec::new();
    for (seq, at, body, recipients) in rows {
        let seq = match (seq, recipients) {
            (Some(seq), _) => seq as u64,
            (None, Some(list)) => match super::recipients::seq_of(&list, staff)? {
                Some(seq) if seq > after => seq,
                _ => continue,
            },
            (None, None) => {
                return Err(corrupt(
                    "an event above the inbox watermark has no recipients",
                ))
            }
        };
        out.push(StreamEvent { seq, at, body });
    }
    // Sorted, whatever order the database returned the union in; an event
    // above the watermark may also have its inbox row already (a bulk
    // write under way), so the same seq can come from both parts.
    out.sort_by_key(|e| e.seq);
    out.dedup_by_key(|e| e.seq);
    out.truncate(limit as usize);
    Ok(out)
}

/// Folds the tail's recipient lists into the rows still to write and the
/// streams' last seqs.
pub(super) fn fold_tail(
    tail: Vec<(i64, Option<String>)>,
    streams: &mut Vec<(StaffId, u64, u64)>,
) -> StoreResult<Vec<(StaffId, u64, i64)>> {
    let mut rows = Vec::new();
    let mut tops: HashMap<StaffId, u64> = HashMap::new();
    for (event, list) in tail {
        let list = list.ok_or_else(|| corrupt(format!("event {event} has no recipients")))?;
        for (staff, seq) in super::recipients::decode(&list)? {
            rows.push((staff, seq, event));
            let top = tops.entry(staff).or_insert(0);
            *top = (*top).max(seq);
        }
    }
    for (staff, last, _) in streams.iter_mut() {
        if let Some(top) = tops.remove(staff) {
            *last = (*last).max(top);
        }
    }
    streams.extend(tops.into_iter().map(|(staff, top)| (staff, top, 0)));
    Ok(rows)
}

/// Implements [`Store`] for `$Store` (which has `writer: Mutex<$Conn>`,
/// `readers: $Pool`, `turn: Mutex<()>` and the hooks `direct_commit`,
/// `before_commit`, `fence`, `after_commit` and `check_fence`), plus the
/// backend-specific methods in `extra`. `begin_write` starts a write
/// transaction that holds the write lock from its first statement.
macro_rules! sql_backend {
    (store: $Store:ty, db: $Db:ty, pool: $Pool:ty, conn: $Conn:ty, row: $Row:ty, max_params: $MAX:expr, begin_write: $BEGIN_WRITE:expr, extra: { $($extra:tt)* }) => {
        const MAX_PARAMS: usize = $MAX;

fn staff_from_row(r: &$Row) -> StoreResult<Staff> {
    let skills: Vec<String> = json(r.try_get::<&str, _>("skills")?)?;
    Ok(Staff {
        id: parse_id(r.try_get::<&str, _>("id")?)?,
        login: r.try_get("login")?,
        name: r.try_get("name")?,
        role: parse_role(r.try_get::<&str, _>("role")?)?,
        skills: skills
            .iter()
            .map(|s| Skill::from_str(s).map_err(corrupt))
            .collect::<StoreResult<_>>()?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// An audit row from its first nine columns, in `audit_for`'s order.
fn audit_row(r: &$Row) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        entity: r.try_get(3)?,
        entity_id: r.try_get(4)?,
        action: r.try_get(5)?,
        from_state: r.try_get(6)?,
        to_state: r.try_get(7)?,
        detail: r.try_get(8)?,
    })
}

async fn read_roster(db: &$Pool) -> StoreResult<Roster> {
    let mut roster = Roster::default();
    for r in sqlx::query("SELECT id, name, beds FROM wards")
        .fetch_all(db)
        .await?
    {
        let id = WardId(r.try_get("id")?);
        roster.wards.insert(
            id.clone(),
            Ward {
                id,
                name: r.try_get("name")?,
                beds: json(r.try_get::<&str, _>("beds")?)?,
            },
        );
    }
    for r in sqlx::query("SELECT id, login, name, role, skills, active FROM staff")
        .fetch_all(db)
        .await?
    {
        let s = staff_from_row(&r)?;
        roster.staff.insert(s.id, s);
    }
    for r in sqlx::query("SELECT staff, role, wards, starts_at, ends_at FROM shifts")
        .fetch_all(db)
        .await?
    {
        roster.set_shift(
            parse_id(r.try_get::<&str, _>("staff")?)?,
            Some(Shift {
                role: parse_role(r.try_get::<&str, _>("role")?)?,
                wards: json(r.try_get::<&str, _>("wards")?)?,
                starts_at: r.try_get("starts_at")?,
                ends_at: r.try_get("ends_at")?,
            }),
        );
    }
    Ok(roster)
}

/// Inserts `rows` with one multi-row statement per chunk.
async fn insert_rows<'r, T>(
    tx: &mut $Conn,
    write: &RowWrite,
    rows: &'r [T],
    bind: impl Fn(sqlx::query_builder::Separated<'_, 'r, $Db, &'static str>, &'r T) + Copy,
) -> StoreResult<()> {
    for chunk in rows.chunks((MAX_PARAMS / write.columns).max(1)) {
        let mut qb: sqlx::QueryBuilder<'r, $Db> = sqlx::QueryBuilder::new(write.head);
        qb.push_values(chunk, bind);
        qb.push(write.tail);
        qb.build().execute(&mut *tx).await?;
    }
    Ok(())
}

async fn upsert_shift(conn: &mut $Conn, staff: StaffId, s: &Shift) -> StoreResult<()> {
    sqlx::query(&SHIFT_ROWS.one_row())
    .bind(staff.to_string())
    .bind(s.role.as_str())
    .bind(to_json(&s.wards))
    .bind(s.starts_at)
    .bind(s.ends_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn bump_roster(conn: &mut $Conn) -> StoreResult<()> {
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'roster_version'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl $Store {
    /// One chunk of a prune: `work` in a write transaction of its own, in
    /// turn with the group commits (a fair lock: a commit waiting when a
    /// chunk ends goes before the next chunk), fenced like a commit.
    async fn prune_chunk<F>(&self, work: F) -> StoreResult<u64>
    where
        F: for<'c> FnOnce(
            &'c mut $Conn,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = StoreResult<u64>> + Send + 'c>>,
    {
        let n = {
            let _turn = self.turn.lock().await;
            let mut conn = self.writer.lock().await;
            let mut tx = conn.begin_with($BEGIN_WRITE).await?;
            self.fence(&mut *tx).await?;
            let n = work(&mut *tx).await?;
            tx.commit().await?;
            n
        };
        tokio::task::yield_now().await;
        Ok(n)
    }
}

        #[async_trait]
        impl Store for $Store {
    async fn load(&self, closed_since: Millis, commands_since: Millis) -> StoreResult<Loaded> {
        // A hub fenced off by another's claim must stop, not reload.
        self.check_fence()?;
        let db = &self.readers;
        // Separate reader connections, so the queries run side by side.
        // Separate reader connections, so the queries run side by side, and
        // rows are decoded as they stream in rather than after the last one.
        let ((roster, patients, observations), tasks, pages, mut streams, commands, max_event_id, tail, audit_head) = tokio::try_join!(
            async {
                let roster = read_roster(db).await?;
                let patients = sqlx::query_scalar::<_, String>(LOAD_PATIENTS)
                    .fetch_all(db)
                    .await?
                    .iter()
                    .map(|d| json(d))
                    .collect::<StoreResult<Vec<_>>>()?;
                let since = crate::clock::now_ms() - wardpage_proto::CHART_WINDOW_MS;
                let observations = sqlx::query_scalar::<_, String>(LOAD_OBSERVATIONS)
                    .bind(since)
                    .fetch_all(db)
                    .await?
                    .iter()
                    .map(|d| json(d))
                    .collect::<StoreResult<Vec<_>>>()?;
                StoreResult::Ok((roster, patients, observations))
            },
            async {
                let mut rows = sqlx::query(
                    "SELECT data FROM tasks \
                     WHERE state NOT IN ('completed','cancelled') OR updated_at >= $1",
                )
                .bind(closed_since)
                .fetch(db);
                let mut tasks: Vec<Task> = Vec::new();
                while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                    tasks.push(json(r.try_get::<&str, _>(0)?)?);
                }
                StoreResult::Ok(tasks)
            },
            async {
                let mut rows =
                    sqlx::query("SELECT data FROM pages WHERE state = 'open' OR updated_at >= $1")
                        .bind(closed_since)
                        .fetch(db);
                let mut pages: Vec<Page> = Vec::new();
                while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                    pages.push(json(r.try_get::<&str, _>(0)?)?);
                }
                StoreResult::Ok(pages)
            },
            async {
                let mut rows = sqlx::query("SELECT staff, last_seq, acked_seq FROM streams").fetch(db);
                let mut streams = Vec::new();
                while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                    streams.push((
                        parse_id(r.try_get::<&str, _>(0)?)?,
                        r.try_get::<i64, _>(1)? as u64,
                        r.try_get::<i64, _>(2)? as u64,
                    ));
                }
                StoreResult::Ok(streams)
            },
            // Answers stay in the store until a repeat asks for one.
            async {
                let mut rows = // Oldest first: an id stored twice (re-sent after it was forgotten)
                // is remembered as its newest use.
                sqlx::query("SELECT id, actor, op, at, digest FROM commands WHERE at >= $1 ORDER BY at")
                    .bind(commands_since)
                    .fetch(db);
                let mut commands = Vec::new();
                while let Some(r) = futures_util::TryStreamExt::try_next(&mut rows).await? {
                    commands.push(CommandRecord {
                        id: parse_id(r.try_get::<&str, _>(0)?)?,
                        actor: parse_id(r.try_get::<&str, _>(1)?)?,
                        op: r.try_get(2)?,
                        at: r.try_get(3)?,
                        digest: r.try_get(4)?,
                        reply: None,
                    });
                }
                StoreResult::Ok(commands)
            },
            async {
                StoreResult::Ok(
                    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM events")
                        .fetch_one(db)
                        .await?,
                )
            },
            async {
                StoreResult::Ok(
                    sqlx::query_as::<_, (i64, Option<String>)>(INBOX_TAIL)
                        .fetch_all(db)
                        .await?,
                )
            },
            async {
                StoreResult::Ok(
                    sqlx::query_scalar::<_, Option<String>>(
                        "SELECT hash FROM audit ORDER BY id DESC LIMIT 1",
                    )
                    .fetch_optional(db)
                    .await?
                    .flatten(),
                )
            },
        )?;
        let inbox_tail = fold_tail(tail, &mut streams)?;
        Ok(Loaded {
            roster,
            tasks,
            pages,
            patients,
            observations,
            streams,
            commands,
            max_event_id,
            inbox_tail,
            audit_head,
        })
    }

    async fn command_reply(&self, id: CommandId, at: Millis) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT reply FROM commands WHERE at = $1 AND id = $2")
                .bind(at)
                .bind(id.to_string())
                .fetch_optional(&self.readers)
                .await?,
        )
    }

    async fn commit(&self, b: &Batch) -> StoreResult<()> {
        if let Some(direct) = self.direct_commit() {
            // Taking turns with the prune's chunks (see `prune`).
            let _turn = self.turn.lock().await;
            return direct.commit(b);
        }
        let mut conn = self.writer.lock().await;
        self.before_commit(&mut conn).await?;
        let mut tx = conn.begin().await?;
        // First, so a stale hub writes nothing (PostgreSQL; see `postgres.rs`).
        self.fence(&mut *tx).await?;
        let tasks: Vec<TaskRow> = b
            .tasks
            .iter()
            .map(|t| TaskRow {
                id: t.view.id.to_string(),
                state: t.view.state.as_str(),
                ward: t.view.ward.0.clone(),
                updated_at: t.view.updated_at,
                next_escalation_at: t.view.next_escalation_at,
                data: to_json(t),
            })
            .collect();
        insert_rows(
            &mut tx,
            &TASK_ROWS,
            &tasks,
            |mut q, t| {
                q.push_bind(&t.id)
                    .push_bind(t.state)
                    .push_bind(&t.ward)
                    .push_bind(t.updated_at)
                    .push_bind(t.next_escalation_at)
                    .push_bind(&t.data);
            },
        )
        .await?;
        let pages: Vec<(String, &'static str, Millis, Option<Millis>, String)> = b
            .pages
            .iter()
            .map(|p| {
                (
                    p.view.id.to_string(),
                    p.view.state.as_str(),
                    page_updated_at(p),
                    p.view.next_escalation_at,
                    to_json(p),
                )
            })
            .collect();
        insert_rows(
            &mut tx,
            &PAGE_ROWS,
            &pages,
            |mut q, p| {
                q.push_bind(&p.0)
                    .push_bind(p.1)
                    .push_bind(p.2)
                    .push_bind(p.3)
                    .push_bind(&p.4);
            },
        )
        .await?;
        let patients: Vec<PatientRow> = b.patients.iter().map(PatientRow::of).collect();
        insert_rows(
            &mut tx,
            &PATIENT_ROWS,
            &patients,
            |mut q, p| {
                q.push_bind(&p.id)
                    .push_bind(&p.ward)
                    .push_bind(&p.bed)
                    .push_bind(p.discharged_at)
                    .push_bind(p.updated_at)
                    .push_bind(p.next_check_at)
                    .push_bind(&p.data);
            },
        )
        .await?;
        let observations: Vec<(String, String, Millis, Millis, String)> = b
            .observations
            .iter()
            .map(|o| {
                (
                    o.id.to_string(),
                    o.patient.to_string(),
                    o.set.taken_at,
                    o.recorded_at,
                    to_json(&**o),
                )
            })
            .collect();
        insert_rows(
            &mut tx,
            &OBSERVATION_ROWS,
            &observations,
            |mut q, o| {
                q.push_bind(&o.0)
                    .push_bind(&o.1)
                    .push_bind(o.2)
                    .push_bind(o.3)
                    .push_bind(&o.4);
            },
        )
        .await?;
        for (staff, shift) in &b.shifts {
            match shift {
                Some(s) => upsert_shift(&mut tx, *staff, s).await?,
                None => {
                    sqlx::query(END_SHIFT)
                        .bind(staff.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        insert_rows(
            &mut tx,
            &AUDIT_ROWS,
            &b.audit,
            |mut q, c| {
                let a = &c.record;
                q.push_bind(a.at)
                    .push_bind(a.actor.map(|x| x.to_string()))
                    .push_bind(a.entity)
                    .push_bind(&a.entity_id)
                    .push_bind(a.action)
                    .push_bind(&a.from_state)
                    .push_bind(&a.to_state)
                    .push_bind(&a.detail)
                    .push_bind(&c.hash);
            },
        )
        .await?;
        insert_rows(
            &mut tx,
            &EVENT_ROWS,
            &b.events,
            |mut q, e| {
                q.push_bind(e.id)
                    .push_bind(e.at)
                    .push_bind(&*e.body)
                    .push_bind(&e.recipients);
            },
        )
        .await?;
        let inbox: Vec<(String, i64, i64)> = b
            .inbox
            .iter()
            .map(|(s, seq, ev)| (s.to_string(), *seq as i64, *ev))
            .collect();
        insert_rows(
            &mut tx,
            &INBOX_ROWS,
            &inbox,
            |mut q, i| {
                q.push_bind(&i.0).push_bind(i.1).push_bind(i.2);
            },
        )
        .await?;
        let streams: Vec<(String, i64)> = b
            .streams
            .iter()
            .map(|(s, seq)| (s.to_string(), *seq as i64))
            .collect();
        insert_rows(
            &mut tx,
            &STREAM_ROWS,
            &streams,
            |mut q, s| {
                q.push_bind(&s.0).push_bind(s.1);
            },
        )
        .await?;
        if let Some(through) = b.inbox_through {
            sqlx::query(SET_INBOX_THROUGH)
                .bind(through)
                .execute(&mut *tx)
                .await?;
        }
        for (staff, seq) in &b.acks {
            sqlx::query(STORE_ACK)
                .bind(staff.to_string())
                .bind(*seq as i64)
                .execute(&mut *tx)
                .await?;
        }
        let commands: Vec<(String, String, &str, Millis, &str, &str)> = b
            .commands
            .iter()
            .map(|c| {
                (
                    c.id.to_string(),
                    c.actor.to_string(),
                    c.op.as_str(),
                    c.at,
                    c.reply.as_deref().unwrap_or_default(),
                    c.digest.as_str(),
                )
            })
            .collect();
        insert_rows(
            &mut tx,
            &COMMAND_ROWS,
            &commands,
            |mut q, c| {
                q.push_bind(&c.0)
                    .push_bind(&c.1)
                    .push_bind(c.2)
                    .push_bind(c.3)
                    .push_bind(c.4)
                    .push_bind(c.5);
            },
        )
        .await?;
        tx.commit().await?;
        self.after_commit();
        Ok(())
    }

    async fn replay(
        &self,
        staff: StaffId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StreamEvent>> {
        let rows = sqlx::query_as::<_, (Option<i64>, Millis, String, Option<String>)>(REPLAY)
            .bind(staff.to_string())
            .bind(after as i64)
            .bind(limit as i64)
            .bind(super::recipients::like_pattern(staff))
            .fetch_all(&self.readers)
            .await?;
        replay_rows(rows, staff, after, limit)
    }


    async fn prune(&self, events_before: Millis, commands_before: Millis) -> StoreResult<u64> {
        // In chunks of at most `PRUNE_CHUNK` rows, each its own short
        // transaction taken in turn with the group commits, so that no
        // commit ever waits behind more than one chunk.
        let streams: Vec<(String, i64)> = sqlx::query_as(PRUNABLE_STREAMS)
            .fetch_all(&self.readers)
            .await?;
        let mut gone = 0;
        for (staff, acked) in &streams {
            loop {
                let (staff, acked) = (staff.clone(), *acked);
                let n = self
                    .prune_chunk(move |tx| {
                        Box::pin(async move {
                            let n = sqlx::query(PRUNE_INBOX)
                                .bind(&staff)
                                .bind(acked)
                                .bind(events_before)
                                .bind(PRUNE_CHUNK)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                            if n > 0 {
                                sqlx::query(PRUNE_FLOOR).bind(&staff).execute(&mut *tx).await?;
                            }
                            Ok(n)
                        })
                    })
                    .await?;
                gone += n;
                if n < PRUNE_CHUNK as u64 {
                    break;
                }
            }
        }
        // Events in id windows up to the watermark, until a window holds
        // nothing old enough (events come in time order, near enough).
        let mut after = 0_i64;
        loop {
            let (top, oldest): (Option<i64>, Option<Millis>) = sqlx::query_as(PRUNE_EVENTS_WINDOW)
                .bind(after)
                .bind(PRUNE_CHUNK)
                .fetch_one(&self.readers)
                .await?;
            let Some(top) = top else { break };
            if oldest.is_none_or(|at| at >= events_before) {
                break;
            }
            self.prune_chunk(move |tx| {
                Box::pin(async move {
                    Ok(sqlx::query(PRUNE_EVENTS)
                        .bind(after)
                        .bind(top)
                        .bind(events_before)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected())
                })
            })
            .await?;
            after = top;
        }
        loop {
            let top: Option<Millis> = sqlx::query_scalar(PRUNE_COMMANDS_WINDOW)
                .bind(commands_before)
                .bind(PRUNE_CHUNK)
                .fetch_one(&self.readers)
                .await?;
            let Some(top) = top else { break };
            self.prune_chunk(move |tx| {
                Box::pin(async move {
                    Ok(sqlx::query(PRUNE_COMMANDS)
                        .bind(top)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected())
                })
            })
            .await?;
        }
        Ok(gone)
    }

    async fn stream_floor(&self, staff: StaffId) -> StoreResult<u64> {
        let floor: Option<i64> =
            sqlx::query_scalar("SELECT pruned_through FROM streams WHERE staff = $1")
                .bind(staff.to_string())
                .fetch_optional(&self.readers)
                .await?;
        Ok(floor.unwrap_or(0).max(0) as u64)
    }

    async fn load_roster(&self) -> StoreResult<Roster> {
        read_roster(&self.readers).await
    }

    async fn roster_version(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'roster_version'")
                .fetch_one(&self.readers)
                .await?,
        )
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT id, password_hash, active FROM staff WHERE login = $1")
            .bind(login)
            .fetch_optional(&self.readers)
            .await?;
        row.map(|r| {
            Ok(Account {
                id: parse_id(r.try_get::<&str, _>(0)?)?,
                password_hash: r.try_get(1)?,
                active: r.try_get::<i64, _>(2)? != 0,
            })
        })
        .transpose()
    }

    async fn create_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        now: Millis,
        expires: Millis,
    ) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(staff.to_string())
        .bind(now)
        .bind(expires)
        .execute(&mut *conn)
        .await?;
        // Expired sessions are of no use to anyone; sweep them as we go.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: Millis) -> StoreResult<Option<StaffId>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT staff FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.readers)
        .await?;
        id.map(|s| parse_id(&s)).transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn live_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<(StaffId, Millis)>> {
        let row = sqlx::query(
            "SELECT s.staff, s.expires_at FROM sessions s JOIN staff a ON a.id = s.staff \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.active <> 0",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| Ok((parse_id(r.try_get::<&str, _>(0)?)?, r.try_get(1)?)))
            .transpose()
    }

    async fn revoke_sessions(&self, login: &str) -> StoreResult<Option<u64>> {
        let mut conn = self.writer.lock().await;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM staff WHERE login = $1")
            .bind(login)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let done = sqlx::query("DELETE FROM sessions WHERE staff = $1")
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        // A running hub watches this version and re-checks open sockets.
        bump_roster(&mut conn).await?;
        Ok(Some(done.rows_affected()))
    }

    async fn set_active(&self, login: &str, active: bool) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("UPDATE staff SET active = $1 WHERE login = $2")
            .bind(active as i64)
            .bind(login)
            .execute(&mut *conn)
            .await?;
        bump_roster(&mut conn).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn upsert_staff(&self, s: &Staff, password_hash: Option<&str>) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        let skills: Vec<&str> = s.skills.iter().map(|k| k.as_str()).collect();
        sqlx::query(UPSERT_STAFF)
        .bind(s.id.to_string())
        .bind(&s.login)
        .bind(&s.name)
        .bind(s.role.as_str())
        .bind(to_json(&skills))
        .bind(password_hash)
        .bind(s.active as i64)
        .bind(crate::clock::now_ms())
        .execute(&mut *conn)
        .await?;
        bump_roster(&mut conn).await
    }

    async fn upsert_ward(&self, w: &Ward) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(UPSERT_WARD)
        .bind(&w.id.0)
        .bind(&w.name)
        .bind(to_json(&w.beds))
        .execute(&mut *conn)
        .await?;
        bump_roster(&mut conn).await
    }

    async fn put_shift(&self, staff: StaffId, s: &Shift) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        upsert_shift(&mut conn, staff, s).await?;
        bump_roster(&mut conn).await
    }

    async fn import_roster(&self, import: &RosterImport<'_>) -> StoreResult<Vec<StaffId>> {
        let mut conn = self.writer.lock().await;
        let mut tx = conn.begin_with($BEGIN_WRITE).await?;
        for w in &import.wards {
            sqlx::query(UPSERT_WARD)
                .bind(&w.id.0)
                .bind(&w.name)
                .bind(to_json(&w.beds))
                .execute(&mut *tx)
                .await?;
        }
        let mut ids = Vec::with_capacity(import.staff.len());
        for (s, shift) in &import.staff {
            let skills: Vec<&str> = s.skills.iter().map(|k| k.as_str()).collect();
            // An existing login keeps its id: its shift must go to that id.
            let id: String = sqlx::query_scalar(&format!("{UPSERT_STAFF} RETURNING id"))
                .bind(s.id.to_string())
                .bind(&s.login)
                .bind(&s.name)
                .bind(s.role.as_str())
                .bind(to_json(&skills))
                .bind(import.password_hash)
                .bind(s.active as i64)
                .bind(crate::clock::now_ms())
                .fetch_one(&mut *tx)
                .await?;
            let id: StaffId = parse_id(&id)?;
            if let Some(shift) = shift {
                upsert_shift(&mut tx, id, shift).await?;
            }
            ids.push(id);
        }
        // Once, last: a hub reloads when it changes, and then sees it all.
        bump_roster(&mut tx).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<Staff>> {
        let row =
            sqlx::query("SELECT id, login, name, role, skills, active FROM staff WHERE login = $1")
                .bind(login)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|r| staff_from_row(&r)).transpose()
    }

    async fn set_password(&self, login: &str, password_hash: &str) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE login = $2")
            .bind(password_hash)
            .bind(login)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_staff(&self) -> StoreResult<Vec<Staff>> {
        sqlx::query("SELECT id, login, name, role, skills, active FROM staff ORDER BY login")
            .fetch_all(&self.readers)
            .await?
            .iter()
            .map(staff_from_row)
            .collect()
    }

    async fn audit_for(&self, entity_id: &str) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_id, action, from_state, to_state, detail \
             FROM audit WHERE entity_id = $1 ORDER BY id",
        )
        .bind(entity_id)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(audit_row).collect()
    }

    async fn audit_page(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(AuditRow, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_id, action, from_state, to_state, detail, hash \
             FROM audit WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| Ok((audit_row(r)?, r.try_get(9)?)))
            .collect()
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

            $($extra)*
        }
    };
}

pub(super) use sql_backend;
