//! The pacing loop of `news2`: one nurse's lean connection sending sets
//! round-robin over its ward's patients (each alternating a low set and a
//! 5) and ordinary raises, each on its own paced timetable, and checking
//! that every answer keeps to one review per patient.

use super::super::ledger::{AckedRaise, DeviceLog};
use super::super::link::{self, Incoming, StreamState};
use super::super::load::FRESH;
use super::super::stats::{Live, Samples};
use super::{SentTable, ACK_EVERY, LOW, TRIGGER};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{ClientFrame, Command, CommandId, PatientId, StaffId, TaskId};

#[derive(Default)]
pub(super) struct NurseResult {
    pub(super) acked: Vec<AckedRaise>,
    pub(super) raise_ok: Samples,
    pub(super) set_ok: Samples,
    pub(super) sets_ok: u64,
    pub(super) sets_with_review: u64,
    pub(super) triggering: u64,
    pub(super) refused: u64,
    /// Broken "one review per patient" answers.
    pub(super) broken: Vec<String>,
    pub(super) log: DeviceLog,
}

enum Sent {
    Set { patient: usize, total: u8 },
    Raise,
}

fn set_frame(id: CommandId, patient: PatientId, total: u8) -> anyhow::Result<String> {
    let cmd = Command::RecordObservations {
        patient,
        set: super::super::obsplan::set_for(total, wardpage_server::clock::now_ms()),
    };
    Ok(serde_json::to_string(&ClientFrame::Cmd {
        id,
        cmd,
        issued_at: None,
    })?)
}

/// Which patient gets the next set, and its total: round-robin over the
/// ward, each patient alternating the 5 and the low set.
struct Rota {
    count: Vec<u64>,
    turn: usize,
}

impl Rota {
    fn new(patients: usize) -> Rota {
        Rota {
            count: vec![0u64; patients],
            turn: 0,
        }
    }

    fn next(&mut self) -> (usize, u8) {
        let j = self.turn % self.count.len();
        self.turn += 1;
        // Even beds start with the 5, odd ones with the low set.
        let total = if (self.count[j] + j as u64).is_multiple_of(2) {
            TRIGGER
        } else {
            LOW
        };
        self.count[j] += 1;
        (j, total)
    }
}

/// A running nurse's connection and bookkeeping.
struct Nurse {
    tx: SplitSink<link::Ws, Message>,
    st: StreamState,
    res: NurseResult,
    ward: String,
    last_ack: u64,
    /// Commands sent and not yet answered: when, and what.
    inflight: HashMap<CommandId, (Instant, Sent)>,
    /// Each patient's review, once a set has been answered with one.
    review: Vec<Option<TaskId>>,
    window_start: Instant,
    live: Arc<Live>,
}

