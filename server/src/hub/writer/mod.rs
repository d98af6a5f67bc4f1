//! The writer: the one task that changes the hospital. It owns the domain
//! state, applies queued commands in order, commits each batch in one
//! transaction (group commit), and only then replies and publishes events.
//!
//! Architecture invariant: a reply or event leaves this task only after
//! `Store::commit` returned `Ok` for the batch that produced it. If a commit
//! fails, every command in the batch is answered `internal`, the in-memory
//! state is reloaded from the store, and nobody hears of the lost batch.

use super::command_ids::{self, Seen};
use super::inbox::InboxTail;
use super::own_thread::OwnThread;
use super::registry::{Kick, Registry};
use crate::clock::now_ms;
use crate::domain::{Effects, Hospital, Policies, Subject, Targets, Write};
use crate::metrics::{CommandLabels, Metrics, StateLabels};
use crate::store::audit_chain::AuditChain;
use crate::store::{Batch, CommandRecord, Store, StoreError};
use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};
use wardpage_proto::{
    Command, CommandId, ErrorCode, Millis, ServerFrame, StaffId, StaffView, TaskState,
};

/// Most commands folded into one transaction.
const MAX_BATCH: usize = 2048;
/// How often the writer flushes transport acks and checks for roster edits.
const TICK: Duration = Duration::from_millis(500);

pub enum WriterMsg {
    /// A client command; the reply is the whole `ok` or `error` frame.
    Command {
        actor: StaffId,
        id: CommandId,
        /// Boxed: commands are the largest message, and the rest are small.
        cmd: Box<Command>,
        /// When the client says it first made the command (`issued_at`).
        issued_at: Option<Millis>,
        reply: oneshot::Sender<String>,
    },
    /// Who is this, and where does their stream stand?
    Whois {
        staff: StaffId,
        reply: oneshot::Sender<Option<(StaffView, u64)>>,
    },
    /// A device has every event up to `seq`.
    Acked { staff: StaffId, seq: u64 },
    /// Tasks by state, for `/metrics`.
    Stats { reply: oneshot::Sender<()> },
    /// Finish what is queued, commit it, and stop.
    Shutdown,
    /// Internal: the earliest escalation deadline has passed.
    EscalateDue,
    /// The roster's version in the store moved (see `watch_roster`).
    RosterChanged { version: i64 },
    /// Someone's device count went from or to zero.
    /// (The writer reads who is connected from the registry itself, so
    /// hints that arrive out of order cannot leave it wrong.)
    Presence { staff: StaffId },
}

/// A cheap, clonable way to talk to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<WriterMsg>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriterGone {
    #[error("the hub is shutting down")]
    Closed,
}

