//! The roster when it changes under a running hub (`wardpage roster
//! import`, `user add`): a watcher task polls its version off the writer,
//! and the writer reloads it, keeping the shift changes still committing.

use super::batch::Staged;
use super::{Writer, WriterMsg, TICK};
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::mpsc;
use tracing::{info, warn};

impl Writer {
    /// Reloads the roster after a change outside the hub (the version is
    /// polled off the writer; the rare reload itself runs here, so that no
    /// commit can finish between reading the roster and taking it).
    pub(super) async fn reload_roster(&mut self, version: i64, staged: &Staged) {
        if version == self.roster_version {
            return;
        }
        match self.store.load_roster().await {
            Ok(roster) => {
                info!(version, "roster changed outside the hub; reloaded");
                self.replace_roster(roster, staged);
                self.roster_version = version;
            }
            Err(e) => warn!(error = %e, "roster reload failed; will retry"),
        }
    }

    /// Takes a roster read from the store, keeping the shift changes that
    /// were applied here but are not committed yet (in flight or staged):
    /// the read may have missed them, and they are stored and answered `ok`
    /// once their commit returns.
    pub(super) fn replace_roster(&mut self, roster: crate::domain::Roster, staged: &Staged) {
        self.hospital.replace_roster(
            roster,
            self.committing_shifts
                .iter()
                .chain(&staged.pending.batch.shifts),
        );
    }
}

/// Polls the roster's version in the store (changed by `wardpage roster
/// import` and `user add` beside a running hub) and tells the writer when it
/// moves, and every 10 s whatever it is (so a reload that failed is tried
/// again; the writer ignores a version it has). Holds only a weak handle,
/// so it never keeps a writer alive, and ends with it.
pub(super) async fn watch_roster(
    store: Arc<dyn Store>,
    mut seen: i64,
    tx: mpsc::WeakSender<WriterMsg>,
) {
    const RESEND_EVERY: u32 = 20;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for round in 1u32.. {
        tick.tick().await;
        let version = match store.roster_version().await {
            Ok(v) => v,
            Err(e) => {
                warn!(error = %e, "roster version check failed");
                continue;
            }
        };
        if version == seen && round % RESEND_EVERY != 0 {
            continue;
        }
        seen = version;
        let Some(tx) = tx.upgrade() else { return };
        if tx.send(WriterMsg::RosterChanged { version }).await.is_err() {
            return;
        }
    }
}
