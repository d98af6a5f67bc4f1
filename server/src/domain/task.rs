//! A task and its state machine. Each transition checks the state it starts
//! from and refuses otherwise; terminal states admit no transition.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use wardpage_proto::{
    Millis, Offer, OfferState, StaffId, StaffRef, TaskState, TaskView, UnassignedReason,
};

/// A task as the hub keeps it: the view everyone sees, plus everyone who has
/// been involved (they keep hearing about it after the offer moves on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub view: TaskView,
    pub involved: BTreeSet<StaffId>,
    /// Where the task stands on its escalation ladder.
    #[serde(default)]
    pub escalation: super::escalation::EscalationState,
    /// When the holder's shift ends, while someone holds the task: then
    /// the hub offers it again (`Hospital::return_held`), so nothing held
    /// at a shift's end is left with someone gone home.
    #[serde(default)]
    pub holder_shift_ends_at: Option<Millis>,
    /// Who held it before its holder now, and when they stopped holding it
    /// (handed back, reassigned, handed over, shift ended): a former holder
    /// may still report it done offline (`complete_offline`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub former_holders: std::collections::BTreeMap<StaffId, Millis>,
}

impl Task {
    pub fn state(&self) -> TaskState {
        self.view.state
    }

    /// When the hub must next look at the task: its next escalation or
    /// its holder's shift end, whichever is first.
    pub fn deadline(&self) -> Option<Millis> {
        match (self.view.next_escalation_at, self.holder_shift_ends_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether `who` holds the task (assigned to them, accepted or started;
    /// not closed).
    pub fn held_by(&self, who: StaffId) -> bool {
        !self.view.state.is_terminal() && self.view.assignee.as_ref().is_some_and(|a| a.id == who)
    }

    fn ensure_open(&self) -> Result<(), DomainError> {
        if self.view.state.is_terminal() {
            Err(DomainError::InvalidState(format!(
                "task is {}; it is closed",
                self.view.state.as_str()
            )))
        } else {
            Ok(())
        }
    }

    fn touch(&mut self, now: Millis) {
        self.view.version += 1;
        self.view.updated_at = now;
    }

    /// Replace the offer round with `candidates` (may be empty).
    pub fn offer_to(&mut self, candidates: Vec<StaffRef>) {
        self.involved.extend(candidates.iter().map(|c| c.id));
        self.view.offers = candidates
            .into_iter()
            .map(|staff| Offer {
                staff,
                state: OfferState::Offered,
                reason: None,
                unconnected: None,
            })
            .collect();
        if self.view.offers.is_empty() {
            self.view.state = TaskState::NoOneAccepted;
            self.view.unassigned_reason = Some(UnassignedReason::NoCandidates);
        } else {
            self.view.state = TaskState::Offering;
            self.view.unassigned_reason = None;
        }
    }

    fn open_offer(&self, who: StaffId) -> Option<usize> {
        self.view
            .offers
            .iter()
            .position(|o| o.staff.id == who && o.state == OfferState::Offered)
    }

    pub(crate) fn withdraw_offers(&mut self, except: Option<StaffId>) {
        for o in &mut self.view.offers {
            if o.state == OfferState::Offered && Some(o.staff.id) != except {
                o.state = OfferState::Withdrawn;
            }
        }
    }

    pub fn accept(&mut self, who: StaffRef, now: Millis) -> Result<(), DomainError> {
        self.ensure_open()?;
        if let Some(owner) = &self.view.assignee {
            if self.view.state == TaskState::Assigned && owner.id != who.id {
                return Err(DomainError::AlreadyTaken(format!(
                    "task already assigned to {}",
                    owner.name
                )));
            }
            return Err(if owner.id == who.id {
                DomainError::InvalidState("you already hold this task".into())
            } else {
                DomainError::AlreadyTaken(format!("task already taken by {}", owner.name))
            });
        }
        if self.view.state != TaskState::Offering {
            return Err(DomainError::InvalidState(format!(
                "task is {}, not offering",
                self.view.state.as_str()
            )));
        }
        if self.open_offer(who.id).is_none() {
            return Err(DomainError::Forbidden(
                "this task is not offered to you".into(),
            ));
        }
        self.withdraw_offers(Some(who.id));
        self.view.state = TaskState::Accepted;
        self.view.assignee = Some(who);
        self.view.accepted_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// Returns whether every offer is now declined (or withdrawn).
    pub fn decline(
        &mut self,
        who: StaffId,
        reason: &str,
        now: Millis,
    ) -> Result<bool, DomainError> {
        self.ensure_open()?;
        if self.view.state != TaskState::Offering {
            return Err(DomainError::InvalidState(format!(
                "task is {}, not offering",
                self.view.state.as_str()
            )));
        }
        let Some(i) = self.open_offer(who) else {
            return Err(DomainError::Forbidden(
                "this task is not offered to you".into(),
            ));
        };
        self.view.offers[i].state = OfferState::Declined;
        self.view.offers[i].reason = Some(reason.to_owned());
        let none_left = self
            .view
            .offers
            .iter()
            .all(|o| o.state != OfferState::Offered);
        if none_left {
            self.view.state = TaskState::NoOneAccepted;
            self.view.unassigned_reason = Some(UnassignedReason::AllDeclined);
        }
        self.touch(now);
        Ok(none_left)
    }

    /// The assignee of an `assigned` task says yes: it is `accepted` now,
    /// and `accepted_at` is this moment, not the assignment's.
    pub fn acknowledge(&mut self, who: StaffId, now: Millis) -> Result<(), DomainError> {
        self.ensure_awaiting(who)?;
        self.view.state = TaskState::Accepted;
        self.view.accepted_at = Some(now);
        self.touch(now);
        Ok(())
    }

    /// The assignee of an `assigned` task refuses it: nobody holds it now,
    /// and the caller offers it again (as a hand-back would).
    pub fn decline_assignment(&mut self, who: StaffId, now: Millis) -> Result<(), DomainError> {
        self.ensure_awaiting(who)?;
        self.view.assignee = None;
        self.clear_assignment();
        self.touch(now);
        Ok(())
    }

    /// Whether the task waits for `who` to acknowledge an assignment.
    pub fn awaits_acknowledgement(&self, who: StaffId) -> bool {
        self.view.state == TaskState::Assigned && self.held_by(who)
    }

    fn ensure_awaiting(&self, who: StaffId) -> Result<(), DomainError> {
        self.ensure_holder(who)?;
        if self.view.state != TaskState::Assigned {
            return Err(DomainError::InvalidState(format!(
                "task is {}, not assigned",
                self.view.state.as_str()
            )));
        }
        Ok(())
    }

    /// The assignment no longer stands (the task left its assignee, or
    /// they took it some other way).
    pub(crate) fn clear_assignment(&mut self) {
        self.view.assigned_by = None;
        self.view.assigned_at = None;
    }

    fn ensure_holder(&self, who: StaffId) -> Result<(), DomainError> {
        self.ensure_open()?;
        match &self.view.assignee {
            Some(a) if a.id == who => Ok(()),
            _ => Err(DomainError::Forbidden("you do not hold this task".into())),
        }
    }

    pub fn start(&mut self, who: StaffId, now: Millis) -> Result<(), DomainError> {
        self.ensure_holder(who)?;
        if self.view.state == TaskState::Assigned {
            return Err(DomainError::InvalidState(
                "task is assigned to you: acknowledge it (accept) first".into(),
            ));
        }
        if self.view.state != TaskState::Accepted {
            return Err(DomainError::InvalidState(format!(
                "task is {}, not accepted",
                self.view.state.as_str()
            )));
        }
        self.view.state = TaskState::Started;
        self.view.started_at = Some(now);
        self.touch(now);
        Ok(())
    }

    pub fn complete(
        &mut self,
        who: StaffId,
        outcome: &str,
        now: Millis,
    ) -> Result<(), DomainError> {
        self.ensure_holder(who)?;
        self.view.state = TaskState::Completed;
        self.view.closed_at = Some(now);
        self.view.closing_note = Some(outcome.to_owned());
        self.touch(now);
        Ok(())
    }

    /// The holder gives the task back; the caller re-offers it.
    pub fn hand_back(&mut self, who: StaffId, now: Millis) -> Result<(), DomainError> {
        self.ensure_holder(who)?;
        self.view.assignee = None;
        self.clear_assignment();
        self.view.accepted_at = None;
        self.view.started_at = None;
        self.touch(now);
        Ok(())
    }

    pub fn cancel(&mut self, reason: &str, now: Millis) -> Result<(), DomainError> {
        self.ensure_open()?;
        self.withdraw_offers(None);
        self.view.state = TaskState::Cancelled;
        self.view.closed_at = Some(now);
        self.view.closing_note = Some(reason.to_owned());
        self.touch(now);
        Ok(())
    }

    /// A coordinator (`by`) gives the task to `to`, from any open state. It
    /// is `assigned`, not accepted: `to` has not said yes until they
    /// acknowledge it ([`Task::acknowledge`]), so `accepted_at` is unset.
    pub fn assign(&mut self, to: StaffRef, by: StaffRef, now: Millis) -> Result<(), DomainError> {
        self.ensure_open()?;
        if self.view.assignee.as_ref().is_some_and(|a| a.id == to.id) {
            return Err(DomainError::InvalidState(format!(
                "{} already holds this task",
                to.name
            )));
        }
        self.withdraw_offers(None);
        self.involved.insert(to.id);
        self.view.state = TaskState::Assigned;
        self.view.unassigned_reason = None;
        self.view.assignee = Some(to);
        self.view.assigned_by = Some(by);
        self.view.assigned_at = Some(now);
        self.view.accepted_at = None;
        self.view.started_at = None;
        self.touch(now);
        Ok(())
    }
}
