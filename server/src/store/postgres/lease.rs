//! The claim as a lease, for several nodes on one database (`[cluster]`,
//! see `crate::cluster`). The advisory lock and the fenced epoch stay what
//! they are for a single hub; the lease adds `holder` and `valid_until` to
//! the claim row, both set by the database (`now()`), never by a node's
//! clock. The owner renews `valid_until`; a standby claims when the lock is
//! free (the owner's session ended: a crash, a clean stop), or when the
//! lease has lapsed by the database's clock while some session still holds
//! the lock (a frozen or cut-off owner): it then ends that session and the
//! owner's open commit, if any, with `pg_terminate_backend`, and claims.
//! Raising the epoch fences whatever the old owner still tries to commit.

use super::{Fence, PgStore, CLAIM_LOCK_TIMEOUT};
use crate::store::StoreResult;
use sqlx::{Connection, PgConnection, Row};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The claim row and its lock, as the database sees them now.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseRow {
    /// The node that claimed last (`None`: a single hub, or never).
    pub holder: Option<String>,
    pub epoch: i64,
    /// The lease's end on the database's clock, RFC 3339 in UTC (`None`:
    /// not a lease: a single hub's claim lasts as long as its lock).
    pub valid_until: Option<String>,
    /// From the database's `now()` to `valid_until` (negative: lapsed).
    pub seconds_left: Option<f64>,
    /// Whether some session holds the claim's advisory lock.
    pub locked: bool,
    /// This node's clock minus the database's, in ms, as this read found
    /// them (the read's round trip is within it).
    pub clock_offset_ms: i64,
}

impl LeaseRow {
    /// Whether a node serves the database: the lock is held and, for a
    /// lease, it has not lapsed.
    pub fn owned(&self) -> bool {
        self.locked && self.seconds_left.is_none_or(|s| s > 0.0)
    }
}

/// What a claim attempt found.
pub enum Claimed {
    /// This node owns the database now.
    Got(Lease),
    /// Another node does (or the lapsed owner's lock could not be taken
    /// yet): stand by.
    Held(LeaseRow),
}

/// This node's lease: the claim connection holding the advisory lock, and
/// the epoch its claim raised.
pub struct Lease {
    conn: PgConnection,
    epoch: i64,
    /// Just before the claim's statement was sent: the lease runs from no
    /// earlier (the database's `now()` is when it ran).
    started: tokio::time::Instant,
    ttl_ms: i64,
    fence: Arc<Fence>,
    /// This node's clock minus the database's at the claim, in ms.
    clock_offset_ms: i64,
    /// The site's advisory lock, which `conn` holds.
    lock_key: i64,
}

/// This node's clock minus `db_now_ms`, read by a statement sent at
/// `sent`: against the middle of its round trip, which the database's
/// reading lies within.
fn offset_from(sent: tokio::time::Instant, db_now_ms: i64) -> i64 {
    let half_trip = i64::try_from(sent.elapsed().as_millis() / 2).unwrap_or(0);
    crate::clock::system_ms() - half_trip - db_now_ms
}

/// `pg_locks` rows of the claim's advisory lock in this database
/// (`pg_advisory_lock(bigint)` shows its key split into `classid`, the
/// high half, and `objid`, the low half, with `objsubid` 1).
const IS_CLAIM_LOCK: &str = "locktype = 'advisory' AND granted AND objsubid = 1 \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     AND ((classid::bigint << 32) | objid::bigint) = $1";

fn lease_row_sql() -> String {
    format!(
        "SELECT holder, epoch, \
         to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS until, \
         extract(epoch FROM valid_until - now())::float8 AS left_s, \
         EXISTS (SELECT 1 FROM pg_locks WHERE {IS_CLAIM_LOCK}) AS locked, \
         {DB_NOW_MS} AS db_now_ms \
         FROM hub_claim WHERE id = 1"
    )
}

/// Ends the sessions that keep a lapsed lease's owner in place: the one
/// holding the advisory lock, and any commit of it still open (it holds
/// the claim row `FOR SHARE`, which would hold up the epoch's raise).
/// Only while the lease is lapsed, checked in the same statement, so a
/// renewal that lands first keeps its owner.
fn end_lapsed_owner_sql() -> String {
    format!(
        "SELECT pg_terminate_backend(pid) FROM pg_locks \
         WHERE pid <> pg_backend_pid() \
         AND (SELECT valid_until < now() FROM hub_claim WHERE id = 1) \
         AND (({IS_CLAIM_LOCK}) OR (locktype = 'relation' AND granted \
              AND relation = 'hub_claim'::regclass AND mode = 'RowShareLock'))"
    )
}

/// The database's clock in ms since the Unix epoch (`clock_timestamp()`,
/// not the transaction's start: the time as the row is read).
const DB_NOW_MS: &str = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

/// The claim of a node: the epoch raised, the lease started, by the
/// database's clock (and that clock, to compare this node's with).
const RAISE_LEASED: &str = "UPDATE hub_claim SET epoch = epoch + 1, claimed_at = $1, \
     holder = $2, valid_until = now() + $3 * interval '1 millisecond' \
     WHERE id = 1 RETURNING epoch, (extract(epoch FROM clock_timestamp()) * 1000)::bigint";
