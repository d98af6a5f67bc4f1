//! Work done offline that the hub refused because the task moved meanwhile
//! (issue 17, hazard 5): a doctor completes a task with her phone in a
//! not-spot while the coordinator gives it to someone else; on reconnect her
//! queued `complete` is refused (she no longer holds it). `complete_offline`
//! is how she tells the hub it was done: a former holder (`Task::
//! former_holders`) may complete the open task on her word, with the time
//! she did it; the audit row and the closing note say so, and the task's
//! `completed` event reaches its new holder and the coordinators, so nobody
//! does the job twice.
//!
//! A separate command rather than a field on `complete`: `complete` keeps
//! its one rule (only the holder), and completing a task someone else holds
//! is always a deliberate, named act that no older client sends by mistake.

use super::{Effects, Hospital};
use crate::domain::escalation::human_duration;
use crate::domain::task::Task;
use crate::domain::DomainError;
use wardpage_proto::{Millis, StaffId, TaskChange, TaskId, TaskState};

/// How far ahead of the hub's clock a device's "done at" may be (its clock
/// estimate can be off by this much) before it is refused as impossible.
const CLOCK_SLACK: Millis = 5 * 60_000;

impl Hospital {
    /// Remembers who stopped holding the task in this change (handed back,
    /// reassigned, handed over, returned at the end of their shift).
    pub(super) fn note_former_holder(&self, task: &mut Task, now: Millis) {
        let before = self
            .tasks
            .get(&task.view.id)
            .and_then(|t| t.view.assignee.as_ref().map(|a| a.id));
        let after = task.view.assignee.as_ref().map(|a| a.id);
        if let Some(was) = before {
            if after != Some(was) && !task.state().is_terminal() {
                task.former_holders.insert(was, now);
            }
        }
    }

    /// `complete_offline`: a former holder says she did the task at
    /// `done_at` (while her device was offline), after it had moved on.
    pub(super) fn complete_offline(
        &mut self,
        actor: StaffId,
        task: TaskId,
        outcome: &str,
        done_at: Millis,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let me = self.roster.staff_ref(actor);
        self.change_task(actor, task, now, "complete_offline", |t, _| {
            if t.state().is_terminal() {
                return Err(DomainError::InvalidState(format!(
                    "task is {}; it is closed",
                    t.state().as_str()
                )));
            }
            if t.held_by(actor) {
                return Err(DomainError::InvalidState(
                    "you hold this task: complete it".into(),
                ));
            }
            if !t.former_holders.contains_key(&actor) {
                return Err(DomainError::Forbidden(
                    "only someone who held this task may report it done offline".into(),
                ));
            }
            if done_at < t.view.raised_at || done_at > now + CLOCK_SLACK {
                return Err(DomainError::InvalidState(
                    "done_at is not a time between the raise and now".into(),
                ));
            }
            let holder = match (&t.view.assignee, t.state()) {
                (Some(a), _) => format!("it had been given to {}", a.name),
                (None, TaskState::Offering) => "it had been offered again".to_owned(),
                (None, _) => "it had moved on".to_owned(),
            };
            let when = human_duration((now - done_at).max(0));
            let note = format!(
                "done by {} while offline, {when} before the hub heard; {holder}",
                me.name
            );
            t.withdraw_offers(None);
            t.clear_assignment();
            t.view.assignee = Some(me);
            t.view.state = TaskState::Completed;
            t.view.closed_at = Some(now);
            t.view.closing_note = Some(if outcome.is_empty() {
                format!("({note})")
            } else {
                format!("{outcome} ({note})")
            });
            t.view.version += 1;
            t.view.updated_at = now;
            Ok((TaskChange::Completed, format!("{note}; done at {done_at}")))
        })
    }
}
