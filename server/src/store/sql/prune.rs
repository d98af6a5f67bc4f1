//! Pruning: acknowledged stream entries of old events, events no stream
//! refers to any more, recipient rows whose inbox rows are written, and old
//! command answers; in chunks, each its own short write transaction taken
//! in turn with the group commits.

use super::statements::{
    PRUNABLE_STREAMS, PRUNE_CHUNK, PRUNE_COMMANDS, PRUNE_COMMANDS_WINDOW, PRUNE_EVENTS,
    PRUNE_EVENTS_WINDOW, PRUNE_FLOOR, PRUNE_INBOX, PRUNE_RECIPIENTS, PRUNE_RECIPIENTS_WINDOW,
};
use super::{Backend, Conn, SqlStore};
use crate::store::StoreResult;
use futures_util::future::BoxFuture;
use sqlx::{ColumnIndex, Connection, Database, Decode, Encode, Executor, IntoArguments, Type};
use wardpage_proto::Millis;

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
    /// See [`Store::prune`](crate::store::Store::prune).
    pub(super) async fn prune_old(
        &self,
        events_before: Millis,
        commands_before: Millis,
    ) -> StoreResult<u64> {
        // In chunks of at most `PRUNE_CHUNK` rows, so that no commit ever
        // waits behind more than one chunk.
        let gone = self.prune_streams(events_before).await?;
        self.prune_events(events_before).await?;
        self.prune_below_watermark(PRUNE_RECIPIENTS_WINDOW, PRUNE_RECIPIENTS, None)
            .await?;
        self.prune_below_watermark(PRUNE_COMMANDS_WINDOW, PRUNE_COMMANDS, Some(commands_before))
            .await?;
        Ok(gone)
    }

    /// Acknowledged entries of old events, stream by stream; returns how
    /// many went.
    async fn prune_streams(&self, events_before: Millis) -> StoreResult<u64> {
        let streams: Vec<(String, i64)> = sqlx::query_as(PRUNABLE_STREAMS)
            .fetch_all(&self.readers)
            .await?;
        let mut gone = 0;
        for (staff, acked) in &streams {
            loop {
                let (staff, acked) = (staff.clone(), *acked);
                let n = self
                    .prune_chunk(move |tx| {
                        Box::pin(async move {
                            let done = sqlx::query(PRUNE_INBOX)
                                .bind(&staff)
                                .bind(acked)
                                .bind(events_before)
                                .bind(PRUNE_CHUNK)
                                .execute(&mut *tx)
                                .await?;
                            let n = B::rows_affected(&done);
                            if n > 0 {
                                sqlx::query(PRUNE_FLOOR)
                                    .bind(&staff)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            Ok(n)
                        })
                    })
                    .await?;
                gone += n;
                if n < PRUNE_CHUNK as u64 {
                    break;
                }
            }
        }
        Ok(gone)
    }

    /// Events in id windows up to the watermark, until a window holds
    /// nothing old enough (events come in time order, near enough).
    async fn prune_events(&self, events_before: Millis) -> StoreResult<()> {
        let mut after = 0_i64;
        loop {
            let (top, oldest): (Option<i64>, Option<Millis>) = sqlx::query_as(PRUNE_EVENTS_WINDOW)
                .bind(after)
                .bind(PRUNE_CHUNK)
                .fetch_one(&self.readers)
                .await?;
            let Some(top) = top else { break };
            if oldest.is_none_or(|at| at >= events_before) {
                break;
            }
            self.prune_chunk(move |tx| {
                Box::pin(async move {
                    let done = sqlx::query(PRUNE_EVENTS)
                        .bind(after)
                        .bind(top)
                        .bind(events_before)
                        .execute(&mut *tx)
                        .await?;
                    Ok(B::rows_affected(&done))
                })
            })
            .await?;
            after = top;
        }
        Ok(())
    }

    /// Rows up to a window's top, window after window: `window` gives the
    /// next top (bound to `before`, if given, then to the chunk size) and
    /// `delete` removes everything up to it.
    async fn prune_below_watermark(
        &self,
        window: &'static str,
        delete: &'static str,
        before: Option<Millis>,
    ) -> StoreResult<()> {
        loop {
            let mut q = sqlx::query_scalar::<_, Option<i64>>(window);
            if let Some(before) = before {
                q = q.bind(before);
            }
            let top = q.bind(PRUNE_CHUNK).fetch_one(&self.readers).await?;
            let Some(top) = top else { break };
            self.prune_chunk(move |tx| {
                Box::pin(async move {
                    let done = sqlx::query(delete).bind(top).execute(&mut *tx).await?;
                    Ok(B::rows_affected(&done))
                })
            })
            .await?;
        }
        Ok(())
    }

    /// One chunk of a prune: `work` in a write transaction of its own, in
    /// turn with the group commits (a fair lock: a commit waiting when a
    /// chunk ends goes before the next chunk), fenced like a commit.
    async fn prune_chunk<F>(&self, work: F) -> StoreResult<u64>
    where
        F: for<'c> FnOnce(&'c mut Conn<B>) -> BoxFuture<'c, StoreResult<u64>>,
    {
        let n = {
            let _turn = self.turn.lock().await;
            let mut conn = self.writer.lock().await;
            let mut tx = conn.begin_with(B::BEGIN_WRITE).await?;
            let done = match self.side.fence(&mut *tx).await {
                Ok(()) => work(&mut *tx).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(n) => {
                    tx.commit().await?;
                    n
                }
                Err(e) => {
                    // At once: a fenced chunk holds the claim row (see
                    // the PostgreSQL commit), which a dropped transaction
                    // would keep until the connection's next use.
                    let _ = tx.rollback().await;
                    return Err(e);
                }
            }
        };
        tokio::task::yield_now().await;
        Ok(n)
    }
}
