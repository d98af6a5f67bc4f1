//! A handheld of the `cluster` scenario and the nurses' raisers. Each
//! knows every node's address and, when a node answers 503 (it stands by)
//! or its socket closes (the node was killed), tries the next one, as the
//! load balancer's `proxy_next_upstream` would: hello with its cursor, and
//! resume once replayed to the top of its stream as the welcome gave it.

use super::super::ledger::{AckedRaise, DeviceLog};
use super::super::link::{self, Incoming, StreamState};
use super::super::load::FRESH;
use super::super::stats::Samples;
pub(super) use super::shared::Shared;
use futures_util::SinkExt;
use futures_util::StreamExt;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{CommandId, TaskId};

pub(super) struct Device {
    pub src: usize,
    /// The site it belongs to (an index into [`Shared::sites`]).
    pub site: usize,
    pub token: Arc<str>,
    /// A doctor's device (the candidate of its pair's raises).
    pub doctor: bool,
    /// Accept one raise in this many (0: never); one device per doctor.
    pub accept_every: u64,
}

pub(super) struct DeviceOut {
    pub log: DeviceLog,
    /// After each kill this device lost its socket to: the kill's index,
    /// the time from the kill to resumed, and whether the device was on the
    /// killed node (else its node lost the owner: the owner was killed).
    pub resumes: Vec<(usize, Duration, bool)>,
    /// Raise sent to this candidate's event, while caught up (live) on
    /// the node that owns the site.
    pub latency: Samples,
    /// The same, while on a node that does not (its events came over the bus).
    pub latency_other: Samples,
}

/// How a connection ended.
enum Ended {
    Stopped(Box<link::Ws>),
    /// The run stopped before this device had caught up.
    Unfinished,
    Lost,
}

struct Handheld {
    d: Device,
    sh: Arc<Shared>,
    stop: watch::Receiver<bool>,
    rng: ChaCha8Rng,
    st: StreamState,
    node: usize,
    raised_seen: u64,
    permit: Option<OwnedSemaphorePermit>,
    out: DeviceOut,
}

/// Runs one handheld until told to stop, and hands in its log.
pub(super) async fn device(
    d: Device,
    sh: Arc<Shared>,
    stop: watch::Receiver<bool>,
    ramp: Arc<Semaphore>,
    seed: u64,
) -> DeviceOut {
    // Held until the first catch-up, so only a few devices ramp at once.
    let permit = ramp.acquire_owned().await.ok();
    let mut h = Handheld {
        permit,
        rng: ChaCha8Rng::seed_from_u64(seed ^ d.src as u64),
        node: sh.first_node(d.src),
        d,
        sh,
        stop,
        st: StreamState::default(),
        raised_seen: 0,
        out: DeviceOut {
            log: DeviceLog::default(),
            resumes: Vec::new(),
            latency: Samples::default(),
            latency_other: Samples::default(),
        },
    };
    h.out.log.label = format!("device {}", h.d.src);
    let mut lost_at: Option<(usize, bool)> = None;
    while !*h.stop.borrow() {
        let Some((ws, w)) = connect_any(
            &mut h.node,
            &h.sh,
            &h.d,
            h.st.cursor,
            &mut h.rng,
            &h.stop,
            &mut h.out.log,
        )
        .await
        else {
            break;
        };
        if h.out.log.staff.is_none() {
            h.out.log.staff = Some(w.me);
            if let Ok(mut m) = h.sh.devices_of.lock() {
                *m.entry(w.me).or_default() += 1;
            }
        }
        if w.resync {
            // The hub no longer holds what this cursor needs: it would
            // hide a gap, so it is counted as one.
            h.st.gaps += 1;
            h.st.cursor = w.top;
        }
        let (sh, at) = (h.sh.clone(), h.sh.slot(h.node, h.d.site));
        sh.on_node[at].fetch_add(1, Relaxed);
        let ended = h.serve(ws, w.top, &mut lost_at).await;
        sh.on_node[at].fetch_sub(1, Relaxed);
        match ended {
            Ended::Stopped(mut ws) => {
                let _ = ws.as_mut().close(None).await;
                h.out.log.resumed = true;
                break;
            }
            Ended::Unfinished => break,
            Ended::Lost => {
                h.sh.live.reconnects.fetch_add(1, Relaxed);
                lost_at = match (lost_at, h.sh.loss_of(h.node)) {
                    // Lost again before it had resumed from the same kill:
                    // still that kill's, and still of the node it was on
                    // when the kill came.
                    (Some((k, of_killed)), Some((now, _))) if k == now => Some((k, of_killed)),
                    (_, now) => now,
                };
                h.node = h.sh.pick_after(h.node, &mut h.rng);
            }
        }
    }
    if !h.out.log.resumed {
        h.sh.gone.fetch_add(1, Relaxed);
        if h.out.log.failure.is_none() {
            h.out.log.failure = Some("the run stopped while it was away".into());
        }
    }
    h.out.log.cursor = h.st.cursor;
    h.out.log.duplicates = h.st.duplicates;
    h.out.log.gaps = h.st.gaps;
    h.out
}

