//! The `night` and `chaos` scenarios: every member of the night team holds
//! one handheld, driven by the shared [`crate::Client`] through the seeded
//! [`NightPlan`]. Nurses raise tasks, candidates accept after a delay or
//! decline, holders complete; phones walk through not-spots and sleep, and in
//! chaos the hub itself is SIGKILLed and restarted on the same database and
//! port. Commands go through an outbox: after a transport failure the same
//! command id is sent again, as a real handheld would.
//!
//! With observations, the coordinator admits a patient to every bed before
//! the night starts, each patient's nurse takes the planned sets, doctors
//! accept the reviews the hub offers them like any task, and
//! [`super::episodes`] checks one review per episode.

use super::episodes::{self, EpisodeTracker, SetOutcome};
use super::hubctl::SimHub;
use super::ledger::{self, AckedRaise, DeviceLog};
use super::plan::{NightPlan, OutageKind};
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use crate::client::{login, CommandError};
use crate::Client;
use anyhow::Context;
use rand::{Rng, SeedableRng};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{
    Command, CommandId, CommandResult, Event, OfferState, PatientId, Sbar, StaffId, TaskChange,
    TaskId, TaskState, TaskView, WardId,
};

/// After the night ends, how long stragglers may take to finish a command.
const GRACE: Duration = Duration::from_millis(1500);
/// How long a handheld keeps trying to reconnect before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(60);
/// Where a planned raise names itself (the hub shows the bed's patient in
/// `patient` when the bed has one).
const RAISE_TAG: &str = "Simulated night, raise N";
/// Decision draws for review tasks start here, clear of raise indices.
const REVIEW_DRAWS: usize = 1 << 40;
/// Admissions in flight at once on one socket, before the night.
const ADMIT_WINDOW: usize = 32;
/// Admissions per coordinator socket, and the pace past the first burst.
const ADMIT_PER_SOCKET: usize = 250;
const ADMIT_BURST: usize = 300;
const ADMIT_RATE: f64 = 150.0;

/// The plan's raise a task came from, if any.
fn plan_raise(task: &TaskView) -> Option<usize> {
    task.patient
        .strip_prefix('N')
        .and_then(|n| n.parse().ok())
        .or_else(|| {
            task.sbar
                .background
                .strip_prefix(RAISE_TAG)
                .and_then(|n| n.parse().ok())
        })
}

enum Action {
    Raise(usize),
    Outage(usize),
    Decide {
        task: TaskId,
        accept: bool,
        work_ms: u64,
        review: bool,
    },
    Complete(TaskId),
    /// Take planned set `i` of the night.
    Observe(usize),
}

/// What one handheld hands in at the end.
#[derive(Default)]
struct ActorResult {
    log: DeviceLog,
    acked: Vec<AckedRaise>,
    ack_latency: Samples,
    delivery_latency: Samples,
    /// Deliveries that arrived only after an outage (replayed on resume).
    resumed_deliveries: u64,
    /// Coordinator only: open tasks per the final snapshot, tasks seen closed,
    /// and raise-to-accept times in real milliseconds.
    open: HashSet<TaskId>,
    closed: HashSet<TaskId>,
    accept_ms: Vec<f64>,
    no_one_accepted: u64,
    /// Raises the hub refused or never answered.
    raise_problems: Vec<String>,
    /// Coordinator only: (task, level) of every escalation seen.
    escalations: HashSet<(TaskId, u32)>,
    /// Nurses: what the hub answered to each set taken.
    sets: Vec<SetOutcome>,
    /// Sets the hub refused or never answered.
    set_problems: Vec<String>,
    /// Doctors: review tasks this handheld accepted, and when.
    accepted_reviews: Vec<(TaskId, Instant)>,
    /// Coordinator only: review episodes in stream order, and the open
    /// tasks of the final snapshot.
    episodes: EpisodeTracker,
    open_tasks: Vec<TaskView>,
}

