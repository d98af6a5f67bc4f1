//! Turning rows into the store's types and back: ids, roles and JSON
//! columns, and the shapes of the rows that several statements share.

use crate::domain::patient::Patient;
use crate::domain::Staff;
use crate::store::{AuditRow, StoreError, StoreResult};
use sqlx::{ColumnIndex, Decode, Row, Type};
use std::str::FromStr;
use wardpage_proto::{Role, Skill};

pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub fn parse_id<T: FromStr>(s: &str) -> StoreResult<T> {
    s.parse().map_err(|_| corrupt(format!("bad id `{s}`")))
}

pub fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse().map_err(corrupt)
}

pub fn json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(corrupt)
}

pub fn to_json<T: serde::Serialize>(v: &T) -> String {
    // Domain types serialise infallibly (string keys, no floats).
    serde_json::to_string(v).unwrap_or_default()
}

/// A patient as its row is written.
pub struct PatientRow {
    pub id: String,
    pub ward: String,
    pub bed: String,
    pub discharged_at: Option<i64>,
    pub updated_at: i64,
    pub next_check_at: Option<i64>,
    pub data: String,
}

impl PatientRow {
    pub fn of(p: &Patient) -> PatientRow {
        PatientRow {
            id: p.view.id.to_string(),
            ward: p.view.ward.0.clone(),
            bed: p.view.bed.clone(),
            discharged_at: p.view.discharged_at,
            updated_at: p.view.updated_at,
            next_check_at: p.next_check_at,
            data: to_json(p),
        }
    }
}

/// A member of staff from a row with `id, login, name, role, skills, active`.
pub fn staff_from_row<R: Row>(r: &R) -> StoreResult<Staff>
where
    for<'q> &'q str: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
    for<'a> &'a str: ColumnIndex<R>,
{
    let skills: Vec<String> = json(r.try_get::<&str, _>("skills")?)?;
    Ok(Staff {
        id: parse_id(r.try_get::<&str, _>("id")?)?,
        login: r.try_get("login")?,
        name: r.try_get("name")?,
        role: parse_role(r.try_get::<&str, _>("role")?)?,
        skills: skills
            .iter()
            .map(|s| Skill::from_str(s).map_err(corrupt))
            .collect::<StoreResult<_>>()?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

/// An audit row from its first nine columns, in `audit_for`'s order.
pub fn audit_row<R: Row>(r: &R) -> StoreResult<AuditRow>
where
    for<'q> String: Decode<'q, R::Database> + Type<R::Database>,
    for<'q> i64: Decode<'q, R::Database> + Type<R::Database>,
    usize: ColumnIndex<R>,
{
    Ok(AuditRow {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        entity: r.try_get(3)?,
        entity_id: r.try_get(4)?,
        action: r.try_get(5)?,
        from_state: r.try_get(6)?,
        to_state: r.try_get(7)?,
        detail: r.try_get(8)?,
    })
}
