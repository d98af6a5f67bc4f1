//! The PostgreSQL backend, for trusts that outgrow one SQLite file: the same
//! schema and semantics as `sqlite` (the SQL lives in `sql`), migrations of
//! its own. One connection carries the writer's group commits (one at a
//! time); a pool serves reads. Selected by a `postgres://` database URL.
//!
//! The hub's claim is an advisory lock on a connection of its own, while
//! commits go over another: a cut claim connection lets a second hub claim
//! the database while the first still commits. So the claim is fenced:
//! claiming raises `hub_claim.epoch` (while holding the lock), and every
//! group commit reads the epoch `FOR SHARE` as its first statement. A
//! commit that finds it raised fails with [`StoreError::Fenced`] and
//! writes nothing; one that read it first holds up the new claim until it
//! has committed, so the new hub loads it.

use super::sql::*;
use super::*;
use crate::domain::{Roster, Shift, Staff, Ward};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Postgres, Row};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::Mutex;
use wardpage_proto::{Skill, WardId};

pub struct PgStore {
    writer: Mutex<PgConnection>,
    readers: PgPool,
    opts: PgConnectOptions,
    fence: Arc<Fence>,
    /// Set while a group commit runs; still set at the next one if that
    /// one failed (or was dropped), which then checks its connection.
    commit_open: AtomicBool,
    /// Pruning's chunks take turns with commits through `writer` already.
    turn: Mutex<()>,
}

/// This store's claim as its commits check it.
#[derive(Debug, Default)]
struct Fence {
    /// The epoch this store's claim raised the database's to (0: it has
    /// not claimed, and its commits are not fenced: tests and the CLI).
    epoch: AtomicI64,
    /// A commit found the epoch raised: nothing more may be committed.
    tripped: AtomicBool,
    /// The epoch that commit found.
    seen: AtomicI64,
}

impl Fence {
    fn tripped(&self) -> bool {
        self.tripped.load(Ordering::Acquire)
    }
}

/// The hub's claim on a PostgreSQL database: a session advisory lock on a
/// connection of its own, which PostgreSQL drops when that connection ends.
/// The claim also raised the epoch that every group commit checks; `fence`
/// says when a commit found it raised by another hub.
struct PgClaim {
    conn: PgConnection,
    fence: Arc<Fence>,
}

#[async_trait]
impl ClaimHold for PgClaim {
    async fn alive(&mut self) -> bool {
        !self.fence.tripped()
            && sqlx::query("SELECT 1")
                .execute(&mut self.conn)
                .await
                .is_ok()
    }

