//! Wards, staff and shifts: the roster as the hub loads it, and the writes
//! made from outside the hub (the CLI, a roster import), each of which
//! bumps the roster version that a running hub watches.

use super::rows::{json, parse_id, parse_role, staff_from_row, to_json};
use super::statements::{IMPORT_SHIFT, UPSERT_STAFF, UPSERT_WARD};
use super::{Backend, Conn, SqlStore};
use crate::domain::{Roster, Shift, Staff, Ward};
use crate::store::{RosterImport, StoreResult};
use sqlx::{
    ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type,
};
use wardpage_proto::{StaffId, WardId};

/// The roster as stored.
pub async fn read_roster<DB: Database>(db: &Pool<DB>) -> StoreResult<Roster>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Decode<'q, DB> + Type<DB>,
    for<'q> String: Decode<'q, DB> + Type<DB>,
    for<'q> i64: Decode<'q, DB> + Type<DB>,
    for<'a> &'a str: ColumnIndex<DB::Row>,
{
    let mut roster = Roster::default();
    for r in sqlx::query("SELECT id, name, beds FROM wards")
        .fetch_all(db)
        .await?
    {
        let id = WardId(r.try_get("id")?);
        roster.wards.insert(
            id.clone(),
            Ward {
                id,
                name: r.try_get("name")?,
                beds: json(r.try_get::<&str, _>("beds")?)?,
            },
        );
    }
    for r in sqlx::query("SELECT id, login, name, role, skills, active FROM staff")
        .fetch_all(db)
        .await?
    {
        let s = staff_from_row(&r)?;
        roster.staff.insert(s.id, s);
    }
    for r in sqlx::query("SELECT staff, role, wards, starts_at, ends_at, busy FROM shifts")
        .fetch_all(db)
        .await?
    {
        roster.set_shift(
            parse_id(r.try_get::<&str, _>("staff")?)?,
            Some(Shift {
                role: parse_role(r.try_get::<&str, _>("role")?)?,
                wards: json(r.try_get::<&str, _>("wards")?)?,
                starts_at: r.try_get("starts_at")?,
                ends_at: r.try_get("ends_at")?,
                busy: r
                    .try_get::<Option<&str>, _>("busy")?
                    .map(json)
                    .transpose()?,
            }),
        );
    }
    Ok(roster)
}

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
    pub(super) async fn current_roster_version(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'roster_version'")
                .fetch_one(&self.readers)
                .await?,
        )
    }

    pub(super) async fn put_staff(
        &self,
        s: &Staff,
        password_hash: Option<&str>,
    ) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        let skills: Vec<&str> = s.skills.iter().map(|k| k.as_str()).collect();
        sqlx::query(UPSERT_STAFF)
            .bind(s.id.to_string())
            .bind(&s.login)
            .bind(&s.name)
            .bind(s.role.as_str())
            .bind(to_json(&skills))
            .bind(password_hash)
            .bind(s.active as i64)
            .bind(crate::clock::now_ms())
            .execute(&mut *conn)
            .await?;
        bump_roster::<B::Db>(&mut conn).await
    }

    pub(super) async fn put_ward(&self, w: &Ward) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        sqlx::query(UPSERT_WARD)
            .bind(&w.id.0)
            .bind(&w.name)
            .bind(to_json(&w.beds))
            .execute(&mut *conn)
            .await?;
        bump_roster::<B::Db>(&mut conn).await
    }

    pub(super) async fn set_shift(&self, staff: StaffId, s: &Shift) -> StoreResult<()> {
        let mut conn = self.writer.lock().await;
        upsert_shift::<B::Db>(&mut conn, staff, s).await?;
        bump_roster::<B::Db>(&mut conn).await
    }

    pub(super) async fn write_import(
        &self,
        import: &RosterImport<'_>,
    ) -> StoreResult<Vec<StaffId>> {
        let mut conn = self.writer.lock().await;
        let mut tx = conn.begin_with(B::BEGIN_WRITE).await?;
        for w in &import.wards {
            sqlx::query(UPSERT_WARD)
                .bind(&w.id.0)
                .bind(&w.name)
                .bind(to_json(&w.beds))
                .execute(&mut *tx)
                .await?;
        }
        let mut ids = Vec::with_capacity(import.staff.len());
        let upsert = format!("{UPSERT_STAFF} RETURNING id");
        for (s, shift) in &import.staff {
            let skills: Vec<&str> = s.skills.iter().map(|k| k.as_str()).collect();
            // An existing login keeps its id: its shift must go to that id.
            let id: String = sqlx::query_scalar(&upsert)
                .bind(s.id.to_string())
                .bind(&s.login)
                .bind(&s.name)
                .bind(s.role.as_str())
                .bind(to_json(&skills))
                .bind(import.password_hash)
                .bind(s.active as i64)
                .bind(crate::clock::now_ms())
                .fetch_one(&mut *tx)
                .await?;
            let id: StaffId = parse_id(&id)?;
            if let Some(shift) = shift {
                upsert_shift::<B::Db>(&mut tx, id, shift).await?;
            }
            ids.push(id);
        }
        // Once, last: a hub reloads when it changes, and then sees it all.
        bump_roster::<B::Db>(&mut tx).await?;
        tx.commit().await?;
        Ok(ids)
    }

    pub(super) async fn staff_named(&self, login: &str) -> StoreResult<Option<Staff>> {
        let row =
            sqlx::query("SELECT id, login, name, role, skills, active FROM staff WHERE login = $1")
                .bind(login)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|r| staff_from_row(&r)).transpose()
    }

    pub(super) async fn all_staff(&self) -> StoreResult<Vec<Staff>> {
        sqlx::query("SELECT id, login, name, role, skills, active FROM staff ORDER BY login")
            .fetch_all(&self.readers)
            .await?
            .iter()
            .map(staff_from_row)
            .collect()
    }
}

async fn upsert_shift<DB: Database>(
    conn: &mut DB::Connection,
    staff: StaffId,
    s: &Shift,
) -> StoreResult<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
{
    sqlx::query(IMPORT_SHIFT)
        .bind(staff.to_string())
        .bind(s.role.as_str())
        .bind(to_json(&s.wards))
        .bind(s.starts_at)
        .bind(s.ends_at)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A running hub watches this version and reloads the roster when it moves.
pub async fn bump_roster<DB: Database>(conn: &mut DB::Connection) -> StoreResult<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
{
    sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'roster_version'")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
