//! The SQLite backend: one file, WAL, `synchronous=FULL`, migrations
//! embedded in the binary. Group commits go through a connection of their
//! own without sqlx (`sqlite_commit`); other writes (sessions, accounts,
//! pruning) through a single sqlx connection; reads through a small pool. The
//! SQL it shares with PostgreSQL lives in `sql`.

use super::sql::statements::RAISE_CLAIM_EPOCH;
use super::sql::{Backend, SqlStore};
use super::*;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection};
use std::path::Path;
use std::time::Duration;
use tokio::sync::Mutex;

/// The hub's store on a SQLite file.
pub type SqliteStore = SqlStore<SqliteSide>;

/// What SQLite adds to the shared SQL store.
pub struct SqliteSide {
    path: std::path::PathBuf,
    /// Group commits, on a connection of their own (see `sqlite_commit`).
    direct: super::sqlite_commit::DirectCommit,
    /// Stops the checkpointer when the store goes.
    _checkpointer: AbortOnDrop,
}

/// How the WAL is kept in check (see `sqlite_commit` for the two-part
/// checkpoint). `Default` is what the hub runs with; tests shrink it.
#[derive(Debug, Clone, Copy)]
pub struct WalTuning {
    /// Each background pass ends by flushing the database file, and every
    /// WAL flush issued meanwhile waits behind that write: at 5,000
    /// raises/s a pass every 100 ms flushed a few megabytes at a time and
    /// slowed the commits of the next 20-30 ms to several milliseconds.
    /// So passes are paced to copy about this many frames each (at 5,000
    /// raises/s, one every 5 ms)...
    pub pass_frames: u32,
    /// ...but come no closer together than this...
    pub busy_gap: Duration,
    /// ...nor further apart than this, which is also the pause after a pass
    /// that found nothing new.
    pub idle_gap: Duration,
    /// The first pass waits this long: at start the hub is loading its
    /// state (under a second for 100,000 open tasks), and a checkpoint of
    /// the WAL a crash left behind would compete with it. Not longer: until
    /// the first pass the WAL cannot restart, and at 5,000 raises/s it grows
    /// by about 170 MB a second.
    pub first_checkpoint_after: Duration,
    /// Once a pass finds this many frames in the WAL, the commit thread is
    /// asked to copy the tail so that the WAL starts afresh.
    pub restart_at_frames: i64,
    /// The WAL file is cut back to this many bytes when it restarts, so one
    /// burst does not leave a huge file behind for ever.
    pub size_limit: i64,
}

impl Default for WalTuning {
    fn default() -> Self {
        WalTuning {
            pass_frames: 128,
            busy_gap: Duration::from_millis(5),
            idle_gap: Duration::from_millis(100),
            first_checkpoint_after: Duration::from_secs(1),
            // 4 KiB pages: 128 MiB. Each restart costs the next commit a
            // tail checkpoint; fewer of them kept the 5,000/s p99 lower.
            restart_at_frames: 32_768,
            size_limit: 256 * 1024 * 1024,
        }
    }
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The hub's claim on a SQLite database: an exclusive lock on a file
/// beside it, which the kernel drops with the process, however it ends.
/// Held, never read: the lock lasts as long as the open file.
struct FileLock {
    _file: std::fs::File,
}

#[async_trait]
impl ClaimHold for FileLock {
    async fn alive(&mut self) -> bool {
        // Nothing but this process's end (or `release`) lets go of a flock.
        true
    }

    async fn release(self: Box<Self>) {
        drop(self);
    }
}

impl SqlStore<SqliteSide> {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, WalTuning::default()).await
    }

    pub async fn open_with(path: &Path, tuning: WalTuning) -> StoreResult<Self> {
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
        let direct = super::sqlite_commit::DirectCommit::open(path, tuning.size_limit)?;
        let tail = direct.checkpoint_tail();
        let readers = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.clone().read_only(true))
            .await?;
        let checkpointer = SqliteConnection::connect_with(&opts).await?;
        // fsync works on a read-only descriptor: it flushes the file, not
        // the descriptor. Without it the hub still works, with longer
        // tail checkpoints.
        let db_file = match std::fs::File::open(path) {
            Ok(f) => Some(std::sync::Arc::new(f)),
            Err(e) => {
                tracing::warn!(error = %e, "cannot open the database file for flushing");
                None
            }
        };
        let task = tokio::spawn(checkpoints(checkpointer, db_file, tail, tuning));
        Ok(SqlStore {
            writer: Mutex::new(writer),
            readers,
            turn: Mutex::new(()),
            side: SqliteSide {
                path: path.to_owned(),
                direct,
                _checkpointer: AbortOnDrop(task.abort_handle()),
            },
        })
    }
}

