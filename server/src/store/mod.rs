//! Storage: the hub's source of truth, behind the [`Store`] trait so that a
//! PostgreSQL backend can sit beside SQLite without the domain noticing.
//!
//! Architecture invariant: the hub never tells anyone about a change that
//! [`Store::commit`] has not returned `Ok` for.

pub mod audit_chain;
pub mod postgres;
mod sql;
pub mod sqlite;
mod sqlite_commit;

use crate::domain::patient::Patient;
use crate::domain::{Page, Roster, Shift, Staff, Task, Ward};
use async_trait::async_trait;
use std::sync::Arc;
use wardpage_proto::{CommandId, Millis, ObservationView, StaffId};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database driver failed (a query, a connection, a migration):
    /// the driver's own error, named by what it was doing, so that callers
    /// need not know which backend they talk to.
    #[error("{backend}: {source}")]
    Backend {
        /// What failed, e.g. "database" or "migration".
        backend: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("could not start the commit thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("backup: {0}")]
    Backup(String),
    #[error("another wardpage hub is already serving this database (it holds {0}); run one hub per database")]
    Claimed(String),
    #[error("lock file {0}: {1}")]
    LockFile(String, std::io::Error),
    /// Another hub claimed the database since this one did (the claim's
    /// epoch rose from `held` to `now`): this hub's state is no longer the
    /// only copy, so it must stop rather than commit anything more.
    #[error("another hub has claimed this database since (claim epoch {held}, now {now}): this hub must stop")]
    Fenced { held: i64, now: i64 },
}

impl StoreError {
    fn backend(
        backend: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError::Backend {
            backend,
            source: Box::new(source),
        }
    }
}

// The drivers' errors convert here, inside the store, so that `?` works in
// the backends while the trait's error names no driver type.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::backend("database", e)
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::backend("database", e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::backend("migration", e)
    }
}

/// Held by the one hub serving a database, for as long as it serves (see
/// [`Store::claim_hub`]). Two hubs on one database would each believe their
/// in-memory state is the only copy being changed, and would hand out the
/// same stream seqs twice. What holds the claim is the backend's own (a
/// lock file beside SQLite's database, a connection to PostgreSQL).
pub struct HubClaim(Box<dyn ClaimHold>);

/// A backend's hold on the database, behind [`HubClaim`].
#[async_trait]
trait ClaimHold: Send {
    /// See [`HubClaim::alive`].
    async fn alive(&mut self) -> bool;
    /// Lets go of the claim now rather than when the process ends.
    async fn release(self: Box<Self>);
}

impl HubClaim {
    fn new(hold: impl ClaimHold + 'static) -> Self {
        HubClaim(Box::new(hold))
    }

    /// Whether the claim still holds: a PostgreSQL lock lives only as long
    /// as its connection (which a database restart or a network cut ends),
    /// and a commit may already have found another hub's claim.
    pub async fn alive(&mut self) -> bool {
        self.0.alive().await
    }

    pub async fn release(self) {
        self.0.release().await
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// One command's remembered answer, for idempotent re-sends.
#[derive(Debug, Clone)]
pub struct CommandRecord {
    pub id: CommandId,
    pub actor: StaffId,
    pub op: String,
    /// What makes a repeat the same command (see `hub::command_ids`);
    /// empty for answers stored before digests were kept.
    pub digest: String,
    pub at: Millis,
    /// The full reply frame as first sent.
    /// `None` for answers loaded at start: they stay in the store, read by
    /// [`Store::command_reply`] if the command is ever repeated.
    pub reply: Option<Arc<str>>,
}

/// An event body stored once, with its recipients; each recipient's inbox
/// row refers to it once the inbox is written.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub id: i64,
    pub at: Millis,
    pub body: Arc<str>,
    /// (recipient, seq in their stream), stored with the event so that it
    /// is replayable before its inbox rows are written.
    pub recipients: Vec<(StaffId, u64)>,
}

/// Everything one group commit writes, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    pub tasks: Vec<Task>,
    pub pages: Vec<Page>,
    pub shifts: Vec<(StaffId, Option<Shift>)>,
    pub patients: Vec<Patient>,
    /// New sets of observations: inserted, never updated.
    pub observations: Vec<Arc<ObservationView>>,
    /// Each with its link in the audit chain (see [`audit_chain`]).
    pub audit: Vec<audit_chain::ChainedAudit>,
    pub events: Vec<EventRow>,
    /// (recipient, seq, event id): inbox rows written in bulk, for every
    /// event up to `inbox_through` not written before (this batch's too).
    pub inbox: Vec<(StaffId, u64, i64)>,
    /// Set with `inbox`: the new watermark (see the `0006_inbox_tail`
    /// migration). Events above it are found through their own recipients.
    pub inbox_through: Option<i64>,
    /// (staff, last seq) for every stream `inbox` touched.
    pub streams: Vec<(StaffId, u64)>,
    /// (staff, acked seq) transport acknowledgements to persist.
    pub acks: Vec<(StaffId, u64)>,
    pub commands: Vec<CommandRecord>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
            && self.pages.is_empty()
            && self.shifts.is_empty()
            && self.patients.is_empty()
            && self.observations.is_empty()
            && self.audit.is_empty()
            && self.events.is_empty()
            && self.inbox.is_empty()
            && self.inbox_through.is_none()
            && self.streams.is_empty()
            && self.acks.is_empty()
            && self.commands.is_empty()
    }
}

