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

use super::sql::batch::{write_batch, BatchWriter, Value};
use super::sql::statements::{RowWrite, RAISE_CLAIM_EPOCH};
use super::sql::{Backend, SqlStore};
use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{Connection, PgConnection, Postgres, QueryBuilder};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

mod lease;
mod nodes;
mod site;
pub use lease::{Claimed, Lease, LeaseRow};
pub use nodes::{NodeLists, NodeSites};
pub use site::{valid_site_name, DEFAULT_SITE};

/// The hub's store on a PostgreSQL database.
pub type PgStore = SqlStore<PgSide>;

/// What PostgreSQL adds to the shared SQL store.
pub struct PgSide {
    opts: PgConnectOptions,
    /// The site this store serves (`site`): its schema is on every
    /// connection's `search_path`, its claim's advisory lock is this key.
    site: String,
    lock_key: i64,
    fence: Arc<Fence>,
    /// Set while a group commit runs; still set at the next one if that
    /// one failed (or was dropped), which then checks its connection.
    commit_open: AtomicBool,
    /// How long a group commit may go unanswered, in ms (0: for ever).
    /// A cluster node bounds it (`bound_commits`): a connection that hangs
    /// for good (a firewall that lost its table drops its packets, with no
    /// reset) would otherwise hold the writer, and the node, for ever.
    commit_within_ms: AtomicU64,
    /// A commit timed out mid-conversation: the connection's state is
    /// unknown, so the next commit opens a new one without asking it.
    writer_broken: AtomicBool,
    /// Ends the commit in flight, if any (`abandon_commit`).
    abandon: tokio::sync::Notify,
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
    lock_key: i64,
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
            .bind(self.lock_key)
            .execute(&mut conn)
            .await;
        let _ = conn.close().await;
    }
}

/// The advisory lock a serving hub holds ("wardpage" in ASCII) on the
/// default site; every other site has its own (`site::lock_key`).
/// Advisory locks are per database, so hubs on other databases of the
/// same server do not meet.
const HUB_LOCK_KEY: i64 = 0x7761_7264_7061_6765;

/// Raising the epoch waits for a commit of the old hub that has read it;
/// one that does not finish in this long (a frozen hub mid-commit) makes
/// the claim fail rather than hang.
const CLAIM_LOCK_TIMEOUT: &str = "SET lock_timeout = '10s'";

/// How long a read waits for a pooled connection: a bounded wait, so
/// that reads fail (and the hub says so) rather than hang on connections
/// that no longer answer (the pool checks each before handing it out).
const READ_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the check of a commit connection after a failed commit waits.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

impl SqlStore<PgSide> {
    /// Connects to `url` and brings the schema up to date (the default
    /// site's: the `public` schema).
    pub async fn open(url: &str) -> StoreResult<Self> {
        Self::open_site(url, DEFAULT_SITE).await
    }

    /// Connects to `site` in the database at `url` (its own schema, made
    /// if need be; see `site`) and brings it up to date.
    pub async fn open_site(url: &str, site: &str) -> StoreResult<Self> {
        let mut opts = PgConnectOptions::from_str(url)?.application_name("wardpage");
        if let Some(schema) = site::schema(site)? {
            site::create_schema(&opts, &schema).await?;
            // Only the site's schema: an unqualified name can never reach
            // another site's tables (the catalog is searched regardless).
            opts = opts.options([("search_path", schema)]);
        }
        let mut writer = PgConnection::connect_with(&opts).await?;
        sqlx::migrate!("./migrations/postgres")
            .run(&mut writer)
            .await?;
        let readers = PgPoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .acquire_timeout(READ_ACQUIRE_TIMEOUT)
            .connect_with(opts.clone())
            .await?;
        Ok(SqlStore {
            writer: Mutex::new(writer),
            readers,
            // Pruning's chunks take turns with commits through `writer`
            // already; this adds nothing on PostgreSQL.
            turn: Mutex::new(()),
            side: PgSide {
                opts,
                site: site.to_owned(),
                lock_key: site::lock_key(site),
                fence: Arc::default(),
                commit_open: AtomicBool::new(false),
                commit_within_ms: AtomicU64::new(0),
                writer_broken: AtomicBool::new(false),
                abandon: tokio::sync::Notify::new(),
            },
        })
    }

    /// The site this store serves.
    pub fn site(&self) -> &str {
        &self.side.site
    }

    /// Fails every group commit not answered within `within` (a cluster
    /// node: the lease's ttl). The writer then refuses its batch as
    /// unconfirmed, as for any failed commit, and the connection is
    /// replaced; see [`PgSide::commit_within_ms`].
    pub fn bound_commits(&self, within: Duration) {
        let ms = u64::try_from(within.as_millis()).unwrap_or(u64::MAX).max(1);
        self.side.commit_within_ms.store(ms, Ordering::Release);
    }

    /// Fails the group commit in flight, if any, at once (bounded commits
    /// only: a cluster node standing down). Its batch is refused as
    /// unconfirmed ("retry with the same id"), so its devices hear at
    /// once rather than when a hung connection times out; whether it
    /// landed, the next owner's load says, and a retry applies it once.
    pub fn abandon_commit(&self) {
        self.side.abandon.notify_waiters();
    }

    /// Opens a new commit connection if the current one is gone: a node
    /// taking over after the database restarted would otherwise fail its
    /// first commit on the connection the restart ended.
    pub async fn check_writer(&self) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        let alive = matches!(
            tokio::time::timeout(PING_TIMEOUT, conn.ping()).await,
            Ok(Ok(()))
        );
        if !alive || self.side.writer_broken.swap(false, Ordering::AcqRel) {
            tracing::warn!("the commit connection is gone: reconnecting");
            *conn = PgConnection::connect_with(&self.side.opts).await?;
            self.side.commit_open.store(false, Ordering::Release);
        }
        Ok(())
    }
}

