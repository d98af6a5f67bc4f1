//! SQLite group commits in one synchronous call.
//!
//! Through sqlx a commit was a message to the connection's thread per
//! statement, with every bound value copied into owned arguments and every
//! multi-row statement (a different text for each batch size) prepared
//! afresh. Here the commit thread runs the whole transaction itself on a
//! connection of its own, with statements prepared once and cached: the
//! shared walk (`sql::batch`) drives a rusqlite transaction, one row at a
//! time.
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

use super::sql::batch::{write_batch, BatchWriter, Value};
use super::sql::statements::RowWrite;
use super::{Batch, StoreError, StoreResult};
use futures_util::FutureExt;
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params_from_iter, Connection, Transaction};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct DirectCommit {
    conn: Mutex<Connection>,
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
            checkpoint_tail(&conn);
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // The walk is async for sqlx's sake; every step here completes at
        // once (rusqlite blocks), so it finishes on its first poll.
        write_batch(&mut Writer { tx: &tx }, b)
            .now_or_never()
            .unwrap_or_else(|| {
                Err(StoreError::backend(
                    "database",
                    std::io::Error::other("a SQLite commit step did not complete at once"),
                ))
            })?;
        tx.commit()?;
        Ok(())
    }
}

/// Copies only what the background pass left; a failure here is not this
/// batch's, and the next background pass asks again.
fn checkpoint_tail(conn: &Connection) {
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

/// A group commit's rusqlite transaction.
struct Writer<'t> {
    tx: &'t Transaction<'t>,
}

impl BatchWriter for Writer<'_> {
    /// Rows go one at a time, so this only sizes the walk's chunks (SQLite
    /// allows 32,766 bound parameters per statement).
    const MAX_PARAMS: usize = 30_000;

    /// The claim is a lock on a file that the kernel holds for this
    /// process for as long as it lives: there is nothing to fence.
    async fn fence(&mut self) -> StoreResult<()> {
        Ok(())
    }

    async fn rows(&mut self, write: &RowWrite, values: &[Value<'_>]) -> StoreResult<()> {
        // Cached by its text: prepared once per connection.
        let mut st = self.tx.prepare_cached(&write.one_row())?;
        for row in values.chunks(write.columns) {
            st.execute(params_from_iter(row))?;
        }
        Ok(())
    }

    async fn statement(&mut self, sql: &'static str, values: &[Value<'_>]) -> StoreResult<()> {
        self.tx
            .prepare_cached(sql)?
            .execute(params_from_iter(values))?;
        Ok(())
    }
}

impl ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Int(Some(i)) => ToSqlOutput::Owned(rusqlite::types::Value::Integer(*i)),
            Value::Text(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Value::Int(None) | Value::Text(None) => {
                ToSqlOutput::Owned(rusqlite::types::Value::Null)
            }
        })
    }
}
