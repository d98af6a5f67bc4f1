//! The PostgreSQL backend, for trusts that outgrow one SQLite file: the same
//! schema and semantics as `sqlite` (the SQL lives in `sql`), migrations of
//! its own. One connection carries the writer's group commits (one at a
//! time); a pool serves reads. Selected by a `postgres://` database URL.

use super::sql::*;
use super::*;
use crate::domain::{Roster, Shift, Staff, Ward};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Postgres, Row};
use std::str::FromStr;
use tokio::sync::Mutex;
use wardpage_proto::{Skill, WardId};

pub struct PgStore {
    writer: Mutex<PgConnection>,
    readers: PgPool,
    opts: PgConnectOptions,
}

/// The advisory lock a serving hub holds ("wardpage" in ASCII). Advisory
/// locks are per database, so hubs on other databases of the same server
/// do not meet.
const HUB_LOCK_KEY: i64 = 0x7761_7264_7061_6765;

impl PgStore {
    /// PostgreSQL commits through sqlx (the shared commit in `sql.rs`).
    fn direct_commit(&self) -> Option<&super::sqlite_commit::DirectCommit> {
        None
    }

    /// Connects to `url` and brings the schema up to date.
    pub async fn open(url: &str) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)?;
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
        })
    }
}

sql_backend! {
    store: PgStore, db: Postgres, pool: PgPool, conn: PgConnection, row: PgRow,
    // PostgreSQL allows 65,535 bound parameters per statement.
    max_params: 60_000,
    extra: {
    async fn claim_hub(&self) -> StoreResult<HubClaim> {
        let mut conn = PgConnection::connect_with(&self.opts).await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(HUB_LOCK_KEY)
            .fetch_one(&mut conn)
            .await?;
        if !got {
            return Err(StoreError::Claimed("its advisory lock".into()));
        }
        Ok(HubClaim::Pg(conn))
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
