//! When tasks and pages escalate: the ladder a task's state puts it on,
//! its next deadline (planned inside `apply`, so it is stored with the
//! change that set it), the hub's timer asking for due escalations, and a
//! coordinator's escalate-now. Carrying a step out is `firing`'s.

use super::{Effects, Hospital, Subject};
use crate::domain::escalation::{self, Ladder, Phase};
use crate::domain::task::Task;
use crate::domain::DomainError;
use wardpage_proto::{Millis, Priority, StaffId, TaskId, TaskState};

impl Hospital {
    /// A coordinator escalates an open task now, whatever its timer says.
    pub(super) fn escalate_now(
        &mut self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.require_overseer(actor, now, "escalate tasks")?;
        let t = self
            .tasks
            .get(&task)
            .ok_or_else(|| DomainError::NotFound(format!("no task {task}")))?;
        if t.state().is_terminal() {
            return Err(DomainError::InvalidState("task is closed".into()));
        }
        let mut fx = self
            .escalate_task(task, now, true)
            .ok_or_else(|| DomainError::InvalidState("nothing to escalate".into()))?;
        if let Some(a) = fx.audit.last_mut() {
            a.actor = Some(actor);
            a.detail = format!("by hand: {}", a.detail);
        }
        Ok(fx)
    }

    /// Every pending escalation and when it is due.
    pub fn deadlines(&self) -> impl Iterator<Item = (Millis, Subject)> + '_ {
        let tasks = self
            .tasks
            .values()
            .filter_map(|t| t.deadline().map(|d| (d, Subject::Task(t.view.id))));
        let pages = self.pages.values().filter_map(|p| {
            p.view
                .next_escalation_at
                .map(|d| (d, Subject::Page(p.view.id)))
        });
        let patients = self
            .patients
            .values()
            .filter_map(|p| p.next_check_at.map(|d| (d, Subject::Patient(p.view.id))));
        let busy = self
            .busy_deadlines()
            .map(|(staff, d)| (d, Subject::Busy(staff)));
        tasks.chain(pages).chain(patients).chain(busy)
    }

    /// The subject's pending deadline, as the state holds it now.
    pub fn deadline_of(&self, subject: Subject) -> Option<Millis> {
        match subject {
            Subject::Task(id) => self.tasks.get(&id).and_then(|t| t.deadline()),
            Subject::Page(id) => self.pages.get(&id).and_then(|p| p.view.next_escalation_at),
            Subject::Patient(id) => self.patients.get(&id).and_then(|p| p.next_check_at),
            Subject::Busy(staff) => self.busy_deadline(staff),
        }
    }

    /// Fires the subject's escalation if it is due at `now`; `None` if it is
    /// not (it was accepted, acknowledged or closed in the meantime).
    pub fn escalate(&mut self, subject: Subject, now: Millis) -> Option<Effects> {
        match subject {
            Subject::Task(id) => self
                .return_at_shift_end(id, now)
                .or_else(|| self.escalate_task(id, now, false)),
            Subject::Page(id) => self.escalate_page(id, now, false),
            Subject::Patient(id) => self.escalate_patient(id, now),
            Subject::Busy(staff) => self.expire_busy(staff, now),
        }
    }

    /// After a command that left a task with nobody to take it, or offered
    /// only to people with no connected device (when the policy treats
    /// that as nobody on shift): escalate now.
    pub(super) fn escalate_at_once(&mut self, mut fx: Effects, id: TaskId, now: Millis) -> Effects {
        let unassigned = self
            .tasks
            .get(&id)
            .is_some_and(|t| t.state() == TaskState::NoOneAccepted || self.unreached_escalates(t));
        if unassigned {
            if let Some(more) = self.escalate_task(id, now, true) {
                fx.merge(more);
            }
        }
        fx
    }

    pub(super) fn task_ladder(&self, t: &Task) -> Option<Ladder> {
        let policy = self
            .policies
            .for_task(t.view.priority, t.view.category, &t.view.ward)?;
        ladder_of(policy, t.escalation.phase)
    }

    /// A task part-way up its ladder whose priority changes moves to the
    /// new priority's ladder at the same step, timed from now on the new
    /// cadence (an emergency must not wait out a routine gap). `None` when
    /// the task is not mid-ladder: `schedule_task` then plans it afresh.
    pub(super) fn replan_mid_ladder(
        &self,
        t: &Task,
        priority: Priority,
        now: Millis,
    ) -> Option<(usize, Millis)> {
        if t.escalation.step == 0 || t.state().is_terminal() {
            return None;
        }
        let policy = self
            .policies
            .for_task(priority, t.view.category, &t.view.ward)?;
        let ladder = ladder_of(policy, t.escalation.phase)?;
        let step = t.escalation.step.min(ladder.steps.len());
        let gap = match ladder.steps.get(step) {
            Some(s) => s.after.unwrap_or(0),
            None => ladder.repeat_every,
        };
        Some((step, now + gap))
    }

    /// Puts the task on the ladder its state calls for and sets when it
    /// next escalates. Entering a new phase starts its ladder again.
    pub(super) fn schedule_task(&self, t: &mut Task, now: Millis) {
        let phase = match t.state() {
            TaskState::Offering | TaskState::NoOneAccepted => Phase::Accept,
            TaskState::Assigned => Phase::Acknowledge,
            TaskState::Accepted | TaskState::Started => Phase::Complete,
            TaskState::Completed | TaskState::Cancelled => Phase::Done,
        };
        if phase != t.escalation.phase || t.view.version == 1 {
            t.escalation = escalation::EscalationState {
                phase,
                step: 0,
                started_at: now,
            };
        } else if t.escalation.step > 0 {
            return; // mid-ladder: the time set by the last firing stands
        }
        let ladder = self.task_ladder(t);
        let first = ladder.as_ref().and_then(|l| l.steps.first());
        // An assignment has as long to be acknowledged as an offer at its
        // priority has to be accepted, counted from the assignment.
        let accept_within = self.targets.for_priority(t.view.priority).accept_within;
        t.view.next_escalation_at = match (phase, first) {
            (Phase::Done, _) | (_, None) => None,
            (_, Some(s)) => Some(match (s.after, phase) {
                (Some(after), _) => t.escalation.started_at + after,
                (None, Phase::Accept) => t.view.accept_by,
                (None, Phase::Acknowledge) => t.escalation.started_at + accept_within,
                (None, _) => t.view.complete_by,
            }),
        };
    }
}

/// The ladder a task on `phase` climbs under `policy` (`None`: closed).
fn ladder_of(policy: &escalation::TaskPolicy, phase: Phase) -> Option<Ladder> {
    match phase {
        Phase::Accept => Some(policy.accept.clone()),
        Phase::Acknowledge => Some(super::assignment::acknowledge_ladder(policy)),
        Phase::Complete => Some(policy.complete.clone()),
        Phase::Done => None,
    }
}
