//! `idle` and `storm`: tens of thousands of handhelds on a few hundred
//! logins (one token may open many connections), each a lean
//! [`super::link`] connection from its own loopback source address.
//!
//! `idle` connects them, lets them settle and reads the hub's RSS from
//! /proc to give memory per connection. `storm` raises tasks, drops every
//! connection at once, raises more while they are gone, then reconnects
//! them all at once and times how long until every handheld has resumed
//! (welcomed and replayed up to the top of its stream), checking that
//! nothing was lost.
//!
//! [`device`](mod@device) is one handheld; this module ramps the fleet up,
//! drives the storm and folds the outcome into a report.

mod device;

use super::hubctl::{rss_kib, HubChoice};
use super::ledger::{self, AckedRaise};
use super::link::{self, Incoming, StreamState};
use super::load::Rig;
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use device::{device, Device, DeviceOut, Phase};
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[derive(Debug, Clone, Serialize)]
pub struct FleetParams {
    pub connections: usize,
    /// Pairs of logins (nurse and doctor per pair) sharing the connections.
    pub pairs: usize,
    /// Seconds to hold the idle connections before measuring.
    pub settle_secs: f64,
    /// Raises per pair before the drop and while everyone is away (storm).
    pub raises_before: u64,
    pub raises_during: u64,
    /// Connections opened at once while ramping up.
    pub ramp_concurrency: usize,
    pub seed: u64,
}

