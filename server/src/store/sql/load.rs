//! What the hub loads at start: roster, open work, streams, remembered
//! command answers, the inbox rows still owed and the audit chain's head.

use super::roster::read_roster;
use super::rows::{json, parse_id};
use super::statements::{INBOX_TAIL, LOAD_OBSERVATIONS, LOAD_PATIENTS};
use super::{Backend, Conn, SqlStore};
use crate::domain::{Page, Task};
use crate::store::{CommandRecord, Loaded, StoreResult};
use futures_util::TryStreamExt;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use std::collections::HashMap;
use wardpage_proto::{CommandId, Millis, StaffId};

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
    /// See [`Store::load`](crate::store::Store::load).
    pub(super) async fn load_all(
        &self,
        closed_since: Millis,
        commands_since: Millis,
    ) -> StoreResult<Loaded> {
        // A hub fenced off by another's claim must stop, not reload.
        self.side.check_fence()?;
        // Separate reader connections, so the queries run side by side.
        let (
            (roster, patients, observations),
            tasks,
            pages,
            mut streams,
            commands,
            max_event_id,
            tail,
            audit_head,
        ) = tokio::try_join!(
            self.roster_and_patients(),
            self.json_rows::<Task>(
                "SELECT data FROM tasks \
                 WHERE state NOT IN ('completed','cancelled') OR updated_at >= $1",
                closed_since,
            ),
            self.json_rows::<Page>(
                "SELECT data FROM pages WHERE state = 'open' OR updated_at >= $1",
                closed_since,
            ),
            self.streams(),
            self.commands(commands_since),
            async {
                StoreResult::Ok(
                    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(id), 0) FROM events")
                        .fetch_one(&self.readers)
                        .await?,
                )
            },
            async {
                StoreResult::Ok(
                    sqlx::query_as::<_, (i64, String, i64)>(INBOX_TAIL)
                        .fetch_all(&self.readers)
                        .await?,
                )
            },
            async {
                StoreResult::Ok(
                    sqlx::query_scalar::<_, Option<String>>(
                        "SELECT hash FROM audit ORDER BY id DESC LIMIT 1",
                    )
                    .fetch_optional(&self.readers)
                    .await?
                    .flatten(),
                )
            },
        )?;
        let inbox_tail = fold_tail(tail, &mut streams)?;
        Ok(Loaded {
            roster,
            tasks,
            pages,
            patients,
            observations,
            streams,
            commands,
            max_event_id,
            inbox_tail,
            audit_head,
        })
    }

    async fn roster_and_patients(
        &self,
    ) -> StoreResult<(
        crate::domain::Roster,
        Vec<crate::domain::patient::Patient>,
        Vec<wardpage_proto::ObservationView>,
    )> {
        let db = &self.readers;
        let roster = read_roster(db).await?;
        let patients = sqlx::query_scalar::<_, String>(LOAD_PATIENTS)
            .fetch_all(db)
            .await?
            .iter()
            .map(|d| json(d))
            .collect::<StoreResult<Vec<_>>>()?;
        let since = crate::clock::now_ms() - wardpage_proto::CHART_WINDOW_MS;
        let observations = sqlx::query_scalar::<_, String>(LOAD_OBSERVATIONS)
            .bind(since)
            .fetch_all(db)
            .await?
            .iter()
            .map(|d| json(d))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((roster, patients, observations))
    }

    /// The JSON `data` column of `sql`'s rows (given `$1`), decoded as the
    /// rows stream in rather than after the last one.
    async fn json_rows<T: serde::de::DeserializeOwned>(
        &self,
        sql: &'static str,
        since: Millis,
    ) -> StoreResult<Vec<T>> {
        let mut rows = sqlx::query(sql).bind(since).fetch(&self.readers);
        let mut out = Vec::new();
        while let Some(r) = rows.try_next().await? {
            out.push(json(r.try_get::<&str, _>(0)?)?);
        }
        Ok(out)
    }

    async fn streams(&self) -> StoreResult<Vec<(StaffId, u64, u64)>> {
        let mut rows =
            sqlx::query("SELECT staff, last_seq, acked_seq FROM streams").fetch(&self.readers);
        let mut streams = Vec::new();
        while let Some(r) = rows.try_next().await? {
            streams.push((
                parse_id(r.try_get::<&str, _>(0)?)?,
                r.try_get::<i64, _>(1)? as u64,
                r.try_get::<i64, _>(2)? as u64,
            ));
        }
        Ok(streams)
    }

    /// Command answers since `since`, without their replies: those stay in
    /// the store until a repeat asks for one.
    async fn commands(&self, since: Millis) -> StoreResult<Vec<CommandRecord>> {
        // Oldest first: an id stored twice (re-sent after it was forgotten)
        // is remembered as its newest use.
        let mut rows = sqlx::query(
            "SELECT id, actor, op, at, digest FROM commands WHERE at >= $1 ORDER BY at",
        )
        .bind(since)
        .fetch(&self.readers);
        let mut commands = Vec::new();
        while let Some(r) = rows.try_next().await? {
            commands.push(CommandRecord {
                id: parse_id(r.try_get::<&str, _>(0)?)?,
                actor: parse_id(r.try_get::<&str, _>(1)?)?,
                op: r.try_get(2)?,
                at: r.try_get(3)?,
                digest: r.try_get(4)?,
                reply: None,
            });
        }
        Ok(commands)
    }

    /// See [`Store::command_reply`](crate::store::Store::command_reply).
    pub(super) async fn reply_of(&self, id: CommandId, at: Millis) -> StoreResult<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT reply FROM commands WHERE at = $1 AND id = $2")
                .bind(at)
                .bind(id.to_string())
                .fetch_optional(&self.readers)
                .await?,
        )
    }
}

/// Folds the tail's (event, recipient, seq) rows into the inbox rows still
/// to write and the streams' last seqs.
fn fold_tail(
    tail: Vec<(i64, String, i64)>,
    streams: &mut Vec<(StaffId, u64, u64)>,
) -> StoreResult<Vec<(StaffId, u64, i64)>> {
    let mut rows = Vec::with_capacity(tail.len());
    let mut tops: HashMap<StaffId, u64> = HashMap::new();
    for (event, staff, seq) in tail {
        let (staff, seq): (StaffId, u64) = (parse_id(&staff)?, seq as u64);
        rows.push((staff, seq, event));
        let top = tops.entry(staff).or_insert(0);
        *top = (*top).max(seq);
    }
    for (staff, last, _) in streams.iter_mut() {
        if let Some(top) = tops.remove(staff) {
            *last = (*last).max(top);
        }
    }
    streams.extend(tops.into_iter().map(|(staff, top)| (staff, top, 0)));
    Ok(rows)
}
