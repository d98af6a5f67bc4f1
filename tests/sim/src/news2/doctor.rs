//! The measuring end of `news2`: one FY1's lean connection reading its
//! stream, timing each review offer (`raised` or `rescored`) from the set
//! that caused it and each raise delivery from the send time it carries.

use super::super::ledger::DeviceLog;
use super::super::link::{self, Incoming, StreamState};
use super::super::load::FRESH;
use super::super::stats::Live;
use super::{SentTable, Timed, ACK_EVERY, TRIGGER};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::PatientId;

#[derive(Default)]
pub(super) struct DoctorResult {
    pub(super) offered_raised: Timed,
    pub(super) offered_rescored: Timed,
    pub(super) raise_delivery: Timed,
    /// Review events whose total did not match the patient's last set (the
    /// next set had been sent before the event arrived).
    pub(super) stale: u64,
    pub(super) log: DeviceLog,
}

/// One FY1: reads its stream until `done` and `expected` new events,
/// timing review offers and raise deliveries.
#[allow(clippy::too_many_arguments)]
pub(super) async fn doctor(
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
        if done.load(Relaxed) && stream_complete(&mut res, &st, start, &expected, &mut give_up) {
            break;
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
            let timing = Timing {
                index: &index,
                sent_table: &sent_table,
                live: &live,
                now_us,
            };
            timing.file(&mut res, review, &patient, &change);
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

/// Once the run is done: whether the stream holds every event expected
/// (then it counts as resumed), or 30 s have passed since and it is given up
/// with the failure logged.
fn stream_complete(
    res: &mut DoctorResult,
    st: &StreamState,
    start: u64,
    expected: &AtomicU64,
    give_up: &mut Option<Instant>,
) -> bool {
    if st.cursor - start >= expected.load(Relaxed) {
        res.log.resumed = true;
        return true;
    }
    let g = *give_up.get_or_insert_with(|| Instant::now() + Duration::from_secs(30));
    if Instant::now() > g {
        res.log.failure = Some(format!(
            "stream stopped at {} of {} events",
            st.cursor - start,
            expected.load(Relaxed)
        ));
        return true;
    }
    false
}

/// What timing one event needs: where each patient's last set is, and
/// when the event arrived (microseconds since the epoch).
struct Timing<'a> {
    index: &'a HashMap<PatientId, usize>,
    sent_table: &'a SentTable,
    live: &'a Live,
    now_us: u64,
}

impl Timing<'_> {
    /// Times a review offer against the patient's last set (if the event
    /// carries that set's total; otherwise a later set overtook it), or a
    /// raise's delivery against its send time.
    fn file(
        &self,
        res: &mut DoctorResult,
        review: Option<(Option<PatientId>, Option<u8>)>,
        patient: &str,
        change: &str,
    ) {
        let fresh = change == "raised";
        match review {
            Some((Some(p), Some(total))) if fresh || change == "rescored" => {
                let packed = self
                    .index
                    .get(&p)
                    .and_then(|i| self.sent_table.get(*i))
                    .map(|a| a.load(Relaxed))
                    .unwrap_or(0);
                if packed & 0xff != u64::from(total) {
                    res.stale += 1;
                } else if total >= TRIGGER {
                    self.live.reviews.fetch_add(1, Relaxed);
                    self.live.delivered.fetch_add(1, Relaxed);
                    let sent = packed >> 8;
                    let timed = (sent, self.now_us.saturating_sub(sent));
                    if fresh {
                        res.offered_raised.push(timed);
                    } else {
                        res.offered_rescored.push(timed);
                    }
                }
            }
            None if fresh => {
                self.live.delivered.fetch_add(1, Relaxed);
                if let Some(sent) = link::sent_us_of(patient) {
                    res.raise_delivery
                        .push((sent, self.now_us.saturating_sub(sent)));
                }
            }
            _ => {}
        }
    }
}
