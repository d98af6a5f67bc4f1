//! The one walk over a group commit's [`Batch`]: which tables it writes,
//! in which order, in chunks of at most a statement's parameters, after the
//! fence check. Each backend's commit is a [`BatchWriter`] (PostgreSQL's a
//! sqlx transaction with multi-row statements, SQLite's a rusqlite
//! transaction a row at a time) driven by [`write_batch`].

use super::rows::{to_json, PatientRow};
use super::statements::{
    RowWrite, AUDIT_ROWS, COMMAND_ROWS, END_SHIFT, EVENT_ROWS, INBOX_ROWS, OBSERVATION_ROWS,
    PAGE_ROWS, PATIENT_ROWS, RECIPIENT_ROWS, SET_INBOX_THROUGH, SHIFT_ROWS, STORE_ACK, STREAM_ROWS,
    TASK_ROWS,
};
use crate::store::{Batch, StoreResult};
use std::borrow::Cow;

/// One value bound into a group-commit statement: every column the
/// commit writes is an integer or text, either possibly NULL.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Int(Option<i64>),
    Text(Option<Cow<'a, str>>),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

impl From<u64> for Value<'_> {
    /// Seqs are stored as the database's signed integers.
    fn from(v: u64) -> Self {
        Value::Int(Some(v as i64))
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(Some(Cow::Borrowed(v)))
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Some(Cow::Owned(v)))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(v: Option<&'a str>) -> Self {
        Value::Text(v.map(Cow::Borrowed))
    }
}

impl From<Option<String>> for Value<'_> {
    fn from(v: Option<String>) -> Self {
        Value::Text(v.map(Cow::Owned))
    }
}