/// The ceiling of the wait after a busy refusal: 2 to 4 s (the app's
/// `BUSY_ATTEMPT`).
const BUSY_BACKOFF_MS: u64 = 4000;

/// Tries each node in turn from `node`, hello with `cursor`; after a full
/// round of refusals, waits a jittered backoff (100 ms doubling to 1 s).
/// A hub that says it is busy (close 1013) is given 2 to 4 s instead, as
/// the handheld app does, and the other nodes are not tried first: they
/// reach the same owner. Gives up after 90 s or when told to stop.
async fn connect_any(
    node: &mut usize,
    sh: &Shared,
    d: &Device,
    cursor: u64,
    rng: &mut ChaCha8Rng,
    stop: &watch::Receiver<bool>,
    log: &mut DeviceLog,
) -> Option<(link::Ws, link::Welcome)> {
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut backoff = 100u64;
    let src = Some(link::source_ip(d.src));
    let path = sh.ws_path(d.site);
    loop {
        for _ in 0..sh.nodes.len() {
            match link::connect_at(sh.nodes[*node], src, &path, &d.token, cursor).await {
                Ok(v) => return Some(v),
                Err(e) => {
                    sh.live.errors.fetch_add(1, Relaxed);
                    *node = (*node + 1) % sh.nodes.len();
                    if Instant::now() > deadline {
                        log.failure = Some(format!("could not reconnect: {e}"));
                        return None;
                    }
                    if e.downcast_ref::<link::Busy>().is_some() {
                        backoff = backoff.max(BUSY_BACKOFF_MS);
                        break;
                    }
                }
            }
        }
        if *stop.borrow() {
            log.failure = Some("stopped while reconnecting".into());
            return None;
        }
        let jitter = rng.gen_range(0..=backoff / 2);
        tokio::time::sleep(Duration::from_millis(backoff / 2 + jitter)).await;
        backoff = if backoff >= BUSY_BACKOFF_MS {
            backoff
        } else {
            (backoff * 2).min(1000)
        };
    }
}

impl Handheld {
    /// Reads one connection until it is lost or the run stops. Once the
    /// cursor reaches `top` the device counts as caught up and, if the
    /// socket was lost to kill `lost_at`, its resume time is noted (and
    /// `lost_at` cleared; left as it was if the socket is lost first).
    async fn serve(
        &mut self,
        mut ws: link::Ws,
        top: u64,
        lost_at: &mut Option<(usize, bool)>,
    ) -> Ended {
        let mut caught = false;
        loop {
            if !caught && self.st.cursor >= top {
                caught = true;
                self.sh.caught_up.fetch_add(1, Relaxed);
                self.permit = None;
                if let Some((k, of_killed)) = lost_at.take() {
                    if let Some(at) = self.sh.kill_at(k) {
                        note_resume(&mut self.out.resumes, k, at.elapsed(), of_killed);
                    }
                }
            }
            let msg = tokio::select! {
                _ = self.stop.changed() => {
                    if !caught {
                        self.out.log.failure =
                            Some(format!("stream at {} of {top}", self.st.cursor));
                        return Ended::Unfinished;
                    }
                    self.sh.caught_up.fetch_sub(1, Relaxed);
                    return Ended::Stopped(Box::new(ws));
                }
                msg = ws.next() => msg,
            };
            let text = match msg {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(_)) => continue,
                _ => {
                    if caught {
                        self.sh.caught_up.fetch_sub(1, Relaxed);
                    }
                    return Ended::Lost;
                }
            };
            let Ok(Incoming::Event {
                change,
                task: Some(task),
                patient,
                ..
            }) = self.st.file(text.as_str())
            else {
                continue;
            };
            self.out.log.tasks.insert(task);
            if self.d.doctor && change == "raised" {
                self.sh.live.delivered.fetch_add(1, Relaxed);
                if let (true, Some(sent)) = (caught, link::sent_us_of(&patient)) {
                    let us = self.sh.now_us().saturating_sub(sent);
                    let owner = self.sh.owner.get(self.d.site).map(|o| o.load(Relaxed));
                    if owner == Some(self.node) {
                        self.out.latency.us.push(us);
                    } else {
                        self.out.latency_other.us.push(us);
                    }
                }
                self.raised_seen += 1;
                if self.d.accept_every > 0 && self.raised_seen.is_multiple_of(self.d.accept_every) {
                    let _ = ws.send(Message::Text(accept_frame(task).into())).await;
                }
            }
        }
    }
}