impl WriterHandle {
    /// Queues a command and returns the receiver for its reply, so a
    /// connection can keep reading while the command commits.
    pub async fn submit(
        &self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        issued_at: Option<Millis>,
    ) -> Result<oneshot::Receiver<String>, WriterGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterMsg::Command {
                actor,
                id,
                cmd: Box::new(cmd),
                issued_at,
                reply,
            })
            .await
            .map_err(|_| WriterGone::Closed)?;
        Ok(rx)
    }

    pub async fn whois(&self, staff: StaffId) -> Result<Option<(StaffView, u64)>, WriterGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterMsg::Whois { staff, reply })
            .await
            .map_err(|_| WriterGone::Closed)?;
        rx.await.map_err(|_| WriterGone::Closed)
    }

    /// Whether the writer has stopped (nothing can change any more).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Best effort: acks are cumulative, a lost one is repaired by the next.
    pub fn acked(&self, staff: StaffId, seq: u64) {
        let _ = self.tx.try_send(WriterMsg::Acked { staff, seq });
    }

    /// Best effort: a hint that someone's devices changed. A hint lost to a
    /// full queue is made good by the writer's own check every tick.
    pub fn presence(&self, staff: StaffId) {
        let _ = self.tx.try_send(WriterMsg::Presence { staff });
    }

    pub async fn refresh_stats(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(WriterMsg::Stats { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub async fn shutdown(&self) {
        let _ = self.tx.send(WriterMsg::Shutdown).await;
    }
}

pub struct Writer {
    hospital: Hospital,
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

/// How often closed tasks and pages leave the working set (`history`
/// filters by the same horizon, so this only bounds memory).
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// How often acknowledged history and old command answers are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// Escalations claimed per wake-up.
const ESCALATION_BATCH: usize = 256;

/// An event committed in this batch, to publish once the commit returns.
struct Publication {
    at: Millis,
    body: Arc<str>,
    recipients: Vec<(StaffId, u64)>,
}

/// What one group commit is gathering: the rows to write, the events to
/// publish after it, and where each task and page already sits in it.
#[derive(Default)]
struct Pending {
    batch: Batch,
    publish: Vec<Publication>,
    tasks: HashMap<wardpage_proto::TaskId, usize>,
    pages: HashMap<wardpage_proto::PageId, usize>,
    /// Set when an event could not be serialised: the batch is then refused
    /// like a failed commit (everyone in it hears `internal`, the state is
    /// reloaded), never sent with a broken body.
    poisoned: Option<String>,
}

impl Pending {
    /// Folds a command's effects into the batch, numbering event rows.
    fn absorb(&mut self, fx: Effects, inbox: &mut InboxTail, audit: &mut AuditChain) {
        let Pending {
            batch,
            publish,
            tasks,
            pages,
            poisoned,
        } = self;
        for w in fx.writes {
            match w {
                // A task changed twice in one batch is written once, as it ends up.
                Write::Task(t) => match tasks.get(&t.view.id) {
                    Some(i) => batch.tasks[*i] = *t,
                    None => {
                        tasks.insert(t.view.id, batch.tasks.len());
                        batch.tasks.push(*t);
                    }
                },
                Write::Page(p) => match pages.get(&p.view.id) {
                    Some(i) => batch.pages[*i] = *p,
                    None => {
                        pages.insert(p.view.id, batch.pages.len());
                        batch.pages.push(*p);
                    }
                },
                Write::Shift(staff, shift) => batch.shifts.push((staff, shift)),
            }
        }
        batch
            .audit
            .extend(fx.audit.into_iter().map(|a| audit.chain(a)));
        for d in fx.deliveries {
            let body: Arc<str> = match serde_json::to_string(&d.event) {
                Ok(text) => Arc::from(text),
                Err(e) => {
                    error!(error = %e, "could not serialise an event; refusing its batch");
                    *poisoned = Some(format!("could not serialise an event: {e}"));
                    continue;
                }
            };
            batch
                .events
                .push(inbox.event(d.at, body.clone(), &d.recipients));
            publish.push(Publication {
                at: d.at,
                body,
                recipients: d.recipients,
            });
        }
    }
}

/// Something that may leave the writer only once the batch it was staged
/// with is committed: it may show state that batch (or an earlier one) made.
enum Release {
    /// A command's `ok`/`error` frame, or a read's answer computed when it
    /// arrived.
    Reply(CommandId, oneshot::Sender<String>, String),
    Whois(
        oneshot::Sender<Option<(StaffView, u64)>>,
        Option<(StaffView, u64)>,
    ),
    /// A task's audit trail, read from the store after the commit so that
    /// it holds every change made before the request.
    Timeline(CommandId, wardpage_proto::TaskId, oneshot::Sender<String>),
    Stats(oneshot::Sender<()>),
}

/// The batch being gathered: applied to the in-memory state already, and
/// committed as soon as the store is free.
#[derive(Default)]
struct Staged {
    pending: Pending,
    releases: Vec<Release>,
    /// Command ids this batch recorded (forgotten again if it fails).
    recorded: Vec<CommandId>,
    commands: usize,
}

impl Staged {
    fn is_empty(&self) -> bool {
        self.pending.batch.is_empty() && self.releases.is_empty()
    }
}

/// A batch whose commit is running on the store's own thread while the
/// writer applies the next one.
struct InFlight {
    commit: tokio::task::JoinHandle<(Batch, Result<(), StoreError>)>,
    publish: Vec<Publication>,
    releases: Vec<Release>,
    recorded: Vec<CommandId>,
    commands: usize,
    started: Instant,
}

impl Writer {
    /// Loads the hospital from the store and starts the writer task.
    pub async fn start(
        store: Arc<dyn Store>,
        registry: Arc<Registry>,
        metrics: Arc<Metrics>,
        targets: Targets,
        policies: Policies,
        command_retention_hours: u32,
        event_retention_hours: u32,
    ) -> Result<
        (
            WriterHandle,
            tokio::task::JoinHandle<Result<(), StoreError>>,
        ),
        StoreError,
    > {
        let command_retention = i64::from(command_retention_hours) * 3_600_000;
        let event_retention = i64::from(event_retention_hours) * 3_600_000;
        let started = Instant::now();
        let mut writer = Writer {
            hospital: Hospital::new(targets, policies),
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
            tasks = writer.hospital.tasks.len(),
            pages = writer.hospital.pages.len(),
            staff = writer.hospital.roster.staff.len(),
            ms = started.elapsed().as_millis() as u64,
            audit_head = %writer.audit.head(),
            "state loaded"
        );
        writer.update_task_gauges();
        let (tx, rx) = mpsc::channel(8192);
        tokio::spawn(watch_roster(
            writer.store.clone(),
            writer.roster_version,
            tx.downgrade(),
        ));
        let task = tokio::spawn(writer.run(rx));
        Ok((WriterHandle { tx }, task))
    }

    async fn reload(&mut self) -> Result<(), StoreError> {
        let now = now_ms();
        let loaded = self
            .store
            .load(
                now - crate::domain::CLOSED_KEPT,
                now - self.command_retention,
            )
            .await?;
        self.roster_version = self.store.roster_version().await?;
        self.hospital.roster = loaded.roster;
        self.hospital.tasks = loaded
            .tasks
            .into_iter()
            .map(|t| (t.view.id, Box::new(t)))
            .collect();
        self.hospital.pages = loaded
            .pages
            .into_iter()
            .map(|p| (p.view.id, Box::new(p)))
            .collect();
        self.hospital.rebuild_indexes();
        self.hospital.streams = loaded
            .streams
            .iter()
            .map(|(s, last, _)| (*s, *last))
            .collect();
        self.acked = loaded
            .streams
            .iter()
            .map(|(s, _, acked)| (*s, *acked))
            .collect();
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

    fn set_deadline(&mut self, subject: Subject, due: Option<Millis>) {
        if let Some(old) = self.due_of.remove(&subject) {
            self.deadlines.remove(&(old, subject));
        }
        if let Some(d) = due {
            self.due_of.insert(subject, d);
            self.deadlines.insert((d, subject));
        }
    }

    /// Reloads the roster after a change outside the hub (the version is
    /// polled off the writer; the rare reload itself runs here, so that no
    /// commit can finish between reading the roster and taking it).
    async fn reload_roster(&mut self, version: i64, staged: &Staged) {
        if version == self.roster_version {
            return;
        }
        match self.store.load_roster().await {
            Ok(roster) => {
                info!(version, "roster changed outside the hub; reloaded");
                self.replace_roster(roster, staged);
                self.roster_version = version;
            }
            Err(e) => warn!(error = %e, "roster reload failed; will retry"),
        }
    }

    /// Takes a roster read from the store, keeping the shift changes that
    /// were applied here but are not committed yet (in flight or staged):
    /// the read may have missed them, and they are stored and answered `ok`
    /// once their commit returns.
    fn replace_roster(&mut self, roster: crate::domain::Roster, staged: &Staged) {
        self.hospital.roster = roster;
        for (staff, shift) in self
            .committing_shifts
            .iter()
            .chain(&staged.pending.batch.shifts)
        {
            self.hospital.roster.set_shift(*staff, shift.clone());
        }
    }

    /// Sleeps until the earliest escalation is due (forever if none is).
    async fn next_deadline(earliest: Option<Millis>) {
        match earliest {
            Some(due) => {
                let wait = (due - now_ms()).max(0) as u64;
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            None => std::future::pending::<()>().await,
        }
    }

    /// Pipelined group commit: while one batch commits, the next is applied
    /// and gathered; it is committed the moment the first returns. At most
    /// one commit runs at a time, so batches reach the store in the order
    /// they were applied.
    async fn run(mut self, mut rx: mpsc::Receiver<WriterMsg>) -> Result<(), StoreError> {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
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
                        stopping |= self.stage(m, &mut staged).await;
                        while staged.commands < MAX_BATCH {
                            match rx.try_recv() {
                                Ok(m) => stopping |= self.stage(m, &mut staged).await,
                                Err(_) => break,
                            }
                        }
                        if stopping {
                            // Commit what is already queued behind the shutdown too.
                            while let Ok(m) = rx.try_recv() {
                                self.stage(m, &mut staged).await;
                            }
                        }
                    }
                    None => stopping = true,
                },
                _ = tick.tick() => self.maintain(&mut staged).await,
                _ = Self::next_deadline(earliest) => {
                    self.stage(WriterMsg::EscalateDue, &mut staged).await;
                }
            }
            if in_flight.is_none() && !staged.is_empty() {
                in_flight = Some(self.launch(std::mem::take(&mut staged)));
            }
            if stopping && in_flight.is_none() && staged.is_empty() {
                // Neither is needed for a correct restart (the inbox rows
                // are rebuilt from the events), only for a quicker one.
                let mut batch = Batch {
                    acks: self.dirty_acks.drain().collect(),
                    ..Batch::default()
                };
                self.inbox.write_all(&mut batch);
                let stored = if batch.is_empty() {
                    Ok(())
                } else {
                    self.store.commit(&batch).await
                };
                if let Err(e) = stored {
                    warn!(error = %e, "could not store transport acks and inbox rows");
                }
                info!(audit_head = %self.audit.head(), "writer stopped after its last commit");
                return Ok(());
            }
        }
    }

    async fn maintain(&mut self, staged: &mut Staged) {
        // Transport acks ride with the next commit (they only save re-sends
        // after a restart, so they need no commit of their own).
        staged.pending.batch.acks.extend(self.dirty_acks.drain());
        // An idle hub still writes the rows it owes, so its history is
        // indexed and prunable.
        let now = Instant::now();
        if self.inbox.due(now) {
            self.inbox.write_part(&mut staged.pending.batch, now);
        }
        self.reconcile_presence();
        if self.last_forget.elapsed() >= FORGET_EVERY {
            self.last_forget = Instant::now();
            let gone = self.hospital.forget_closed(now_ms());
            if gone > 0 {
                debug!(gone, "closed tasks and pages left the working set");
            }
        }
        let horizon = now_ms() - self.command_retention;
        // Oldest first, so forgetting costs what is forgotten, not a walk
        // over every id remembered (a day of ids at full load is millions).
        while let Some((at, id)) = self.command_order.front().copied() {
            if at >= horizon {
                break;
            }
            self.command_order.pop_front();
            if self.commands.get(&id).is_some_and(|c| c.at == at) {
                self.commands.remove(&id);
            }
        }
        if self.last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.last_prune = Some(Instant::now());
            // Off the writer: pruning a long night's history can take a while
            // and only deletes what no one can ask for any more.
            let store = self.store.clone();
            let events_before = now_ms() - self.event_retention;
            tokio::spawn(async move {
                match store.prune(events_before, horizon).await {
                    Ok(0) => {}
                    Ok(n) => info!(entries = n, "pruned acknowledged history"),
                    Err(e) => warn!(error = %e, "pruning failed; will retry"),
                }
            });
        }
    }

    /// Starts committing a staged batch on its own task.
    fn launch(&mut self, staged: Staged) -> InFlight {
        let Staged {
            pending,
            releases,
            recorded,
            commands,
        } = staged;
        let Pending {
            mut batch,
            publish,
            poisoned,
            ..
        } = pending;
        let now = Instant::now();
        if self.inbox.due(now) {
            self.inbox.write_part(&mut batch, now);
        }
        self.committing_shifts.clone_from(&batch.shifts);
        let store = self.store.clone();
        let commit = self.committer.spawn(async move {
            let result = if let Some(why) = poisoned {
                Err(StoreError::Corrupt(why))
            } else if batch.is_empty() {
                Ok(())
            } else {
                store.commit(&batch).await
            };
            (batch, result)
        });
        InFlight {
            commit,
            publish,
            releases,
            recorded,
            commands,
            started: Instant::now(),
        }
    }

    /// A commit returned: on success, everything it held back leaves now;
    /// on failure, it and the batch applied on top of it are refused and
    /// the state is reloaded from the store.
    async fn finish(
        &mut self,
        f: InFlight,
        done: Result<(Batch, Result<(), StoreError>), tokio::task::JoinError>,
        staged: &mut Staged,
    ) -> Result<(), StoreError> {
        // Committed (or refused, and then reloaded): the store has the truth.
        self.committing_shifts.clear();
        let (batch, failure) = match done {
            Ok((batch, Ok(()))) => (Some(batch), None),
            Ok((_, Err(e))) => (None, Some(e.to_string())),
            Err(e) => (None, Some(format!("commit task failed: {e}"))),
        };
        if f.commands > 0 || batch.as_ref().is_some_and(|b| !b.is_empty()) {
            self.metrics
                .commit_seconds
                .observe(f.started.elapsed().as_secs_f64());
            self.metrics.batch_size.observe(f.commands as f64);
            debug!(
                commands = f.commands,
                inbox = batch.as_ref().map_or(0, |b| b.inbox.len()),
                ms = f.started.elapsed().as_secs_f64() * 1000.0,
                "group commit"
            );
        }
        let Some(batch) = batch else {
            error!(
                error = failure.as_deref().unwrap_or("unknown"),
                commands = f.commands + staged.commands,
                "group commit failed; answering internal and reloading state"
            );
            // The staged batch was applied on top of the failed one: it goes too.
            let later = std::mem::take(staged);
            // A commit that failed may still have landed: its events would
            // then be in the store, never sent, and the next live event would
            // leave a hole. Everyone they were for resumes from the store.
            let told: BTreeSet<StaffId> = f
                .publish
                .iter()
                .chain(&later.pending.publish)
                .flat_map(|p| p.recipients.iter().map(|(s, _)| *s))
                .collect();
            for (releases, recorded) in [(f.releases, f.recorded), (later.releases, later.recorded)]
            {
                for id in recorded {
                    self.commands.remove(&id);
                }
                for r in releases {
                    refuse(r);
                }
            }
            // After the answers, so that each is on its way before the close.
            self.registry.kick_staff(
                &told,
                Kick {
                    code: 1012,
                    reason: "the hub could not confirm a write: resume from your cursor",
                },
            );
            self.reload().await?;
            return Ok(());
        };
        for t in &batch.tasks {
            self.set_deadline(Subject::Task(t.view.id), t.view.next_escalation_at);
        }
        for p in &batch.pages {
            self.set_deadline(Subject::Page(p.view.id), p.view.next_escalation_at);
        }
        // Replies first: a client hears `ok` no later than the events it caused.
        let mut later = Vec::new();
        for r in f.releases {
            match r {
                Release::Reply(_, reply, text) => {
                    let _ = reply.send(text);
                }
                other => later.push(other),
            }
        }
        for p in &f.publish {
            let n = self.registry.publish(p.at, &p.body, &p.recipients);
            self.metrics.events_sent.inc_by(n);
        }
        for r in later {
            match r {
                Release::Reply(..) => {}
                Release::Whois(reply, answer) => {
                    let _ = reply.send(answer);
                }
                Release::Timeline(id, task, reply) => {
                    // Read off the writer: the rows it needs are committed.
                    let store = self.store.clone();
                    let names = self.hospital.roster.staff_refs();
                    tokio::spawn(async move {
                        let text = match timeline(&*store, &names, task).await {
                            Ok(result) => ServerFrame::Ok { id, result }.to_text(),
                            Err(e) => {
                                warn!(error = %e, "timeline read failed");
                                error_frame(
                                    Some(id),
                                    ErrorCode::Internal,
                                    "could not read the audit trail; retry",
                                )
                            }
                        };
                        let _ = reply.send(text);
                    });
                }
                Release::Stats(reply) => {
                    self.update_task_gauges();
                    let _ = reply.send(());
                }
            }
        }
        Ok(())
    }

    /// Applies one message to the in-memory state and stages what it writes
    /// and what it may say once that is committed. Returns whether the hub
    /// asked the writer to stop.
    async fn stage(&mut self, msg: WriterMsg, staged: &mut Staged) -> bool {
        let now = now_ms();
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
            WriterMsg::Shutdown => return true,
            WriterMsg::Presence { staff } => {
                let connected = self.registry.count(staff) > 0;
                self.presence(staff, connected, now);
            }
            WriterMsg::EscalateDue => self.escalate_due(now, staged),
            WriterMsg::RosterChanged { version } => self.reload_roster(version, staged).await,
        }
        false
    }

    /// Applies one client command (or answers a repeat of one), recording
    /// its id with its answer in the same batch.
    #[allow(clippy::too_many_arguments)]
    async fn stage_command(
        &mut self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        issued_at: Option<Millis>,
        reply: oneshot::Sender<String>,
        staged: &mut Staged,
        now: Millis,
    ) {
        let op = cmd.op();
        let Some(digest) = command_ids::digest(&cmd) else {
            error!(op, "could not serialise a command to fingerprint it");
            let text = error_frame(
                Some(id),
                ErrorCode::Internal,
                "the hub could not read this command; nothing changed",
            );
            staged.releases.push(Release::Reply(id, reply, text));
            return;
        };
        let remembered = self.commands.get(&id).map(|r| &**r);
        let seen = command_ids::judge(
            remembered,
            actor,
            op,
            &digest,
            issued_at,
            now,
            self.command_retention,
        );
        let text = match seen {
            Seen::Reused => Some(error_frame(
                Some(id),
                ErrorCode::IdReused,
                "this command id was already used for another command or by another user; nothing changed",
            )),
            // A read changes nothing: its repeat is answered afresh.
            Seen::Repeat if cmd.is_read_only() => None,
            Seen::Repeat => Some(match remembered.and_then(|r| r.reply.clone()) {
                Some(text) => text.to_string(),
                None => {
                    let at = remembered.map_or(now, |r| r.at);
                    self.stored_reply(id, at).await
                }
            }),
            Seen::Expired | Seen::New => None,
        };
        if let Some(text) = text {
            self.count(op, "repeat");
            // Answered after this batch: the first may still be committing.
            staged.releases.push(Release::Reply(id, reply, text));
            return;
        }
        if cmd.is_read_only() {
            // Remembered while the hub runs, so nobody else can take the id
            // of a read; reads are not stored (they change nothing).
            self.remember(CommandRecord {
                id,
                actor,
                op: op.to_owned(),
                digest,
                at: now,
                reply: None,
            });
            staged.releases.push(self.read(actor, id, cmd, reply, now));
            return;
        }
        let text = if seen == Seen::Expired {
            self.count(op, "id_expired");
            error_frame(
                Some(id),
                ErrorCode::IdExpired,
                "this command was issued longer ago than the hub remembers command ids, so it may already have been applied; nothing changed. If it is still needed, send it as a new command",
            )
        } else {
            match self.hospital.apply(actor, &cmd, now) {
                Ok(mut fx) => {
                    self.count(op, "ok");
                    let text = ok_frame(id, fx.result.take());
                    staged.pending.absorb(fx, &mut self.inbox, &mut self.audit);
                    text
                }
                Err(e) => {
                    self.count(op, e.code().as_str());
                    error_frame(Some(id), e.code(), &e.to_string())
                }
            }
        };
        let rec = CommandRecord {
            id,
            actor,
            op: op.to_owned(),
            digest,
            at: now,
            reply: Some(Arc::from(text.as_str())),
        };
        self.remember(rec.clone());
        staged.pending.batch.commands.push(rec);
        staged.recorded.push(id);
        staged.releases.push(Release::Reply(id, reply, text));
    }

    fn remember(&mut self, rec: CommandRecord) {
        self.command_order.push_back((rec.at, rec.id));
        self.commands.insert(rec.id, Box::new(rec));
    }

    /// The answer to a command recorded before this hub started.
    async fn stored_reply(&self, id: CommandId, at: Millis) -> String {
        match self.store.command_reply(id, at).await {
            Ok(Some(text)) if !text.is_empty() => text,
            Ok(_) => error_frame(
                Some(id),
                ErrorCode::Internal,
                "the first answer to this command is missing; check the task before retrying",
            ),
            Err(e) => {
                warn!(error = %e, "could not read a remembered answer");
                error_frame(
                    Some(id),
                    ErrorCode::Internal,
                    "could not read the first answer to this command; retry with the same id",
                )
            }
        }
    }

    /// Fires every escalation due by `now` (at most a batch per wake-up),
    /// from the writer's mirror of the committed deadlines: with one hub per
    /// database that mirror is the whole truth, so no store read is needed
    /// on the writer (hubs sharing a database will claim rows instead).
    fn escalate_due(&mut self, now: Millis, staged: &mut Staged) {
        let due: Vec<(Millis, Subject)> = self
            .deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .take(ESCALATION_BATCH)
            .copied()
            .collect();
        for (at, subject) in due {
            if let Some(fx) = self.hospital.escalate(subject, now) {
                self.metrics
                    .escalation_lateness
                    .observe((now - at).max(0) as f64 / 1000.0);
                self.metrics.escalations.inc();
                staged.pending.absorb(fx, &mut self.inbox, &mut self.audit);
            } else {
                // Acted on since it was stored: its new deadline (if any) is
                // written with that change. A deadline that is past yet not
                // due by the rules is dropped, so the timer cannot spin on it.
                let current = match subject {
                    Subject::Task(id) => self
                        .hospital
                        .tasks
                        .get(&id)
                        .and_then(|t| t.view.next_escalation_at),
                    Subject::Page(id) => self
                        .hospital
                        .pages
                        .get(&id)
                        .and_then(|p| p.view.next_escalation_at),
                };
                self.set_deadline(subject, current.filter(|d| *d > now));
            }
        }
    }

    /// Answers a read-only command from the state as it is now (including
    /// batches not yet committed, which is why the answer waits for them).
    fn read(
        &mut self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        reply: oneshot::Sender<String>,
        now: Millis,
    ) -> Release {
        let text = match self.hospital.apply(actor, &cmd, now) {
            Ok(_) if matches!(cmd, Command::Timeline { .. }) => {
                let Command::Timeline { task } = cmd else {
                    unreachable!("matched above")
                };
                self.count("timeline", "ok");
                return Release::Timeline(id, task, reply);
            }
            Ok(fx) => {
                self.count(cmd.op(), "ok");
                ok_frame(id, fx.result)
            }
            Err(e) => {
                self.count(cmd.op(), e.code().as_str());
                error_frame(Some(id), e.code(), &e.to_string())
            }
        };
        Release::Reply(id, reply, text)
    }

    async fn whois(
        &mut self,
        staff: StaffId,
        now: Millis,
        staged: &Staged,
    ) -> Option<(StaffView, u64)> {
        if !self.hospital.roster.staff.contains_key(&staff) {
            // Added since the last roster check (e.g. `wardpage user add`).
            if let Ok(roster) = self.store.load_roster().await {
                self.replace_roster(roster, staged);
            }
        }
        self.hospital
            .roster
            .staff
            .get(&staff)
            .filter(|s| s.active)
            .and_then(|_| self.hospital.roster.staff_view(staff, now))
            .map(|v| (v, self.hospital.cursor(staff)))
    }

    /// Makes presence agree with the registry, whatever hints were lost.
    fn reconcile_presence(&mut self) {
        let now = now_ms();
        let live: BTreeSet<StaffId> = self.registry.connected().into_iter().collect();
        let stale: Vec<(StaffId, bool)> = self
            .hospital
            .presence
            .iter()
            .filter(|(s, (connected, _))| *connected != live.contains(s))
            .map(|(s, (connected, _))| (*s, !connected))
            .chain(
                live.iter()
                    .filter(|s| !self.hospital.presence.contains_key(s))
                    .map(|s| (*s, true)),
            )
            .collect();
        for (staff, connected) in stale {
            self.presence(staff, connected, now);
        }
    }

    /// Records a change of presence and tells the coordinators on shift.
    fn presence(&mut self, staff: StaffId, connected: bool, at: Millis) {
        let changed = self
            .hospital
            .presence
            .get(&staff)
            .is_none_or(|(was, _)| *was != connected);
        self.hospital.presence.insert(staff, (connected, at));
        if changed {
            let frame: Arc<str> = Arc::from(
                ServerFrame::Presence {
                    staff,
                    connected,
                    at,
                }
                .to_text(),
            );
            let overseers: Vec<StaffId> = self.hospital.roster.overseers(at).collect();
            self.registry.send_frame(&overseers, &frame);
        }
    }

    fn count(&self, op: &'static str, outcome: &'static str) {
        self.metrics
            .commands
            .get_or_create(&CommandLabels { op, outcome })
            .inc();
    }

    fn update_task_gauges(&self) {
        let mut counts: HashMap<&'static str, i64> = HashMap::new();
        for s in [
            TaskState::Offering,
            TaskState::NoOneAccepted,
            TaskState::Accepted,
            TaskState::Started,
            TaskState::Completed,
            TaskState::Cancelled,
        ] {
            counts.insert(crate::domain::task_state_name(s), 0);
        }
        for t in self.hospital.tasks.values() {
            *counts
                .entry(crate::domain::task_state_name(t.state()))
                .or_insert(0) += 1;
        }
        for (state, n) in counts {
            self.metrics
                .tasks
                .get_or_create(&StateLabels { state })
                .set(n);
        }
    }
}