    async fn release(self: Box<Self>) {
        // Unlock before closing: a closed connection's session lock is
        // dropped only once the server's backend has exited, after `close`
        // returns, so a claim made at once could still find it held.
        let mut conn = self.conn;
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(HUB_LOCK_KEY)
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

/// The advisory lock a serving hub holds ("wardpage" in ASCII). Advisory
/// locks are per database, so hubs on other databases of the same server
/// do not meet.
const HUB_LOCK_KEY: i64 = 0x7761_7264_7061_6765;

/// Raising the epoch waits for a commit of the old hub that has read it;
/// one that does not finish in this long (a frozen hub mid-commit) makes
/// the claim fail rather than hang.
const CLAIM_LOCK_TIMEOUT: &str = "SET lock_timeout = '10s'";

impl PgStore {
    /// PostgreSQL commits through sqlx (the shared commit in `sql.rs`).
    fn direct_commit(&self) -> Option<&super::sqlite_commit::DirectCommit> {
        None
    }

    /// Connects to `url` and brings the schema up to date.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)?.application_name("wardpage");
        let mut writer = PgConnection::connect_with(&opts).await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&mut writer)
            .await?;
        let readers = PgPoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.clone())
            .await?;
        Ok(PgStore {
            writer: Mutex::new(writer),
            readers,
            opts,
            fence: Arc::default(),
            commit_open: AtomicBool::new(false),
            turn: Mutex::new(()),
        })
    }

    fn check_fence(&self) -> StoreResult<()> {
        if self.fence.tripped() {
            return Err(StoreError::Fenced {
                held: self.fence.epoch.load(Ordering::Acquire),
                now: self.fence.seen.load(Ordering::Acquire),
            });
        }
        Ok(())
    }

    /// The first statement of every group commit (and pruning chunk): the
    /// claim's epoch, locked against a new claim until this commit ends.
    async fn fence(&self, tx: &mut PgConnection) -> StoreResult<()> {
        let held = self.fence.epoch.load(Ordering::Acquire);
        if held == 0 {
            return Ok(());
        }
        self.check_fence()?;
        let now: i64 = sqlx::query_scalar("SELECT epoch FROM hub_claim WHERE id = 1 FOR SHARE")
            .fetch_one(&mut *tx)
            .await?;
        if now != held {
            self.fence.seen.store(now, Ordering::Release);
            self.fence.tripped.store(true, Ordering::Release);
            tracing::error!(
                held,
                now,
                "another hub has claimed the database: refusing to commit"
            );
            return Err(StoreError::Fenced { held, now });
        }
        Ok(())
    }

    /// A commit after a failed one first checks that its connection is
    /// still there, and opens a new one if not (a cut connection would
    /// otherwise fail every commit until the hub restarts).
    async fn before_commit(&self, conn: &mut PgConnection) -> StoreResult<()> {
        if self.commit_open.swap(true, Ordering::AcqRel) && conn.ping().await.is_err() {
            tracing::warn!("the commit connection is gone: reconnecting");
            *conn = PgConnection::connect_with(&self.opts).await?;
        }
        Ok(())
    }

    fn after_commit(&self) {
        self.commit_open.store(false, Ordering::Release);
    }
}

sql_backend! {
    store: PgStore, db: Postgres, pool: PgPool, conn: PgConnection, row: PgRow,
    // PostgreSQL allows 65,535 bound parameters per statement.
    max_params: 60_000,
    begin_write: "BEGIN",
    extra: {
    async fn claim_hub(&self) -> StoreResult<HubClaim> {
        let opts = self.opts.clone().application_name("wardpage-claim");
        let mut conn = PgConnection::connect_with(&opts).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(HUB_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            return Err(StoreError::Claimed("its advisory lock".into()));
        }
        sqlx::query(CLAIM_LOCK_TIMEOUT).execute(&mut conn).await?;
        // From here on, commits of a hub that claimed before fail.
        let epoch: i64 = sqlx::query_scalar(RAISE_CLAIM_EPOCH)
            .bind(crate::clock::now_ms())
            .fetch_one(&mut conn)
            .await?;
        self.fence.tripped.store(false, Ordering::Release);
        self.fence.epoch.store(epoch, Ordering::Release);
        tracing::info!(epoch, "claimed the database");
        Ok(HubClaim::new(PgClaim {
            conn,
            fence: self.fence.clone(),
        }))
    }

    async fn due_escalations(
        &self,
        now: Millis,
        limit: u32,
    ) -> StoreResult<Vec<(Millis, Subject)>> {
        // Rows another hub holds locked are skipped rather than waited for.
        // With one hub per database the claim ends with this transaction;
        // hubs sharing a database would also stamp a lease on the rows here.
        let mut tx = self.readers.begin().await?;
        let mut due = Vec::new();
        for (table, task) in [("tasks", true), ("pages", false)] {
            let sql = format!(
                "SELECT next_escalation_at, id FROM {table} WHERE next_escalation_at <= $1 \
                 ORDER BY next_escalation_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            );
            for r in sqlx::query(&sql)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?
            {
                let at: Millis = r.try_get(0)?;
                let id: &str = r.try_get(1)?;
                due.push((
                    at,
                    if task {
                        Subject::Task(parse_id(id)?)
                    } else {
                        Subject::Page(parse_id(id)?)
                    },
                ));
            }
        }
        tx.commit().await?;
        due.sort();
        due.truncate(limit as usize);
        Ok(due)
    }

    }
}
