//! Presence: who has a device connected, for the directory, pushed to the
//! coordinators on shift as unnumbered `presence` frames. The registry is
//! the truth; connections only hint, and every tick reconciles.

use super::Writer;
use std::collections::BTreeSet;
use std::sync::Arc;
use wardpage_proto::{Millis, ServerFrame, StaffId};

impl Writer {
    /// Makes presence agree with the registry, whatever hints were lost.
    pub(super) fn reconcile_presence(&mut self) {
        let now = self.clock.now();
        let live: BTreeSet<StaffId> = self.registry.connected().into_iter().collect();
        let known: std::collections::HashMap<StaffId, bool> = self.hospital.presence().collect();
        let stale: Vec<(StaffId, bool)> = known
            .iter()
            .filter(|(s, connected)| **connected != live.contains(s))
            .map(|(s, connected)| (*s, !connected))
            .chain(
                live.iter()
                    .filter(|s| !known.contains_key(s))
                    .map(|s| (*s, true)),
            )
            .collect();
        for (staff, connected) in stale {
            self.presence(staff, connected, now);
        }
    }

    /// Records a change of presence and tells the coordinators on shift.
    pub(super) fn presence(&mut self, staff: StaffId, connected: bool, at: Millis) {
        if self.hospital.set_presence(staff, connected, at) {
            let frame: Arc<str> = Arc::from(
                ServerFrame::Presence {
                    staff,
                    connected,
                    at,
                }
                .to_text(),
            );
            let overseers: Vec<StaffId> = self.hospital.roster().overseers(at).collect();
            self.registry.send_frame(&overseers, &frame);
        }
    }
}