struct Shared {
    plan: Arc<NightPlan>,
    base: String,
    live: Arc<Live>,
    /// When each planned raise was first sent, for delivery latency.
    sent: Mutex<HashMap<usize, Instant>>,
    ids: Vec<StaffId>,
    trace: Option<String>,
    /// The admitted patient of each planned bed, and back.
    patients: Vec<PatientId>,
    patient_index: HashMap<PatientId, usize>,
}

struct Actor {
    idx: usize,
    sh: Arc<Shared>,
    token: String,
    client: Option<Client>,
    cursor: u64,
    duplicates: u64,
    connected_since: Instant,
    agenda: Vec<(Instant, Action)>,
    res: ActorResult,
    shown: HashSet<TaskId>,
    /// Offers this handheld has already decided on.
    decided: HashSet<TaskId>,
    /// Coordinator: latest version of each task seen.
    views: HashMap<TaskId, (u32, TaskState, i64, Option<i64>)>,
    /// Review tasks decided on per patient, for the decision draw.
    reviews_seen: HashMap<usize, usize>,
    rng: rand_chacha::ChaCha8Rng,
}

impl Actor {
    fn is_coordinator(&self) -> bool {
        self.sh.plan.hospital.staff[self.idx].role == wardpage_proto::Role::Coordinator
    }

    /// Connects from the saved cursor, retrying with jittered backoff (so a
    /// whole hospital reconnecting after a hub restart does not stampede).
    async fn ensure_connected(&mut self) -> anyhow::Result<()> {
        if self.client.is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + RECONNECT_FOR;
        let mut backoff = 50u64;
        loop {
            match Client::connect(&self.sh.base, &self.token, self.cursor).await {
                Ok(mut c) => {
                    if self.traced() {
                        eprintln!(
                            "TRACE connect from {} -> cursor {} resync {} top {}",
                            self.cursor, c.cursor, c.resync, c.welcome_cursor
                        );
                    }
                    c.duplicates = self.duplicates;
                    self.cursor = c.cursor;
                    self.client = Some(c);
                    self.connected_since = Instant::now();
                    self.sh.live.connections.fetch_add(1, Relaxed);
                    return Ok(());
                }
                Err(e) if Instant::now() > deadline => return Err(e.context("could not reconnect")),
                Err(_) => {
                    let jitter = self.rng.gen_range(0..=backoff / 2);
                    tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
                    backoff = (backoff * 2).min(1000);
                }
            }
        }
    }

    /// Takes what the client buffered, then drops the socket.
    fn disconnect(&mut self) {
        if let Some(mut c) = self.client.take() {
            while c.buffered() > 0 {
                let ev = futures_util::FutureExt::now_or_never(c.next_event_within(Duration::ZERO));
                match ev {
                    Some(Ok(Some((seq, e)))) => self.handle(seq, e),
                    _ => break,
                }
            }
            self.cursor = c.cursor;
            self.duplicates = c.duplicates;
            self.sh.live.connections.fetch_sub(1, Relaxed);
        }
    }

    /// `WARDPAGE_SIM_TRACE=<login>` prints that handheld's connects,
    /// failures and events to stderr, for debugging a broken invariant.
    fn traced(&self) -> bool {
        self.sh.trace.as_deref() == Some(self.sh.plan.hospital.staff[self.idx].login.as_str())
    }

    fn transport_failed(&mut self, e: &anyhow::Error) {
        if self.traced() {
            eprintln!("TRACE transport failed: {e:#}");
        }
        if e.to_string().contains("gap in stream") {
            self.res.log.gaps += 1;
        }
        self.sh.live.reconnects.fetch_add(1, Relaxed);
        self.disconnect();
    }

    /// Sends `cmd` until the hub answers, re-sending the same id after a
    /// transport failure (idempotency makes that safe).
    async fn exec(&mut self, cmd: Command) -> Option<Result<CommandResult, CommandError>> {
        let id = CommandId::new_random();
        let deadline = Instant::now() + RECONNECT_FOR;
        while Instant::now() < deadline {
            if self.ensure_connected().await.is_err() {
                return None;
            }
            let Some(c) = self.client.as_mut() else {
                continue;
            };
            let attempt = async {
                c.send_with_id(id, cmd.clone()).await?;
                c.reply(id).await
            }
            .await;
            match attempt {
                Ok(r) => {
                    if r.is_err() {
                        self.sh.live.errors.fetch_add(1, Relaxed);
                    }
                    return Some(r);
                }
                Err(e) => self.transport_failed(&e),
            }
        }
        None
    }

