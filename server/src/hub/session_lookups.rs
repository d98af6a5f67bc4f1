//! The session checks of hellos and of open sockets, answered many to a
//! query.
//!
//! When a node dies, every device of the sites it owned says hello to the
//! node that takes them over within a second or two: tens of thousands of
//! session lookups at once. One query per hello queued them on the site's
//! four read connections until the pool's wait ran out; the refused devices
//! came straight back, and at 25,000 handhelds demand never fell below what
//! the pool could answer (BENCHMARKS.md, "a reconnect storm that feeds
//! itself"). A change to any session makes every open socket re-check its
//! own, the same storm from inside.
//!
//! Here one task takes every lookup that is waiting and answers them all
//! with one query, so the cost per hello falls as the queue grows, and only
//! one read connection is ever busy with them. A caller that has waited
//! [`WAIT`] without an answer is told the hub is busy rather than failed:
//! a hello is then refused with close code 1013 ("try again later") and
//! the client comes back after a longer, jittered wait. A lookup whose
//! caller stopped waiting is dropped before its query, so no work is done
//! for a device that has gone.

use crate::clock::now_ms;
use crate::metrics::Metrics;
use crate::store::{LiveSession, Store};
use prometheus_client::metrics::gauge::Gauge;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tracing::warn;
use wardpage_proto::{Millis, StaffId};

/// How long a hello waits for its session check before it is told to try
/// again later: well inside the handheld app's 10 s wait for a welcome, so
/// that the refusal reaches a device that still listens.
pub const WAIT: Duration = Duration::from_secs(3);

/// Lookups answered by one query at most (the store splits larger ones).
const MAX_BATCH: usize = 1000;

/// What a session check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
    /// Live: its member of staff and expiry.
    Live(StaffId, Millis),
    /// Unknown, expired or revoked, or its account disabled.
    NotLive,
    /// The store failed (logged once per query).
    Failed,
    /// No answer within [`WAIT`]: the store is slow or the queue long.
    Busy,
}

struct Lookup {
    hash: String,
    reply: oneshot::Sender<Looked>,
}

/// The queue of session checks, and the task that answers it (it ends
/// when the hub, and so this, is dropped).
pub struct SessionLookups {
    tx: mpsc::UnboundedSender<Lookup>,
    metrics: Arc<Metrics>,
}

impl SessionLookups {
    /// Starts the task answering from `store`; each query's size goes
    /// to `metrics`.
    pub fn start(store: Arc<dyn Store>, metrics: Arc<Metrics>) -> SessionLookups {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(answer(store, metrics.clone(), rx));
        SessionLookups { tx, metrics }
    }

    /// Checks the session of `token_hash`, waiting at most [`WAIT`].
    pub async fn check(&self, token_hash: &str) -> Looked {
        let (reply, answer) = oneshot::channel();
        let lookup = Lookup {
            hash: token_hash.to_owned(),
            reply,
        };
        if self.tx.send(lookup).is_err() {
            return Looked::Failed;
        }
        let _waiting = Waiting::new(&self.metrics.session_checks_waiting);
        match tokio::time::timeout(WAIT, answer).await {
            Ok(Ok(looked)) => looked,
            Ok(Err(_)) => Looked::Failed,
            Err(_) => Looked::Busy,
        }
    }
}

/// Counts one check in the waiting gauge for as long as it lives, however
/// its wait ends (a hello's task can be dropped mid-wait at shutdown).
struct Waiting<'a>(&'a Gauge);

impl<'a> Waiting<'a> {
    fn new(gauge: &'a Gauge) -> Waiting<'a> {
        gauge.inc();
        Waiting(gauge)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Takes what is waiting (at least one), up to [`MAX_BATCH`], leaving out
/// lookups nobody waits for any more; answers them with one query.
async fn answer(
    store: Arc<dyn Store>,
    metrics: Arc<Metrics>,
    mut rx: mpsc::UnboundedReceiver<Lookup>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        batch.retain(|l| !l.reply.is_closed());
        if batch.is_empty() {
            continue;
        }
        let hashes: Vec<String> = batch.iter().map(|l| l.hash.clone()).collect();
        metrics.session_checks.observe(hashes.len() as f64);
        match store.live_sessions(&hashes, now_ms()).await {
            Ok(live) => {
                let live: HashMap<&str, &LiveSession> =
                    live.iter().map(|s| (s.token_hash.as_str(), s)).collect();
                for l in batch.drain(..) {
                    let found = live.get(l.hash.as_str()).copied();
                    let _ = l.reply.send(looked(found));
                }
            }
            Err(e) => {
                warn!(error = %e, lookups = batch.len(), "session lookup failed");
                for l in batch.drain(..) {
                    let _ = l.reply.send(Looked::Failed);
                }
            }
        }
    }
}

fn looked(found: Option<&LiveSession>) -> Looked {
    match found {
        Some(s) => Looked::Live(s.staff, s.expires_at),
        None => Looked::NotLive,
    }
}
