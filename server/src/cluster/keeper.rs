//! Keeps the owner's lease: renews it every ttl/3 and says it is lost when
//! a renewal finds the epoch moved on (another node took over), when the
//! lease's connection fails (its advisory lock went with it), or when no
//! renewal has succeeded for 2/3 of the ttl. That last is judged by this
//! node's monotonic clock from the moment the last successful renewal was
//! sent, which the database's `valid_until` can only be later than: so the
//! owner stops serving at least a third of the ttl before a standby could
//! find its lease lapsed.

use crate::store::postgres::Lease;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout_at, Instant};
use tracing::warn;

/// How long a release may take: it is a courtesy to the next owner (who
/// otherwise waits for the lease to lapse), not worth a node that hangs.
const RELEASE_WITHIN: Duration = Duration::from_secs(1);

/// The lease, renewed in a task of its own while the node owns.
pub(super) struct Keeper {
    task: JoinHandle<Lease>,
    cancel: watch::Sender<bool>,
    lost: watch::Receiver<Option<&'static str>>,
}

impl Keeper {
    /// Starts renewing `lease`, whose ttl is `ttl`.
    pub(super) fn start(lease: Lease, ttl: Duration) -> Keeper {
        let (cancel, cancelled) = watch::channel(false);
        let (lost_tx, lost) = watch::channel(None);
        let task = tokio::spawn(keep(lease, ttl, cancelled, lost_tx));
        Keeper { task, cancel, lost }
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
                if tokio::time::timeout(RELEASE_WITHIN, lease.release())
                    .await
                    .is_err()
                {
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