    fn schedule(&mut self, at: Instant, a: Action) {
        self.agenda.push((at, a));
    }

    fn next_due(&self) -> Option<usize> {
        self.agenda
            .iter()
            .enumerate()
            .min_by_key(|(_, (t, _))| *t)
            .map(|(i, _)| i)
    }

    /// Files one new event: bookkeeping, and schedules reactions to offers
    /// (on a raise, and when an escalation offers the task to more people).
    fn handle(&mut self, seq: u64, e: Event) {
        if self.traced() {
            eprintln!("TRACE seq {seq} {e:?}");
        }
        let (change, task) = match e {
            Event::Task { change, task, .. } => (Some(change), task),
            Event::TaskEscalated { task, level, .. } => {
                if self.is_coordinator() {
                    self.res.escalations.insert((task.id, level));
                }
                (None, task)
            }
            _ => return,
        };
        let raised = change == Some(TaskChange::Raised);
        self.res.log.tasks.insert(task.id);
        if self.is_coordinator() {
            self.res.episodes.file(change, &task);
            let entry = self
                .views
                .entry(task.id)
                .or_insert((0, task.state, task.raised_at, None));
            if task.version >= entry.0 {
                *entry = (task.version, task.state, task.raised_at, task.accepted_at);
            }
        }
        if raised && !self.shown.insert(task.id) {
            self.res.log.shown_twice += 1;
        }
        let me = self.sh.ids[self.idx];
        let offered = task
            .offers
            .iter()
            .any(|o| o.staff.id == me && o.state == OfferState::Offered);
        if !offered || !self.decided.insert(task.id) {
            return;
        }
        let review = task.review.is_some();
        let draw = match plan_raise(&task) {
            Some(r) => {
                let sent = self.sh.sent.lock().ok().and_then(|m| m.get(&r).copied());
                if let (true, Some(sent)) = (raised, sent) {
                    if self.connected_since <= sent {
                        self.res.delivery_latency.push(sent.elapsed());
                    } else {
                        self.res.resumed_deliveries += 1;
                    }
                }
                self.sh.live.delivered.fetch_add(1, Relaxed);
                r
            }
            // A review the hub raised: drawn per patient and episode, so
            // the same night decides the same way.
            None if review => {
                let Some(&p) = task
                    .patient_ref
                    .as_ref()
                    .and_then(|r| self.sh.patient_index.get(&r.id))
                else {
                    return;
                };
                let n = self.reviews_seen.entry(p).or_default();
                *n += 1;
                REVIEW_DRAWS + p * 64 + *n
            }
            None => return,
        };
        let d = self.sh.plan.decision(draw, self.idx, task.priority);
        let at = Instant::now() + Duration::from_millis(d.after_ms);
        self.schedule(
            at,
            Action::Decide {
                task: task.id,
                accept: d.accept,
                work_ms: d.work_ms,
                review,
            },
        );
    }

