//! The writer: the one task that changes the hospital. It owns the domain
//! state, applies queued commands in order, commits each batch in one
//! transaction (group commit), and only then replies and publishes events.
//!
//! Architecture invariant: a reply or event leaves this task only after
//! `Store::commit` returned `Ok` for the batch that produced it. If a commit
//! fails, every command in the batch is answered `internal`, the in-memory
//! state is reloaded from the store, and nobody hears of the lost batch.
//!
//! This module holds the writer's state, its start and reload, and the run
//! loop that stages messages; each other job has a module of its own:
//! [`handle`] (how the hub talks to the writer), [`batch`] (what a group
//! commit gathers), [`commit`] (the commit pipeline and the failed-commit
//! path), [`commands`] (client commands and their ids), [`escalation`] (the
//! deadline mirror and the timer), [`reads`] (answers computed from the
//! state or the store), [`presence`], [`roster`] (reloads from outside the
//! hub), [`upkeep`] (the tick's housekeeping) and [`gauges`].

mod batch;
mod commands;
mod commit;
mod escalation;
mod gauges;
mod handle;
mod presence;
mod reads;
mod roster;
mod upkeep;

pub use commands::error_frame;
pub use handle::{WriterGone, WriterHandle, WriterMsg};

use super::inbox::InboxTail;
use super::own_thread::OwnThread;
use super::registry::Registry;
use crate::clock::Clock;
use crate::domain::{Hospital, Policies, Subject, Targets};
use crate::metrics::Metrics;
use crate::store::audit_chain::AuditChain;
use crate::store::{CommandRecord, Store, StoreError};
use batch::{InFlight, Release, Staged};
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::{info, warn};
use wardpage_proto::{CommandId, Millis, StaffId};

/// Most commands folded into one transaction.
// Only a burst reaches it: at 5,000 raises/s a commit every 50-100 ms
// carries 250-500. It bounds what one batch holds back until its commit
// returns (rows, replies, events), so a burst cannot grow one transaction,
// and the wait of everyone in it, without limit.
const MAX_BATCH: usize = 2048;
/// How often the writer flushes transport acks and checks for roster edits.
// Acks only save re-sends after a restart and a roster import is rare, so
// half a second costs nothing; it also bounds how long a presence hint
// lost to a full queue leaves the directory wrong.
const TICK: Duration = Duration::from_millis(500);

/// What staging a message asks of the run loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
enum StageOutcome {
    /// Keep taking messages.
    Continue,
    /// The hub asked the writer to stop: commit what is queued, then stop.
    Stop,
}

/// How long the writer keeps what it may be asked for again.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Command ids and their answers, for retries (hours).
    pub command_hours: u32,
    /// Acknowledged events, for history (hours).
    pub event_hours: u32,
}

pub struct Writer {
    hospital: Hospital,
    /// The time the writer stamps and escalates by (see `clock`).
    clock: Clock,
    store: Arc<dyn Store>,
    /// Where group commits run (see `own_thread`).
    committer: OwnThread,
    registry: Arc<Registry>,
    metrics: Arc<Metrics>,
    commands: HashMap<CommandId, Box<CommandRecord>>,
    /// The ids in `commands` by when they were recorded, oldest first.
    command_order: std::collections::VecDeque<(Millis, CommandId)>,
    command_retention: Millis,
    event_retention: Millis,
    last_prune: Option<Instant>,
    last_forget: Instant,
    /// Event numbering, and the inbox rows still to write in bulk.
    inbox: InboxTail,
    /// The head of the audit chain: batches are hashed as they are staged,
    /// in the order they commit.
    audit: AuditChain,
    acked: HashMap<StaffId, u64>,
    dirty_acks: HashMap<StaffId, u64>,
    roster_version: i64,
    /// Pending escalations in due order, mirrored from the committed state.
    deadlines: BTreeSet<(Millis, Subject)>,
    due_of: HashMap<Subject, Millis>,
    /// Shift changes of the batch being committed: a roster reloaded from
    /// the store meanwhile may not hold them yet (see `replace_roster`).
    committing_shifts: Vec<(StaffId, Option<crate::domain::Shift>)>,
}

impl Writer {
    /// Loads the hospital from the store and starts the writer task.
    pub async fn start(
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        targets: Targets,
        policies: Policies,
        retention: Retention,
        clock: Clock,
    ) -> Result<
        (
            WriterHandle,
            tokio::task::JoinHandle<Result<(), StoreError>>,
        ),
        StoreError,
    > {
        let command_retention = i64::from(retention.command_hours) * 3_600_000;
        let event_retention = i64::from(retention.event_hours) * 3_600_000;
        let started = Instant::now();
        let mut writer = Writer {
            hospital: Hospital::new(targets, policies),
            clock,
            store,
            committer: OwnThread::start("wardpage-commit")?,
            registry,
            metrics,
            commands: HashMap::new(),
            command_order: std::collections::VecDeque::new(),
            command_retention,
            event_retention,
            last_prune: None,
            last_forget: Instant::now(),
            inbox: InboxTail::new(0, Vec::new()),
            audit: AuditChain::after(None),
            acked: HashMap::new(),
            dirty_acks: HashMap::new(),
            roster_version: 0,
            deadlines: BTreeSet::new(),
            due_of: HashMap::new(),
            committing_shifts: Vec::new(),
        };
        writer.reload().await?;
        info!(
            tasks = writer.hospital.task_count(),
            pages = writer.hospital.page_count(),
            staff = writer.hospital.roster().staff.len(),
            ms = started.elapsed().as_millis() as u64,
            audit_head = %writer.audit.head(),
            "state loaded"
        );
        writer.update_task_gauges();
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(roster::watch_roster(
            writer.store.clone(),
            writer.roster_version,
            tx.downgrade(),
        ));
        let task = tokio::spawn(writer.run(rx));
        Ok((WriterHandle { tx }, task))
    }

