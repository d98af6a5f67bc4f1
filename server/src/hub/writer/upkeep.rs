//! The writer's housekeeping on every tick: transport acks and owed inbox
//! rows ride with the next commit, presence is checked against the
//! registry, closed work leaves the working set, old command ids are
//! forgotten, and acknowledged history is pruned off the writer.

use super::batch::Staged;
use super::Writer;
use std::time::{Duration, Instant};
use tracing::{debug, info, warn};

/// How often closed tasks and pages leave the working set (`history`
/// filters by the same horizon, so this only bounds memory).
const FORGET_EVERY: Duration = Duration::from_secs(60);

/// How often acknowledged history and old command answers are pruned.
// Retention is counted in hours, so pruning hourly keeps at most an hour
// beyond it, and each prune deletes an hour's rows rather than a long night's.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

impl Writer {
    pub(super) async fn maintain(&mut self, staged: &mut Staged) {
        // Transport acks ride with the next commit (they only save re-sends
        // after a restart, so they need no commit of their own).
        staged.pending.batch.acks.extend(self.dirty_acks.drain());
        // An idle hub still writes the rows it owes, so its history is
        // indexed and prunable.
        let now = Instant::now();
        if self.inbox.due(now) {
            self.inbox.write_part(&mut staged.pending.batch, now);
        }
        self.reconcile_presence();
        if self.last_forget.elapsed() >= FORGET_EVERY {
            self.last_forget = Instant::now();
            let gone = self.hospital.forget_closed(self.clock.now());
            if gone > 0 {
                debug!(gone, "closed tasks and pages left the working set");
            }
        }
        let horizon = self.clock.now() - self.command_retention;
        self.forget_commands(horizon);
        if self.last_prune.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            self.last_prune = Some(Instant::now());
            // Off the writer: pruning a long night's history can take a while
            // and only deletes what no one can ask for any more.
            let store = self.store.clone();
            let events_before = self.clock.now() - self.event_retention;
            tokio::spawn(async move {
                match store.prune(events_before, horizon).await {
                    Ok(0) => {}
                    Ok(n) => info!(entries = n, "pruned acknowledged history"),
                    Err(e) => warn!(error = %e, "pruning failed; will retry"),
                }
            });
        }
    }
}