    async fn act(&mut self, a: Action) {
        match a {
            Action::Raise(i) => {
                let sh = self.sh.clone();
                let r = &sh.plan.raises[i];
                let cmd = Command::RaiseTask {
                    ward: WardId(r.ward.clone()),
                    bed: r.bed.clone(),
                    patient: r.patient.clone(),
                    patient_id: None,
                    category: r.category,
                    priority: r.priority,
                    requirement: r.requirement,
                    sbar: Sbar {
                        situation: format!("{:?} needed, bed {}", r.category, r.bed),
                        background: format!("{RAISE_TAG}{i}"),
                        assessment: format!("{:?}", r.priority),
                        recommendation: "Please review".into(),
                    },
                };
                let sent = Instant::now();
                if let Ok(mut m) = self.sh.sent.lock() {
                    m.insert(i, sent);
                }
                let answer = self.exec(cmd).await;
                match &answer {
                    Some(Err(e)) => self
                        .res
                        .raise_problems
                        .push(format!("raise {} refused: {e}", r.patient)),
                    None => self
                        .res
                        .raise_problems
                        .push(format!("raise {} got no answer", r.patient)),
                    _ => {}
                }
                if let Some(Ok(CommandResult::Task { task })) = answer {
                    self.res.ack_latency.push(sent.elapsed());
                    self.sh.live.acked.fetch_add(1, Relaxed);
                    self.res.acked.push(AckedRaise {
                        task: task.id,
                        candidates: task
                            .offers
                            .iter()
                            .filter(|o| o.state == OfferState::Offered)
                            .map(|o| o.staff.id)
                            .collect(),
                    });
                }
            }
            Action::Outage(i) => {
                let o = self.sh.plan.outages[i].clone();
                if let (OutageKind::Sleep, Some(c)) = (o.kind, self.client.as_mut()) {
                    // A sleeping phone's OS closes the socket; a not-spot just drops it.
                    let _ = c.ack().await;
                }
                self.disconnect();
                tokio::time::sleep(Duration::from_millis(o.dur_ms)).await;
                self.sh.live.reconnects.fetch_add(1, Relaxed);
                let _ = self.ensure_connected().await;
            }
            Action::Decide {
                task,
                accept,
                work_ms,
                review,
            } => {
                if accept {
                    if let Some(Ok(_)) = self.exec(Command::Accept { task }).await {
                        if review {
                            self.res.accepted_reviews.push((task, Instant::now()));
                            self.sh.live.reviews.fetch_add(1, Relaxed);
                        }
                        self.schedule(
                            Instant::now() + Duration::from_millis(work_ms),
                            Action::Complete(task),
                        );
                    }
                } else {
                    let _ = self
                        .exec(Command::Decline {
                            task,
                            reason: "Busy with a sick patient on another ward".into(),
                        })
                        .await;
                }
            }
            Action::Complete(task) => {
                let _ = self
                    .exec(Command::Complete {
                        task,
                        outcome: "Done".into(),
                    })
                    .await;
            }
            Action::Observe(i) => self.observe(i).await,
        }
    }

    /// Takes planned set `i`: its time is the device's clock when first
    /// sent, kept on every re-send, as a handheld queues a set offline.
    async fn observe(&mut self, i: usize) {
        let planned = self.sh.plan.sets[i];
        let Some(&patient) = self.sh.patients.get(planned.patient) else {
            return;
        };
        let taken_at = wardpage_server::clock::now_ms();
        let cmd = Command::RecordObservations {
            patient,
            set: super::obsplan::set_for(planned.total, taken_at),
        };
        let sent = Instant::now();
        match self.exec(cmd).await {
            Some(Ok(CommandResult::Observation {
                observation,
                review,
                ..
            })) => {
                self.sh.live.observed.fetch_add(1, Relaxed);
                self.res.sets.push(SetOutcome {
                    patient: planned.patient,
                    planned: planned.total,
                    sent,
                    observation: observation.id,
                    total: observation.score.total,
                    band: observation.score.band,
                    red_flag: observation.score.red_flag,
                    review: review.map(|t| t.id),
                });
            }
            Some(Ok(other)) => self
                .res
                .set_problems
                .push(format!("set {i} answered {other:?}")),
            Some(Err(e)) => self.res.set_problems.push(format!("set {i} refused: {e}")),
            None => self.res.set_problems.push(format!("set {i} got no answer")),
        }
    }