impl PgSide {
    /// The first statement of every group commit (and pruning chunk): the
    /// claim's epoch, locked against a new claim until this commit ends.
    async fn fence_tx(&self, tx: &mut PgConnection) -> StoreResult<()> {
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
        let after_failure = self.commit_open.swap(true, Ordering::AcqRel);
        let broken = self.writer_broken.swap(false, Ordering::AcqRel)
            || (after_failure
                && !matches!(
                    tokio::time::timeout(PING_TIMEOUT, conn.ping()).await,
                    Ok(Ok(()))
                ));
        if broken {
            tracing::warn!("the commit connection is gone: reconnecting");
            *conn = PgConnection::connect_with(&self.opts).await?;
        }
        Ok(())
    }

    /// The bound on a group commit, if any (see `commit_within_ms`).
    fn commit_within(&self) -> Option<Duration> {
        match self.commit_within_ms.load(Ordering::Acquire) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    fn after_commit(&self) {
        self.commit_open.store(false, Ordering::Release);
    }
}

#[async_trait]
impl Backend for PgSide {
    type Db = Postgres;
    const BEGIN_WRITE: &'static str = "BEGIN";

    fn check_fence(&self) -> StoreResult<()> {
        if self.fence.tripped() {
            return Err(StoreError::Fenced {
                held: self.fence.epoch.load(Ordering::Acquire),
                now: self.fence.seen.load(Ordering::Acquire),
            });
        }
        Ok(())
    }

    fn rows_affected(done: &PgQueryResult) -> u64 {
        done.rows_affected()
    }

    async fn fence(&self, tx: &mut PgConnection) -> StoreResult<()> {
        self.fence_tx(tx).await
    }

    async fn commit(store: &PgStore, batch: &Batch) -> StoreResult<()> {
        let Some(within) = store.side.commit_within() else {
            return commit_batch(store, batch).await;
        };
        // Registered before the commit starts: an abandon from now on ends it.
        let abandoned = store.side.abandon.notified();
        let why = tokio::select! {
            done = tokio::time::timeout(within, commit_batch(store, batch)) => match done {
                Ok(done) => return done,
                Err(_) => format!("the commit was not answered within {within:?}"),
            },
            _ = abandoned => "the commit was abandoned: this node is standing down".to_owned(),
        };
        // Dropped mid-conversation: whatever the connection was doing, it
        // is not to be used again.
        store.side.writer_broken.store(true, Ordering::Release);
        tracing::error!(reason = %why, "a group commit did not finish: replacing its connection");
        Err(StoreError::backend(
            "database",
            std::io::Error::new(std::io::ErrorKind::TimedOut, why),
        ))
    }

    async fn claim_hub(store: &PgStore) -> StoreResult<HubClaim> {
        let side = &store.side;
        let opts = side.opts.clone().application_name("wardpage-claim");
        let mut conn = PgConnection::connect_with(&opts).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(side.lock_key)
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
        // A single hub's claim is no lease: a node of a cluster must not
        // take it for a lapsed one left by an earlier node.
        sqlx::query("UPDATE hub_claim SET holder = NULL, valid_until = NULL WHERE id = 1")
            .execute(&mut conn)
            .await?;
        side.fence.tripped.store(false, Ordering::Release);
        side.fence.epoch.store(epoch, Ordering::Release);
        tracing::info!(epoch, "claimed the database");
        Ok(HubClaim::new(PgClaim {
            conn,
            fence: side.fence.clone(),
            lock_key: side.lock_key,
        }))
    }
}

/// One group commit in one transaction on the commit connection.
async fn commit_batch(store: &PgStore, batch: &Batch) -> StoreResult<()> {
    let mut conn = store.writer.lock().await;
    store.side.before_commit(&mut conn).await?;
    let mut tx = conn.begin().await?;
    let mut writer = PgWriter {
        tx: &mut tx,
        side: &store.side,
    };
    if let Err(e) = write_batch(&mut writer, batch).await {
        // At once, not when the connection is next used (as dropping
        // the transaction would): a fenced commit still holds the
        // claim row `FOR SHARE`, which would hold up the new owner's
        // lease renewals until then.
        let _ = tx.rollback().await;
        return Err(e);
    }
    tx.commit().await?;
    store.side.after_commit();
    Ok(())
}

/// A group commit's sqlx transaction: multi-row statements, as many rows
/// to a statement as the walk hands over.
struct PgWriter<'a> {
    tx: &'a mut PgConnection,
    side: &'a PgSide,
}

impl BatchWriter for PgWriter<'_> {
    // PostgreSQL allows 65,535 bound parameters per statement.
    const MAX_PARAMS: usize = 60_000;

    async fn fence(&mut self) -> StoreResult<()> {
        self.side.fence_tx(self.tx).await
    }

    async fn rows(&mut self, write: &RowWrite, values: &[Value<'_>]) -> StoreResult<()> {
        let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(write.head);
        qb.push_values(values.chunks(write.columns), |mut row, values| {
            for v in values {
                match v {
                    Value::Int(i) => row.push_bind(*i),
                    Value::Text(t) => row.push_bind(t.as_deref()),
                };
            }
        });
        qb.push(write.tail);
        qb.build().execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn statement(&mut self, sql: &'static str, values: &[Value<'_>]) -> StoreResult<()> {
        let mut q = sqlx::query(sql);
        for v in values {
            q = match v {
                Value::Int(i) => q.bind(*i),
                Value::Text(t) => q.bind(t.as_deref()),
            };
        }
        q.execute(&mut *self.tx).await?;
        Ok(())
    }
}
