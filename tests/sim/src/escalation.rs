//! `escalation`: how late each escalation fires after its due time, with
//! many live tasks on staggered deadlines, and optionally a SIGKILL and
//! restart of the hub in the middle of the firing window.
//!
//! The hub runs one policy: every task re-alerts `after_secs` after it was
//! raised (the step measured), then goes to the coordinator an hour later
//! (so nothing else fires during a run). The nurses of a pairs hospital
//! raise the tasks evenly over `spread_secs`; nobody accepts, so every task
//! must escalate exactly once. A site coordinator, who hears of every task
//! and every escalation, measures two figures per task: the hub's own
//! escalation time against the due time (how late the hub's timer fired)
//! and the arrival at the coordinator against it (what a person sees).

use super::hospital::{site_coordinator, Hospital};
use super::hubctl::{HubChoice, SimHub};
use super::ledger::{self, AckedRaise};
use super::load::Rig;
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use anyhow::Context;
use serde::Serialize;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wardpage_proto::{CommandResult, Event, Role, TaskId};
use wardpage_server::clock::now_ms;
use wardpage_tests::story::needs_role;
use wardpage_tests::Client;

/// The coordinator's login (see [`site_coordinator`]).
const COORDINATOR: &str = "coord";
/// Events between the coordinator's cumulative acks.
const ACK_EVERY: u64 = 1000;
/// How long after the last due time the run waits for stragglers.
const GRACE_SECS: u64 = 120;

#[derive(Debug, Clone, Serialize)]
pub struct EscalationParams {
    /// Tasks raised in all.
    pub tasks: u64,
    /// Seconds from a raise to its escalation.
    pub after_secs: u64,
    /// Seconds over which the raises (and so the due times) are spread.
    pub spread_secs: u64,
    /// SIGKILL and restart the hub halfway through the firing window.
    pub restart: bool,
    /// Raising nurses, one connection each (each stays well inside the
    /// hub's per-connection frame limit).
    pub pairs: usize,
}

impl EscalationParams {
    /// The hub's `[[escalation.task]]` policy for the run. Nobody the tasks
    /// are offered to is connected, so `nobody_connected = "wait"`: the run
    /// times the step at its due time, not the fall-through at the raise.
    fn policy(&self) -> String {
        format!(
            "\n[escalation]\nnobody_connected = \"wait\"\n\n[[escalation.task]]\nname = \"measured\"\n\
             accept = {{ steps = [{{ action = \"realert\", after_secs = {} }}, {{ action = \"coordinator\", after_secs = 3600 }}] }}\n\
             complete = {{ steps = [{{ action = \"coordinator\", after_secs = 3600 }}] }}\n",
            self.after_secs
        )
    }

    /// Raises for nurse `k`: the tasks shared out as evenly as they go.
    fn share(&self, k: usize) -> u64 {
        let pairs = self.pairs.max(1) as u64;
        self.tasks / pairs + u64::from((k as u64) < self.tasks % pairs)
    }
}

/// The pairs hospital and a site coordinator covering every ward.
fn hospital(pairs: usize) -> Hospital {
    let mut h = Hospital::pairs(pairs);
    let coord = site_coordinator(&h.wards);
    h.staff.push(coord);
    h
}

/// What one nurse raised.
struct Raised {
    tasks: Vec<TaskId>,
    refused: u64,
}

/// The coordinator's view of the run: which tasks escalated, and how late.
struct Watch {
    coord: Client,
    token: String,
    after_ms: i64,
    /// Task -> (hub's escalation time, arrival here), ms after the due time.
    fired: HashMap<TaskId, (i64, i64)>,
    twice: Vec<TaskId>,
    events: u64,
    /// SIGKILL to the coordinator resumed, and spawn to listening.
    restart: Option<(Duration, Duration)>,
}

