//! The doctor's side of a load pair: one lean connection reading its stream
//! from a cursor (the top, or 0 to replay everything), acking as it goes,
//! and timing each `raised` event from the send time the raise carries.

use super::super::ledger::DeviceLog;
use super::super::link::{self, Incoming, StreamState};
use super::super::stats::{Live, Samples};
use super::{Bucket, ACK_EVERY};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

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
        if done.load(Relaxed) && stream_complete(&mut res, &st, start, &expected, &mut give_up) {
            break;
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
            file_event(
                &mut res,
                &live,
                task,
                &patient,
                &change,
                epoch,
                window_start,
            );
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

/// Once the run is done: whether the stream holds every event expected
/// (then it counts as resumed), or 30 s have passed since and it is given up
/// with the failure logged.
fn stream_complete(
    res: &mut ReceiverResult,
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
            "stream stopped at {} of {}",
            st.cursor - start,
            expected.load(Relaxed)
        ));
        return true;
    }
    false
}

/// Counts one new event; a `raised` one is a delivery, timed from the send
/// time in its `patient` once the warm-up is over.
fn file_event(
    res: &mut ReceiverResult,
    live: &Live,
    task: Option<wardpage_proto::TaskId>,
    patient: &str,
    change: &str,
    epoch: Instant,
    window_start: Instant,
) {
    if let Some(task) = task {
        res.log.tasks.insert(task);
    }
    if change == "raised" {
        live.delivered.fetch_add(1, Relaxed);
        res.delivered += 1;
        if let Some(sent) = link::sent_us_of(patient) {
            let now = epoch.elapsed().as_micros() as u64;
            if Instant::now() >= window_start {
                res.latency.us.push(now.saturating_sub(sent));
            }
        }
    }
}
