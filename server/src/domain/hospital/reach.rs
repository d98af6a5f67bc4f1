//! Whether an offer rings anywhere: which of the people a task is offered
//! to have a connected device (presence, as the writer records it through
//! `Hospital::set_presence`), the task's `unreached_at` that tells the
//! raiser and the coordinator when none has, and whether the escalation
//! policy counts such a step as having found nobody (issue 17, hazard 4).

use super::Hospital;
use crate::domain::escalation::NobodyConnected;
use crate::domain::task::Task;
use wardpage_proto::{Millis, OfferState, StaffId, TaskState};

impl Hospital {
    /// Whether a device of theirs is connected now, as last recorded.
    /// Someone never seen since the hub started counts as not connected.
    pub(super) fn connected(&self, staff: StaffId) -> bool {
        self.presence.get(&staff).is_some_and(|(c, _)| *c)
    }

    /// Whom an escalation step may count as found: with the default policy
    /// only the connected, since an alert to a phone that is not connected
    /// rings nowhere.
    pub(super) fn reachable(&self, staff: StaffId) -> bool {
        match self.policies.nobody_connected {
            NobodyConnected::AsNobodyOnShift => self.connected(staff),
            NobodyConnected::Wait => true,
        }
    }

    /// The open offers of a task still on offer (empty when it is not).
    fn open_offers(task: &Task) -> impl Iterator<Item = StaffId> + '_ {
        let offering = task.state() == TaskState::Offering;
        task.view
            .offers
            .iter()
            .filter(move |o| offering && o.state == OfferState::Offered)
            .map(|o| o.staff.id)
    }

    /// Sets `unreached_at` (kept from the first time it was found so, so
    /// it says how long) when the task is on offer and none of the people
    /// it is offered to is connected; clears it otherwise.
    pub(super) fn note_unreached(&self, task: &mut Task, now: Millis) {
        let offering = task.state() == TaskState::Offering;
        for o in &mut task.view.offers {
            let silent = offering && o.state == OfferState::Offered && !self.connected(o.staff.id);
            o.unconnected = silent.then_some(true);
        }
        let open: Vec<StaffId> = Self::open_offers(task).collect();
        let unreached = !open.is_empty() && !open.iter().any(|s| self.connected(*s));
        task.view.unreached_at = if unreached {
            Some(task.view.unreached_at.unwrap_or(now))
        } else {
            None
        };
    }

    /// Whether a task just offered must escalate at once because its offer
    /// rings nowhere and the policy treats that as nobody on shift.
    pub(super) fn unreached_escalates(&self, task: &Task) -> bool {
        self.policies.nobody_connected == NobodyConnected::AsNobodyOnShift
            && task.state() == TaskState::Offering
            && task.view.unreached_at.is_some()
    }

    /// The audit's and raiser's words for an offer that reached nobody
    /// connected: "offered to 3 people, none of them connected".
    pub(super) fn unreached_words(task: &Task) -> Option<String> {
        task.view.unreached_at?;
        let n = Self::open_offers(task).count();
        Some(match n {
            1 => "offered to 1 person, not connected".to_owned(),
            n => format!("offered to {n} people, none of them connected"),
        })
    }
}