/// `escalation`: raise, wait for every escalation, check and report.
pub async fn run(
    choice: &HubChoice,
    p: EscalationParams,
    password: &str,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport::new("escalation", 0, serde_json::to_value(&p)?);
    let hub =
        SimHub::start_configured(choice, &hospital(p.pairs), password, None, &p.policy()).await?;
    anyhow::ensure!(
        !p.restart || hub.can_restart(),
        "--restart needs a hub the simulator started (--hub spawn)"
    );
    let mut rig = Rig::log_in(hub, p.pairs, password).await?;
    let base = rig.hub.base();
    let token = wardpage_tests::client::login(&base, COORDINATOR, password).await?;
    let mut watch = Watch {
        coord: Client::connect(&base, &token, 0).await?,
        token,
        after_ms: p.after_secs as i64 * 1000,
        fired: HashMap::new(),
        twice: Vec::new(),
        events: 0,
        restart: None,
    };
    let live = Arc::new(Live::default());
    let bar = stats::progress("escalation");
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let started = Instant::now();
    let raisers = spawn_raisers(&rig, &p, &live);
    let outcome = watch.until_all_fired(&mut rig, &p, raisers, &live).await;
    report.timeline = timeline.finish();
    bar.finish_and_clear();
    let (raised, raising) = outcome?;
    report.duration_s = started.elapsed().as_secs_f64();
    let acked: Vec<AckedRaise> = raised
        .iter()
        .flat_map(|r| r.tasks.iter())
        .map(|&task| AckedRaise {
            task,
            candidates: vec![],
        })
        .collect();
    let open = watch.open_tasks().await?;
    rig.hub.stop().await?;
    report.invariants = ledger::check(&acked, &[]);
    ledger::check_snapshot(&mut report.invariants, &acked, &open, &HashSet::new());
    let fired: HashSet<TaskId> = watch.fired.keys().copied().collect();
    ledger::check_escalations(&mut report.invariants, &acked, &fired, &watch.twice);
    report.raises_acked = acked.len() as u64;
    report.throughput_per_s = acked.len() as f64 / raising.as_secs_f64().max(1e-9);
    report.figures.insert(
        "raises refused".into(),
        raised.iter().map(|r| r.refused).sum::<u64>() as f64,
    );
    report
        .figures
        .insert("raising took (s)".into(), raising.as_secs_f64());
    watch.fill(&mut report);
    Ok(report)
}

/// A raiser per nurse, the share of each paced evenly over the spread and
/// the nurses offset from each other, so the due times are staggered.
fn spawn_raisers(
    rig: &Rig,
    p: &EscalationParams,
    live: &Arc<Live>,
) -> Vec<JoinHandle<anyhow::Result<Raised>>> {
    let base = rig.hub.base();
    let start = Instant::now();
    let n = rig.pairs.len().max(1) as f64;
    rig.pairs
        .iter()
        .enumerate()
        .map(|(k, (ntok, _, ward))| {
            let per = p.share(k);
            let pace = Duration::from_secs_f64(p.spread_secs as f64 / per.max(1) as f64);
            let first = start + pace.mul_f64(k as f64 / n);
            tokio::spawn(raiser(
                base.clone(),
                ntok.clone(),
                ward.clone(),
                per,
                (first, pace),
                live.clone(),
            ))
        })
        .collect()
}

/// One nurse raising `per` tasks on `ward`, the i-th at `first + i * pace`.
async fn raiser(
    base: String,
    token: String,
    ward: String,
    per: u64,
    (first, pace): (Instant, Duration),
    live: Arc<Live>,
) -> anyhow::Result<Raised> {
    let mut c = Client::connect_fresh(&base, &token).await?;
    live.connections.fetch_add(1, Relaxed);
    let mut out = Raised {
        tasks: Vec::with_capacity(per as usize),
        refused: 0,
    };
    for i in 0..per {
        tokio::time::sleep_until(first + pace.mul_f64(i as f64)).await;
        match c.command(needs_role(&ward, Role::Fy1)).await? {
            Ok(CommandResult::Task { task }) => {
                out.tasks.push(task.id);
                live.acked.fetch_add(1, Relaxed);
            }
            _ => out.refused += 1,
        }
        // Read as we go: a client that stops reading is disconnected as a
        // slow consumer.
        while c.next_event_within(Duration::ZERO).await?.is_some() {}
    }
    c.close().await;
    live.connections.fetch_sub(1, Relaxed);
    Ok(out)
}

