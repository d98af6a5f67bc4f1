//! One handheld of `idle` and `storm`: it connects (a few at a time while
//! the fleet ramps up), holds its socket reading events, and in a storm
//! loses it with everyone else, waits while the access point is down,
//! reconnects from its cursor and reads up to the top of its stream.

use super::super::ledger::DeviceLog;
use super::super::link::{self, Incoming, StreamState};
use super::super::stats::Live;
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// What the fleet is told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Hold,
    Drop,
    Reconnect,
    Stop,
}

pub(super) struct Device {
    pub addr: SocketAddr,
    pub src: usize,
    pub token: Arc<str>,
    /// Index of the user's expected stream top.
    pub user: usize,
}

pub(super) struct DeviceOut {
    pub log: DeviceLog,
    /// Reconnect to caught up, in a storm.
    pub resume: Option<Duration>,
}

/// A device and what it keeps between the steps of its run.
struct Handheld {
    d: Device,
    phase: watch::Receiver<Phase>,
    tops: Arc<Vec<AtomicU64>>,
    live: Arc<Live>,
    rng: ChaCha8Rng,
    st: StreamState,
    out: DeviceOut,
}

/// Runs one device until the fleet stops, and hands in its log.
pub(super) async fn device(
    d: Device,
    phase: watch::Receiver<Phase>,
    tops: Arc<Vec<AtomicU64>>,
    ramp: Arc<Semaphore>,
    live: Arc<Live>,
    seed: u64,
) -> DeviceOut {
    let mut h = Handheld {
        rng: ChaCha8Rng::seed_from_u64(seed ^ d.src as u64),
        d,
        phase,
        tops,
        live,
        st: StreamState::default(),
        out: DeviceOut {
            log: DeviceLog::default(),
            resume: None,
        },
    };
    let permit = ramp.acquire().await;
    let Some((mut ws, w)) = h.connect(0, "first connect").await else {
        return h.out;
    };
    drop(permit);
    h.out.log.staff = Some(w.me);
    h.live.connections.fetch_add(1, Relaxed);
    h.read_until(&mut ws, Phase::Hold, false).await;
    if *h.phase.borrow() == Phase::Drop {
        // The access point reboots: every socket goes at once.
        drop(ws);
        h.live.connections.fetch_sub(1, Relaxed);
        ws = match h.away_and_back().await {
            Some(ws) => ws,
            None => return h.out,
        };
    }
    h.finish(ws).await
}

impl Handheld {
    /// Connects from the device's own source address, retrying with
    /// jittered exponential backoff (as the handheld app does) for up to
    /// 90 s. A failure is noted in the log under `what`.
    async fn connect(&mut self, cursor: u64, what: &str) -> Option<(link::Ws, link::Welcome)> {
        let deadline = Instant::now() + Duration::from_secs(90);
        let mut backoff = 100u64;
        let src = Some(link::source_ip(self.d.src));
        loop {
            match link::connect(self.d.addr, src, &self.d.token, cursor).await {
                Ok(v) => return Some(v),
                Err(e) if Instant::now() > deadline => {
                    self.out.log.failure = Some(format!("{what}: {e}"));
                    return None;
                }
                Err(_) => {
                    self.live.errors.fetch_add(1, Relaxed);
                    let jitter = self.rng.gen_range(0..=backoff);
                    tokio::time::sleep(Duration::from_millis(backoff / 2 + jitter)).await;
                    backoff = (backoff * 2).min(2000);
                }
            }
        }
    }

    /// Reads until the phase leaves `current` or (with `to_top`) the cursor
    /// reaches the user's stream top. Returns false if the socket failed.
    async fn read_until(&mut self, ws: &mut link::Ws, current: Phase, to_top: bool) -> bool {
        let tops = self.tops.clone();
        let top = &tops[self.d.user];
        loop {
            if to_top && self.st.cursor >= top.load(Relaxed) {
                return true;
            }
            tokio::select! {
                changed = self.phase.changed() => {
                    if changed.is_err() || *self.phase.borrow() != current { return true; }
                }
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => match self.st.file(t.as_str()) {
                        Ok(Incoming::Event { task: Some(task), .. }) => {
                            self.out.log.tasks.insert(task);
                        }
                        Ok(_) => {}
                        Err(_) => return false,
                    },
                    Some(Ok(_)) => {}
                    _ => return false,
                }
            }
        }
    }

    /// Waits while the access point is down, reconnects from the cursor
    /// when everyone comes back, and times the catch-up to the top of the
    /// stream. `None` if the run stopped first or it could not reconnect.
    async fn away_and_back(&mut self) -> Option<link::Ws> {
        while *self.phase.borrow() == Phase::Drop {
            if self.phase.changed().await.is_err() {
                break;
            }
        }
        if *self.phase.borrow() != Phase::Reconnect {
            return None;
        }
        let t = Instant::now();
        let (mut ws, _) = self.connect(self.st.cursor, "reconnect").await?;
        self.live.connections.fetch_add(1, Relaxed);
        self.live.reconnects.fetch_add(1, Relaxed);
        let ok = self.read_until(&mut ws, Phase::Reconnect, true).await;
        if ok && self.st.cursor >= self.tops[self.d.user].load(Relaxed) {
            self.out.resume = Some(t.elapsed());
            self.live.delivered.fetch_add(1, Relaxed);
        }
        if ok {
            self.read_until(&mut ws, Phase::Reconnect, false).await;
        }
        Some(ws)
    }

    /// Notes whether the device ended at the top of its stream, and closes.
    async fn finish(mut self, mut ws: link::Ws) -> DeviceOut {
        let top = self.tops[self.d.user].load(Relaxed);
        self.out.log.resumed = self.st.cursor >= top;
        if !self.out.log.resumed {
            self.out.log.failure = Some(format!("stream at {} of {top}", self.st.cursor));
        }
        self.out.log.duplicates = self.st.duplicates;
        self.out.log.gaps = self.st.gaps;
        let _ = ws.close(None).await;
        self.live.connections.fetch_sub(1, Relaxed);
        self.out
    }
}
