//! A coordinator's assignment and its acknowledgement (issue 17): `assign`
//! leaves a task `assigned` to someone who has not said yes yet. Their
//! `accept` acknowledges it (audited `acknowledge`, `accepted_at` set now,
//! so time-to-accept counts the acknowledgement, never the assignment);
//! their `decline` hands it back with a reason (audited
//! `decline_assignment`) and it is offered again. Until they answer, the
//! task is on its own one-step ladder (`Phase::Acknowledge`): not
//! acknowledged within the time an offer at its priority has to be
//! accepted, the assignee is alerted again and the coordinators are told.

use super::{Effects, Hospital};
use crate::domain::escalation::{Action, Ladder, Step, TaskPolicy};
use crate::domain::DomainError;
use wardpage_proto::{Millis, Offer, OfferState, StaffId, TaskChange, TaskId};

impl Hospital {
    /// The assignee says yes to an `assigned` task.
    pub(super) fn acknowledge(
        &mut self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_task(actor, task, now, "acknowledge", |t, _| {
            let waited = t.view.assigned_at.map_or(0, |at| now - at);
            let by = t
                .view
                .assigned_by
                .as_ref()
                .map_or_else(|| "a coordinator".to_owned(), |b| b.name.clone());
            t.acknowledge(actor, now)?;
            Ok((
                TaskChange::Acknowledged,
                format!(
                    "assigned by {by}, acknowledged after {}",
                    crate::domain::escalation::human_duration(waited)
                ),
            ))
        })
    }

    /// The assignee refuses an `assigned` task: it is offered again among
    /// the candidates now on shift (not them, not its raiser), as a hand
    /// back would, and escalates at once if nobody can take it.
    pub(super) fn decline_assignment(
        &mut self,
        actor: StaffId,
        task: TaskId,
        reason: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let fx = self.change_task(actor, task, now, "decline_assignment", |t, roster| {
            t.decline_assignment(actor, now)?;
            let candidates = roster
                .candidates(&t.view.ward, t.view.requirement, actor, now)
                .into_iter()
                .filter(|c| *c != t.view.raised_by.id)
                .map(|c| roster.staff_ref(c))
                .collect();
            t.offer_to(candidates);
            // Their refusal stands beside the new offers, with its reason,
            // as a declined offer's does (the raiser and the board show it).
            t.view.offers.push(Offer {
                staff: roster.staff_ref(actor),
                state: OfferState::Declined,
                reason: Some(reason.to_owned()),
                unconnected: None,
            });
            Ok((TaskChange::HandedBack, reason.to_owned()))
        })?;
        Ok(self.escalate_at_once(fx, task, now))
    }
}

/// The ladder an unacknowledged assignment is on: when an offer at its
/// priority would take its first step (the accept ladder's first delay, or
/// the priority's accept target when that step waits for it), alert the
/// assignee again and the coordinators together; then the coordinators
/// again at the accept ladder's repeat, until the assignee answers or a
/// coordinator moves the task.
pub(crate) fn acknowledge_ladder(policy: &TaskPolicy) -> Ladder {
    let first = policy.accept.steps.first().and_then(|s| s.after);
    Ladder {
        steps: vec![
            Step {
                after: first,
                action: Action::Realert,
            },
            Step {
                after: Some(0),
                action: Action::Coordinator,
            },
        ],
        repeat_every: policy.accept.repeat_every,
    }
}