/// Everything one `wardpage roster import` writes (see
/// [`Store::import_roster`]).
#[derive(Debug, Default)]
pub struct RosterImport<'a> {
    pub wards: Vec<Ward>,
    /// Matched by login; `Staff::id` is used only for a new login. A shift
    /// given here replaces the member of staff's shift.
    pub staff: Vec<(Staff, Option<Shift>)>,
    /// For every member of staff in the import; `None` keeps passwords.
    pub password_hash: Option<&'a str>,
}

/// What the hub needs in memory at start.
#[derive(Debug, Default)]
pub struct Loaded {
    pub roster: Roster,
    pub tasks: Vec<Task>,
    pub pages: Vec<Page>,
    /// Admitted patients.
    pub patients: Vec<Patient>,
    /// Admitted patients' sets of the last 72 hours.
    pub observations: Vec<ObservationView>,
    /// (staff, last seq, acked seq), counting events not yet in the inbox.
    pub streams: Vec<(StaffId, u64, u64)>,
    pub commands: Vec<CommandRecord>,
    pub max_event_id: i64,
    /// (recipient, seq, event id) of the events above the inbox watermark:
    /// the inbox rows still to write.
    pub inbox_tail: Vec<(StaffId, u64, i64)>,
    /// The newest audit row's hash: where the chain continues.
    pub audit_head: Option<String>,
}

impl Loaded {
    /// The part of what was loaded that the domain's state is rebuilt
    /// from (`Hospital::load`); the rest (acks, commands, inbox, audit
    /// head) stays for the writer.
    pub fn take_state(&mut self) -> crate::domain::LoadedState {
        crate::domain::LoadedState {
            roster: std::mem::take(&mut self.roster),
            tasks: std::mem::take(&mut self.tasks),
            pages: std::mem::take(&mut self.pages),
            streams: self
                .streams
                .iter()
                .map(|(s, last, _)| (*s, *last))
                .collect(),
            patients: std::mem::take(&mut self.patients),
            observations: std::mem::take(&mut self.observations),
        }
    }
}

/// A stored event in one recipient's stream.
#[derive(Debug, Clone)]
pub struct StreamEvent {
    pub seq: u64,
    pub at: Millis,
    pub body: String,
}

/// A live session, as [`Store::live_sessions`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSession {
    pub token_hash: String,
    pub staff: StaffId,
    pub expires_at: Millis,
}

/// An account as login needs it.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: StaffId,
    pub password_hash: Option<String>,
    pub active: bool,
}

/// One audit row as read back.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: Millis,
    pub actor: Option<String>,
    pub entity: String,
    pub entity_id: String,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub detail: String,
}

/// An API key as stored: never the key itself, only its secret's hash.
#[derive(Debug, Clone)]
pub struct ApiKeyRecord {
    /// The key's public part (`wpk_<id>_...`), how a request finds it.
    pub id: String,
    pub name: String,
    /// Hex SHA-256 of the secret part.
    pub secret_hash: String,
    pub scopes: Vec<String>,
    /// The service account the key acts as.
    pub staff: StaffId,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
}

