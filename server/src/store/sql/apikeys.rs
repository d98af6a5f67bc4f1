//! API keys (their service accounts are ordinary staff rows) and what the
//! FHIR facade reads straight from the store: tasks and pages by their
//! last change, and a patient's stored observations. Reads go to the read
//! pool, so a reporting system polling `/fhir/Task` never queues behind
//! the writer.
//!
//! Nullable times are read through `COALESCE(.., -1)` and written through
//! `NULLIF(.., -1)`, so that the generic code needs no bounds for optional
//! integers beyond those every `SqlStore` block states.

use super::rows::{json, parse_id};
use super::{Backend, Conn, SqlStore};
use crate::domain::{Page, Task};
use crate::store::{ApiKeyRecord, StoreResult};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use wardpage_proto::{Millis, ObservationView, PatientId};

const KEY_COLUMNS: &str = "id, name, secret_hash, scopes, staff, created_at, \
     COALESCE(expires_at, -1), COALESCE(last_used_at, -1), COALESCE(revoked_at, -1)";

fn optional(v: i64) -> Option<Millis> {
    (v >= 0).then_some(v)
}

/// Where a search page starts: after this (time, id) in the order searched.
pub type After = crate::store::SearchAfter;

impl<B: Backend> SqlStore<B>
where
    for<'c> &'c mut Conn<B>: Executor<'c, Database = B::Db>,
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'q> &'q str: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> Option<&'q str>: Encode<'q, B::Db>,
    for<'q> String: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'q> i64: Encode<'q, B::Db> + Decode<'q, B::Db> + Type<B::Db>,
    for<'a> &'a str: ColumnIndex<<B::Db as Database>::Row>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
{
    pub(super) async fn insert_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let taken: Option<String> = sqlx::query_scalar("SELECT id FROM api_keys WHERE name = $1")
            .bind(&key.name)
            .fetch_optional(&mut *conn)
            .await?;
        if taken.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO api_keys (id, name, secret_hash, scopes, staff, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, -1))",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(key.scopes.join(","))
        .bind(key.staff.to_string())
        .bind(key.created_at)
        .bind(key.expires_at.unwrap_or(-1))
        .execute(&mut *conn)
        .await?;
        Ok(true)
    }

    fn key_from_row(r: &<B::Db as Database>::Row) -> StoreResult<ApiKeyRecord> {
        let scopes: String = r.try_get(3)?;
        Ok(ApiKeyRecord {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            secret_hash: r.try_get(2)?,
            scopes: scopes
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            staff: parse_id(r.try_get::<&str, _>(4)?)?,
            created_at: r.try_get(5)?,
            expires_at: optional(r.try_get(6)?),
            last_used_at: optional(r.try_get(7)?),
            revoked_at: optional(r.try_get(8)?),
        })
    }

    pub(super) async fn all_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, name");
        let rows = sqlx::query(&sql).fetch_all(&self.readers).await?;
        rows.iter().map(Self::key_from_row).collect()
    }

    pub(super) async fn api_key_by_id(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.readers)
            .await?;
        row.as_ref().map(Self::key_from_row).transpose()
    }

    pub(super) async fn revoke_key(&self, name: &str, now: Millis) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE name = $1",
        )
        .bind(name)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        Ok(B::rows_affected(&done) > 0)
    }

    pub(super) async fn count_key_use(
        &self,
        id: &str,
        (minute, kind): (Millis, &str),
        count: i64,
        last: Millis,
    ) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(
            "INSERT INTO api_key_uses (key_id, minute, kind, count) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key_id, minute, kind) DO UPDATE SET count = api_key_uses.count + $4",
        )
        .bind(id)
        .bind(minute)
        .bind(kind)
        .bind(count)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE api_keys SET last_used_at = $2 \
             WHERE id = $1 AND COALESCE(last_used_at, -1) < $2",
        )
        .bind(id)
        .bind(last)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    pub(super) async fn key_uses(&self, id: &str) -> StoreResult<Vec<(Millis, String, i64)>> {
        let rows = sqlx::query(
            "SELECT minute, kind, count FROM api_key_uses WHERE key_id = $1 ORDER BY minute, kind",
        )
        .bind(id)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Rows of `table` (tasks or pages) changed at or after `since`, in
    /// (updated_at, id) order after `after`.
    async fn by_change<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        since: Millis,
        after: After,
        limit: u32,
    ) -> StoreResult<Vec<T>> {
        let (at, id) = after.unwrap_or((since - 1, String::new()));
        let sql = format!(
            "SELECT data FROM {table} WHERE updated_at >= $1 \
             AND (updated_at > $2 OR (updated_at = $2 AND id > $3)) \
             ORDER BY updated_at, id LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(since)
            .bind(at)
            .bind(id)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await?;
        rows.iter()
            .map(|r| json(r.try_get::<&str, _>(0)?))
            .collect()
    }

    pub(super) async fn tasks_since(
        &self,
        since: Millis,
        after: After,
        limit: u32,
    ) -> StoreResult<Vec<Task>> {
        self.by_change("tasks", since, after, limit).await
    }

    pub(super) async fn pages_since(
        &self,
        since: Millis,
        after: After,
        limit: u32,
    ) -> StoreResult<Vec<Page>> {
        self.by_change("pages", since, after, limit).await
    }

    async fn one<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        id: &str,
    ) -> StoreResult<Option<T>> {
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.readers)
            .await?;
        row.map(|r| json(r.try_get::<&str, _>(0)?)).transpose()
    }

    pub(super) async fn task_row(&self, id: &str) -> StoreResult<Option<Task>> {
        self.one("SELECT data FROM tasks WHERE id = $1", id).await
    }

    pub(super) async fn page_row(&self, id: &str) -> StoreResult<Option<Page>> {
        self.one("SELECT data FROM pages WHERE id = $1", id).await
    }

    pub(super) async fn observation_row(&self, id: &str) -> StoreResult<Option<ObservationView>> {
        self.one("SELECT data FROM observations WHERE id = $1", id)
            .await
    }

    /// A patient's sets taken in `[from, to)`, in (taken_at, id) order
    /// after `after`.
    pub(super) async fn observations_between(
        &self,
        patient: PatientId,
        (from, to): (Millis, Millis),
        after: After,
        limit: u32,
    ) -> StoreResult<Vec<ObservationView>> {
        let (at, id) = after.unwrap_or((from - 1, String::new()));
        let rows = sqlx::query(
            "SELECT data FROM observations WHERE patient = $1 AND taken_at >= $2 AND taken_at < $3 \
             AND (taken_at > $4 OR (taken_at = $4 AND id > $5)) ORDER BY taken_at, id LIMIT $6",
        )
        .bind(patient.to_string())
        .bind(from)
        .bind(to)
        .bind(at)
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| json(r.try_get::<&str, _>(0)?))
            .collect()
    }
}