/// Raises `n` cannulas on each pair's ward from a short-lived extra
/// device of each nurse; returns the acknowledged raises.
async fn raise_per_pair(rig: &Rig, n: u64) -> anyhow::Result<Vec<(usize, AckedRaise)>> {
    let mut set = tokio::task::JoinSet::new();
    for (k, (ntok, _, ward)) in rig.pairs.iter().enumerate() {
        let (addr, ntok, ward) = (rig.addr, ntok.clone(), ward.clone());
        set.spawn(async move {
            // Cursor far ahead: the hub answers resync instead of replaying.
            let (ws, _) =
                link::connect(addr, Some(link::source_ip(k)), &ntok, u64::MAX / 2).await?;
            let (mut tx, mut rx) = ws.split();
            for _ in 0..n {
                let frame = link::raise_frame(wardpage_proto::CommandId::new_random(), &ward, 0);
                tx.send(Message::Text(frame.into())).await?;
            }
            let mut st = StreamState {
                cursor: u64::MAX / 2,
                ..Default::default()
            };
            let mut got = Vec::new();
            while (got.len() as u64) < n {
                let msg = tokio::time::timeout(Duration::from_secs(30), rx.next()).await?;
                let Some(Ok(Message::Text(t))) = msg else {
                    anyhow::bail!("raiser socket closed")
                };
                match st.file(t.as_str())? {
                    Incoming::Ok {
                        task: Some((task, candidates)),
                        ..
                    } => got.push((k, AckedRaise { task, candidates })),
                    Incoming::Refused { code, .. } => anyhow::bail!("raise refused: {code}"),
                    _ => {}
                }
            }
            let _ = tx.close().await;
            anyhow::Ok(got)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    Ok(all)
}

/// `idle` (storm false) or `storm` (storm true).
pub async fn run(
    choice: &HubChoice,
    p: FleetParams,
    storm: bool,
    password: &str,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport::new(
        if storm { "storm" } else { "idle" },
        p.seed,
        serde_json::to_value(&p)?,
    );
    // Room for every socket this process holds.
    if let Ok(n) = rlimit::increase_nofile_limit(u64::MAX) {
        report.notes.push(format!("simulator open-file limit {n}"));
    }
    let rig = Rig::start(choice, p.pairs, password, None).await?;
    let users = rig.pairs.len() * 2;
    let tops: Arc<Vec<AtomicU64>> = Arc::new((0..users).map(|_| AtomicU64::new(0)).collect());
    // Let the hub finish the logins' work before the baseline.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = Memory::now(&rig);
    let live = Arc::new(Live::default());
    let bar = stats::progress(report.scenario.as_str());
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let (phase_tx, phase_rx) = watch::channel(Phase::Hold);
    let t_ramp = Instant::now();
    let handles = spawn_devices(&rig, &p, &tops, &live, phase_rx);
    let connected = ramp_up(&live, &p, t_ramp, &mut report).await;
    tokio::time::sleep(Duration::from_secs_f64(p.settle_secs)).await;
    baseline.per_connection(&Memory::now(&rig), connected, &mut report);
    let acked = if storm {
        drop_and_reconnect(&rig, &p, &tops, &live, &phase_tx, &mut report).await?
    } else {
        Vec::new()
    };
    phase_tx.send_replace(Phase::Stop);
    let mut logs = Vec::new();
    let mut resume = Samples::default();
    for h in handles {
        let out = h.await?;
        if let Some(d) = out.resume {
            resume.push(d);
        }
        logs.push(out.log);
    }
    report.timeline = timeline.finish();
    bar.finish_and_clear();
    report.duration_s = t_ramp.elapsed().as_secs_f64();
    report.invariants = ledger::check(&acked, &logs);
    report.raises_acked = acked.len() as u64;
    report.reconnects = live.reconnects.load(Relaxed);
    report.figures.insert(
        "connect failures retried".into(),
        live.errors.load(Relaxed) as f64,
    );
    if storm {
        storm_figures(&mut report, resume);
    }
    rig.hub.stop().await?;
    Ok(report)
}

/// `p.connections` devices shared round-robin over the pairs' nurses and
/// doctors, each from its own source address, ramping up
/// `p.ramp_concurrency` at a time.
fn spawn_devices(
    rig: &Rig,
    p: &FleetParams,
    tops: &Arc<Vec<AtomicU64>>,
    live: &Arc<Live>,
    phase_rx: watch::Receiver<Phase>,
) -> Vec<JoinHandle<DeviceOut>> {
    let users = rig.pairs.len() * 2;
    let ramp = Arc::new(Semaphore::new(p.ramp_concurrency.max(1)));
    (0..p.connections)
        .map(|j| {
            let user = j % users;
            let (ntok, dtok, _) = &rig.pairs[user / 2];
            let token: Arc<str> = Arc::from(if user.is_multiple_of(2) {
                ntok.as_str()
            } else {
                dtok.as_str()
            });
            let d = Device {
                addr: rig.addr,
                src: j,
                token,
                user,
            };
            tokio::spawn(device(
                d,
                phase_rx.clone(),
                tops.clone(),
                ramp.clone(),
                live.clone(),
                p.seed,
            ))
        })
        .collect()
}

/// Waits (up to 300 s) until every device is connected; notes the ramp's
/// figures and returns how many connected.
async fn ramp_up(live: &Live, p: &FleetParams, t_ramp: Instant, report: &mut RunReport) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(300);
    while (live.connections.load(Relaxed) as usize) < p.connections && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ramp_s = t_ramp.elapsed().as_secs_f64();
    let connected = live.connections.load(Relaxed);
    report
        .figures
        .insert("connections open".into(), connected as f64);
    report.figures.insert("ramp up (s)".into(), ramp_s);
    report.figures.insert(
        "connections per second while ramping".into(),
        connected as f64 / ramp_s,
    );
    connected
}

/// Resident memory of the hub (when it is our child) and the simulator.
struct Memory {
    hub_kib: Option<u64>,
    sim_kib: Option<u64>,
}

impl Memory {
    fn now(rig: &Rig) -> Memory {
        Memory {
            hub_kib: rig.hub.proc().and_then(|h| rss_kib(h.pid)),
            sim_kib: rss_kib(std::process::id()),
        }
    }

    /// Memory per connection from this baseline to `with` connections open.
    fn per_connection(&self, with: &Memory, connected: i64, report: &mut RunReport) {
        let per = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / connected.max(1) as f64;
        if let (Some(a), Some(b)) = (self.hub_kib, with.hub_kib) {
            report
                .figures
                .insert("hub RSS before (MiB)".into(), a as f64 / 1024.0);
            report
                .figures
                .insert("hub RSS with connections (MiB)".into(), b as f64 / 1024.0);
            report
                .figures
                .insert("hub KiB per connection".into(), per(a, b));
        }
        if let (Some(a), Some(b)) = (self.sim_kib, with.sim_kib) {
            report
                .figures
                .insert("simulator KiB per connection".into(), per(a, b));
        }
    }
}

/// The storm: raise, drop every connection at once, raise more while they
/// are gone, then bring everyone back at once and time until all resumed.
/// Returns every acknowledged raise.
async fn drop_and_reconnect(
    rig: &Rig,
    p: &FleetParams,
    tops: &[AtomicU64],
    live: &Live,
    phase_tx: &watch::Sender<Phase>,
    report: &mut RunReport,
) -> anyhow::Result<Vec<AckedRaise>> {
    let before = raise_per_pair(rig, p.raises_before).await?;
    // Let the live events reach everyone, then drop them all at once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    phase_tx.send_replace(Phase::Drop);
    let deadline = Instant::now() + Duration::from_secs(60);
    while live.connections.load(Relaxed) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Give the hub a moment to notice the closed sockets.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during_start = Instant::now();
    let during = raise_per_pair(rig, p.raises_during).await?;
    report.figures.insert(
        "raises while everyone was away (s)".into(),
        during_start.elapsed().as_secs_f64(),
    );
    for (k, _) in before.iter().chain(during.iter()) {
        tops[2 * k].fetch_add(1, Relaxed);
        tops[2 * k + 1].fetch_add(1, Relaxed);
    }
    // Everyone comes back at once.
    let storm_t = Instant::now();
    phase_tx.send_replace(Phase::Reconnect);
    let deadline = Instant::now() + Duration::from_secs(120);
    while (live.delivered.load(Relaxed) as usize) < p.connections && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    report.figures.insert(
        "storm: all resumed after (s)".into(),
        storm_t.elapsed().as_secs_f64(),
    );
    Ok(before.into_iter().chain(during).map(|(_, a)| a).collect())
}

/// The per-handheld resume times after the storm.
fn storm_figures(report: &mut RunReport, mut resume: Samples) {
    report.histogram = resume.histogram();
    if let Some(r) = resume.percentiles() {
        report
            .figures
            .insert("storm: resume p50 (s)".into(), r.p50 / 1000.0);
        report
            .figures
            .insert("storm: resume p99 (s)".into(), r.p99 / 1000.0);
        report
            .figures
            .insert("storm: resume max (s)".into(), r.max / 1000.0);
    }
    report
        .figures
        .insert("storm: handhelds resumed".into(), resume.us.len() as f64);
    report.histogram_title =
        "Per-handheld resume time after the storm (reconnect to caught up)".into();
    report.delivered_label = "handhelds resumed/s".into();
}
