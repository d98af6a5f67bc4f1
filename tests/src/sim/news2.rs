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

use super::hospital::Hospital;
use super::hubctl::{CpuUse, HubChoice};
use super::ledger::{self, AckedRaise, DeviceLog};
use super::link::{self, Incoming, StreamState};
use super::load::{Rig, FRESH};
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use crate::Client;
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
use wardpage_proto::{
    ClientFrame, Command, CommandId, CommandResult, PatientId, Role, TaskId, WardId,
};

/// Beds of a pairs ward; the raise bed (the one [`link::raise_frame`]
/// names) stays empty so a raise keeps the send time it carries in
/// `patient`.
const BEDS: u32 = 30;
const RAISE_BED: &str = "12";
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

#[derive(Default)]
struct NurseResult {
    acked: Vec<AckedRaise>,
    raise_ok: Samples,
    set_ok: Samples,
    sets_ok: u64,
    sets_with_review: u64,
    triggering: u64,
    refused: u64,
    /// Broken "one review per patient" answers.
    broken: Vec<String>,
    log: DeviceLog,
}

/// (sent, latency) in microseconds: the window is applied by send time.
type Timed = Vec<(u64, u64)>;

#[derive(Default)]
struct DoctorResult {
    offered_raised: Timed,
    offered_rescored: Timed,
    raise_delivery: Timed,
    /// Review events whose total did not match the patient's last set (the
    /// next set had been sent before the event arrived).
    stale: u64,
    log: DeviceLog,
}

enum Sent {
    Set { patient: usize, total: u8 },
    Raise,
}

fn set_frame(id: CommandId, patient: PatientId, total: u8) -> anyhow::Result<String> {
    let cmd = Command::RecordObservations {
        patient,
        set: super::obsplan::set_for(total, wardpage_server::clock::now_ms()),
    };
    Ok(serde_json::to_string(&ClientFrame::Cmd {
        id,
        cmd,
        issued_at: None,
    })?)
}

