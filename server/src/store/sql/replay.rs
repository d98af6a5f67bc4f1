//! A recipient's stream as read back: replay after a seq, and the floor
//! below which pruning has removed it.

use super::statements::REPLAY;
use super::{Backend, Conn, SqlStore};
use crate::store::{StoreResult, StreamEvent};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};
use wardpage_proto::{Millis, StaffId};

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
    /// See [`Store::replay`](crate::store::Store::replay).
    pub(super) async fn stream_after(
        &self,
        staff: StaffId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StreamEvent>> {
        let rows = sqlx::query_as::<_, (i64, Millis, String)>(REPLAY)
            .bind(staff.to_string())
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.readers)
            .await?;
        Ok(in_seq_order(rows, limit))
    }

    /// See [`Store::stream_floor`](crate::store::Store::stream_floor).
    pub(super) async fn floor_of(&self, staff: StaffId) -> StoreResult<u64> {
        let floor: Option<i64> =
            sqlx::query_scalar("SELECT pruned_through FROM streams WHERE staff = $1")
                .bind(staff.to_string())
                .fetch_optional(&self.readers)
                .await?;
        Ok(floor.unwrap_or(0).max(0) as u64)
    }
}

/// Replay's rows in seq order, at most `limit`.
fn in_seq_order(rows: Vec<(i64, Millis, String)>, limit: u32) -> Vec<StreamEvent> {
    let mut out: Vec<StreamEvent> = rows
        .into_iter()
        .map(|(seq, at, body)| StreamEvent {
            seq: seq as u64,
            at,
            body,
        })
        .collect();
    // Sorted, whatever order the database returned the union in; an event
    // above the watermark may also have its inbox row already (a bulk
    // write under way), so the same seq can come from both parts.
    out.sort_by_key(|e| e.seq);
    out.dedup_by_key(|e| e.seq);
    out.truncate(limit as usize);
    out
}
