//! The site list each cluster node was started with, where every node
//! (and `wardpage cluster status`) can read it: one row per node in
//! `public.cluster_nodes` (name, its `[cluster] sites` in order, when it
//! started and when it was last seen, both by the database's clock).
//!
//! A table of its own rather than the lease rows: those are per site, in
//! the site's schema, and written by the site's owner only, so a node
//! configured without a site never touches that site's row, and a
//! standby writes nothing anywhere; neither can show what a node was
//! configured with. The table is outside every site's schema, reached by
//! a connection of its own with the plain `search_path`, so no site's
//! store sees it.

use crate::store::StoreResult;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;
use std::str::FromStr;
use std::time::Duration;

/// Serialises `CREATE TABLE IF NOT EXISTS` between nodes starting at once
/// (it can fail with a duplicate key when two race).
const CREATE_LOCK_KEY: i64 = 0x7770_6e6f_6465_7321;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS public.cluster_nodes (\
     node text PRIMARY KEY, sites text[] NOT NULL, \
     started_at timestamptz NOT NULL, seen_at timestamptz NOT NULL)";

/// One node's published list.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSites {
    pub node: String,
    pub sites: Vec<String>,
    /// Seconds since it last wrote its row, by the database's clock.
    pub seen_secs_ago: f64,
}

/// The nodes' site lists in the database.
pub struct NodeLists {
    pool: PgPool,
}

impl NodeLists {
    /// Connects to the database at `url` (one connection, waiting at most
    /// `within` for it) and makes the table if need be.
    pub async fn open(url: &str, within: Duration) -> StoreResult<NodeLists> {
        let opts = PgConnectOptions::from_str(url)?.application_name("wardpage-nodes");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(within)
            .connect_with(opts)
            .await?;
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(CREATE_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
        sqlx::query(CREATE).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(NodeLists { pool })
    }

    /// Opens the table only if some node has made it (for `cluster
    /// status`, which writes nothing): `None` if none has.
    pub async fn open_existing(url: &str) -> StoreResult<Option<NodeLists>> {
        let opts = PgConnectOptions::from_str(url)?.application_name("wardpage-status");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass('public.cluster_nodes') IS NOT NULL")
                .fetch_one(&pool)
                .await?;
        Ok(exists.then_some(NodeLists { pool }))
    }

    /// Writes `node`'s list and marks it seen now; `started` also resets
    /// its start time (the node's first write).
    pub async fn publish(&self, node: &str, sites: &[String], started: bool) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO public.cluster_nodes (node, sites, started_at, seen_at) \
             VALUES ($1, $2, now(), now()) ON CONFLICT (node) DO UPDATE SET \
             sites = EXCLUDED.sites, seen_at = now(), \
             started_at = CASE WHEN $3 THEN now() ELSE cluster_nodes.started_at END",
        )
        .bind(node)
        .bind(sites)
        .bind(started)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every node's row, by name.
    pub async fn all(&self) -> StoreResult<Vec<NodeSites>> {
        let rows = sqlx::query(
            "SELECT node, sites, extract(epoch FROM now() - seen_at)::float8 AS ago \
             FROM public.cluster_nodes ORDER BY node",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NodeSites {
                    node: r.try_get("node")?,
                    sites: r.try_get("sites")?,
                    seen_secs_ago: r.try_get("ago")?,
                })
            })
            .collect()
    }

    /// Takes `node`'s row out (a clean stop: it no longer serves).
    pub async fn forget(&self, node: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM public.cluster_nodes WHERE node = $1")
            .bind(node)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
