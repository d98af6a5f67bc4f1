//! The SQLite backend: one file, WAL, `synchronous=FULL`, migrations
//! embedded in the binary. Group commits go through a connection of their
//! own without sqlx (`sqlite_commit`); other writes (sessions, accounts,
//! pruning) through a single sqlx connection; reads through a small pool. The
//! SQL it shares with PostgreSQL lives in `sql`.

use super::sql::*;
use super::*;
use crate::domain::{Roster, Shift, Staff, Ward};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection, Row, Sqlite, SqliteConnection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::Mutex;
use wardpage_proto::{Skill, WardId};

pub struct SqliteStore {
    writer: Mutex<SqliteConnection>,
    /// Group commits, on a connection of their own (see `sqlite_commit`).
    direct: super::sqlite_commit::DirectCommit,
    readers: SqlitePool,
    /// Stops the checkpointer when the store goes.
    _checkpointer: AbortOnDrop,
}

/// How often the WAL is copied back into the database file: often, so each
/// pass is short and so is the tail it leaves the commit thread.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// Once the WAL holds this many frames (4 KiB pages: 128 MiB), the commit
/// thread is asked to copy the tail so that the WAL starts afresh.
const RESTART_WAL_AT_FRAMES: i64 = 32768;
/// The WAL file is cut back to this size when it restarts, so one burst
/// does not leave a huge file behind for ever.
const WAL_SIZE_LIMIT: i64 = 256 * 1024 * 1024;

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    fn direct_commit(&self) -> Option<&super::sqlite_commit::DirectCommit> {
        Some(&self.direct)
    }

    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32000");
        // SQLite would otherwise checkpoint inside whichever commit crosses
        // the threshold, making that group commit wait; a connection of its
        // own does it in the background instead (PASSIVE: never blocks the
        // writer or readers).
        let mut writer =
            SqliteConnection::connect_with(&opts.clone().pragma("wal_autocheckpoint", "0")).await?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&mut writer)
            .await?;
        let direct = super::sqlite_commit::DirectCommit::open(path, WAL_SIZE_LIMIT)?;
        let tail = direct.checkpoint_tail();
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.clone().read_only(true))
            .await?;
        let mut checkpointer = SqliteConnection::connect_with(&opts).await?;
        // fsync works on a read-only descriptor: it flushes the file, not
        // the descriptor.
        let db_file = std::fs::File::open(path).ok().map(std::sync::Arc::new);
        let task = tokio::spawn(async move {
            // Not at once: at start the hub is loading its state, and a
            // checkpoint of the WAL a crash left behind would compete with it.
            let mut every = tokio::time::interval_at(
                tokio::time::Instant::now() + Duration::from_secs(5),
                CHECKPOINT_EVERY,
            );
            loop {
                every.tick().await;
                let started = std::time::Instant::now();
                match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                    .fetch_one(&mut checkpointer)
                    .await
                {
                    Ok((_, log, done)) => {
                        tracing::debug!(
                            log,
                            done,
                            ms = started.elapsed().as_secs_f64() * 1000.0,
                            "WAL checkpoint"
                        );
                        // Under load a pass never reaches the end of the
                        // WAL, and SQLite then leaves the database file
                        // unsynced: the whole backlog would be flushed by
                        // the commit thread's tail checkpoint, inside a
                        // commit. Flushing it here keeps that tail short.
                        if let Some(file) = db_file.clone() {
                            let synced =
                                tokio::task::spawn_blocking(move || file.sync_data()).await;
                            if let Ok(Err(e)) = synced {
                                tracing::warn!(error = %e, "flushing the database file failed");
                            }
                        }
                        // The frames committed meanwhile are the commit
                        // thread's to copy (see `sqlite_commit`).
                        if log >= RESTART_WAL_AT_FRAMES {
                            tail.request();
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
                }
            }
        });
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            direct,
            readers,
            _checkpointer: AbortOnDrop(task.abort_handle()),
        })
    }
}

sql_backend! {
    store: SqliteStore, db: Sqlite, pool: SqlitePool, conn: SqliteConnection, row: SqliteRow,
    // SQLite allows 32,766 bound parameters per statement.
    max_params: 30_000,
    extra: {
    async fn due_escalations(
        &self,
        now: Millis,
        limit: u32,
    ) -> StoreResult<Vec<(Millis, Subject)>> {
        // One writer per SQLite file, so reading the due rows is the claim.
        let rows = sqlx::query(
            "SELECT next_escalation_at, 't', id FROM tasks WHERE next_escalation_at <= ?1 \
             UNION ALL SELECT next_escalation_at, 'p', id FROM pages WHERE next_escalation_at <= ?1 \
             ORDER BY 1 LIMIT ?2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| {
                let at: Millis = r.try_get(0)?;
                let kind: &str = r.try_get(1)?;
                let id: &str = r.try_get(2)?;
                Ok((
                    at,
                    if kind == "t" {
                        Subject::Task(parse_id(id)?)
                    } else {
                        Subject::Page(parse_id(id)?)
                    },
                ))
            })
            .collect()
    }
    }
}