    async fn run(mut self, end: Instant, barrier: Arc<tokio::sync::Barrier>) -> ActorResult {
        if let Err(e) = self.ensure_connected().await {
            self.res.log.failure = Some(e.to_string());
        }
        loop {
            let now = Instant::now();
            match self.next_due() {
                Some(i) if self.agenda[i].0 <= now => {
                    let (_, a) = self.agenda.swap_remove(i);
                    // Nothing new starts after the night ends.
                    if now < end || matches!(a, Action::Complete(_)) && now < end + GRACE {
                        self.act(a).await;
                    } else if let Action::Raise(i) = a {
                        // Due while this handheld was offline at the very end.
                        let patient = &self.sh.plan.raises[i].patient;
                        self.res
                            .raise_problems
                            .push(format!("raise {patient} skipped: due as the night ended"));
                    }
                    continue;
                }
                _ => {}
            }
            if now >= end
                && self
                    .agenda
                    .iter()
                    .all(|(t, a)| *t >= end + GRACE || !matches!(a, Action::Complete(_)))
            {
                break;
            }
            let due = self
                .next_due()
                .map(|i| self.agenda[i].0)
                .unwrap_or(end)
                .min(end.max(now));
            let wait = due
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            if self.ensure_connected().await.is_err() {
                tokio::time::sleep(wait).await;
                continue;
            }
            let Some(c) = self.client.as_mut() else {
                continue;
            };
            match c.next_event_within(wait).await {
                Ok(Some((seq, e))) => self.handle(seq, e),
                Ok(None) => {}
                Err(e) => self.transport_failed(&e),
            }
        }
        // Everyone stops acting before anyone checks, so no raise is
        // acknowledged after the coordinator's snapshot.
        let _ = tokio::time::timeout(RECONNECT_FOR * 2, barrier.wait()).await;
        self.finish().await;
        self.res
    }