    async fn reload(&mut self) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut loaded = self
            .store
            .load(
                now - crate::domain::CLOSED_KEPT,
                now - self.command_retention,
            )
            .await?;
        self.roster_version = self.store.roster_version().await?;
        self.acked = loaded
            .streams
            .iter()
            .map(|(s, _, acked)| (*s, *acked))
            .collect();
        self.hospital.load(loaded.take_state(), now);
        self.dirty_acks.clear();
        // Loaded oldest first: an id stored twice is remembered as its newest use.
        self.command_order = loaded.commands.iter().map(|c| (c.at, c.id)).collect();
        self.command_order.make_contiguous().sort();
        self.commands = loaded
            .commands
            .into_iter()
            .map(|c| (c.id, Box::new(c)))
            .collect();
        self.inbox = InboxTail::new(loaded.max_event_id, loaded.inbox_tail);
        // After a failed commit too: the refused batches' links are gone.
        if let Some(h) = loaded
            .audit_head
            .as_deref()
            .filter(|h| crate::store::audit_chain::from_hex(h).is_none())
        {
            warn!(
                hash = h,
                "the newest audit row's hash is unreadable; the chain starts afresh and `wardpage audit verify` will flag it"
            );
        }
        self.audit = AuditChain::after(loaded.audit_head.as_deref());
        self.due_of = self.hospital.deadlines().map(|(d, s)| (s, d)).collect();
        self.deadlines = self.due_of.iter().map(|(s, d)| (*d, *s)).collect();
        Ok(())
    }

    /// Pipelined group commit: while one batch commits, the next is applied
    /// and gathered; it is committed the moment the first returns. At most
    /// one commit runs at a time, so batches reach the store in the order
    /// they were applied.
    async fn run(mut self, mut rx: mpsc::Receiver<WriterMsg>) -> Result<(), StoreError> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let clock = self.clock.clone();
        let mut staged = Staged::default();
        let mut in_flight: Option<InFlight> = None;
        let mut stopping = false;
        loop {
            let earliest = self.deadlines.first().map(|(d, _)| *d);
            let room = !stopping && staged.commands < MAX_BATCH;
            tokio::select! {
                done = async {
                    match in_flight.as_mut() {
                        Some(f) => (&mut f.commit).await,
                        None => std::future::pending().await,
                    }
                } => {
                    if let Some(f) = in_flight.take() {
                        self.finish(f, done, &mut staged).await?;
                    }
                }
                msg = rx.recv(), if room => match msg {
                    Some(m) => {
                        stopping |= self.stage(m, &mut staged).await == StageOutcome::Stop;
                        while staged.commands < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(m) => {
                                    stopping |= self.stage(m, &mut staged).await == StageOutcome::Stop;
                                }
                                Err(_) => break,
                            }
                        }
                        if stopping {
                            // Commit what is already queued behind the shutdown too.
                            while let Ok(m) = rx.try_recv() {
                                // Stopping already: a second stop changes nothing.
                                let _ = self.stage(m, &mut staged).await;
                            }
                        }
                    }
                    None => stopping = true,
                },
                _ = tick.tick() => self.maintain(&mut staged).await,
                _ = Self::next_deadline(&clock, earliest) => {
                    // Only a shutdown message stops the writer.
                    let _ = self.stage(WriterMsg::EscalateDue, &mut staged).await;
                }
            }
            if in_flight.is_none() && !staged.is_empty() {
                in_flight = Some(self.launch(std::mem::take(&mut staged)));
            }
            if stopping && in_flight.is_none() && staged.is_empty() {
                self.last_commit().await;
                return Ok(());
            }
        }
    }

    /// Applies one message to the in-memory state and stages what it writes
    /// and what it may say once that is committed; [`StageOutcome::Stop`]
    /// when the hub asked the writer to stop.
    async fn stage(&mut self, msg: WriterMsg, staged: &mut Staged) -> StageOutcome {
        let now = self.clock.now();
        if !matches!(msg, WriterMsg::EscalateDue) {
            self.fire_overdue(now, staged);
        }
        match msg {
            WriterMsg::Command {
                actor,
                id,
                cmd,
                issued_at,
                reply,
            } => {
                staged.commands += 1;
                self.stage_command(actor, id, *cmd, issued_at, reply, staged, now)
                    .await;
            }
            WriterMsg::Acked { staff, seq } => {
                let known = self.acked.entry(staff).or_insert(0);
                let top = self.hospital.cursor(staff);
                if seq > *known && seq <= top {
                    *known = seq;
                    self.dirty_acks.insert(staff, seq);
                    let fx = self.hospital.acknowledge_transport(staff, seq, now);
                    staged.pending.absorb(fx, &mut self.inbox, &mut self.audit);
                }
            }
            WriterMsg::Whois { staff, reply } => {
                let answer = self.whois(staff, now, staged).await;
                staged.releases.push(Release::Whois(reply, answer));
            }
            WriterMsg::Stats { reply } => staged.releases.push(Release::Stats(reply)),
            WriterMsg::Shutdown => return StageOutcome::Stop,
            WriterMsg::Presence { staff } => {
                let connected = self.registry.count(staff) > 0;
                self.presence(staff, connected, now);
            }
            WriterMsg::EscalateDue => self.escalate_due(now, staged),
            WriterMsg::RosterChanged { version } => self.reload_roster(version, staged).await,
            WriterMsg::Audit(record) => {
                let row = self.audit.chain(record);
                staged.pending.batch.audit.push(row);
            }
        }
        StageOutcome::Continue
    }
}
