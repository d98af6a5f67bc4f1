//! The `news2` scenario: is a set that triggers a review as quick to reach
//! the doctor as a raise? On the pairs hospital (ward `pK`, nurse in charge
//! `nK`, FY1 `dK`), every bed but the raise bed gets a patient; each nurse
//! sends `record_observations` round-robin over its ward's patients at a
//! paced share of `rate`, every patient alternating a low set (NEWS2 1)
//! and a 5, so its first 5 raises an urgent review and every later set
//! rescores that same task; beside them, at a smaller rate, the nurse
//! raises ordinary cannula tasks on the empty bed. The FY1 is offered both.
//!
//! Measured in the same run, after warm-up: set sent to the FY1 receiving
//! the review's `raised`/`rescored` event, and raise sent to the FY1
//! receiving the task. The goal: the first's p99 within the
//! second's. Checked: every set answered, every 5 answered with the
//! patient's one review (nobody accepts, so there is one per patient for
//! the whole run), every raise delivered, no gaps.
//!
//! [`admit`] sets the wards up, [`nurse`](mod@nurse) is the paced sending
//! loop, [`doctor`](mod@doctor) the measuring end, and [`measure`] turns
//! what they hand in into the report; this module starts them and waits.

mod admit;
mod doctor;
mod measure;
mod nurse;

use super::hospital::Hospital;
use super::hubctl::{CpuUse, HubChoice};
use super::load::Rig;
use super::report::RunReport;
use super::stats::{self, Live};
use admit::Layout;
use anyhow::Context;
use doctor::DoctorResult;
use nurse::NurseResult;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use wardpage_proto::Role;

/// Events between cumulative acks.
const ACK_EVERY: u64 = 100;
/// Frames per second one connection allows itself (the hub allows 200).
const CONN_RATE: f64 = 150.0;
/// The totals a patient alternates: a low set, then one calling for an
/// urgent review.
const LOW: u8 = 1;
const TRIGGER: u8 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct News2Params {
    /// Observation sets per second, all nurses together.
    pub rate: f64,
    /// Ordinary raises per second, all nurses together.
    pub raise_rate: f64,
    pub pairs: usize,
    pub secs: f64,
    pub warmup_secs: f64,
}

/// Per patient, the last set sent: microseconds since the epoch, shifted
/// left 8, with its total in the low byte (0: none yet).
type SentTable = Arc<Vec<AtomicU64>>;

/// (sent, latency) in microseconds: the window is applied by send time.
type Timed = Vec<(u64, u64)>;

/// When the nurses send: from `start`, measured from `window_start` to
/// `stop`; `epoch` is the zero of every microsecond time sent.
#[derive(Clone, Copy)]
struct Clock {
    epoch: Instant,
    start: Instant,
    window_start: Instant,
    stop: Instant,
}