    /// Resumes if needed and reads the stream up to the hub's top.
    async fn finish(&mut self) {
        // Every part of the snapshot; the first part's cursor is the top.
        let (mut top, mut tasks, mut after) = (None, Vec::new(), None);
        loop {
            let Some(Ok(CommandResult::Snapshot {
                cursor,
                tasks: part,
                next,
                ..
            })) = self.exec(Command::Snapshot { after }).await
            else {
                self.res
                    .log
                    .failure
                    .get_or_insert_with(|| "final snapshot failed".into());
                self.finish_log();
                return;
            };
            top.get_or_insert(cursor);
            tasks.extend(part);
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let top = top.unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(20);
        while self
            .client
            .as_ref()
            .map(|c| c.cursor)
            .unwrap_or(self.cursor)
            < top
            && Instant::now() < deadline
        {
            if self.ensure_connected().await.is_err() {
                break;
            }
            let Some(c) = self.client.as_mut() else { break };
            match c.next_event_within(Duration::from_millis(500)).await {
                Ok(Some((seq, e))) => self.handle(seq, e),
                Ok(None) => {}
                Err(e) => self.transport_failed(&e),
            }
        }
        // Events buffered while waiting for the snapshot's reply.
        if let Some(c) = self.client.as_mut() {
            let mut pending = Vec::new();
            while c.buffered() > 0 {
                match futures_util::FutureExt::now_or_never(c.next_event_within(Duration::ZERO)) {
                    Some(Ok(Some(ev))) => pending.push(ev),
                    _ => break,
                }
            }
            for (seq, e) in pending {
                self.handle(seq, e);
            }
        }
        let reached = self
            .client
            .as_ref()
            .map(|c| c.cursor)
            .unwrap_or(self.cursor)
            >= top;
        self.res.log.resumed = reached;
        if !reached {
            self.res
                .log
                .failure
                .get_or_insert_with(|| format!("stream stopped short of {top}"));
        }
        if self.is_coordinator() {
            self.res.open = tasks.iter().map(|t| t.id).collect();
            self.res.open_tasks = tasks.into_iter().filter(|t| t.review.is_some()).collect();
            for (id, (_, state, raised, accepted)) in &self.views {
                if state.is_terminal() {
                    self.res.closed.insert(*id);
                }
                if *state == TaskState::NoOneAccepted {
                    self.res.no_one_accepted += 1;
                }
                if let Some(a) = accepted {
                    self.res.accept_ms.push((a - raised) as f64);
                }
            }
        }
        self.finish_log();
    }

    fn finish_log(&mut self) {
        if let Some(c) = &self.client {
            self.duplicates = c.duplicates;
        }
        self.res.log.staff = Some(self.sh.ids[self.idx]);
        self.res.log.label = self.sh.plan.hospital.staff[self.idx].login.clone();
        self.res.log.cursor = self
            .client
            .as_ref()
            .map(|c| c.cursor)
            .unwrap_or(self.cursor);
        self.res.log.duplicates = self.duplicates;
        self.disconnect();
    }
}

/// Runs a night (or, with `plan.params.chaos`, a chaos run) against `hub`.
pub async fn run(
    hub: &mut SimHub,
    plan: NightPlan,
    password: &str,
    show_progress: bool,
) -> anyhow::Result<RunReport> {
    let plan = Arc::new(plan);
    let p = &plan.params;
    let mut report = RunReport::new(
        if p.chaos { "chaos" } else { "night" },
        p.seed,
        serde_json::to_value(p)?,
    );
    report.notes.push(format!(
        "plan fingerprint {:016x}: {} wards, {} beds, {} handhelds, {} raises, {} outages, {} hub kills planned",
        plan.fingerprint(),
        plan.hospital.wards.len(),
        plan.hospital.total_beds(),
        plan.hospital.staff.len(),
        plan.raises.len(),
        plan.outages.len(),
        plan.kills.len()
    ));
    let base = hub.base();
    let coord = plan
        .hospital
        .staff
        .last()
        .map(|s| s.login.clone())
        .context("empty hospital")?;
    super::hubctl::wait_for_roster(&base, &coord, password).await?;
    // Log everyone in (argon2 makes this the slow part of the setup).
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for s in &plan.hospital.staff {
        let token = login(&base, &s.login, password).await?;
        let c = Client::connect(&base, &token, 0).await?;
        ids.push(c.id());
        c.close().await;
        tokens.push(token);
    }
    let patients = match tokens.last() {
        Some(token) if !plan.patients.is_empty() => admit_all(&base, token, &plan).await?,
        _ => Vec::new(),
    };
    let patient_index = patients.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let live = Arc::new(Live::default());
    let t0 = Instant::now() + Duration::from_millis(200);
    let sh = Arc::new(Shared {
        plan: plan.clone(),
        base,
        live: live.clone(),
        sent: Mutex::new(HashMap::new()),
        ids,
        trace: std::env::var("WARDPAGE_SIM_TRACE").ok(),
        patients,
        patient_index,
    });
    let end = t0 + Duration::from_secs_f64(p.night_secs);
    let n = plan.hospital.staff.len();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let bar = if show_progress {
        Some(stats::progress(report.scenario.as_str()))
    } else {
        None
    };
    let timeline = stats::Timeline::start(live.clone(), Duration::from_millis(500), bar.clone());
    let mut handles = Vec::new();
    for (idx, token) in tokens.into_iter().enumerate() {
        let mut agenda = Vec::new();
        for (i, r) in plan.raises.iter().enumerate().filter(|(_, r)| r.by == idx) {
            agenda.push((t0 + Duration::from_millis(r.at_ms), Action::Raise(i)));
        }
        for (i, o) in plan
            .outages
            .iter()
            .enumerate()
            .filter(|(_, o)| o.staff == idx)
        {
            agenda.push((t0 + Duration::from_millis(o.at_ms), Action::Outage(i)));
        }
        for (i, set) in plan.sets.iter().enumerate() {
            if plan.patients[set.patient].nurse == idx {
                agenda.push((t0 + Duration::from_millis(set.at_ms), Action::Observe(i)));
            }
        }
        let actor = Actor {
            idx,
            sh: sh.clone(),
            token,
            client: None,
            cursor: 0,
            duplicates: 0,
            connected_since: Instant::now(),
            agenda,
            res: ActorResult::default(),
            shown: HashSet::new(),
            decided: HashSet::new(),
            views: HashMap::new(),
            reviews_seen: HashMap::new(),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(p.seed ^ idx as u64),
        };
        handles.push(tokio::spawn(actor.run(end, barrier.clone())));
    }
    // Chaos: SIGKILL the hub mid-run and restart it on the same DB and port.
    let mut restarts = Vec::new();
    for k in &plan.kills {
        if !hub.can_restart() {
            report
                .notes
                .push("hub kills skipped: the simulator did not start this hub".into());
            break;
        }
        tokio::time::sleep_until(t0 + Duration::from_millis(*k)).await;
        let t = hub.kill9_and_restart().await?;
        restarts.push(t.as_secs_f64());
    }
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await?);
    }
    report.timeline = timeline.finish();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report.duration_s = t0.elapsed().as_secs_f64();
    let mut acked = Vec::new();
    let mut logs = Vec::new();
    let mut delivery = Samples::default();
    let mut ack_lat = Samples::default();
    let (mut open, mut closed, mut accept_ms, mut resumed, mut noa) =
        (HashSet::new(), HashSet::new(), Vec::new(), 0, 0);
    let mut coordinator_seen = false;
    let mut escalations = 0;
    let mut sets = Vec::new();
    let mut set_problems = Vec::new();
    let mut accepted = HashMap::new();
    let mut tracker = None;
    let mut open_reviews = Vec::new();
    for (idx, r) in results.into_iter().enumerate() {
        sets.extend(r.sets);
        set_problems.extend(r.set_problems);
        accepted.extend(r.accepted_reviews);
        acked.extend(r.acked);
        delivery.extend(r.delivery_latency);
        ack_lat.extend(r.ack_latency);
        resumed += r.resumed_deliveries;
        report.notes.extend(r.raise_problems);
        if plan.hospital.staff[idx].role == wardpage_proto::Role::Coordinator {
            coordinator_seen = true;
            open = r.open;
            closed = r.closed;
            accept_ms = r.accept_ms;
            noa = r.no_one_accepted;
            escalations = r.escalations.len() as u64;
            // The stream order is checked only if it reached the top.
            if r.log.resumed {
                tracker = Some(r.episodes);
            }
            open_reviews = r.open_tasks;
        }
        logs.push(r.log);
    }
    report.invariants = ledger::check(&acked, &logs);
    if coordinator_seen {
        ledger::check_snapshot(&mut report.invariants, &acked, &open, &closed);
    }
    if !plan.sets.is_empty() {
        observations_report(
            &mut report,
            &plan,
            &sets,
            set_problems,
            &accepted,
            tracker.as_ref(),
            &open_reviews,
        );
    }
    report.raises_acked = acked.len() as u64;
    report.throughput_per_s = acked.len() as f64 / p.night_secs;
    report.deliveries = live.delivered.load(Relaxed);
    report.reconnects = live.reconnects.load(Relaxed);
    report.escalations = escalations;
    report.histogram = delivery.histogram();
    report.delivery_latency_ms = delivery.percentiles();
    report.ack_latency_ms = ack_lat.percentiles();
    let mut accept = Samples {
        us: accept_ms
            .iter()
            .map(|ms| (ms * p.compression() / 60_000.0 * 1000.0) as u64)
            .collect(),
    };
    report.time_to_accept_min = accept.percentiles();
    report
        .figures
        .insert("tasks planned".into(), plan.raises.len() as f64);
    report
        .figures
        .insert("deliveries replayed after an outage".into(), resumed as f64);
    report
        .figures
        .insert("tasks left with no one accepting".into(), noa as f64);
    report
        .figures
        .insert("commands refused".into(), live.errors.load(Relaxed) as f64);
    for (i, t) in restarts.iter().enumerate() {
        report
            .figures
            .insert(format!("hub restart {} to listening (s)", i + 1), *t);
    }
    Ok(report)
}

