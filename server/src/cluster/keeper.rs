//! Keeps the owner's lease: renews it every ttl/3 and says it is lost when
//! a renewal finds the epoch moved on (another node took over), when the
//! lease's connection fails (its advisory lock went with it), or when no
//! renewal has succeeded for 2/3 of the ttl. That last is judged by this
//! node's monotonic clock from the moment the last successful renewal was
//! sent, which the database's `valid_until` can only be later than: so the
//! owner stops serving at least a third of the ttl before a standby could
//! find its lease lapsed.
//!
//! Claims, renewals and releases run on a runtime of their own (one thread
//! per node, [`LeaseThread`]), as the lease's connection is made there. On
//! the shared runtime a renewal's wake-ups queued behind every connection
//! task: in a reconnect storm of 25,000 handhelds a new owner could not
//! renew within 2/3 of a 3 s ttl while it loaded, and ownership flapped
//! between the nodes (BENCHMARKS.md). On its own thread the operating
//! system gives the renewal its turn whatever the connections are doing.

use crate::hub::own_thread::OwnThread;
use crate::store::postgres::{Claimed, Lease, PgStore};
use crate::store::StoreResult;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout_at, Instant};
use tracing::warn;

/// How long a release may take: it is a courtesy to the next owner (who
/// otherwise waits for the lease to lapse), not worth a node that hangs.
const RELEASE_WITHIN: Duration = Duration::from_secs(1);

/// The node's thread for its leases: every site's claims and renewals.
#[derive(Clone)]
pub(super) struct LeaseThread(Arc<OwnThread>);

impl LeaseThread {
    pub(super) fn start() -> std::io::Result<LeaseThread> {
        Ok(LeaseThread(Arc::new(OwnThread::start("wardpage-lease")?)))
    }

    /// `store.claim_lease`, on the lease thread (its connection is made
    /// there, so that its renewals are woken there); `None` if it did not
    /// answer within `within`.
    pub(super) async fn claim(
        &self,
        store: &Arc<PgStore>,
        node: &str,
        ttl_ms: i64,
        within: Duration,
    ) -> Option<StoreResult<Claimed>> {
        let (store, node) = (store.clone(), node.to_owned());
        let claim = self.0.spawn(async move {
            tokio::time::timeout(within, store.claim_lease(&node, ttl_ms))
                .await
                .ok()
        });
        // A panic in the claim counts as no answer.
        claim.await.ok().flatten()
    }
}

/// The lease, renewed in a task of its own while the node owns.
pub(super) struct Keeper {
    task: JoinHandle<Lease>,
    cancel: watch::Sender<bool>,
    lost: watch::Receiver<Option<&'static str>>,
    thread: LeaseThread,
}

impl Keeper {
    /// Starts renewing `lease`, whose ttl is `ttl`, on `thread` (the one
    /// that claimed it).
    pub(super) fn start(lease: Lease, ttl: Duration, thread: &LeaseThread) -> Keeper {
        let (cancel, cancelled) = watch::channel(false);
        let (lost_tx, lost) = watch::channel(None);
        let task = thread.0.spawn(keep(lease, ttl, cancelled, lost_tx));
        Keeper {
            task,
            cancel,
            lost,
            thread: thread.clone(),
        }
    }

    /// Resolves once the lease is lost, with why.
    pub(super) async fn lost(&self) -> &'static str {
        let mut lost = self.lost.clone();
        let why = match lost.wait_for(Option::is_some).await {
            Ok(why) => why.unwrap_or("lost"),
            // The task ended without saying: it panicked.
            Err(_) => "the lease keeper failed",
        };
        why
    }

    /// Stops renewing and releases the lease (at once, for the next
    /// owner), if its connection answers within [`RELEASE_WITHIN`]: one
    /// that hangs for good is dropped instead, and the lease lapses.
    pub(super) async fn finish(self) {
        let _ = self.cancel.send(true);
        match self.task.await {
            Ok(lease) => {
                let release = self.thread.0.spawn(async move {
                    tokio::time::timeout(RELEASE_WITHIN, lease.release()).await
                });
                if !matches!(release.await, Ok(Ok(()))) {
                    warn!("the lease's connection does not answer: leaving the lease to lapse");
                }
            }
            Err(e) => warn!(error = %e, "the lease keeper failed"),
        }
    }
}

async fn keep(
    mut lease: Lease,
    ttl: Duration,
    mut cancelled: watch::Receiver<bool>,
    lost: watch::Sender<Option<&'static str>>,
) -> Lease {
    let mut last_ok = lease.started();
    let mut next = last_ok + ttl / 3;
    let why = loop {
        let give_up = last_ok + ttl * 2 / 3;
        tokio::select! {
            _ = cancelled.wait_for(|c| *c) => return lease,
            _ = sleep_until(give_up) => break "could not renew the lease within 2/3 of its ttl",
            _ = sleep_until(next) => {}
        }
        let sent = Instant::now();
        match timeout_at(give_up, lease.renew()).await {
            Ok(Ok(true)) => {
                last_ok = sent;
                next = sent + ttl / 3;
            }
            Ok(Ok(false)) => break "another node has claimed the database",
            Ok(Err(e)) => {
                warn!(error = %e, "renewing the lease failed");
                break "the lease's connection failed";
            }
            Err(_) => break "could not renew the lease within 2/3 of its ttl",
        }
    };
    warn!(reason = why, epoch = lease.epoch(), "lost the lease");
    let _ = lost.send(Some(why));
    // Held until `finish`, which releases it (if its connection still
    // works, a standby need not wait for the lease to lapse).
    let _ = cancelled.wait_for(|c| *c).await;
    lease
}