/// The background checkpointer: PASSIVE passes paced by how fast the WAL
/// grows (see [`WalTuning`]), each flushing the database file, and a
/// request for the commit thread to copy the tail once the WAL is long.
async fn checkpoints(
    mut checkpointer: SqliteConnection,
    db_file: Option<std::sync::Arc<std::fs::File>>,
    tail: super::sqlite_commit::CheckpointTail,
    tuning: WalTuning,
) {
    tokio::time::sleep(tuning.first_checkpoint_after).await;
    let mut flushed_through = None;
    let mut gap = Duration::ZERO;
    let mut last_pass = std::time::Instant::now();
    let mut last_done = 0;
    loop {
        tokio::time::sleep(gap).await;
        gap = tuning.idle_gap;
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
                // (Only when this pass copied something: an idle
                // hub does not flush the file at every pass.)
                let copied = flushed_through != Some((log, done));
                flushed_through = Some((log, done));
                // Frames copied since the last pass (the WAL may
                // have started afresh in between).
                let frames = if done >= last_done {
                    done - last_done
                } else {
                    done
                };
                if copied && frames > 0 {
                    let per_frame = last_pass.elapsed() / u32::try_from(frames).unwrap_or(u32::MAX);
                    gap = per_frame
                        .saturating_mul(tuning.pass_frames)
                        .clamp(tuning.busy_gap, tuning.idle_gap);
                }
                last_done = done;
                last_pass = started;
                if let Some(file) = db_file.clone().filter(|_| copied) {
                    let synced = tokio::task::spawn_blocking(move || file.sync_data()).await;
                    if let Ok(Err(e)) = synced {
                        tracing::warn!(error = %e, "flushing the database file failed");
                    }
                }
                // The frames committed meanwhile are the commit
                // thread's to copy (see `sqlite_commit`).
                if log >= tuning.restart_at_frames {
                    tail.request();
                }
            }
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; will retry"),
        }
    }
}

/// What [`backup`] wrote.
#[derive(Debug)]
pub struct BackupSummary {
    pub bytes: u64,
    pub audit_rows: i64,
    /// The newest audit row's hash in the copy (see `audit_chain`).
    pub audit_head: Option<String>,
}

/// Copies the database at `db` into the new file `to` as one consistent
/// snapshot, while a hub may be running on it: `VACUUM INTO` on a read-only
/// connection is a read transaction, which holds up no writer. The copy is
/// a single file (no WAL beside it), checked with `PRAGMA integrity_check`.
pub async fn backup(db: &Path, to: &Path) -> StoreResult<BackupSummary> {
    if !db.is_file() {
        return Err(StoreError::Backup(format!(
            "there is no database at {} (name it with --db or --config)",
            db.display()
        )));
    }
    if to.exists() {
        return Err(StoreError::Backup(format!(
            "{} already exists; name a new file",
            to.display()
        )));
    }
    let target = to
        .to_str()
        .ok_or_else(|| StoreError::Backup(format!("{} is not valid UTF-8", to.display())))?;
    let source = SqliteConnectOptions::new()
        .filename(db)
        .read_only(true)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = SqliteConnection::connect_with(&source).await?;
    sqlx::query("VACUUM INTO ?1")
        .bind(target)
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let copy = SqliteConnectOptions::new().filename(to).read_only(true);
    let mut conn = SqliteConnection::connect_with(&copy).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(StoreError::Backup(format!(
            "the copy failed its integrity check: {check}"
        )));
    }
    let (audit_rows, audit_head): (i64, Option<String>) = sqlx::query_as(
        "SELECT COUNT(*), (SELECT hash FROM audit ORDER BY id DESC LIMIT 1) FROM audit",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    Ok(BackupSummary {
        bytes: std::fs::metadata(to)?.len(),
        audit_rows,
        audit_head,
    })
}