/// Polls the roster's version in the store (changed by `wardpage roster
/// import` and `user add` beside a running hub) and tells the writer when it
/// moves, and every 10 s whatever it is (so a reload that failed is tried
/// again; the writer ignores a version it has). Holds only a weak handle,
/// so it never keeps a writer alive, and ends with it.
async fn watch_roster(store: Arc<dyn Store>, mut seen: i64, tx: mpsc::WeakSender<WriterMsg>) {
    const RESEND_EVERY: u32 = 20;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 1u32.. {
        tick.tick().await;
        let version = match store.roster_version().await {
            Ok(v) => v,
            Err(e) => {
                warn!(error = %e, "roster version check failed");
                continue;
            }
        };
        if version == seen && round % RESEND_EVERY != 0 {
            continue;
        }
        seen = version;
        let Some(tx) = tx.upgrade() else { return };
        if tx.send(WriterMsg::RosterChanged { version }).await.is_err() {
            return;
        }
    }
}

/// A task's audit trail as the `timeline` result, named from `names`.
async fn timeline(
    store: &dyn Store,
    names: &HashMap<StaffId, wardpage_proto::StaffRef>,
    task: wardpage_proto::TaskId,
) -> Result<wardpage_proto::CommandResult, StoreError> {
    let rows = store.audit_for(&task.to_string()).await?;
    let entries = rows
        .into_iter()
        .map(|r| wardpage_proto::TimelineEntry {
            at: r.at,
            actor: r.actor.and_then(|a| a.parse::<StaffId>().ok()).map(|a| {
                names.get(&a).cloned().unwrap_or(wardpage_proto::StaffRef {
                    id: a,
                    name: "(unknown)".into(),
                })
            }),
            action: r.action,
            from_state: r.from_state,
            to_state: r.to_state,
            detail: r.detail,
        })
        .collect();
    Ok(wardpage_proto::CommandResult::Timeline { task, entries })
}

