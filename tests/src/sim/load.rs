//! The load scenarios on the "pairs" hospital (ward `pK`, raiser `nK`, one
//! candidate `dK`): `throughput` (closed loop, as many durable raises per
//! second as the hub acknowledges), `latency` (open loop at a paced rate,
//! raise-to-candidate delivery percentiles) and `restart` (fill the hub with
//! open tasks, SIGKILL it, time the restart and replay everything).
//!
//! Each nurse and each doctor holds exactly one lean [`super::link`]
//! connection, so every raise is two deliveries, and each connection stays
//! under the hub's 200 frames/s limit by pacing itself.

use super::hubctl::{CpuUse, HubChoice, SimHub};
use super::ledger::{self, AckedRaise, DeviceLog};
use super::link::{self, Incoming, StreamState};
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::CommandId;

/// Frames per second one connection allows itself (the hub's limit is 200).
const CONN_RATE: f64 = 180.0;
/// Events between cumulative acks.
const ACK_EVERY: u64 = 100;
/// A cursor beyond any stream: the hub answers `resync` with the top, so a
/// device starts from now instead of replaying earlier runs.
pub const FRESH: u64 = u64::MAX / 2;

#[derive(Debug, Clone, Serialize)]
pub struct LoadParams {
    pub pairs: usize,
    /// Measured seconds (after warm-up).
    pub secs: f64,
    pub warmup_secs: f64,
    /// Raises in flight per raiser (closed loop).
    pub window: usize,
    /// Aggregate raises per second (open loop); `None` for closed loop.
    pub rate: Option<f64>,
    /// Stop each raiser after this many raises (restart fill).
    pub max_per_raiser: Option<u64>,
}

/// The hub and its logged-in pairs.
pub struct Rig {
    pub hub: SimHub,
    pub addr: SocketAddr,
    /// (nurse token, doctor token, ward) per pair.
    pub pairs: Vec<(String, String, String)>,
}

impl Rig {
    pub async fn start(
        choice: &HubChoice,
        pairs: usize,
        password: &str,
        db: Option<&std::path::Path>,
    ) -> anyhow::Result<Rig> {
        let hospital = super::hospital::Hospital::pairs(pairs);
        Rig::start_hospital(choice, &hospital, password, db).await
    }

    /// [`Rig::start`] on a variant of the pairs hospital (its staff must be
    /// `nK` and `dK` on ward `pK`).
    pub async fn start_hospital(
        choice: &HubChoice,
        hospital: &super::hospital::Hospital,
        password: &str,
        db: Option<&std::path::Path>,
    ) -> anyhow::Result<Rig> {
        let pairs = hospital.wards.len();
        let hub = SimHub::start(choice, hospital, password, db).await?;
        let base = hub.base();
        super::hubctl::wait_for_roster(&base, "n0", password).await?;
        let addr = hub.addr()?;
        let bar = stats::counter("logging in", (pairs * 2) as u64);
        // A few logins at once: argon2 keeps the hub's cores busy anyway.
        let mut out = Vec::new();
        for chunk in (0..pairs).collect::<Vec<_>>().chunks(4) {
            let mut set = tokio::task::JoinSet::new();
            for &k in chunk {
                let base = base.clone();
                let pw = password.to_owned();
                set.spawn(async move {
                    let n = crate::client::login(&base, &format!("n{k}"), &pw).await?;
                    let d = crate::client::login(&base, &format!("d{k}"), &pw).await?;
                    anyhow::Ok((k, n, d))
                });
            }
            while let Some(r) = set.join_next().await {
                let (k, n, d) = r??;
                out.push((k, n, d, format!("p{k}")));
                bar.inc(2);
            }
        }
        bar.finish_and_clear();
        out.sort_by_key(|x| x.0);
        Ok(Rig {
            hub,
            addr,
            pairs: out.into_iter().map(|(_, n, d, w)| (n, d, w)).collect(),
        })
    }
}

/// What a raiser hands in.
#[derive(Default)]
pub struct RaiserResult {
    pub acked: Vec<AckedRaise>,
    pub ack_latency: Samples,
    /// Oks received inside the measured window.
    pub in_window: u64,
    pub refused: u64,
    pub log: DeviceLog,
    pub frame_bytes: u64,
    /// From the raiser's own `raised` event to the `ok` for the same raise
    /// on the same connection (both leave the hub after the same commit).
    pub ok_after_event: Samples,
    /// The same when the `ok` came first.
    pub event_after_ok: Samples,
}