impl Watch {
    /// Reads the coordinator's stream until every raised task has
    /// escalated or the grace time is over, restarting the hub halfway
    /// through the firing window when asked. Returns what the nurses
    /// raised and how long raising took.
    async fn until_all_fired(
        &mut self,
        rig: &mut Rig,
        p: &EscalationParams,
        mut raisers: Vec<JoinHandle<anyhow::Result<Raised>>>,
        live: &Live,
    ) -> anyhow::Result<(Vec<Raised>, Duration)> {
        let started = Instant::now();
        let last_due = started + Duration::from_secs(p.after_secs + p.spread_secs);
        let restart_at = started
            + Duration::from_secs(p.after_secs)
            + Duration::from_secs_f64(p.spread_secs as f64 / 2.0);
        let mut restarted = !p.restart;
        let mut raised: Option<(Vec<Raised>, Duration)> = None;
        while Instant::now() < last_due + Duration::from_secs(GRACE_SECS) {
            if raised.is_none() && raisers.iter().all(|h| h.is_finished()) {
                let mut all = Vec::new();
                for (k, h) in raisers.drain(..).enumerate() {
                    all.push(h.await?.with_context(|| format!("raiser n{k}"))?);
                }
                raised = Some((all, started.elapsed()));
            }
            if let Some((all, _)) = &raised {
                let expected: usize = all.iter().map(|r| r.tasks.len()).sum();
                if self.fired.len() >= expected {
                    break;
                }
                // Only once raising is over: a raiser's command in flight
                // across the kill would fail the run, not measure it.
                if !restarted && Instant::now() >= restart_at {
                    restarted = true;
                    self.kill_and_restart(rig).await?;
                }
            }
            self.next(live).await?;
        }
        raised.context("the nurses had not finished raising by the end of the run")
    }

    /// Files the coordinator's next event, if one comes within 200 ms.
    async fn next(&mut self, live: &Live) -> anyhow::Result<()> {
        let Some((_, e)) = self
            .coord
            .next_event_within(Duration::from_millis(200))
            .await?
        else {
            return Ok(());
        };
        self.events += 1;
        if let Event::TaskEscalated { task, level: 1, .. } = e {
            let due = task.raised_at + self.after_ms;
            match self.fired.entry(task.id) {
                Entry::Vacant(v) => {
                    v.insert((task.updated_at - due, now_ms() - due));
                    live.delivered.fetch_add(1, Relaxed);
                }
                Entry::Occupied(_) => self.twice.push(task.id),
            }
        }
        if self.events.is_multiple_of(ACK_EVERY) {
            self.coord.ack().await?;
        }
        Ok(())
    }

    /// SIGKILL, restart on the same database and port, and resume the
    /// coordinator from its cursor.
    async fn kill_and_restart(&mut self, rig: &mut Rig) -> anyhow::Result<()> {
        let cursor = self.coord.cursor;
        let t = Instant::now();
        let listening = rig.hub.kill9_and_restart().await?;
        self.coord = Client::connect(&rig.hub.base(), &self.token, cursor).await?;
        self.restart = Some((t.elapsed(), listening));
        Ok(())
    }

    /// The tasks open in the coordinator's snapshot (all of them: nobody
    /// accepts), for the check that none went missing.
    async fn open_tasks(&mut self) -> anyhow::Result<HashSet<TaskId>> {
        let snapshot = self.coord.snapshot_all().await?;
        Ok(snapshot.tasks.iter().map(|t| t.id).collect())
    }

    /// The lateness figures and histogram.
    fn fill(&self, report: &mut RunReport) {
        let late = |pick: fn(&(i64, i64)) -> i64| {
            let mut s = Samples::default();
            for v in self.fired.values() {
                s.push(Duration::from_millis(pick(v).max(0) as u64));
            }
            s
        };
        let mut hub = late(|v| v.0);
        let mut seen = late(|v| v.1);
        report.escalations = self.fired.len() as u64;
        report.histogram = hub.histogram();
        report.histogram_title = "Escalation fired after its due time (hub clock)".into();
        report.delivered_label = "escalations seen/s".into();
        report.latency(
            "escalation fired after due (hub clock)",
            "ms",
            hub.percentiles(),
        );
        report.latency(
            "escalation seen by the coordinator after due",
            "ms",
            seen.percentiles(),
        );
        if let Some(min) = self.fired.values().map(|v| v.0).min() {
            // Below zero would be an escalation before its time.
            report
                .figures
                .insert("escalation fired after due, min (ms)".into(), min as f64);
        }
        if let Some((resumed, listening)) = self.restart {
            report.reconnects = 1;
            report.figures.insert(
                "restart: SIGKILL to coordinator resumed (ms)".into(),
                resumed.as_secs_f64() * 1000.0,
            );
            report.figures.insert(
                "restart: spawn to listening (s)".into(),
                listening.as_secs_f64(),
            );
        }
    }
}
