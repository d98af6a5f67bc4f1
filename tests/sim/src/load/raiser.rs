//! The nurse's side of a load pair: one lean connection sending raises,
//! closed loop (a window in flight) or paced, timing each `ok`, and pairing
//! it with the raiser's own `raised` event for the same task (both leave the
//! hub after the same commit, so the gap between them is the transport's).

use super::super::ledger::{AckedRaise, DeviceLog};
use super::super::link::{self, Incoming, StreamState};
use super::super::stats::{Live, Samples};
use super::{Bucket, ACK_EVERY, FRESH};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{CommandId, StaffId, TaskId};

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

/// For each task this raiser raised, whichever of its `ok` and its own
/// `raised` event arrived first, and when; the second one is timed against it.
#[derive(Default)]
struct OwnPairing {
    event_at: HashMap<TaskId, Instant>,
    ok_at: HashMap<TaskId, Instant>,
}

impl OwnPairing {
    fn ok(&mut self, task: TaskId, at: Instant, res: &mut RaiserResult) {
        match self.event_at.remove(&task) {
            Some(ev) => res.ok_after_event.push(at - ev),
            None => {
                self.ok_at.insert(task, at);
            }
        }
    }

    fn event(&mut self, task: TaskId, res: &mut RaiserResult) {
        match self.ok_at.remove(&task) {
            Some(ok) => res.event_after_ok.push(ok.elapsed()),
            None => {
                self.event_at.insert(task, Instant::now());
            }
        }
    }
}

/// A running raiser's connection and bookkeeping.
struct Raiser {
    tx: SplitSink<link::Ws, Message>,
    st: StreamState,
    res: RaiserResult,
    /// Raises sent and not yet answered, with when they were sent.
    inflight: HashMap<CommandId, Instant>,
    pairing: OwnPairing,
    bucket: Bucket,
    last_ack: u64,
    window_start: Instant,
    stop: Instant,
    live: Arc<Live>,
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
    let (tx, mut rx) = ws.split();
    let mut r = Raiser::new(tx, &welcome, window_start, stop, live);
    let mut sent = 0u64;
    let interval = pace.map(|(iv, _)| iv);
    let mut next_send = pace.map(|(_, first)| first).unwrap_or_else(Instant::now);
    let tail_deadline = stop + Duration::from_secs(30);
    loop {
        let now = Instant::now();
        let sending = now < stop && max.is_none_or(|m| sent < m);
        if !sending && r.inflight.is_empty() {
            break;
        }
        if now > tail_deadline {
            anyhow::bail!(
                "{} raises got no reply within 30 s of the end",
                r.inflight.len()
            );
        }
        if sending && r.inflight.len() < window && now >= next_send && r.bucket.take() {
            let id = CommandId::new_random();
            let frame = link::raise_frame(id, &ward, epoch.elapsed().as_micros() as u64);
            r.tx.send(Message::Text(frame.into())).await?;
            r.inflight.insert(id, now);
            sent += 1;
            next_send = match interval {
                Some(iv) => next_send.max(now - iv) + iv,
                None => now,
            };
            continue;
        }
        // Wake for the next send slot or a frame, whichever is first.
        let wake = if sending && r.inflight.len() < window {
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
        r.file(t.as_str()).await?;
    }
    r.res.log.duplicates = r.st.duplicates;
    r.res.log.gaps = r.st.gaps;
    r.live.connections.fetch_sub(1, Relaxed);
    let _ = r.tx.close().await;
    Ok(r.res)
}

impl Raiser {
    fn new(
        tx: SplitSink<link::Ws, Message>,
        welcome: &link::Welcome,
        window_start: Instant,
        stop: Instant,
        live: Arc<Live>,
    ) -> Raiser {
        Raiser {
            tx,
            st: StreamState {
                cursor: welcome.top,
                ..Default::default()
            },
            res: RaiserResult {
                log: DeviceLog {
                    staff: Some(welcome.me),
                    resumed: true,
                    ..Default::default()
                },
                ..Default::default()
            },
            inflight: HashMap::new(),
            pairing: OwnPairing::default(),
            bucket: Bucket::new(),
            last_ack: welcome.top,
            window_start,
            stop,
            live,
        }
    }

    /// Files one text frame from the hub, acking the stream as it goes.
    async fn file(&mut self, text: &str) -> anyhow::Result<()> {
        match self.st.file(text)? {
            Incoming::Ok { id, task, .. } => self.answered(id, task),
            Incoming::Refused { id, code } => {
                self.inflight.remove(&id);
                self.res.refused += 1;
                self.live.errors.fetch_add(1, Relaxed);
                tracing::warn!(code, "raise refused");
            }
            Incoming::Event { task, bytes, .. } => {
                if let Some(t) = task {
                    self.res.log.tasks.insert(t);
                    self.pairing.event(t, &mut self.res);
                }
                self.res.frame_bytes = bytes as u64;
                if self.st.cursor - self.last_ack >= ACK_EVERY && self.bucket.take() {
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

    /// An `ok` for raise `id`: its latency, whether it fell in the measured
    /// window, and the task it raised.
    fn answered(&mut self, id: CommandId, task: Option<(TaskId, Vec<StaffId>)>) {
        let Some(at) = self.inflight.remove(&id) else {
            return;
        };
        let t = Instant::now();
        self.res.ack_latency.push(t - at);
        if t >= self.window_start && t <= self.stop {
            self.res.in_window += 1;
        }
        self.live.acked.fetch_add(1, Relaxed);
        if let Some((task, candidates)) = task {
            self.pairing.ok(task, t, &mut self.res);
            self.res.acked.push(AckedRaise { task, candidates });
        }
    }
}