/// Where a FHIR search page starts: after this (time, id) in its order.
pub type SearchAfter = Option<(Millis, String)>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Roster, open tasks and pages (and those closed after `closed_since`),
    /// streams, and command answers newer than `commands_since`.
    async fn load(&self, closed_since: Millis, commands_since: Millis) -> StoreResult<Loaded>;
    /// Writes the batch atomically and durably.
    async fn commit(&self, batch: &Batch) -> StoreResult<()>;
    /// A remembered command's answer (`at` is when it was recorded).
    async fn command_reply(&self, id: CommandId, at: Millis) -> StoreResult<Option<String>>;
    /// Events in `staff`'s stream after `after`, oldest first, at most
    /// `limit`: from the inbox up to its watermark and from the events'
    /// own recipient lists above it, read in one statement so that a bulk
    /// inbox write in between cannot hide any.
    async fn replay(&self, staff: StaffId, after: u64, limit: u32)
        -> StoreResult<Vec<StreamEvent>>;
    /// Deletes stream events that their recipient acknowledged and that are
    /// older than `events_before`, events no stream refers to any more
    /// (never one above the inbox watermark: its rows are still to come), and
    /// command answers older than `commands_before`. Returns the number of
    /// stream entries removed.
    async fn prune(&self, events_before: Millis, commands_before: Millis) -> StoreResult<u64>;
    /// The highest `seq` pruned from this member of staff's stream (0: none).
    async fn stream_floor(&self, staff: StaffId) -> StoreResult<u64>;
    /// Roster data only (wards, staff, shifts), for a live reload.
    async fn load_roster(&self) -> StoreResult<Roster>;
    /// Changes whenever wards, staff, shifts or sessions were changed
    /// outside the hub.
    async fn roster_version(&self) -> StoreResult<i64>;

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<Account>>;
    async fn create_session(
        &self,
        token_hash: &str,
        staff: StaffId,
        now: Millis,
        expires: Millis,
    ) -> StoreResult<()>;
    /// The session's member of staff, if the session exists and has not expired.
    async fn session(&self, token_hash: &str, now: Millis) -> StoreResult<Option<StaffId>>;
    /// Returns whether a session was removed.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<bool>;
    /// Of `token_hashes`, the sessions that exist, have not expired and
    /// whose accounts are active, each with its member of staff and expiry:
    /// what a hello and an open socket check, many in one query (see
    /// `hub::session_lookups`). Hashes not live are left out.
    async fn live_sessions(
        &self,
        token_hashes: &[String],
        now: Millis,
    ) -> StoreResult<Vec<LiveSession>>;
    /// Deletes every session of `login` (`None`: no such login) and bumps
    /// the roster version, so a running hub closes their sockets.
    async fn revoke_sessions(&self, login: &str) -> StoreResult<Option<u64>>;
    /// Enables or disables an account (a disabled one cannot log in and
    /// its sockets close); returns whether the login exists.
    async fn set_active(&self, login: &str, active: bool) -> StoreResult<bool>;

    /// Adds or updates a member of staff (by login); `None` keeps the password.
    async fn upsert_staff(&self, staff: &Staff, password_hash: Option<&str>) -> StoreResult<()>;
    async fn upsert_ward(&self, ward: &Ward) -> StoreResult<()>;
    /// Sets a shift from outside the hub (roster import).
    async fn put_shift(&self, staff: StaffId, shift: &Shift) -> StoreResult<()>;
    /// Writes a whole roster import in one transaction that bumps the
    /// roster version once, at the end: a running hub reloads either none
    /// of it or all of it. Returns each member of staff's stored id, in
    /// order (an existing login keeps its id).
    async fn import_roster(&self, import: &RosterImport<'_>) -> StoreResult<Vec<StaffId>>;
    async fn staff_by_login(&self, login: &str) -> StoreResult<Option<Staff>>;
    async fn set_password(&self, login: &str, password_hash: &str) -> StoreResult<bool>;
    async fn list_staff(&self) -> StoreResult<Vec<Staff>>;

    async fn audit_for(&self, entity_id: &str) -> StoreResult<Vec<AuditRow>>;
    /// Audit rows with ids above `after`, oldest first, with their stored
    /// hashes: `wardpage audit verify` reads the whole trail this way.
    async fn audit_page(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(AuditRow, Option<String>)>>;
    /// Stores a new API key; `false` if its name is taken (revoked keys
    /// keep their names).
    async fn create_api_key(&self, key: &ApiKeyRecord) -> StoreResult<bool>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn api_key(&self, id: &str) -> StoreResult<Option<ApiKeyRecord>>;
    /// Revokes the key named `name` (a second revoke keeps the first
    /// time); returns whether it exists.
    async fn revoke_api_key(&self, name: &str, now: Millis) -> StoreResult<bool>;
    /// Adds `count` uses of a key (`kind`: read, write, refused) to its
    /// `minute`, and moves its last use up to `last`.
    async fn note_api_key_use(
        &self,
        id: &str,
        minute: Millis,
        kind: &str,
        count: i64,
        last: Millis,
    ) -> StoreResult<()>;
    /// A key's use counts: (minute, kind, count), oldest first.
    async fn api_key_uses(&self, id: &str) -> StoreResult<Vec<(Millis, String, i64)>>;
    /// Tasks changed at or after `since`, in (updated_at, id) order.
    async fn tasks_changed(
        &self,
        since: Millis,
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<Task>>;
    async fn task(&self, id: &str) -> StoreResult<Option<Task>>;
    /// Pages changed at or after `since`, in (updated_at, id) order.
    async fn pages_changed(
        &self,
        since: Millis,
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<Page>>;
    async fn page(&self, id: &str) -> StoreResult<Option<Page>>;
    async fn observation(&self, id: &str) -> StoreResult<Option<ObservationView>>;
    /// A patient's stored sets taken in `[from, to)`, in (taken_at, id)
    /// order: every set, not only the chart's 72 hours.
    async fn observations_of(
        &self,
        patient: wardpage_proto::PatientId,
        window: (Millis, Millis),
        after: SearchAfter,
        limit: u32,
    ) -> StoreResult<Vec<ObservationView>>;
    /// Cheap liveness check for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;
    /// Makes this process the one hub serving the database, or fails with
    /// [`StoreError::Claimed`] if another hub is. The CLI's other commands
    /// do not claim: they may run beside a hub. Each claim raises the
    /// database's claim epoch; once a store has claimed, its group commits
    /// on PostgreSQL fail with [`StoreError::Fenced`] if the epoch has risen
    /// since (another hub claimed), and so does every later `commit` and
    /// `load`, so that a stale hub stops.
    async fn claim_hub(&self) -> StoreResult<HubClaim>;
}
