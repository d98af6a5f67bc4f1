//! The `night` and `chaos` scenarios: every member of the night team holds
//! one handheld, driven by the shared [`wardpage_tests::Client`] through the seeded
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

//!
//! The handheld, [`Actor`], is declared here and its behaviour lives in the
//! submodules: [`connection`] (reconnecting, the outbox), [`agenda`] (its
//! timetable and main loop), [`staff`] (what the person holding it does),
//! [`closing`] (the final snapshot and read to the top). [`admit`] admits
//! the patients before the night and [`checks`] merges and checks what
//! every handheld handed in.

mod admit;
mod agenda;
mod checks;
mod closing;
mod connection;
mod staff;

use super::episodes::{EpisodeTracker, SetOutcome};
use super::hubctl::SimHub;
use super::ledger::{AckedRaise, DeviceLog};
use super::plan::NightPlan;
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use anyhow::Context;
use rand::SeedableRng;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{PatientId, StaffId, TaskId, TaskState, TaskView};
use wardpage_tests::client::login;
use wardpage_tests::Client;

/// After the night ends, how long stragglers may take to finish a command.
const GRACE: Duration = Duration::from_millis(1500);
/// How long a handheld keeps trying to reconnect before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(60);
/// Where a planned raise names itself (the hub shows the bed's patient in
/// `patient` when the bed has one).
const RAISE_TAG: &str = "Simulated night, raise N";
/// Decision draws for review tasks start here, clear of raise indices.
const REVIEW_DRAWS: usize = 1 << 40;

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
    fn new(idx: usize, sh: Arc<Shared>, token: String, agenda: Vec<(Instant, Action)>) -> Actor {
        let seed = sh.plan.params.seed ^ idx as u64;
        Actor {
            idx,
            sh,
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
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
        }
    }

    fn is_coordinator(&self) -> bool {
        self.sh.plan.hospital.staff[self.idx].role == wardpage_proto::Role::Coordinator
    }

    /// `WARDPAGE_SIM_TRACE=<login>` prints that handheld's connects,
    /// failures and events to stderr, for debugging a broken invariant.
    fn traced(&self) -> bool {
        self.sh.trace.as_deref() == Some(self.sh.plan.hospital.staff[self.idx].login.as_str())
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
    let (tokens, ids) = log_everyone_in(&base, &plan, password).await?;
    let patients = match tokens.last() {
        Some(token) if !plan.patients.is_empty() => admit::admit_all(&base, token, &plan).await?,
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
    let barrier = Arc::new(tokio::sync::Barrier::new(plan.hospital.staff.len()));
    let bar = if show_progress {
        Some(stats::progress(report.scenario.as_str()))
    } else {
        None
    };
    let timeline = stats::Timeline::start(live.clone(), Duration::from_millis(500), bar.clone());
    let mut handles = Vec::new();
    for (idx, token) in tokens.into_iter().enumerate() {
        let actor = Actor::new(idx, sh.clone(), token, agenda_for(&plan, idx, t0));
        handles.push(tokio::spawn(actor.run(end, barrier.clone())));
    }
    let restarts = kill_during(hub, &plan, t0, &mut report).await?;
    let mut results = Vec::new();
    for h in handles {
        results.push(h.await?);
    }
    report.timeline = timeline.finish();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    report.duration_s = t0.elapsed().as_secs_f64();
    let totals = checks::gather(&plan, results);
    checks::fill(&mut report, &plan, totals, &live, &restarts);
    Ok(report)
}

/// Logs everyone in (argon2 makes this the slow part of the setup) and
/// learns each one's staff id; returns their tokens and ids in staff order.
async fn log_everyone_in(
    base: &str,
    plan: &NightPlan,
    password: &str,
) -> anyhow::Result<(Vec<String>, Vec<StaffId>)> {
    let coord = plan
        .hospital
        .staff
        .last()
        .map(|s| s.login.clone())
        .context("empty hospital")?;
    super::hubctl::wait_for_roster(base, &coord, password).await?;
    let mut tokens = Vec::new();
    let mut ids = Vec::new();
    for s in &plan.hospital.staff {
        let token = login(base, &s.login, password).await?;
        let c = Client::connect(base, &token, 0).await?;
        ids.push(c.id());
        c.close().await;
        tokens.push(token);
    }
    Ok((tokens, ids))
}

/// Handheld `idx`'s planned raises, outages and sets, from `t0`.
fn agenda_for(plan: &NightPlan, idx: usize, t0: Instant) -> Vec<(Instant, Action)> {
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
    agenda
}

/// Chaos: SIGKILLs the hub at each planned time and restarts it on the same
/// database and port; returns each restart's time to listening, in seconds.
async fn kill_during(
    hub: &mut SimHub,
    plan: &NightPlan,
    t0: Instant,
    report: &mut RunReport,
) -> anyhow::Result<Vec<f64>> {
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
    Ok(restarts)
}