/// One nurse: paced sets over `patients` (plan indices `first..`) and
/// paced raises, until `stop`, then the last replies.
#[allow(clippy::too_many_arguments)]
pub(super) async fn nurse(
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
    let (tx, mut rx) = ws.split();
    let mut n = Nurse::new(tx, &welcome, ward, patients.len(), window_start, live);
    let mut rota = Rota::new(patients.len());
    let mut next_set = start;
    let mut next_raise = raise_every.map(|iv| start + iv / 2);
    let tail = stop + Duration::from_secs(30);
    loop {
        let now = Instant::now();
        let sending = now < stop;
        if !sending && n.inflight.is_empty() {
            break;
        }
        anyhow::ensure!(
            now < tail,
            "{} commands got no reply within 30 s of the end",
            n.inflight.len()
        );
        if sending && now >= next_set && !patients.is_empty() {
            let (j, total) = rota.next();
            let id = CommandId::new_random();
            let us = epoch.elapsed().as_micros() as u64;
            sent_table[first + j].store((us << 8) | u64::from(total), Relaxed);
            n.tx.send(Message::Text(set_frame(id, patients[j], total)?.into()))
                .await?;
            n.inflight
                .insert(id, (now, Sent::Set { patient: j, total }));
            next_set = next_set.max(now - set_every) + set_every;
            continue;
        }
        if let (true, Some(at), Some(iv)) = (sending, next_raise, raise_every) {
            if now >= at {
                let id = CommandId::new_random();
                let frame = link::raise_frame(id, &n.ward, epoch.elapsed().as_micros() as u64);
                n.tx.send(Message::Text(frame.into())).await?;
                n.inflight.insert(id, (now, Sent::Raise));
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
        n.file(t.as_str()).await?;
    }
    n.res.log.duplicates = n.st.duplicates;
    n.res.log.gaps = n.st.gaps;
    n.live.connections.fetch_sub(1, Relaxed);
    let _ = n.tx.close().await;
    Ok(n.res)
}

impl Nurse {
    fn new(
        tx: SplitSink<link::Ws, Message>,
        welcome: &link::Welcome,
        ward: String,
        patients: usize,
        window_start: Instant,
        live: Arc<Live>,
    ) -> Nurse {
        Nurse {
            tx,
            st: StreamState {
                cursor: welcome.top,
                ..Default::default()
            },
            res: NurseResult {
                log: DeviceLog {
                    staff: Some(welcome.me),
                    resumed: true,
                    label: format!("nurse on {ward}"),
                    ..Default::default()
                },
                ..Default::default()
            },
            ward,
            last_ack: welcome.top,
            inflight: HashMap::new(),
            review: vec![None; patients],
            window_start,
            live,
        }
    }

    /// Files one text frame from the hub, acking the stream as it goes.
    async fn file(&mut self, text: &str) -> anyhow::Result<()> {
        match self.st.file(text)? {
            Incoming::Ok { id, task, review } => self.answered(id, task, review),
            Incoming::Refused { id, code } => {
                self.inflight.remove(&id);
                self.res.refused += 1;
                self.live.errors.fetch_add(1, Relaxed);
                tracing::warn!(code, "command refused");
            }
            Incoming::Event { task, .. } => {
                if let Some(t) = task {
                    self.res.log.tasks.insert(t);
                }
                if self.st.cursor - self.last_ack >= ACK_EVERY {
                    self.tx
                        .send(Message::Text(link::ack_frame(self.st.cursor).into()))
                        .await?;
                    self.last_ack = self.st.cursor;
                }
            }
            Incoming::Other => {}
        }
        Ok(())
    }

    /// An `ok` for command `id`: a raise's task, or a set's review.
    fn answered(&mut self, id: CommandId, task: Option<(TaskId, Vec<StaffId>)>, r: Option<TaskId>) {
        let Some((at, what)) = self.inflight.remove(&id) else {
            return;
        };
        let t = Instant::now();
        self.live.acked.fetch_add(1, Relaxed);
        match what {
            Sent::Raise => {
                self.res.raise_ok.push(t - at);
                if let Some((task, candidates)) = task {
                    self.res.acked.push(AckedRaise { task, candidates });
                }
            }
            Sent::Set { patient, total } => {
                self.live.observed.fetch_add(1, Relaxed);
                if t >= self.window_start {
                    self.res.set_ok.push(t - at);
                }
                self.res.sets_ok += 1;
                self.res.sets_with_review += u64::from(r.is_some());
                if total >= TRIGGER {
                    self.res.triggering += 1;
                }
                self.check_review(patient, total, r);
            }
        }
    }

    /// One review per patient: a 5 (or any set once the patient has a
    /// review) must come back with it, and always the same one.
    fn check_review(&mut self, patient: usize, total: u8, r: Option<TaskId>) {
        let ward = &self.ward;
        match (self.review[patient], r) {
            (_, None) if total >= TRIGGER || self.review[patient].is_some() => {
                self.res.broken.push(format!(
                    "{ward} bed {}: a NEWS2 {total} set came back with no review",
                    patient
                ));
            }
            (Some(a), Some(b)) if a != b => self.res.broken.push(format!(
                "{ward} patient {patient}: review {b} while review {a} was open"
            )),
            (_, Some(b)) => self.review[patient] = Some(b),
            _ => {}
        }
    }
}