#[async_trait]
impl Backend for SqliteSide {
    type Db = Sqlite;
    // Takes the write lock at once: a deferred transaction that reads
    // first could fail to upgrade rather than wait.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    // The claim is a lock on a file that the kernel holds for this process
    // for as long as it lives: there is nothing to fence.
    fn check_fence(&self) -> StoreResult<()> {
        Ok(())
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn fence(&self, _tx: &mut SqliteConnection) -> StoreResult<()> {
        Ok(())
    }

    async fn commit(store: &SqliteStore, batch: &Batch) -> StoreResult<()> {
        // Taking turns with the prune's chunks (see `prune`).
        let _turn = store.turn.lock().await;
        store.side.direct.commit(batch)
    }

    async fn claim_hub(store: &SqliteStore) -> StoreResult<HubClaim> {
        // A file of its own: SQLite's locks on the database are POSIX
        // record locks, which `flock` may be emulated with (NFS).
        let mut name = store.side.path.clone().into_os_string();
        name.push(".hub-lock");
        let path = std::path::PathBuf::from(name);
        let shown = path.display().to_string();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::LockFile(shown.clone(), e))?;
        match file.try_lock() {
            Ok(()) => {
                // Counted as on PostgreSQL (where commits are fenced by it).
                let mut conn = store.writer.lock().await;
                sqlx::query(RAISE_CLAIM_EPOCH)
                    .bind(crate::clock::now_ms())
                    .execute(&mut *conn)
                    .await?;
                Ok(HubClaim::new(FileLock { _file: file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                Err(StoreError::Claimed(format!("a lock on {shown}")))
            }
            Err(std::fs::TryLockError::Error(e)) => Err(StoreError::LockFile(shown, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL header's checkpoint sequence number: SQLite bumps it each
    /// time the WAL starts afresh from its beginning.
    fn wal_restarts(db: &Path) -> u32 {
        let wal = std::fs::read(db.with_extension("db-wal")).expect("the WAL exists");
        u32::from_be_bytes([wal[12], wal[13], wal[14], wal[15]])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_afresh_under_steady_writes_and_nothing_is_lost() {
        let dir = std::env::temp_dir().join(format!("wardpage-wal-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("w.db");
        let tuning = WalTuning {
            pass_frames: 16,
            busy_gap: Duration::from_millis(10),
            idle_gap: Duration::from_millis(10),
            first_checkpoint_after: Duration::from_millis(10),
            restart_at_frames: 64,
            size_limit: 1024 * 1024,
        };
        let store = SqliteStore::open_with(&db, tuning).await.expect("open");
        let body: Arc<str> = Arc::from("x".repeat(3000));
        let first = wal_restarts(&db);
        // Commits back to back, never pausing for the background pass to
        // catch up: on its own it would never reach the end of the WAL.
        let n = 3000;
        for id in 1..=n {
            let batch = Batch {
                events: vec![EventRow {
                    id,
                    at: id,
                    body: body.clone(),
                    recipients: Vec::new(),
                }],
                ..Default::default()
            };
            store.commit(&batch).await.expect("commit");
        }
        let restarts = wal_restarts(&db).wrapping_sub(first);
        assert!(
            restarts >= 3,
            "the WAL restarted {restarts} times while about {n} frames were written"
        );
        let wal_bytes = std::fs::metadata(db.with_extension("db-wal"))
            .expect("WAL")
            .len();
        // 3,000 frames of 4 KiB would be 12 MiB; restarts and the size
        // limit keep the file to a fraction of that.
        assert!(wal_bytes < 6 * 1024 * 1024, "WAL is {wal_bytes} bytes");
        let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM events")
            .fetch_one(&store.readers)
            .await
            .expect("count");
        assert_eq!(count, n);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