/// The `ok` frame for a command's result. Every command the domain accepts
/// has a result; one without is a hub defect, answered `internal` (never an
/// empty frame) and logged.
fn ok_frame(id: CommandId, result: Option<wardpage_proto::CommandResult>) -> String {
    match result {
        Some(result) => ServerFrame::Ok { id, result }.to_text(),
        None => {
            error!(%id, "a command was applied without a result to answer with");
            error_frame(
                Some(id),
                ErrorCode::Internal,
                "the hub applied this command but could not say how; check before retrying",
            )
        }
    }
}

/// An `error` frame.
pub fn error_frame(id: Option<CommandId>, code: ErrorCode, message: &str) -> String {
    ServerFrame::Error {
        id,
        code,
        message: message.to_owned(),
    }
    .to_text()
}

/// Tells whoever waits on a release that its batch was not stored.
fn refuse(r: Release) {
    const NOT_STORED: &str =
        "the hub could not store this; nothing changed, retry with the same id";
    match r {
        Release::Reply(id, reply, _) | Release::Timeline(id, _, reply) => {
            let _ = reply.send(error_frame(Some(id), ErrorCode::Internal, NOT_STORED));
        }
        // Dropping the sender tells a hello that the hub cannot answer now.
        Release::Whois(..) | Release::Stats(..) => {}
    }
}
