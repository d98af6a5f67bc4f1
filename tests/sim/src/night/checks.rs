//! After the night: what every handheld handed in, merged, checked against
//! the ledger's invariants (and, with observations, one review per
//! episode), and folded into the run's report.

use super::super::episodes::{self, EpisodeTracker, SetOutcome};
use super::super::ledger::{self, AckedRaise, DeviceLog};
use super::super::plan::NightPlan;
use super::super::report::RunReport;
use super::super::stats::{Live, Samples};
use super::ActorResult;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use tokio::time::Instant;
use wardpage_proto::{TaskId, TaskView};

/// The handhelds' results merged; the coordinator's own figures are taken
/// from its result alone.
#[derive(Default)]
pub(super) struct NightTotals {
    acked: Vec<AckedRaise>,
    logs: Vec<DeviceLog>,
    delivery: Samples,
    ack_lat: Samples,
    resumed: u64,
    /// Raises the hub refused or never answered, in handheld order.
    raise_problems: Vec<String>,
    sets: Vec<SetOutcome>,
    set_problems: Vec<String>,
    accepted: HashMap<TaskId, Instant>,
    coordinator_seen: bool,
    open: HashSet<TaskId>,
    closed: HashSet<TaskId>,
    accept_ms: Vec<f64>,
    no_one_accepted: u64,
    escalations: u64,
    /// The coordinator's stream order, if it reached the top.
    tracker: Option<EpisodeTracker>,
    open_reviews: Vec<TaskView>,
}

/// Merges the handhelds' results, in staff order.
pub(super) fn gather(plan: &NightPlan, results: Vec<ActorResult>) -> NightTotals {
    let mut t = NightTotals::default();
    for (idx, r) in results.into_iter().enumerate() {
        t.sets.extend(r.sets);
        t.set_problems.extend(r.set_problems);
        t.accepted.extend(r.accepted_reviews);
        t.acked.extend(r.acked);
        t.delivery.extend(r.delivery_latency);
        t.ack_lat.extend(r.ack_latency);
        t.resumed += r.resumed_deliveries;
        t.raise_problems.extend(r.raise_problems);
        if plan.hospital.staff[idx].role == wardpage_proto::Role::Coordinator {
            t.coordinator_seen = true;
            t.open = r.open;
            t.closed = r.closed;
            t.accept_ms = r.accept_ms;
            t.no_one_accepted = r.no_one_accepted;
            t.escalations = r.escalations.len() as u64;
            // The stream order is checked only if it reached the top.
            if r.log.resumed {
                t.tracker = Some(r.episodes);
            }
            t.open_reviews = r.open_tasks;
        }
        t.logs.push(r.log);
    }
    t
}

/// Checks the merged results and writes them into `report`; `restarts`
/// are the chaos restarts' times to listening, in seconds.
pub(super) fn fill(
    report: &mut RunReport,
    plan: &NightPlan,
    t: NightTotals,
    live: &Live,
    restarts: &[f64],
) {
    let p = &plan.params;
    report.notes.extend(t.raise_problems);
    report.invariants = ledger::check(&t.acked, &t.logs);
    if t.coordinator_seen {
        ledger::check_snapshot(&mut report.invariants, &t.acked, &t.open, &t.closed);
    }
    if !plan.sets.is_empty() {
        observations_report(
            report,
            plan,
            &t.sets,
            t.set_problems,
            &t.accepted,
            t.tracker.as_ref(),
            &t.open_reviews,
        );
    }
    report.raises_acked = t.acked.len() as u64;
    report.throughput_per_s = t.acked.len() as f64 / p.night_secs;
    report.deliveries = live.delivered.load(Relaxed);
    report.reconnects = live.reconnects.load(Relaxed);
    report.escalations = t.escalations;
    let mut delivery = t.delivery;
    let mut ack_lat = t.ack_lat;
    report.histogram = delivery.histogram();
    report.delivery_latency_ms = delivery.percentiles();
    report.ack_latency_ms = ack_lat.percentiles();
    // The hub stamps accepts in real time; the report speaks in the
    // simulated night's minutes.
    let mut accept = Samples {
        us: t
            .accept_ms
            .iter()
            .map(|ms| (ms * p.compression() / 60_000.0 * 1000.0) as u64)
            .collect(),
    };
    report.time_to_accept_min = accept.percentiles();
    let f = &mut report.figures;
    f.insert("tasks planned".into(), plan.raises.len() as f64);
    f.insert(
        "deliveries replayed after an outage".into(),
        t.resumed as f64,
    );
    f.insert(
        "tasks left with no one accepting".into(),
        t.no_one_accepted as f64,
    );
    f.insert("commands refused".into(), live.errors.load(Relaxed) as f64);
    for (i, secs) in restarts.iter().enumerate() {
        f.insert(format!("hub restart {} to listening (s)", i + 1), *secs);
    }
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