/// Admits the plan's patients, one per bed, as the coordinator; returns
/// their ids in plan order. A few sockets share the work, each with a few
/// commands in flight and under the hub's per-connection frame rate (200/s
/// after a burst of 400), which a whole site's admissions would trip.
async fn admit_all(base: &str, token: &str, plan: &NightPlan) -> anyhow::Result<Vec<PatientId>> {
    let mut set = tokio::task::JoinSet::new();
    for (part, chunk) in plan.patients.chunks(ADMIT_PER_SOCKET).enumerate() {
        let (base, token) = (base.to_owned(), token.to_owned());
        let chunk: Vec<(usize, super::obsplan::PlannedPatient)> = chunk
            .iter()
            .cloned()
            .enumerate()
            .map(|(k, p)| (part * ADMIT_PER_SOCKET + k, p))
            .collect();
        set.spawn(async move {
            let mut c = Client::connect(&base, &token, 0).await?;
            let started = Instant::now();
            let mut ids = Vec::with_capacity(chunk.len());
            for window in chunk.chunks(ADMIT_WINDOW) {
                // Past the burst, no faster than ADMIT_RATE frames a second.
                let over = ids.len().saturating_sub(ADMIT_BURST) as f64;
                tokio::time::sleep_until(started + Duration::from_secs_f64(over / ADMIT_RATE))
                    .await;
                let mut sent = Vec::new();
                for (i, p) in window {
                    let cmd = Command::AdmitPatient {
                        ward: WardId(p.ward.clone()),
                        bed: p.bed.clone(),
                        patient: p.details(*i),
                    };
                    sent.push((*i, c.send(cmd).await?));
                }
                for (i, id) in sent {
                    match c.reply(id).await? {
                        Ok(CommandResult::Patient { patient }) => ids.push((i, patient.id)),
                        Ok(other) => anyhow::bail!("admit_patient answered {other:?}"),
                        Err(e) => anyhow::bail!("admit_patient refused: {e}"),
                    }
                }
            }
            c.close().await;
            anyhow::Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(plan.patients.len());
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, id)| id).collect())
}

