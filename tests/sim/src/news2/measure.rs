//! The measurement of `news2`: the nurses' and doctors' results merged,
//! the latencies cut to the sets and raises sent inside the measured
//! window, checked against the ledger and the one-review rule, and the
//! issue's goal (set to review offered within raise to candidate) reported.

use super::super::hubctl::CpuUse;
use super::super::ledger;
use super::super::report::RunReport;
use super::super::stats::Samples;
use super::doctor::DoctorResult;
use super::nurse::NurseResult;
use super::{News2Params, Timed};

/// The samples sent inside the measured window `(from, to)`.
fn in_window(timed: &Timed, (from, to): (u64, u64)) -> Samples {
    Samples {
        us: timed
            .iter()
            .filter(|(sent, _)| (from..to).contains(sent))
            .map(|(_, lat)| *lat)
            .collect(),
    }
}

/// Merges the results, checks them and writes the figures into `report`;
/// `window_us` is the measured window in microseconds since the epoch.
pub(super) fn fill(
    report: &mut RunReport,
    p: &News2Params,
    (nurses, doctors): (Vec<NurseResult>, Vec<DoctorResult>),
    window_us: (u64, u64),
    cpu: CpuUse,
    patients: usize,
) {
    let mut acked = Vec::new();
    let mut logs = Vec::new();
    let (mut raise_ok, mut set_ok) = (Samples::default(), Samples::default());
    let (mut sets_ok, mut triggering, mut refused) = (0u64, 0u64, 0u64);
    let mut broken = Vec::new();
    for n in nurses {
        acked.extend(n.acked);
        raise_ok.extend(n.raise_ok);
        set_ok.extend(n.set_ok);
        sets_ok += n.sets_ok;
        triggering += n.triggering;
        refused += n.refused;
        broken.extend(n.broken);
        logs.push(n.log);
    }
    let (mut raised, mut rescored, mut delivery) =
        (Samples::default(), Samples::default(), Samples::default());
    let mut stale = 0;
    for d in doctors {
        raised.extend(in_window(&d.offered_raised, window_us));
        rescored.extend(in_window(&d.offered_rescored, window_us));
        delivery.extend(in_window(&d.raise_delivery, window_us));
        stale += d.stale;
        logs.push(d.log);
    }
    report.invariants = ledger::check(&acked, &logs);
    report.invariants.triggering_sets = triggering;
    for b in broken {
        report.invariants.review_broken(b);
    }
    let mut offered = raised.clone();
    offered.extend(rescored.clone());
    report.histogram = offered.histogram();
    report.histogram_title = "NEWS2 set (5) to review offered to the FY1".into();
    report.delivered_label = "review offers + raise deliveries/s".into();
    let offered_p = offered.percentiles();
    let delivery_p = delivery.percentiles();
    report.delivery_latency_ms = delivery_p;
    report.ack_latency_ms = raise_ok.percentiles();
    report.latency("set -> review offered (all)", "ms", offered_p);
    report.latency("set -> review offered (raised)", "ms", raised.percentiles());
    report.latency(
        "set -> review offered (rescored)",
        "ms",
        rescored.percentiles(),
    );
    report.latency("set -> ok (durable)", "ms", set_ok.percentiles());
    report.raises_acked = acked.len() as u64;
    report.deliveries = delivery.us.len() as u64;
    let window = p.secs + p.warmup_secs;
    report.throughput_per_s = (sets_ok + acked.len() as u64) as f64 / window.max(1e-9);
    let f = &mut report.figures;
    f.insert("offered rate (sets/s)".into(), p.rate);
    f.insert("offered rate (raises/s)".into(), p.raise_rate);
    f.insert("patients admitted".into(), patients as f64);
    f.insert("NEWS2 sets acknowledged".into(), sets_ok as f64);
    f.insert("NEWS2 sets/s acknowledged".into(), sets_ok as f64 / window);
    f.insert("commands refused".into(), refused as f64);
    f.insert(
        "review events after the next set (not timed)".into(),
        stale as f64,
    );
    if let (Some(o), Some(d)) = (offered_p, delivery_p) {
        goal_figures(report, o.p99, d.p99);
    }
    cpu_figures(report, &cpu, p.secs);
}

/// The goal: a set's review offered within the p99 of a raise
/// reaching its candidate, measured in the same run.
fn goal_figures(report: &mut RunReport, offered_p99: f64, delivery_p99: f64) {
    let f = &mut report.figures;
    f.insert(
        "goal: set->offered p99 / raise->candidate p99".into(),
        offered_p99 / delivery_p99,
    );
    let met = offered_p99 <= delivery_p99;
    f.insert("goal met (1 = yes)".into(), f64::from(u8::from(met)));
    report.notes.push(format!(
        "goal {}: set -> review offered p99 {:.2} ms against raise -> candidate p99 {:.2} ms",
        if met { "met" } else { "NOT met" },
        offered_p99,
        delivery_p99
    ));
}

/// Cores busy over the measured seconds (warm-up excluded).
fn cpu_figures(report: &mut RunReport, cpu: &CpuUse, secs: f64) {
    let f = &mut report.figures;
    let secs = secs.max(1e-9);
    if let Some(hub) = cpu.hub {
        f.insert("hub cores busy".into(), hub / secs);
    }
    if let Some(sim) = cpu.sim {
        f.insert("simulator cores busy".into(), sim / secs);
    }
    if let Some(all) = cpu.machine {
        f.insert("machine cores busy".into(), all / secs);
    }
}
