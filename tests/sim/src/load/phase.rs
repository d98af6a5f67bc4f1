//! One load phase on a [`Rig`]: a receiver per doctor welcomed first, then a
//! raiser per nurse, the hub's CPU sampled over the measured window, and
//! everything the connections handed in folded into a [`RunReport`].

use super::super::hubctl::CpuUse;
use super::super::ledger;
use super::super::report::RunReport;
use super::super::stats::{self, Live, Samples};
use super::{raiser, receiver, LoadParams, RaiserResult, ReceiverResult, Rig, FRESH};
use anyhow::Context;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The outcome of one load phase, before it becomes a report.
pub struct Phase {
    pub raisers: Vec<RaiserResult>,
    pub receivers: Vec<ReceiverResult>,
    pub measured_secs: f64,
    pub elapsed: Duration,
    /// Until the last receiver had every event.
    pub elapsed_all: Duration,
    pub timeline: Vec<stats::Sample>,
    /// CPU used inside the measured window.
    pub cpu: CpuUse,
}

/// Drives every pair: a raiser per nurse and (unless `receivers` is
/// false) a receiver per doctor.
pub async fn drive(
    rig: &Rig,
    p: &LoadParams,
    receivers: bool,
    label: &str,
) -> anyhow::Result<Phase> {
    let live = Arc::new(Live::default());
    let bar = stats::progress(label);
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let expected: Vec<Arc<AtomicU64>> = rig
        .pairs
        .iter()
        .map(|_| Arc::new(AtomicU64::new(u64::MAX)))
        .collect();
    let mut rx_handles = Vec::new();
    if receivers {
        let warm = epoch + Duration::from_secs_f64(1.0 + p.warmup_secs);
        for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
            rx_handles.push(tokio::spawn(receiver(
                rig.addr,
                2 * k + 1,
                dtok.clone(),
                FRESH,
                epoch,
                warm,
                done.clone(),
                expected[k].clone(),
                live.clone(),
            )));
        }
        wait_welcomed(&live, rig.pairs.len()).await?;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let window_start = start + Duration::from_secs_f64(p.warmup_secs);
    let stop = window_start + Duration::from_secs_f64(p.secs);
    let (raisers_done, raisers_gone) = oneshot::channel::<()>();
    let cpu_probe = probe_cpu(rig, window_start, stop, raisers_gone);
    let tx_handles = spawn_raisers(rig, p, epoch, start, window_start, stop, &live);
    let mut raisers = Vec::new();
    for (k, h) in tx_handles.into_iter().enumerate() {
        let r = h.await?.with_context(|| format!("raiser n{k}"))?;
        // A doctor's stream holds exactly one event per raise in the pair.
        expected[k].store(r.acked.len() as u64, Relaxed);
        raisers.push(r);
    }
    let elapsed = start.elapsed();
    let _ = raisers_done.send(());
    let cpu = cpu_probe.await.unwrap_or_default();
    done.store(true, Relaxed);
    let mut recv = Vec::new();
    for (k, h) in rx_handles.into_iter().enumerate() {
        recv.push(h.await?.with_context(|| format!("receiver d{k}"))?);
    }
    let elapsed_all = start.elapsed();
    let timeline = timeline.finish();
    bar.finish_and_clear();
    let measured_secs = if p.max_per_raiser.is_some() {
        elapsed.as_secs_f64()
    } else {
        p.secs
    };
    Ok(Phase {
        raisers,
        receivers: recv,
        measured_secs,
        elapsed,
        elapsed_all,
        timeline,
        cpu,
    })
}