/// A group commit's open write transaction.
pub trait BatchWriter {
    /// Bound parameters per statement, under the database's limit.
    const MAX_PARAMS: usize;
    /// Fails if another hub has claimed the database since this one did.
    async fn fence(&mut self) -> StoreResult<()>;
    /// Writes `values.len() / write.columns` rows of `write` (never more
    /// than `MAX_PARAMS` values, and never none).
    async fn rows(&mut self, write: &RowWrite, values: &[Value<'_>]) -> StoreResult<()>;
    /// Runs `sql` once with `values`.
    async fn statement(&mut self, sql: &'static str, values: &[Value<'_>]) -> StoreResult<()>;
}

/// Writes everything in `b` through `w`, whose transaction the caller
/// commits.
pub async fn write_batch<W: BatchWriter>(w: &mut W, b: &Batch) -> StoreResult<()> {
    // First, so a stale hub writes nothing (see `postgres.rs`).
    w.fence().await?;
    write_care(w, b).await?;
    write_shifts(w, b).await?;
    let audit: Vec<Value<'_>> = b
        .audit
        .iter()
        .flat_map(|c| {
            let a = &c.record;
            [
                a.at.into(),
                a.actor.map(|x| x.to_string()).into(),
                a.entity.into(),
                a.entity_id.as_str().into(),
                a.action.into(),
                a.from_state.as_deref().into(),
                a.to_state.as_deref().into(),
                a.detail.as_str().into(),
                c.hash.as_str().into(),
            ]
        })
        .collect();
    insert(w, &AUDIT_ROWS, &audit).await?;
    write_events(w, b).await?;
    if let Some(through) = b.inbox_through {
        w.statement(SET_INBOX_THROUGH, &[through.into()]).await?;
    }
    for (staff, seq) in &b.acks {
        w.statement(STORE_ACK, &[staff.to_string().into(), (*seq).into()])
            .await?;
    }
    let commands: Vec<Value<'_>> = b
        .commands
        .iter()
        .flat_map(|c| {
            [
                c.id.to_string().into(),
                c.actor.to_string().into(),
                c.op.as_str().into(),
                c.at.into(),
                c.reply.as_deref().unwrap_or_default().into(),
                c.digest.as_str().into(),
            ]
        })
        .collect();
    insert(w, &COMMAND_ROWS, &commands).await
}

/// Tasks, pages, patients and their observations.
async fn write_care<W: BatchWriter>(w: &mut W, b: &Batch) -> StoreResult<()> {
    let tasks: Vec<Value<'_>> = b
        .tasks
        .iter()
        .flat_map(|t| {
            [
                t.view.id.to_string().into(),
                t.view.state.as_str().into(),
                t.view.ward.0.as_str().into(),
                t.view.updated_at.into(),
                t.view.next_escalation_at.into(),
                to_json(t).into(),
            ]
        })
        .collect();
    insert(w, &TASK_ROWS, &tasks).await?;
    let pages: Vec<Value<'_>> = b
        .pages
        .iter()
        .flat_map(|p| {
            [
                p.view.id.to_string().into(),
                p.view.state.as_str().into(),
                p.updated_at().into(),
                p.view.next_escalation_at.into(),
                to_json(p).into(),
            ]
        })
        .collect();
    insert(w, &PAGE_ROWS, &pages).await?;
    let patients: Vec<Value<'_>> = b
        .patients
        .iter()
        .map(PatientRow::of)
        .flat_map(|p| {
            [
                p.id.into(),
                p.ward.into(),
                p.bed.into(),
                p.discharged_at.into(),
                p.updated_at.into(),
                p.next_check_at.into(),
                p.data.into(),
            ]
        })
        .collect();
    insert(w, &PATIENT_ROWS, &patients).await?;
    let observations: Vec<Value<'_>> = b
        .observations
        .iter()
        .flat_map(|o| {
            [
                o.id.to_string().into(),
                o.patient.to_string().into(),
                o.set.taken_at.into(),
                o.recorded_at.into(),
                to_json(&**o).into(),
            ]
        })
        .collect();
    insert(w, &OBSERVATION_ROWS, &observations).await
}

/// Shifts set or ended, one statement each.
async fn write_shifts<W: BatchWriter>(w: &mut W, b: &Batch) -> StoreResult<()> {
    for (staff, shift) in &b.shifts {
        match shift {
            Some(s) => {
                let row = [
                    staff.to_string().into(),
                    s.role.as_str().into(),
                    to_json(&s.wards).into(),
                    s.starts_at.into(),
                    s.ends_at.into(),
                    Value::Text(s.busy.as_ref().map(|b| Cow::Owned(to_json(b)))),
                ];
                w.rows(&SHIFT_ROWS, &row).await?;
            }
            None => w.statement(END_SHIFT, &[staff.to_string().into()]).await?,
        }
    }
    Ok(())
}

/// Events with their recipients, the inbox rows written in bulk and the
/// streams those touched.
async fn write_events<W: BatchWriter>(w: &mut W, b: &Batch) -> StoreResult<()> {
    let events: Vec<Value<'_>> = b
        .events
        .iter()
        .flat_map(|e| [e.id.into(), e.at.into(), (&*e.body).into()])
        .collect();
    insert(w, &EVENT_ROWS, &events).await?;
    let recipients: Vec<Value<'_>> = b
        .events
        .iter()
        .flat_map(|e| {
            e.recipients.iter().flat_map(move |(staff, seq)| {
                [e.id.into(), staff.to_string().into(), (*seq).into()]
            })
        })
        .collect();
    insert(w, &RECIPIENT_ROWS, &recipients).await?;
    let inbox: Vec<Value<'_>> = b
        .inbox
        .iter()
        .flat_map(|(staff, seq, event)| [staff.to_string().into(), (*seq).into(), (*event).into()])
        .collect();
    insert(w, &INBOX_ROWS, &inbox).await?;
    let streams: Vec<Value<'_>> = b
        .streams
        .iter()
        .flat_map(|(staff, seq)| [staff.to_string().into(), (*seq).into()])
        .collect();
    insert(w, &STREAM_ROWS, &streams).await
}

/// Writes the rows of `values` (`write.columns` to a row), in statements of
/// as many whole rows as fit in `W::MAX_PARAMS`. The values are gathered
/// before the first await: an iterator of closures held across one makes
/// the commit's future fail to be `Send`.
async fn insert<W: BatchWriter>(
    w: &mut W,
    write: &RowWrite,
    values: &[Value<'_>],
) -> StoreResult<()> {
    let per_statement = (W::MAX_PARAMS / write.columns).max(1) * write.columns;
    for chunk in values.chunks(per_statement) {
        w.rows(write, chunk).await?;
    }
    Ok(())
}