/// The NEWS2 part of a night's report: the episode check, and the times
/// from a triggering set to its review being accepted.
fn observations_report(
    report: &mut RunReport,
    plan: &NightPlan,
    sets: &[SetOutcome],
    problems: Vec<String>,
    accepted: &HashMap<TaskId, Instant>,
    tracker: Option<&EpisodeTracker>,
    open_reviews: &[TaskView],
) {
    let inv = &mut report.invariants;
    episodes::check(inv, sets, tracker, open_reviews);
    if tracker.is_none() {
        report.notes.push(
            "the coordinator did not resume: review episodes checked from answers only".into(),
        );
    }
    let times = episodes::accept_times(sets, accepted, plan.params.compression());
    let (mut five, mut seven) = (times.five, times.seven);
    report.latency(
        "NEWS2 5+ set -> review accepted",
        "sim min",
        five.percentiles(),
    );
    report.latency(
        "NEWS2 7+ set -> review accepted",
        "sim min",
        seven.percentiles(),
    );
    let reviews: HashSet<TaskId> = sets.iter().filter_map(|s| s.review).collect();
    let misscored = sets.iter().filter(|s| s.total != Some(s.planned)).count();
    let f = &mut report.figures;
    f.insert("patients admitted".into(), plan.patients.len() as f64);
    f.insert("NEWS2 sets planned".into(), plan.sets.len() as f64);
    f.insert("NEWS2 sets recorded".into(), sets.len() as f64);
    f.insert(
        "NEWS2 sets at 5+".into(),
        sets.iter().filter(|s| s.total >= Some(5)).count() as f64,
    );
    f.insert(
        "NEWS2 sets at 7+".into(),
        sets.iter().filter(|s| s.total >= Some(7)).count() as f64,
    );
    f.insert("review tasks".into(), reviews.len() as f64);
    f.insert("reviews accepted".into(), accepted.len() as f64);
    f.insert(
        "7+ sets after the review was accepted".into(),
        times.seven_after_accept as f64,
    );
    f.insert("NEWS2 sets scored off plan".into(), misscored as f64);
    f.insert(
        "NEWS2 sets refused or unanswered".into(),
        problems.len() as f64,
    );
    report.notes.extend(problems.into_iter().take(10));
}