pub async fn run(choice: &HubChoice, p: News2Params, password: &str) -> anyhow::Result<RunReport> {
    anyhow::ensure!(
        p.pairs > 0 && p.rate > 0.0,
        "news2 needs --pairs and --rate"
    );
    let per_conn = (p.rate + p.raise_rate) / p.pairs as f64;
    anyhow::ensure!(
        per_conn <= CONN_RATE,
        "{per_conn:.0} commands/s per nurse is over the {CONN_RATE} a connection allows itself: use more --pairs"
    );
    let mut report = RunReport::new("news2", 0, serde_json::to_value(&p)?);
    let hospital = Hospital::pairs_with(p.pairs, Role::NurseInCharge);
    let rig = Rig::start_hospital(choice, &hospital, password, None).await?;
    let base = rig.hub.base();
    let wards = admit::admit(&rig, &base).await?;
    let layout = Layout::of(&wards);
    let live = Arc::new(Live::default());
    let bar = stats::progress("news2");
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let expected: Vec<Arc<AtomicU64>> = (0..p.pairs)
        .map(|_| Arc::new(AtomicU64::new(u64::MAX)))
        .collect();
    let doctors = spawn_doctors(&rig, &layout, epoch, &done, &expected, &live);
    wait_welcomed(&live, p.pairs).await?;
    let start = Instant::now() + Duration::from_millis(200);
    let window_start = start + Duration::from_secs_f64(p.warmup_secs);
    let clock = Clock {
        epoch,
        start,
        window_start,
        stop: window_start + Duration::from_secs_f64(p.secs),
    };
    let cpu_probe = probe_cpu(&rig, clock);
    let nurses = spawn_nurses(&rig, &p, &wards, &layout, clock, &live);
    let mut nurse_results = Vec::new();
    for (k, h) in nurses.into_iter().enumerate() {
        let r = h.await?.with_context(|| format!("nurse n{k}"))?;
        // The FY1's stream: a patient event per set, a task event per set
        // answered with a review, and one per raise.
        expected[k].store(
            r.sets_ok + r.sets_with_review + r.acked.len() as u64,
            Relaxed,
        );
        nurse_results.push(r);
    }
    let elapsed = start.elapsed();
    let cpu = cpu_probe.await.unwrap_or_default();
    done.store(true, Relaxed);
    let mut doctor_results = Vec::new();
    for (k, h) in doctors.into_iter().enumerate() {
        doctor_results.push(h.await?.with_context(|| format!("doctor d{k}"))?);
    }
    report.timeline = timeline.finish();
    bar.finish_and_clear();
    report.duration_s = elapsed.as_secs_f64();
    let window = (
        (clock.window_start - epoch).as_micros() as u64,
        (clock.stop - epoch).as_micros() as u64,
    );
    let results = (nurse_results, doctor_results);
    measure::fill(&mut report, &p, results, window, cpu, layout.total_patients);
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS at end (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    rig.hub.stop().await?;
    Ok(report)
}

/// A doctor per pair, started from the top of its stream.
fn spawn_doctors(
    rig: &Rig,
    layout: &Layout,
    epoch: Instant,
    done: &Arc<AtomicBool>,
    expected: &[Arc<AtomicU64>],
    live: &Arc<Live>,
) -> Vec<JoinHandle<anyhow::Result<DoctorResult>>> {
    let mut doctors = Vec::new();
    for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
        doctors.push(tokio::spawn(doctor::doctor(
            rig.addr,
            2 * k + 1,
            dtok.clone(),
            epoch,
            layout.index.clone(),
            layout.sent_table.clone(),
            done.clone(),
            expected[k].clone(),
            live.clone(),
        )));
    }
    doctors
}

/// Sets are sent only once every doctor is welcomed: a doctor starts from
/// the top of its stream and would miss what came before.
async fn wait_welcomed(live: &Live, doctors: usize) -> anyhow::Result<()> {
    let welcomed_by = Instant::now() + Duration::from_secs(60);
    while live.connections.load(Relaxed) < doctors as i64 {
        anyhow::ensure!(
            Instant::now() < welcomed_by,
            "only {} of {} doctors were welcomed within 60 s",
            live.connections.load(Relaxed),
            doctors
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// The hub's CPU over the measured window.
fn probe_cpu(rig: &Rig, clock: Clock) -> JoinHandle<CpuUse> {
    let hub_pid = rig.hub.proc().map(|h| h.pid);
    tokio::spawn(async move {
        tokio::time::sleep_until(clock.window_start).await;
        let first = CpuUse::now(hub_pid);
        tokio::time::sleep_until(clock.stop).await;
        CpuUse::now(hub_pid).since(first)
    })
}

/// A nurse per pair, each sending its ward's share of the sets and raises.
fn spawn_nurses(
    rig: &Rig,
    p: &News2Params,
    wards: &[Vec<wardpage_proto::PatientId>],
    layout: &Layout,
    clock: Clock,
    live: &Arc<Live>,
) -> Vec<JoinHandle<anyhow::Result<NurseResult>>> {
    let set_every = Duration::from_secs_f64(p.pairs as f64 / p.rate);
    let raise_every =
        (p.raise_rate > 0.0).then(|| Duration::from_secs_f64(p.pairs as f64 / p.raise_rate));
    let mut nurses = Vec::new();
    for (k, (ntok, _, ward)) in rig.pairs.iter().enumerate() {
        nurses.push(tokio::spawn(nurse::nurse(
            rig.addr,
            2 * k,
            ntok.clone(),
            ward.clone(),
            wards[k].clone(),
            layout.firsts[k],
            set_every,
            raise_every,
            // Spread evenly, so the hub sees a steady rate, not bursts.
            clock.start + set_every.mul_f64(k as f64 / p.pairs as f64),
            clock.epoch,
            clock.window_start,
            clock.stop,
            layout.sent_table.clone(),
            live.clone(),
        )));
    }
    nurses
}
