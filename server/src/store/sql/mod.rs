//! What the SQLite and PostgreSQL backends share. They keep one schema, so
//! one set of SQL (written with `$N` placeholders, which both accept), one
//! row mapping and one walk over a group commit's [`Batch`] (`batch`).
//! [`SqlStore`] implements [`Store`] for either driver, generic over a
//! [`Backend`] that names only what differs between the two: the driver,
//! how a write transaction begins, the claim and its fence, and how a group
//! commit reaches the database (SQLite's without sqlx, see `sqlite_commit`).
//!
//! The generic code needs the same few facts about the driver everywhere
//! (its connections execute queries, it encodes and decodes `i64`, `String`
//! and `&str` (and encodes optional text), rows are indexed by name and position). Rust does not carry
//! a trait's `where` clauses about other types to its users, so each
//! `impl` block below states them again, as [`SqlStore`]'s `impl`s in the
//! submodules do.

mod accounts;
mod apikeys;
pub(super) mod batch;
mod load;
mod prune;
mod replay;
mod roster;
pub(super) mod rows;
pub(super) mod statements;

use super::*;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Type};
use tokio::sync::Mutex;

/// A backend's connection type.
pub type Conn<B> = <<B as Backend>::Db as Database>::Connection;

/// A [`Store`] on a SQL database; `B` holds what its backend adds.
pub struct SqlStore<B: Backend> {
    /// Writes other than group commits (sessions, accounts, roster
    /// imports, pruning), one at a time; PostgreSQL's group commits too.
    pub(super) writer: Mutex<Conn<B>>,
    pub(super) readers: Pool<B::Db>,
    /// Group commits and pruning's chunks take turns through this fair
    /// lock, so a commit never waits behind more than one chunk.
    pub(super) turn: Mutex<()>,
    pub(super) side: B,
}

/// What differs between the SQL backends.
#[async_trait]
pub trait Backend: Send + Sync + Sized + 'static {
    type Db: Database;
    /// Starts a write transaction that holds the write lock from its first
    /// statement.
    const BEGIN_WRITE: &'static str;
    /// Fails if a commit already found this store fenced off by another
    /// hub's claim.
    fn check_fence(&self) -> StoreResult<()>;
    /// How many rows a statement changed (each driver's result is a type
    /// of its own, with no trait method for it).
    fn rows_affected(done: &<Self::Db as Database>::QueryResult) -> u64;
    /// The first statement of a write transaction (a group commit or a
    /// chunk of a prune): fails if another hub has claimed the database.
    async fn fence(&self, tx: &mut Conn<Self>) -> StoreResult<()>;
    /// Writes a group commit's batch (see `batch::write_batch`).
    async fn commit(store: &SqlStore<Self>, batch: &Batch) -> StoreResult<()>;
    /// See [`Store::claim_hub`].
    async fn claim_hub(store: &SqlStore<Self>) -> StoreResult<HubClaim>;
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B>
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
    async fn load(&self, closed_since: Millis, commands_since: Millis) -> StoreResult<Loaded> {
        self.load_all(closed_since, commands_since).await
    }

    async fn commit(&self, batch: &Batch) -> StoreResult<()> {
        B::commit(self, batch).await
    }

    async fn command_reply(&self, id: CommandId, at: Millis) -> StoreResult<Option<String>> {
        self.reply_of(id, at).await
    }

    async fn replay(
        &self,
        staff: StaffId,
        after: u64,
        limit: u32,
    ) -> StoreResult<Vec<StreamEvent>> {
        self.stream_after(staff, after, limit).await
    }

    async fn prune(&self, events_before: Millis, commands_before: Millis) -> StoreResult<u64> {
        self.prune_old(events_before, commands_before).await
    }

    async fn stream_floor(&self, staff: StaffId) -> StoreResult<u64> {
        self.floor_of(staff).await
    }

    async fn load_roster(&self) -> StoreResult<Roster> {
        roster::read_roster(&self.readers).await
    }

    async fn roster_version(&self) -> StoreResult<i64> {
        self.current_roster_version().await
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>> {
        self.account(login).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        now: Millis,
        expires: Millis,
    ) -> StoreResult<()> {
        self.new_session(token_hash, staff, now, expires).await
    }

    async fn session(&self, token_hash: &str, now: Millis) -> StoreResult<Option<StaffId>> {
        self.session_staff(token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool> {
        self.end_session(token_hash).await
    }

    async fn live_sessions(
        &self,
        token_hashes: &[String],
        now: Millis,
    ) -> StoreResult<Vec<LiveSession>> {
        self.sessions_alive(token_hashes, now).await
    }

    async fn revoke_sessions(&self, login: &str) -> StoreResult<Option<u64>> {
        self.end_sessions_of(login).await
    }

    async fn set_active(&self, login: &str, active: bool) -> StoreResult<bool> {
        self.activate(login, active).await
    }

    async fn upsert_staff(&self, staff: &Staff, password_hash: Option<&str>) -> StoreResult<()> {
        self.put_staff(staff, password_hash).await
    }

    async fn upsert_ward(&self, ward: &Ward) -> StoreResult<()> {
        self.put_ward(ward).await
    }

    async fn put_shift(&self, staff: StaffId, shift: &Shift) -> StoreResult<()> {
        self.set_shift(staff, shift).await
    }

    async fn import_roster(&self, import: &RosterImport<'_>) -> StoreResult<Vec<StaffId>> {
        self.write_import(import).await
    }

    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<Staff>> {
        self.staff_named(login).await
    }

    async fn set_password(&self, login: &str, password_hash: &str) -> StoreResult<bool> {
        self.change_password(login, password_hash).await
    }

    async fn list_staff(&self) -> StoreResult<Vec<Staff>> {
        self.all_staff().await
    }

    async fn audit_for(&self, entity_id: &str) -> StoreResult<Vec<AuditRow>> {
        self.audit_of(entity_id).await
    }

    async fn audit_page(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(AuditRow, Option<String>)>> {
        self.audit_after(after, limit).await
    }

    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool> {
        self.insert_api_key(key).await
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
        self.all_api_keys().await
    }

    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>> {
        self.api_key_by_id(id).await
    }

    async fn revoke_api_key(&self, name: &str, now: Millis) -> StoreResult<bool> {
        self.revoke_key(name, now).await
    }

    async fn note_api_key_use(
        &self,
        id: &str,
        minute: Millis,
        kind: &str,
        count: i64,
        last: Millis,
    ) -> StoreResult<()> {
        self.count_key_use(id, (minute, kind), count, last).await
    }

    async fn api_key_uses(&self, id: &str) -> StoreResult<Vec<(Millis, String, i64)>> {
        self.key_uses(id).await
    }

    async fn tasks_changed(
        &self,
        since: Millis,
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<Task>> {
        self.tasks_since(since, after, limit).await
    }

    async fn task(&self, id: &str) -> StoreResult<Option<Task>> {
        self.task_row(id).await
    }

    async fn pages_changed(
        &self,
        since: Millis,
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<Page>> {
        self.pages_since(since, after, limit).await
    }

    async fn page(&self, id: &str) -> StoreResult<Option<Page>> {
        self.page_row(id).await
    }

    async fn observation(&self, id: &str) -> StoreResult<Option<ObservationView>> {
        self.observation_row(id).await
    }

    async fn observations_of(
        &self,
        patient: wardpage_proto::PatientId,
        window: (Millis, Millis),
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<ObservationView>> {
        self.observations_between(patient, window, after, limit)
            .await
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    async fn claim_hub(&self) -> StoreResult<HubClaim> {
        B::claim_hub(self).await
    }
}