/// One nurse: paced sets over `patients` (plan indices `first..`) and
/// paced raises, until `stop`, then the last replies.
#[allow(clippy::too_many_arguments)]
async fn nurse(
    addr: SocketAddr,
    src: usize,
    token: String,
    ward: String,
    patients: Vec<PatientId>,
    first: usize,
    set_every: Duration,
    raise_every: Option<Duration>,
    start: Instant,
    epoch: Instant,
    window_start: Instant,
    stop: Instant,
    sent_table: SentTable,
    live: Arc<Live>,
) -> anyhow::Result<NurseResult> {
    let (ws, welcome) = link::connect(addr, Some(link::source_ip(src)), &token, FRESH).await?;
    live.connections.fetch_add(1, Relaxed);
    let (mut tx, mut rx) = ws.split();
    let mut res = NurseResult {
        log: DeviceLog {
            staff: Some(welcome.me),
            resumed: true,
            label: format!("nurse on {ward}"),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut st = StreamState {
        cursor: welcome.top,
        ..Default::default()
    };
    let mut last_ack = st.cursor;
    let mut inflight: HashMap<CommandId, (Instant, Sent)> = HashMap::new();
    let mut count = vec![0u64; patients.len()];
    let mut review: Vec<Option<TaskId>> = vec![None; patients.len()];
    let mut next_set = start;
    let mut next_raise = raise_every.map(|iv| start + iv / 2);
    let mut turn = 0usize;
    let tail = stop + Duration::from_secs(30);
    loop {
        let now = Instant::now();
        let sending = now < stop;
        if !sending && inflight.is_empty() {
            break;
        }
        anyhow::ensure!(
            now < tail,
            "{} commands got no reply within 30 s of the end",
            inflight.len()
        );
        if sending && now >= next_set && !patients.is_empty() {
            let j = turn % patients.len();
            turn += 1;
            // Even beds start with the 5, odd ones with the low set.
            let total = if (count[j] + j as u64).is_multiple_of(2) {
                TRIGGER
            } else {
                LOW
            };
            count[j] += 1;
            let id = CommandId::new_random();
            let us = epoch.elapsed().as_micros() as u64;
            sent_table[first + j].store((us << 8) | u64::from(total), Relaxed);
            tx.send(Message::Text(set_frame(id, patients[j], total)?.into()))
                .await?;
            inflight.insert(id, (now, Sent::Set { patient: j, total }));
            next_set = next_set.max(now - set_every) + set_every;
            continue;
        }
        if let (true, Some(at), Some(iv)) = (sending, next_raise, raise_every) {
            if now >= at {
                let id = CommandId::new_random();
                let frame = link::raise_frame(id, &ward, epoch.elapsed().as_micros() as u64);
                tx.send(Message::Text(frame.into())).await?;
                inflight.insert(id, (now, Sent::Raise));
                next_raise = Some(at.max(now - iv) + iv);
                continue;
            }
        }
        let mut wake = if sending {
            next_set
        } else {
            now + Duration::from_millis(200)
        };
        if let (true, Some(at)) = (sending, next_raise) {
            wake = wake.min(at);
        }
        let wake = wake.max(now + Duration::from_micros(200));
        let msg = match tokio::time::timeout_at(wake, rx.next()).await {
            Err(_) => continue,
            Ok(None) => anyhow::bail!("hub closed the nurse's socket"),
            Ok(Some(m)) => m?,
        };
        let Message::Text(t) = msg else { continue };
        match st.file(t.as_str())? {
            Incoming::Ok {
                id,
                task,
                review: r,
            } => {
                let Some((at, what)) = inflight.remove(&id) else {
                    continue;
                };
                let t = Instant::now();
                live.acked.fetch_add(1, Relaxed);
                match what {
                    Sent::Raise => {
                        res.raise_ok.push(t - at);
                        if let Some((task, candidates)) = task {
                            res.acked.push(AckedRaise { task, candidates });
                        }
                    }
                    Sent::Set { patient, total } => {
                        live.observed.fetch_add(1, Relaxed);
                        if t >= window_start {
                            res.set_ok.push(t - at);
                        }
                        res.sets_ok += 1;
                        res.sets_with_review += u64::from(r.is_some());
                        if total >= TRIGGER {
                            res.triggering += 1;
                        }
                        match (review[patient], r) {
                            (_, None) if total >= TRIGGER || review[patient].is_some() => {
                                res.broken.push(format!(
                                    "{ward} bed {}: a NEWS2 {total} set came back with no review",
                                    patient
                                ));
                            }
                            (Some(a), Some(b)) if a != b => res.broken.push(format!(
                                "{ward} patient {patient}: review {b} while review {a} was open"
                            )),
                            (_, Some(b)) => review[patient] = Some(b),
                            _ => {}
                        }
                    }
                }
            }
            Incoming::Refused { id, code } => {
                inflight.remove(&id);
                res.refused += 1;
                live.errors.fetch_add(1, Relaxed);
                tracing::warn!(code, "command refused");
            }
            Incoming::Event { task, .. } => {
                if let Some(t) = task {
                    res.log.tasks.insert(t);
                }
                if st.cursor - last_ack >= ACK_EVERY {
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

/// One FY1: reads its stream until `done` and `expected` new events,
/// timing review offers and raise deliveries.
#[allow(clippy::too_many_arguments)]
async fn doctor(
    addr: SocketAddr,
    src: usize,
    token: String,
    epoch: Instant,
    index: Arc<HashMap<PatientId, usize>>,
    sent_table: SentTable,
    done: Arc<AtomicBool>,
    expected: Arc<AtomicU64>,
    live: Arc<Live>,
) -> anyhow::Result<DoctorResult> {
    let (ws, welcome) = link::connect(addr, Some(link::source_ip(src)), &token, FRESH).await?;
    live.connections.fetch_add(1, Relaxed);
    let (mut tx, mut rx) = ws.split();
    let mut res = DoctorResult {
        log: DeviceLog {
            staff: Some(welcome.me),
            label: "FY1".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let start = welcome.top;
    let mut st = StreamState {
        cursor: start,
        ..Default::default()
    };
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
                    "stream stopped at {} of {} events",
                    st.cursor - start,
                    expected.load(Relaxed)
                ));
                break;
            }
        }
        let msg = match tokio::time::timeout(Duration::from_millis(100), rx.next()).await {
            Err(_) => {
                if st.cursor > last_ack {
                    tx.send(Message::Text(link::ack_frame(st.cursor).into()))
                        .await?;
                    last_ack = st.cursor;
                }
                continue;
            }
            Ok(None) => anyhow::bail!("hub closed the doctor's socket"),
            Ok(Some(m)) => m?,
        };
        let Message::Text(t) = msg else { continue };
        let now_us = epoch.elapsed().as_micros() as u64;
        if let Incoming::Event {
            task,
            patient,
            change,
            review,
            ..
        } = st.file(t.as_str())?
        {
            if let Some(task) = task {
                res.log.tasks.insert(task);
            }
            let fresh = change == "raised";
            match review {
                Some((Some(p), Some(total))) if fresh || change == "rescored" => {
                    let packed = index
                        .get(&p)
                        .and_then(|i| sent_table.get(*i))
                        .map(|a| a.load(Relaxed))
                        .unwrap_or(0);
                    if packed & 0xff != u64::from(total) {
                        res.stale += 1;
                    } else if total >= TRIGGER {
                        live.reviews.fetch_add(1, Relaxed);
                        live.delivered.fetch_add(1, Relaxed);
                        let sent = packed >> 8;
                        let timed = (sent, now_us.saturating_sub(sent));
                        if fresh {
                            res.offered_raised.push(timed);
                        } else {
                            res.offered_rescored.push(timed);
                        }
                    }
                }
                None if fresh => {
                    live.delivered.fetch_add(1, Relaxed);
                    if let Some(sent) = link::sent_us_of(&patient) {
                        res.raise_delivery.push((sent, now_us.saturating_sub(sent)));
                    }
                }
                _ => {}
            }
            if st.cursor - last_ack >= ACK_EVERY {
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

/// Admits a patient to every bed but the raise bed of each pair ward, as
/// that ward's nurse in charge; returns the patient ids per ward.
async fn admit(rig: &Rig, base: &str) -> anyhow::Result<Vec<Vec<PatientId>>> {
    let bar = stats::counter("admitting", rig.pairs.len() as u64);
    let mut out = vec![Vec::new(); rig.pairs.len()];
    for chunk in (0..rig.pairs.len()).collect::<Vec<_>>().chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for &k in chunk {
            let (ntok, _, ward) = rig.pairs[k].clone();
            let base = base.to_owned();
            set.spawn(async move {
                let mut c = Client::connect(&base, &ntok, 0).await?;
                let mut sent = Vec::new();
                for b in (1..=BEDS).map(|b| b.to_string()).filter(|b| b != RAISE_BED) {
                    let index = k * BEDS as usize + sent.len();
                    let patient = super::obsplan::PlannedPatient {
                        ward: ward.clone(),
                        bed: b.clone(),
                        local_number: format!("SIM{index}"),
                        nurse: 0,
                        deteriorates: false,
                    };
                    let cmd = Command::AdmitPatient {
                        ward: WardId(ward.clone()),
                        bed: b,
                        patient: patient.details(index),
                    };
                    sent.push(c.send(cmd).await?);
                }
                let mut ids = Vec::new();
                for id in sent {
                    match c.reply(id).await? {
                        Ok(CommandResult::Patient { patient }) => ids.push(patient.id),
                        other => anyhow::bail!("admit_patient on {ward} answered {other:?}"),
                    }
                }
                c.close().await;
                anyhow::Ok((k, ids))
            });
        }
        while let Some(r) = set.join_next().await {
            let (k, ids) = r??;
            out[k] = ids;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(out)
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
    let wards = admit(&rig, &base).await?;
    let firsts: Vec<usize> = wards
        .iter()
        .scan(0, |acc, w| {
            let f = *acc;
            *acc += w.len();
            Some(f)
        })
        .collect();
    let total_patients: usize = wards.iter().map(Vec::len).sum();
    let index: Arc<HashMap<PatientId, usize>> = Arc::new(
        wards
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, id)| (*id, i))
            .collect(),
    );
    let sent_table: SentTable = Arc::new((0..total_patients).map(|_| AtomicU64::new(0)).collect());

    let live = Arc::new(Live::default());
    let bar = stats::progress("news2");
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let expected: Vec<Arc<AtomicU64>> = (0..p.pairs)
        .map(|_| Arc::new(AtomicU64::new(u64::MAX)))
        .collect();
    let mut doctors = Vec::new();
    for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
        doctors.push(tokio::spawn(doctor(
            rig.addr,
            2 * k + 1,
            dtok.clone(),
            epoch,
            index.clone(),
            sent_table.clone(),
            done.clone(),
            expected[k].clone(),
            live.clone(),
        )));
    }
    let welcomed_by = Instant::now() + Duration::from_secs(60);
    while live.connections.load(Relaxed) < p.pairs as i64 {
        anyhow::ensure!(
            Instant::now() < welcomed_by,
            "only {} of {} doctors were welcomed within 60 s",
            live.connections.load(Relaxed),
            p.pairs
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now() + Duration::from_millis(200);
    let window_start = start + Duration::from_secs_f64(p.warmup_secs);
    let stop = window_start + Duration::from_secs_f64(p.secs);
    let set_every = Duration::from_secs_f64(p.pairs as f64 / p.rate);
    let raise_every =
        (p.raise_rate > 0.0).then(|| Duration::from_secs_f64(p.pairs as f64 / p.raise_rate));
    let hub_pid = rig.hub.proc().map(|h| h.pid);
    let cpu_probe = tokio::spawn(async move {
        tokio::time::sleep_until(window_start).await;
        let first = CpuUse::now(hub_pid);
        tokio::time::sleep_until(stop).await;
        CpuUse::now(hub_pid).since(first)
    });
    let mut nurses = Vec::new();
    for (k, (ntok, _, ward)) in rig.pairs.iter().enumerate() {
        nurses.push(tokio::spawn(nurse(
            rig.addr,
            2 * k,
            ntok.clone(),
            ward.clone(),
            wards[k].clone(),
            firsts[k],
            set_every,
            raise_every,
            // Spread evenly, so the hub sees a steady rate, not bursts.
            start + set_every.mul_f64(k as f64 / p.pairs as f64),
            epoch,
            window_start,
            stop,
            sent_table.clone(),
            live.clone(),
        )));
    }
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
        (window_start - epoch).as_micros() as u64,
        (stop - epoch).as_micros() as u64,
    );
    fill(
        &mut report,
        &p,
        (nurse_results, doctor_results),
        window,
        cpu,
        total_patients,
    );
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS at end (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    rig.hub.stop().await?;
    Ok(report)
}

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

fn fill(
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
        f.insert(
            "goal: set->offered p99 / raise->candidate p99".into(),
            o.p99 / d.p99,
        );
        let met = o.p99 <= d.p99;
        f.insert("goal met (1 = yes)".into(), f64::from(u8::from(met)));
        report.notes.push(format!(
            "goal {}: set -> review offered p99 {:.2} ms against raise -> candidate p99 {:.2} ms",
            if met { "met" } else { "NOT met" },
            o.p99,
            d.p99
        ));
    }
    let secs = p.secs.max(1e-9);
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