/// Notes that the device resumed `after` kill `k`. A device that lost its
/// socket again after resuming from the same kill (the new owner lost its
/// lease and another took over, say) was back for good only now: one
/// sample per device and kill, the last, and of the node it was first on.
fn note_resume(
    resumes: &mut Vec<(usize, Duration, bool)>,
    k: usize,
    after: Duration,
    of_killed: bool,
) {
    match resumes.iter_mut().find(|r| r.0 == k) {
        Some(r) => r.1 = after,
        None => resumes.push((k, after, of_killed)),
    }
}

fn accept_frame(task: TaskId) -> String {
    format!(
        r#"{{"type":"cmd","id":"{}","cmd":{{"op":"accept","task":"{task}"}}}}"#,
        CommandId::new_random()
    )
}

/// A nurse raising on `ward` every `every`, one raise at a time, moving to
/// the next node like a handheld when its node stands by or dies. A raise
/// whose answer was lost with the socket is not counted (nor checked):
/// only what the hub acknowledged is.
pub(super) async fn raiser(
    d: Device,
    ward: String,
    every: Duration,
    sh: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    seed: u64,
) -> Vec<AckedRaise> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed ^ d.src as u64);
    let mut node = sh.first_node(d.src);
    let mut acked = Vec::new();
    let mut log = DeviceLog::default();
    // A first raise somewhere in the first interval, so raisers interleave.
    let first = rng.gen_range(0..=every.as_millis() as u64);
    let mut pace = tokio::time::interval_at(Instant::now() + Duration::from_millis(first), every);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    'connect: while !*stop.borrow() {
        let Some((mut ws, _)) =
            connect_any(&mut node, &sh, &d, FRESH, &mut rng, &stop, &mut log).await
        else {
            break;
        };
        let mut st = StreamState {
            cursor: FRESH,
            ..Default::default()
        };
        loop {
            tokio::select! {
                _ = stop.changed() => break 'connect,
                _ = pace.tick() => {}
            }
            let id = CommandId::new_random();
            let frame = link::raise_frame(id, &ward, sh.now_us());
            if ws.send(Message::Text(frame.into())).await.is_err() {
                continue 'connect;
            }
            let answer = tokio::time::timeout(Duration::from_secs(10), async {
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Text(t) = msg {
                        match st.file(t.as_str()) {
                            Ok(Incoming::Ok { id: got, task, .. }) if got == id => return task,
                            Ok(Incoming::Refused { id: got, .. }) if got == id => return None,
                            _ => {}
                        }
                    }
                }
                None
            })
            .await;
            match answer {
                Ok(Some((task, candidates))) => {
                    sh.live.acked.fetch_add(1, Relaxed);
                    acked.push(AckedRaise { task, candidates });
                }
                // Refused (a standing-down node) or lost: on to the next node.
                _ => continue 'connect,
            }
        }
    }
    acked
}

#[cfg(test)]
mod tests {
    use super::note_resume;
    use std::time::Duration;

    #[test]
    fn a_second_resume_after_the_same_kill_replaces_the_first() {
        let mut r = Vec::new();
        note_resume(&mut r, 0, Duration::from_secs(2), true);
        note_resume(&mut r, 0, Duration::from_secs(9), false);
        note_resume(&mut r, 1, Duration::from_secs(3), false);
        assert_eq!(
            r,
            vec![
                (0, Duration::from_secs(9), true),
                (1, Duration::from_secs(3), false)
            ]
        );
    }
}
