//! SQLite group commits in one synchronous call.
//!
//! Through sqlx a commit was a message to the connection's thread per
//! statement, with every bound value copied into owned arguments and every
//! multi-row statement (a different text for each batch size) prepared
//! afresh. Here the commit thread runs the whole transaction itself on a
//! connection of its own, with statements prepared once and cached. The
//! statements are the shared commit's (`sql.rs`), one row at a time.
//!
//! Checkpoints are split in two so that the WAL both stays small and never
//! makes a commit wait long. A background connection copies the bulk of
//! the WAL into the database file (PASSIVE: it never blocks this one). But
//! SQLite restarts the WAL from its beginning only once every frame is
//! copied, and under steady load frames keep arriving while the background
//! pass runs, so on its own the WAL would grow without end (2 GB in 10 s
//! at full load). So when a background pass ends it asks this connection,
//! the only writer, to copy the few frames committed meanwhile before its
//! next commit; that commit then starts the WAL afresh.

use super::sql::{
    page_updated_at, to_json, PatientRow, AUDIT_ROWS, COMMAND_ROWS, END_SHIFT, EVENT_ROWS,
    INBOX_ROWS, OBSERVATION_ROWS, PAGE_ROWS, PATIENT_ROWS, SET_INBOX_THROUGH, SHIFT_ROWS,
    STORE_ACK, STREAM_ROWS, TASK_ROWS,
};
use super::{Batch, StoreResult};
use rusqlite::{params, Connection};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct DirectCommit {
    conn: Mutex<Connection>,
    sql: Statements,
    tail: CheckpointTail,
}

/// A background checkpoint pass asking the commit thread to copy the rest.
#[derive(Clone, Default)]
pub struct CheckpointTail(Arc<AtomicBool>);

impl CheckpointTail {
    pub fn request(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::AcqRel)
    }
}

/// The single-row forms of the shared group-commit statements.
struct Statements {
    task: String,
    page: String,
    shift: String,
    audit: String,
    event: String,
    inbox: String,
    stream: String,
    command: String,
    patient: String,
    observation: String,
}

impl DirectCommit {
    /// Opens the commit connection on a database whose schema is current.
    pub fn open(path: &Path, wal_size_limit: i64) -> StoreResult<DirectCommit> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Checkpoints run on a connection of their own (see `sqlite.rs`).
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "cache_size", -32000)?;
        conn.pragma_update(None, "journal_size_limit", wal_size_limit)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(DirectCommit {
            conn: Mutex::new(conn),
            sql: Statements {
                task: TASK_ROWS.one_row(),
                page: PAGE_ROWS.one_row(),
                shift: SHIFT_ROWS.one_row(),
                patient: PATIENT_ROWS.one_row(),
                observation: OBSERVATION_ROWS.one_row(),
                audit: AUDIT_ROWS.one_row(),
                event: EVENT_ROWS.one_row(),
                inbox: INBOX_ROWS.one_row(),
                stream: STREAM_ROWS.one_row(),
                command: COMMAND_ROWS.one_row(),
            },
            tail: CheckpointTail::default(),
        })
    }

    /// The handle a background checkpointer uses to ask for the tail.
    pub fn checkpoint_tail(&self) -> CheckpointTail {
        self.tail.clone()
    }

    /// Writes the batch in one transaction and waits until it is durable.
    /// Blocks: call it from the commit thread.
    pub fn commit(&self, b: &Batch) -> StoreResult<()> {
        // A poisoned lock only means an earlier commit panicked mid-way; its
        // transaction was rolled back when it was dropped.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        if self.tail.take() {
            // Only what the background pass left; a failure here is not
            // this batch's, and the next background pass asks again.
            let started = std::time::Instant::now();
            match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
            }) {
                Ok((log, done)) => tracing::debug!(
                    log,
                    done,
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "WAL checkpoint of the tail"
                ),
                Err(e) => tracing::warn!(error = %e, "WAL checkpoint of the tail failed"),
            }
        }
        let sql = &self.sql;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut st = tx.prepare_cached(&sql.task)?;
            for t in &b.tasks {
                st.execute(params![
                    t.view.id.to_string(),
                    t.view.state.as_str(),
                    t.view.ward.0,
                    t.view.updated_at,
                    t.view.next_escalation_at,
                    to_json(t),
                ])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.page)?;
            for p in &b.pages {
                st.execute(params![
                    p.view.id.to_string(),
                    p.view.state.as_str(),
                    page_updated_at(p),
                    p.view.next_escalation_at,
                    to_json(p),
                ])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.patient)?;
            for p in &b.patients {
                let r = PatientRow::of(p);
                st.execute(params![
                    r.id,
                    r.ward,
                    r.bed,
                    r.discharged_at,
                    r.updated_at,
                    r.next_check_at,
                    r.data
                ])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.observation)?;
            for o in &b.observations {
                st.execute(params![
                    o.id.to_string(),
                    o.patient.to_string(),
                    o.set.taken_at,
                    o.recorded_at,
                    to_json(&**o)
                ])?;
            }
        }
        for (staff, shift) in &b.shifts {
            match shift {
                Some(s) => {
                    tx.prepare_cached(&sql.shift)?.execute(params![
                        staff.to_string(),
                        s.role.as_str(),
                        to_json(&s.wards),
                        s.starts_at,
                        s.ends_at
                    ])?;
                }
                None => {
                    tx.prepare_cached(END_SHIFT)?
                        .execute(params![staff.to_string()])?;
                }
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.audit)?;
            for c in &b.audit {
                let a = &c.record;
                st.execute(params![
                    a.at,
                    a.actor.map(|x| x.to_string()),
                    a.entity,
                    a.entity_id,
                    a.action,
                    a.from_state,
                    a.to_state,
                    a.detail,
                    c.hash,
                ])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.event)?;
            for e in &b.events {
                st.execute(params![e.id, e.at, &*e.body, e.recipients])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.inbox)?;
            for (staff, seq, event) in &b.inbox {
                st.execute(params![staff.to_string(), *seq as i64, event])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.stream)?;
            for (staff, seq) in &b.streams {
                st.execute(params![staff.to_string(), *seq as i64])?;
            }
        }
        if let Some(through) = b.inbox_through {
            tx.prepare_cached(SET_INBOX_THROUGH)?
                .execute(params![through])?;
        }
        {
            let mut st = tx.prepare_cached(STORE_ACK)?;
            for (staff, seq) in &b.acks {
                st.execute(params![staff.to_string(), *seq as i64])?;
            }
        }
        {
            let mut st = tx.prepare_cached(&sql.command)?;
            for c in &b.commands {
                st.execute(params![
                    c.id.to_string(),
                    c.actor.to_string(),
                    c.op,
                    c.at,
                    c.reply.as_deref().unwrap_or_default(),
                    c.digest,
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
