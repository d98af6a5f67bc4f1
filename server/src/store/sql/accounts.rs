//! Accounts and sessions (login, logout, revocation), and the audit trail
//! as read back.

use super::roster::bump_roster;
use super::rows::{audit_row, parse_id};
use super::{Backend, Conn, SqlStore};
use crate::store::{Account, AuditRow, LiveSession, StoreResult};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use wardpage_proto::{Millis, StaffId};

/// Token hashes looked up by one statement at most.
const MAX_HASHES_PER_QUERY: usize = 500;

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
    pub(super) async fn account(&self, login: &str) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT id, password_hash, active FROM staff WHERE login = $1")
            .bind(login)
            .fetch_optional(&self.readers)
            .await?;
        row.map(|r| {
            Ok(Account {
                id: parse_id(r.try_get::<&str, _>(0)?)?,
                password_hash: r.try_get(1)?,
                active: r.try_get::<i64, _>(2)? != 0,
            })
        })
        .transpose()
    }

    pub(super) async fn new_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        now: Millis,
        expires: Millis,
    ) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(
            "INSERT INTO sessions (token_hash, staff, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(staff.to_string())
        .bind(now)
        .bind(expires)
        .execute(&mut *conn)
        .await?;
        // Expired sessions are of no use to anyone; sweep them as we go.
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    pub(super) async fn session_staff(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<StaffId>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT staff FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.readers)
        .await?;
        id.map(|s| parse_id(&s)).transpose()
    }

    pub(super) async fn end_session(&self, token_hash: &str) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *conn)
            .await?;
        Ok(B::rows_affected(&done) > 0)
    }

    pub(super) async fn sessions_alive(
        &self,
        token_hashes: &[String],
        now: Millis,
    ) -> StoreResult<Vec<LiveSession>> {
        let mut live = Vec::new();
        // Bound parameters per statement stay well inside both databases'
        // limits (SQLite's is 32,766, PostgreSQL's 65,535).
        for chunk in token_hashes.chunks(MAX_HASHES_PER_QUERY) {
            let marks: Vec<String> = (2..chunk.len() + 2).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT s.token_hash, s.staff, s.expires_at FROM sessions s \
                 JOIN staff a ON a.id = s.staff \
                 WHERE s.expires_at > $1 AND a.active <> 0 AND s.token_hash IN ({})",
                marks.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(now);
            for hash in chunk {
                query = query.bind(hash.as_str());
            }
            for r in query.fetch_all(&self.readers).await? {
                live.push(LiveSession {
                    token_hash: r.try_get(0)?,
                    staff: parse_id(r.try_get::<&str, _>(1)?)?,
                    expires_at: r.try_get(2)?,
                });
            }
        }
        Ok(live)
    }

    pub(super) async fn end_sessions_of(&self, login: &str) -> StoreResult<Option<u64>> {
        let mut conn = self.writer.lock().await;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM staff WHERE login = $1")
            .bind(login)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(id) = id else { return Ok(None) };
        let done = sqlx::query("DELETE FROM sessions WHERE staff = $1")
            .bind(&id)
            .execute(&mut *conn)
            .await?;
        // A running hub watches this version and re-checks open sockets.
        bump_roster::<B::Db>(&mut conn).await?;
        Ok(Some(B::rows_affected(&done)))
    }

    pub(super) async fn activate(&self, login: &str, active: bool) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("UPDATE staff SET active = $1 WHERE login = $2")
            .bind(active as i64)
            .bind(login)
            .execute(&mut *conn)
            .await?;
        bump_roster::<B::Db>(&mut conn).await?;
        Ok(B::rows_affected(&done) > 0)
    }

    pub(super) async fn change_password(
        &self,
        login: &str,
        password_hash: &str,
    ) -> StoreResult<bool> {
        let mut conn = self.writer.lock().await;
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE login = $2")
            .bind(password_hash)
            .bind(login)
            .execute(&mut *conn)
            .await?;
        Ok(B::rows_affected(&done) > 0)
    }

    pub(super) async fn audit_of(&self, entity_id: &str) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_id, action, from_state, to_state, detail \
             FROM audit WHERE entity_id = $1 ORDER BY id",
        )
        .bind(entity_id)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(audit_row).collect()
    }

    pub(super) async fn audit_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(AuditRow, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, entity, entity_id, action, from_state, to_state, detail, hash \
             FROM audit WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| Ok((audit_row(r)?, r.try_get(9)?)))
            .collect()
    }
}