/// Raise only once every receiver is welcomed: a receiver starts from
/// the top of its stream, so one welcomed late would miss what was raised
/// before (with 256 pairs, a fixed second was sometimes not enough).
async fn wait_welcomed(live: &Live, receivers: usize) -> anyhow::Result<()> {
    let all_welcomed = Instant::now() + Duration::from_secs(60);
    while live.connections.load(Relaxed) < receivers as i64 {
        anyhow::ensure!(
            Instant::now() < all_welcomed,
            "only {} of {} receivers were welcomed within 60 s",
            live.connections.load(Relaxed),
            receivers
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// CPU over the measured window, or up to the raisers' end when they
/// stop early (a fill with a raise budget).
fn probe_cpu(
    rig: &Rig,
    window_start: Instant,
    stop: Instant,
    raisers_gone: oneshot::Receiver<()>,
) -> JoinHandle<CpuUse> {
    let hub_pid = rig.hub.proc().map(|h| h.pid);
    tokio::spawn(async move {
        tokio::time::sleep_until(window_start).await;
        let first = CpuUse::now(hub_pid);
        tokio::select! {
            _ = tokio::time::sleep_until(stop) => {}
            _ = raisers_gone => {}
        }
        CpuUse::now(hub_pid).since(first)
    })
}

/// A raiser per nurse, paced at the pair's share of `p.rate` if there is one.
fn spawn_raisers(
    rig: &Rig,
    p: &LoadParams,
    epoch: Instant,
    start: Instant,
    window_start: Instant,
    stop: Instant,
    live: &Arc<Live>,
) -> Vec<JoinHandle<anyhow::Result<RaiserResult>>> {
    let interval = p
        .rate
        .map(|r| Duration::from_secs_f64(rig.pairs.len() as f64 / r));
    let n = rig.pairs.len() as f64;
    let mut tx_handles = Vec::new();
    for (k, (ntok, _, ward)) in rig.pairs.iter().enumerate() {
        tx_handles.push(tokio::spawn(raiser(
            rig.addr,
            2 * k,
            ntok.clone(),
            ward.clone(),
            p.window,
            // Paced raisers are spread evenly over the interval; in step,
            // they would arrive as bursts of one raise per pair.
            interval.map(|iv| (iv, start + iv.mul_f64(k as f64 / n))),
            p.max_per_raiser,
            epoch,
            window_start,
            stop,
            live.clone(),
        )));
    }
    tx_handles
}

/// Folds a phase into `report`.
pub fn fill(report: &mut RunReport, phase: Phase) {
    let mut acked = Vec::new();
    let mut logs = Vec::new();
    let mut ack = Samples::default();
    let mut lat = Samples::default();
    let (mut in_window, mut refused, mut bytes) = (0u64, 0u64, 0u64);
    let mut ok_after_event = Samples::default();
    let mut event_after_ok = Samples::default();
    for r in phase.raisers {
        in_window += r.in_window;
        ok_after_event.extend(r.ok_after_event);
        event_after_ok.extend(r.event_after_ok);
        refused += r.refused;
        bytes = bytes.max(r.frame_bytes);
        acked.extend(r.acked);
        ack.extend(r.ack_latency);
        logs.push(r.log);
    }
    let mut delivered = 0;
    for r in phase.receivers {
        delivered += r.delivered;
        lat.extend(r.latency);
        logs.push(r.log);
    }
    report.invariants = ledger::check(&acked, &logs);
    report.raises_acked = acked.len() as u64;
    report.deliveries = delivered;
    report.duration_s = phase.elapsed.as_secs_f64();
    report.throughput_per_s = in_window as f64 / phase.measured_secs.max(1e-9);
    report.histogram = lat.histogram();
    report.delivery_latency_ms = lat.percentiles();
    report.ack_latency_ms = ack.percentiles();
    report.timeline = phase.timeline;
    report
        .figures
        .insert("raises refused".into(), refused as f64);
    cpu_figures(report, &phase.cpu, phase.measured_secs, in_window);
    // Both frames leave the hub after the same commit: a gap between them
    // on one connection is added by the transport.
    for (what, mut samples) in [
        ("ok after own event", ok_after_event),
        ("own event after ok", event_after_ok),
    ] {
        if let Some(p) = samples.percentiles() {
            report
                .figures
                .insert(format!("raiser: {what}, count"), p.count as f64);
            report
                .figures
                .insert(format!("raiser: {what}, p50 (ms)"), p.p50);
            report
                .figures
                .insert(format!("raiser: {what}, p99 (ms)"), p.p99);
        }
    }
    report
        .figures
        .insert("event frame bytes".into(), bytes as f64);
}

/// Where the machine's two cores went while the window was measured:
/// the hub's CPU per durable raise is the figure that does not move
/// with how many raises the simulator could offer.
fn cpu_figures(report: &mut RunReport, cpu: &CpuUse, measured_secs: f64, in_window: u64) {
    let secs = measured_secs.max(1e-9);
    if let Some(hub) = cpu.hub {
        report.figures.insert("hub cores busy".into(), hub / secs);
        if in_window > 0 {
            report.figures.insert(
                "hub CPU per raise (us)".into(),
                hub / in_window as f64 * 1e6,
            );
        }
    }
    if let Some(sim) = cpu.sim {
        report
            .figures
            .insert("simulator cores busy".into(), sim / secs);
    }
    if let Some(all) = cpu.machine {
        report
            .figures
            .insert("machine cores busy".into(), all / secs);
    }
}