/// Token bucket on the client side so a connection never trips the hub's
/// rate limit.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            tokens: 20.0,
            at: Instant::now(),
        }
    }
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * CONN_RATE).min(20.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One raiser connection: sends raises (closed loop with `window` in
/// flight, or paced every `interval`) until `stop` or `max` raises, then
/// waits for the last replies.
#[allow(clippy::too_many_arguments)]
pub async fn raiser(
    addr: SocketAddr,
    src: usize,
    token: String,
    ward: String,
    window: usize,
    pace: Option<(Duration, Instant)>,
    max: Option<u64>,
    epoch: Instant,
    window_start: Instant,
    stop: Instant,
    live: Arc<Live>,
) -> anyhow::Result<RaiserResult> {
    // A cursor far ahead: the hub answers resync and skips old history.
    let (ws, welcome) = link::connect(addr, Some(link::source_ip(src)), &token, FRESH).await?;
    live.connections.fetch_add(1, Relaxed);
    let (mut tx, mut rx) = ws.split();
    let mut res = RaiserResult {
        log: DeviceLog {
            staff: Some(welcome.me),
            resumed: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut st = StreamState {
        cursor: welcome.top,
        ..Default::default()
    };
    let mut inflight: HashMap<CommandId, Instant> = HashMap::new();
    let mut own_event_at: HashMap<wardpage_proto::TaskId, Instant> = HashMap::new();
    let mut own_ok_at: HashMap<wardpage_proto::TaskId, Instant> = HashMap::new();
    let mut bucket = Bucket::new();
    let mut sent = 0u64;
    let interval = pace.map(|(iv, _)| iv);
    let mut next_send = pace.map(|(_, first)| first).unwrap_or_else(Instant::now);
    let mut last_ack = st.cursor;
    let tail_deadline = stop + Duration::from_secs(30);
    loop {
        let now = Instant::now();
        let sending = now < stop && max.is_none_or(|m| sent < m);
        if !sending && inflight.is_empty() {
            break;
        }
        if now > tail_deadline {
            anyhow::bail!(
                "{} raises got no reply within 30 s of the end",
                inflight.len()
            );
        }
        if sending && inflight.len() < window && now >= next_send && bucket.take() {
            let id = CommandId::new_random();
            let frame = link::raise_frame(id, &ward, epoch.elapsed().as_micros() as u64);
            tx.send(Message::Text(frame.into())).await?;
            inflight.insert(id, now);
            sent += 1;
            next_send = match interval {
                Some(iv) => next_send.max(now - iv) + iv,
                None => now,
            };
            continue;
        }
        // Wake for the next send slot or a frame, whichever is first.
        let wake = if sending && inflight.len() < window {
            next_send.max(now + Duration::from_micros(500))
        } else {
            now + Duration::from_millis(200)
        };
        let msg = match tokio::time::timeout_at(wake, rx.next()).await {
            Err(_) => continue,
            Ok(None) => anyhow::bail!("hub closed the raiser's socket"),
            Ok(Some(m)) => m?,
        };
        let Message::Text(t) = msg else { continue };
        match st.file(t.as_str())? {
            Incoming::Ok { id, task, .. } => {
                if let Some(at) = inflight.remove(&id) {
                    let t = Instant::now();
                    res.ack_latency.push(t - at);
                    if t >= window_start && t <= stop {
                        res.in_window += 1;
                    }
                    live.acked.fetch_add(1, Relaxed);
                    if let Some((task, candidates)) = task {
                        match own_event_at.remove(&task) {
                            Some(ev) => res.ok_after_event.push(t - ev),
                            None => {
                                own_ok_at.insert(task, t);
                            }
                        }
                        res.acked.push(AckedRaise { task, candidates });
                    }
                }
            }
            Incoming::Refused { id, code } => {
                inflight.remove(&id);
                res.refused += 1;
                live.errors.fetch_add(1, Relaxed);
                tracing::warn!(code, "raise refused");
            }
            Incoming::Event { task, bytes, .. } => {
                if let Some(t) = task {
                    res.log.tasks.insert(t);
                    match own_ok_at.remove(&t) {
                        Some(ok) => res.event_after_ok.push(ok.elapsed()),
                        None => {
                            own_event_at.insert(t, Instant::now());
                        }
                    }
                }
                res.frame_bytes = bytes as u64;
                if st.cursor - last_ack >= ACK_EVERY && bucket.take() {
                    tx.send(Message::Text(link::ack_frame(st.cursor).into()))
                        .await?;
                    last_ack = st.cursor;
                }
            }
            Incoming::Other => {}
        }
    }
    res.log.duplicates = st.duplicates;
    res.log.gaps = st.gaps;
    live.connections.fetch_sub(1, Relaxed);
    let _ = tx.close().await;
    Ok(res)
}

/// What a receiver hands in.
#[derive(Default)]
pub struct ReceiverResult {
    pub latency: Samples,
    /// Every `raised` event read (latency is sampled only after warm-up).
    pub delivered: u64,
    pub log: DeviceLog,
}

/// One candidate connection: reads events until `done` is set and it has
/// received `expected` new events, acking as it goes. With `cursor` =
/// [`FRESH`] it starts from the top of its stream.
#[allow(clippy::too_many_arguments)]
pub async fn receiver(
    addr: SocketAddr,
    src: usize,
    token: String,
    cursor: u64,
    epoch: Instant,
    window_start: Instant,
    done: Arc<AtomicBool>,
    expected: Arc<AtomicU64>,
    live: Arc<Live>,
) -> anyhow::Result<ReceiverResult> {
    let (ws, welcome) = link::connect(addr, Some(link::source_ip(src)), &token, cursor).await?;
    live.connections.fetch_add(1, Relaxed);
    let (mut tx, mut rx) = ws.split();
    let mut res = ReceiverResult {
        log: DeviceLog {
            staff: Some(welcome.me),
            ..Default::default()
        },
        ..Default::default()
    };
    let start = if welcome.resync { welcome.top } else { cursor };
    let mut st = StreamState {
        cursor: start,
        ..Default::default()
    };
    let mut bucket = Bucket::new();
    let mut last_ack = start;
    let mut give_up: Option<Instant> = None;
    loop {
        if done.load(Relaxed) {
            if st.cursor - start >= expected.load(Relaxed) {
                res.log.resumed = true;
                break;
            }
            let g = *give_up.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
            if Instant::now() > g {
                res.log.failure = Some(format!(
                    "stream stopped at {} of {}",
                    st.cursor - start,
                    expected.load(Relaxed)
                ));
                break;
            }
        }
        let msg = match tokio::time::timeout(Duration::from_millis(100), rx.next()).await {
            Err(_) => {
                if st.cursor > last_ack && bucket.take() {
                    tx.send(Message::Text(link::ack_frame(st.cursor).into()))
                        .await?;
                    last_ack = st.cursor;
                }
                continue;
            }
            Ok(None) => anyhow::bail!("hub closed the receiver's socket"),
            Ok(Some(m)) => m?,
        };
        let Message::Text(t) = msg else { continue };
        if let Incoming::Event {
            task,
            patient,
            change,
            ..
        } = st.file(t.as_str())?
        {
            if let Some(task) = task {
                res.log.tasks.insert(task);
            }
            if change == "raised" {
                live.delivered.fetch_add(1, Relaxed);
                res.delivered += 1;
                if let Some(sent) = link::sent_us_of(&patient) {
                    let now = epoch.elapsed().as_micros() as u64;
                    if Instant::now() >= window_start {
                        res.latency.us.push(now.saturating_sub(sent));
                    }
                }
            }
            if st.cursor - last_ack >= ACK_EVERY && bucket.take() {
                tx.send(Message::Text(link::ack_frame(st.cursor).into()))
                    .await?;
                last_ack = st.cursor;
            }
        }
    }
    res.log.duplicates = st.duplicates;
    res.log.gaps = st.gaps;
    live.connections.fetch_sub(1, Relaxed);
    let _ = tx.close().await;
    Ok(res)
}

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
        for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
            rx_handles.push(tokio::spawn(receiver(
                rig.addr,
                2 * k + 1,
                dtok.clone(),
                FRESH,
                epoch,
                epoch + Duration::from_secs_f64(1.0 + p.warmup_secs),
                done.clone(),
                expected[k].clone(),
                live.clone(),
            )));
        }
    }
    // Raise only once every receiver is welcomed: a receiver starts from
    // the top of its stream, so one welcomed late would miss what was raised
    // before (with 256 pairs, a fixed second was sometimes not enough).
    let all_welcomed = Instant::now() + Duration::from_secs(60);
    while receivers && live.connections.load(Relaxed) < rig.pairs.len() as i64 {
        anyhow::ensure!(
            Instant::now() < all_welcomed,
            "only {} of {} receivers were welcomed within 60 s",
            live.connections.load(Relaxed),
            rig.pairs.len()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    let window_start = start + Duration::from_secs_f64(p.warmup_secs);
    let stop = window_start + Duration::from_secs_f64(p.secs);
    let interval = p
        .rate
        .map(|r| Duration::from_secs_f64(rig.pairs.len() as f64 / r));
    let n = rig.pairs.len() as f64;
    let hub_pid = rig.hub.proc().map(|h| h.pid);
    // CPU over the measured window, or up to the raisers' end when they
    // stop early (a fill with a raise budget).
    let (raisers_done, raisers_gone) = tokio::sync::oneshot::channel::<()>();
    let cpu_probe = tokio::spawn(async move {
        tokio::time::sleep_until(window_start).await;
        let first = CpuUse::now(hub_pid);
        tokio::select! {
            _ = tokio::time::sleep_until(stop) => {}
            _ = raisers_gone => {}
        }
        CpuUse::now(hub_pid).since(first)
    });
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
    // Where the machine's two cores went while the window was measured:
    // the hub's CPU per durable raise is the figure that does not move
    // with how many raises the simulator could offer.
    let secs = phase.measured_secs.max(1e-9);
    if let Some(hub) = phase.cpu.hub {
        report.figures.insert("hub cores busy".into(), hub / secs);
        if in_window > 0 {
            report.figures.insert(
                "hub CPU per raise (us)".into(),
                hub / in_window as f64 * 1e6,
            );
        }
    }
    if let Some(sim) = phase.cpu.sim {
        report
            .figures
            .insert("simulator cores busy".into(), sim / secs);
    }
    if let Some(all) = phase.cpu.machine {
        report
            .figures
            .insert("machine cores busy".into(), all / secs);
    }
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

/// `throughput` or `latency`.
pub async fn run(choice: &HubChoice, p: LoadParams, password: &str) -> anyhow::Result<RunReport> {
    let scenario = if p.rate.is_some() {
        "latency"
    } else {
        "throughput"
    };
    let mut report = RunReport::new(scenario, 0, serde_json::to_value(&p)?);
    let rig = Rig::start(choice, p.pairs, password, None).await?;
    let phase = drive(&rig, &p, true, scenario).await?;
    fill(&mut report, phase);
    if let Some(rate) = p.rate {
        report
            .figures
            .insert("offered rate (raises/s)".into(), rate);
        report.throughput_per_s = report.raises_acked as f64 / (p.secs + p.warmup_secs);
    }
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS at end (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    rig.hub.stop().await?;
    Ok(report)
}

/// `restart`: fill the hub with `tasks` open tasks, SIGKILL it, and time
/// `restarts` restarts (spawn to listening line, spawn to first welcome);
/// then every doctor replays its whole stream from 0 and must find every
/// acknowledged task.
pub async fn restart(
    tasks: u64,
    pairs: usize,
    restarts: usize,
    password: &str,
) -> anyhow::Result<RunReport> {
    let p = LoadParams {
        pairs,
        secs: 3600.0,
        warmup_secs: 0.0,
        window: 64,
        rate: None,
        max_per_raiser: Some(tasks.div_ceil(pairs as u64)),
    };
    let mut report = RunReport::new(
        "restart",
        0,
        serde_json::json!({ "tasks": tasks, "pairs": pairs, "restarts": restarts }),
    );
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("restart.db");
    let mut rig = Rig::start(&HubChoice::Spawn, pairs, password, Some(&db)).await?;
    let fill_phase = drive(&rig, &p, false, "filling").await?;
    let acked: Vec<AckedRaise> = fill_phase
        .raisers
        .iter()
        .flat_map(|r| r.acked.clone())
        .collect();
    let per_pair: Vec<u64> = fill_phase
        .raisers
        .iter()
        .map(|r| r.acked.len() as u64)
        .collect();
    report.figures.insert(
        "fill rate (raises/s)".into(),
        acked.len() as f64 / fill_phase.elapsed.as_secs_f64(),
    );
    report.raises_acked = acked.len() as u64;
    let (ntok, _, _) = rig.pairs[0].clone();
    for i in 0..restarts {
        let listening = rig.hub.kill9_and_restart().await?;
        // The hub is serving once a handheld is welcomed.
        let spawned = Instant::now() - listening;
        let mut welcomed = None;
        for _ in 0..600 {
            if let Ok((mut ws, _)) = link::connect(rig.addr, None, &ntok, u64::MAX / 2).await {
                welcomed = Some(spawned.elapsed());
                let _ = ws.close(None).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        report.figures.insert(
            format!("restart {} spawn to listening (s)", i + 1),
            listening.as_secs_f64(),
        );
        report.figures.insert(
            format!("restart {} spawn to first welcome (s)", i + 1),
            welcomed.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN),
        );
    }
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS after restart (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    // Replay check: every doctor from cursor 0.
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(true));
    let epoch = Instant::now();
    let t = Instant::now();
    let mut hs = Vec::new();
    for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
        hs.push(tokio::spawn(receiver(
            rig.addr,
            k,
            dtok.clone(),
            0,
            epoch,
            epoch + Duration::from_secs(3600),
            done.clone(),
            Arc::new(AtomicU64::new(per_pair[k])),
            live.clone(),
        )));
    }
    let mut logs = Vec::new();
    for h in hs {
        logs.push(h.await??.log);
    }
    report.figures.insert(
        "replay of every stream after restart (s)".into(),
        t.elapsed().as_secs_f64(),
    );
    report.invariants = ledger::check(&acked, &logs);
    report.duration_s = fill_phase.elapsed.as_secs_f64();
    rig.hub.stop().await?;
    Ok(report)
}