/// A renewal counts only while the epoch is still this claim's.
const RENEW: &str = "UPDATE hub_claim SET valid_until = now() + $2 * interval '1 millisecond' \
     WHERE id = 1 AND epoch = $1";
/// A clean stop ends the lease at once (and `cluster status` says so).
const END_LEASE: &str = "UPDATE hub_claim SET valid_until = now() WHERE id = 1 AND epoch = $1";
/// How long a standby waits for a lapsed owner's ended session to let go
/// of the lock before it tries again on its next round.
const TAKEOVER_LOCK_TIMEOUT: &str = "SET lock_timeout = '2s'";

impl PgStore {
    /// The claim row and its lock now (for `wardpage cluster status` and a
    /// standby's readiness answer).
    pub async fn lease_row(&self) -> StoreResult<LeaseRow> {
        let mut conn = self.readers.acquire().await?;
        read_row(&mut conn, self.side.lock_key).await
    }

    /// Claims the database for `node` with a lease of `ttl_ms`, unless
    /// another node owns it: see the module's doc.
    pub async fn claim_lease(&self, node: &str, ttl_ms: i64) -> StoreResult<Claimed> {
        let opts = self.side.opts.clone().application_name("wardpage-claim");
        let mut conn = PgConnection::connect_with(&opts).await?;
        let key = self.side.lock_key;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            let row = read_row(&mut conn, key).await?;
            if row.owned() || row.seconds_left.is_none() {
                let _ = conn.close().await;
                return Ok(Claimed::Held(row));
            }
            if !take_over_lapsed(&mut conn, &row, key).await? {
                let row = read_row(&mut conn, key).await?;
                let _ = conn.close().await;
                return Ok(Claimed::Held(row));
            }
        }
        sqlx::query(CLAIM_LOCK_TIMEOUT).execute(&mut conn).await?;
        // From here on, commits of the node that claimed before fail.
        let started = tokio::time::Instant::now();
        let (epoch, db_now): (i64, i64) = sqlx::query_as(RAISE_LEASED)
            .bind(crate::clock::now_ms())
            .bind(node)
            .bind(ttl_ms)
            .fetch_one(&mut conn)
            .await?;
        let clock_offset_ms = offset_from(started, db_now);
        let fence = self.side.fence.clone();
        fence.tripped.store(false, Ordering::Release);
        fence.epoch.store(epoch, Ordering::Release);
        tracing::info!(epoch, node, site = %self.side.site, "claimed the site (lease)");
        Ok(Claimed::Got(Lease {
            conn,
            epoch,
            started,
            ttl_ms,
            fence,
            clock_offset_ms,
            lock_key: key,
        }))
    }
}

/// Ends a lapsed owner's sessions and waits (briefly) for its lock;
/// whether this connection holds the lock now.
async fn take_over_lapsed(conn: &mut PgConnection, row: &LeaseRow, key: i64) -> StoreResult<bool> {
    let ended: Vec<bool> = sqlx::query_scalar(&end_lapsed_owner_sql())
        .bind(key)
        .fetch_all(&mut *conn)
        .await?;
    tracing::warn!(
        holder = row.holder.as_deref().unwrap_or("?"),
        lapsed_s = row.seconds_left.map(|s| -s),
        sessions = ended.len(),
        "the owner's lease lapsed by the database clock: ending its sessions to take over"
    );
    sqlx::query(TAKEOVER_LOCK_TIMEOUT)
        .execute(&mut *conn)
        .await?;
    // The ended backend lets go of the lock as it exits; a lock timeout
    // (or another standby first) leaves it for the next round.
    Ok(sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut *conn)
        .await
        .is_ok())
}

async fn read_row(conn: &mut PgConnection, key: i64) -> StoreResult<LeaseRow> {
    let sent = tokio::time::Instant::now();
    let row = sqlx::query(&lease_row_sql())
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(LeaseRow {
        holder: row.try_get("holder")?,
        epoch: row.try_get("epoch")?,
        valid_until: row.try_get("until")?,
        seconds_left: row.try_get("left_s")?,
        locked: row.try_get("locked")?,
        clock_offset_ms: offset_from(sent, row.try_get("db_now_ms")?),
    })
}

impl Lease {
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    /// This node's clock minus the database's at the claim, in ms.
    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms
    }

    /// No later than the lease's start by the database's clock, on this
    /// node's monotonic clock: its renewals are timed from here.
    pub fn started(&self) -> tokio::time::Instant {
        self.started
    }

    /// Moves `valid_until` on to the database's `now()` plus the ttl; `Ok(false)`
    /// if the epoch is no longer this claim's (another node took over), or a
    /// commit was already fenced.
    pub async fn renew(&mut self) -> StoreResult<bool> {
        if self.fence.tripped() {
            return Ok(false);
        }
        let done = sqlx::query(RENEW)
            .bind(self.epoch)
            .bind(self.ttl_ms)
            .execute(&mut self.conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A clean stop: ends the lease and lets go of the lock at once, so a
    /// standby takes over on its next round rather than at the lease's end.
    pub async fn release(mut self) {
        let _ = sqlx::query(END_LEASE)
            .bind(self.epoch)
            .execute(&mut self.conn)
            .await;
        // Unlock before closing (see `PgClaim::release`).
        let _ = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(self.lock_key)
            .execute(&mut self.conn)
            .await;
        let _ = self.conn.close().await;
    }
}
