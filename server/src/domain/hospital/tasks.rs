//! The task commands: raise, and one handler for each move a task can make
//! (accept, decline, start, complete, hand back, cancel, assign, set
//! priority). Each runs the state machine in `task.rs` on a copy of the
//! task, so a refusal leaves it as it was, then audits the change, tells
//! everyone involved and plans the next escalation.

use super::{Effects, Hospital, Write};
use crate::domain::ids::Ids;
use crate::domain::roster::Roster;
use crate::domain::task::Task;
use crate::domain::DomainError;
use std::collections::BTreeSet;
use wardpage_proto::{
    Category, CommandResult, Event, Millis, PatientId, PatientRef, Priority, Requirement,
    ReviewTrigger, Sbar, StaffId, StaffRef, TaskChange, TaskId, TaskState, TaskView, WardId,
};

/// A task about to be raised, by a person or by the hub.
pub(super) struct Draft {
    pub ward: WardId,
    pub bed: String,
    pub patient: String,
    pub patient_ref: Option<PatientRef>,
    pub review: Option<ReviewTrigger>,
    pub category: Category,
    pub priority: Priority,
    pub requirement: Requirement,
    pub sbar: Sbar,
    pub raised_by: StaffRef,
    /// Who hears of it from the start (the raiser, watchers).
    pub involved: BTreeSet<StaffId>,
}

/// The fields of a `raise_task` command.
pub(super) struct NewTask<'a> {
    pub ward: &'a WardId,
    pub bed: &'a String,
    pub patient: &'a String,
    pub patient_id: Option<PatientId>,
    pub category: Category,
    pub priority: Priority,
    pub requirement: Requirement,
    pub sbar: &'a Sbar,
}

impl Hospital {
    pub(super) fn raise_task(
        &mut self,
        actor: StaffId,
        new: NewTask<'_>,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        let oversees = self.roster.oversees(actor, now);
        if self.roster.on_shift(actor, now).is_none() && !oversees {
            return Err(DomainError::Forbidden(
                "only staff on shift may raise tasks".into(),
            ));
        }
        let (ward, bed) = (new.ward, new.bed);
        self.ward_with_bed(ward, bed)?;
        let patient = self.patient_in_bed(ward, bed, new.patient_id)?;
        let draft = Draft {
            ward: ward.clone(),
            bed: bed.clone(),
            patient: patient
                .as_ref()
                .map_or_else(|| new.patient.clone(), |p| p.name.clone()),
            patient_ref: patient,
            review: None,
            category: new.category,
            priority: new.priority,
            requirement: new.requirement,
            sbar: new.sbar.clone(),
            raised_by: self.roster.staff_ref(actor),
            involved: BTreeSet::from([actor]),
        };
        let task = self.draft_task(draft, now, ids);
        Ok(self.launch_task(task, Some(actor), None, now))
    }

    /// Offers a new task to its candidates (anyone on shift covering the
    /// ward who meets its requirement, but its raiser), audits the raise
    /// (`cause` first, for the hub's own raises), tells everyone who hears
    /// of it, stores it, and escalates at once if nobody can take it.
    pub(super) fn launch_task(
        &mut self,
        mut task: Task,
        raiser: Option<StaffId>,
        cause: Option<&str>,
        now: Millis,
    ) -> Effects {
        let exclude = raiser.unwrap_or(super::observations::HUB_STAFF);
        let candidates =
            self.roster
                .candidates(&task.view.ward, task.view.requirement, exclude, now);
        task.offer_to(
            candidates
                .into_iter()
                .map(|c| self.roster.staff_ref(c))
                .collect(),
        );
        let change = if task.state() == TaskState::Offering {
            TaskChange::Raised
        } else {
            TaskChange::NoOneAccepted
        };
        self.note_unreached(&mut task, now);
        let offered: Vec<&str> = task
            .view
            .offers
            .iter()
            .map(|o| o.staff.name.as_str())
            .collect();
        let offers = match (offered.is_empty(), Self::unreached_words(&task)) {
            (true, _) => "nobody on shift can take it".to_owned(),
            (false, None) => format!("offered to {}", offered.join(", ")),
            (false, Some(_)) => format!(
                "offered to {}; none of them has a connected device",
                offered.join(", ")
            ),
        };
        let detail = match cause {
            Some(c) => format!("{c}; {offers}"),
            None => offers,
        };
        let id = task.view.id;
        let mut fx = Effects::default();
        self.audit_task(&mut fx, raiser, &task, "raise", None, detail, now);
        let fx = self.finish_task(fx, raiser, task, change, now);
        self.escalate_at_once(fx, id, now)
    }

    /// The patient a raise is for: the one in the bed, who must be the one
    /// the sender's screen showed (`expected`), so that a task never lands
    /// on whoever took the bed since.
    fn patient_in_bed(
        &self,
        ward: &WardId,
        bed: &str,
        expected: Option<PatientId>,
    ) -> Result<Option<PatientRef>, DomainError> {
        let here = self
            .beds
            .get(&(ward.clone(), bed.to_owned()))
            .and_then(|id| self.patients.get(id));
        match (here, expected) {
            (Some(p), Some(e)) if p.view.id != e => Err(DomainError::InvalidState(format!(
                "bed {bed} now holds {}, not the patient you chose: check the wristband",
                p.view.details.name
            ))),
            (None, Some(_)) => Err(DomainError::InvalidState(format!(
                "the patient you chose is no longer in bed {bed}"
            ))),
            (Some(p), _) => Ok(Some(p.reference())),
            (None, None) => Ok(None),
        }
    }

    /// The task as raised, before it is offered to anyone.
    pub(super) fn draft_task(&self, d: Draft, now: Millis, ids: &mut Ids) -> Task {
        let target = self.targets.for_priority(d.priority);
        Task {
            view: TaskView {
                id: self.fresh_task_id(now, ids),
                version: 1,
                ward: d.ward,
                bed: d.bed,
                patient: d.patient,
                patient_ref: d.patient_ref,
                review: d.review,
                category: d.category,
                priority: d.priority,
                requirement: d.requirement,
                sbar: d.sbar,
                state: TaskState::Offering,
                unassigned_reason: None,
                raised_by: d.raised_by,
                offers: Vec::new(),
                assignee: None,
                raised_at: now,
                updated_at: now,
                accept_by: now + target.accept_within,
                complete_by: now + target.complete_within,
                accepted_at: None,
                assigned_by: None,
                assigned_at: None,
                started_at: None,
                closed_at: None,
                closing_note: None,
                escalation_level: 0,
                next_escalation_at: None,
                handover: None,
                unreached_at: None,
            },
            involved: d.involved,
            escalation: Default::default(),
            holder_shift_ends_at: None,
            former_holders: Default::default(),
        }
    }

    pub(super) fn accept(
        &mut self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if self
            .tasks
            .get(&task)
            .is_some_and(|t| t.awaits_acknowledgement(actor))
        {
            return self.acknowledge(actor, task, now);
        }
        let who = self.roster.staff_ref(actor);
        self.change_task(actor, task, now, "accept", |t, _| {
            t.accept(who, now)
                .map(|_| (TaskChange::Accepted, String::new()))
        })
    }

    pub(super) fn decline(
        &mut self,
        actor: StaffId,
        task: TaskId,
        reason: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if self
            .tasks
            .get(&task)
            .is_some_and(|t| t.awaits_acknowledgement(actor))
        {
            return self.decline_assignment(actor, task, reason, now);
        }
        let fx = self.change_task(actor, task, now, "decline", |t, _| {
            let none_left = t.decline(actor, reason, now)?;
            let change = if none_left {
                TaskChange::NoOneAccepted
            } else {
                TaskChange::Declined
            };
            Ok((change, reason.to_owned()))
        })?;
        // Every candidate said no: do not wait for the timer.
        Ok(self.escalate_at_once(fx, task, now))
    }

    pub(super) fn start(
        &mut self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_task(actor, task, now, "start", |t, _| {
            t.start(actor, now)
                .map(|_| (TaskChange::Started, String::new()))
        })
    }

    pub(super) fn complete(
        &mut self,
        actor: StaffId,
        task: TaskId,
        outcome: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_task(actor, task, now, "complete", |t, _| {
            t.complete(actor, outcome, now)
                .map(|_| (TaskChange::Completed, outcome.to_owned()))
        })
    }

    pub(super) fn hand_back(
        &mut self,
        actor: StaffId,
        task: TaskId,
        reason: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_task(actor, task, now, "hand_back", |t, roster| {
            t.hand_back(actor, now)?;
            let candidates = roster.candidates(&t.view.ward, t.view.requirement, actor, now);
            let candidates = candidates
                .into_iter()
                .filter(|c| *c != t.view.raised_by.id)
                .map(|c| roster.staff_ref(c))
                .collect();
            t.offer_to(candidates);
            Ok((TaskChange::HandedBack, reason.to_owned()))
        })
    }

    pub(super) fn cancel(
        &mut self,
        actor: StaffId,
        task: TaskId,
        reason: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let oversees = self.roster.oversees(actor, now);
        self.change_task(actor, task, now, "cancel", |t, _| {
            if t.view.raised_by.id != actor && !oversees {
                return Err(DomainError::Forbidden(
                    "only the raiser or a coordinator may cancel a task".into(),
                ));
            }
            t.cancel(reason, now)
                .map(|_| (TaskChange::Cancelled, reason.to_owned()))
        })
    }

    pub(super) fn assign(
        &mut self,
        actor: StaffId,
        task: TaskId,
        staff: StaffId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.require_overseer(actor, now, "assign tasks")?;
        if !self.roster.staff.contains_key(&staff) {
            return Err(DomainError::NotFound(format!("no member of staff {staff}")));
        }
        let to = self.roster.staff_ref(staff);
        if self.roster.on_shift(staff, now).is_none() {
            return Err(DomainError::InvalidState(format!(
                "{} is not on shift",
                to.name
            )));
        }
        let detail = format!("to {}", to.name);
        let by = self.roster.staff_ref(actor);
        self.change_task(actor, task, now, "assign", |t, _| {
            t.assign(to, by, now)?;
            // Each assignment waits afresh for its own acknowledgement,
            // even when it replaces one still waiting.
            t.escalation = crate::domain::escalation::EscalationState {
                phase: crate::domain::escalation::Phase::Acknowledge,
                step: 0,
                started_at: now,
            };
            Ok((TaskChange::Assigned, detail))
        })
    }

    pub(super) fn set_priority(
        &mut self,
        actor: StaffId,
        task: TaskId,
        priority: Priority,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.require_overseer(actor, now, "change priorities")?;
        let target = self.targets.for_priority(priority);
        let replan = self
            .tasks
            .get(&task)
            .and_then(|t| self.replan_mid_ladder(t, priority, now));
        self.change_task(actor, task, now, "set_priority", |t, _| {
            if t.view.state.is_terminal() {
                return Err(DomainError::InvalidState("task is closed".into()));
            }
            if t.view.priority == priority {
                return Err(DomainError::InvalidState(format!(
                    "task is already {}",
                    priority.as_str()
                )));
            }
            let from = t.view.priority.as_str();
            t.view.priority = priority;
            t.view.accept_by = t.view.raised_at + target.accept_within;
            t.view.complete_by = t.view.raised_at + target.complete_within;
            if let Some((step, at)) = replan {
                t.escalation.step = step;
                t.view.next_escalation_at = Some(at);
            }
            t.view.version += 1;
            t.view.updated_at = now;
            Ok((
                TaskChange::PriorityChanged,
                format!("{from} -> {}", priority.as_str()),
            ))
        })
    }

    /// Runs `f` on a copy of the task; stores it only if `f` succeeds, so a
    /// refused command leaves the task exactly as it was.
    pub(super) fn change_task(
        &mut self,
        actor: StaffId,
        id: TaskId,
        now: Millis,
        action: &'static str,
        f: impl FnOnce(&mut Task, &Roster) -> Result<(TaskChange, String), DomainError>,
    ) -> Result<Effects, DomainError> {
        let before = self
            .tasks
            .get(&id)
            .ok_or_else(|| DomainError::NotFound(format!("no task {id}")))?;
        if !self.roster.oversees(actor, now) && !self.task_visible_to(before, actor, now) {
            // Do not reveal other wards' tasks: it reads as not found.
            return Err(DomainError::NotFound(format!("no task {id}")));
        }
        let from = before.state();
        let mut task = Task::clone(before);
        let (change, detail) = f(&mut task, &self.roster)?;
        let mut fx = Effects::default();
        self.audit_task(&mut fx, Some(actor), &task, action, Some(from), detail, now);
        Ok(self.finish_task(fx, Some(actor), task, change, now))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn audit_task(
        &self,
        fx: &mut Effects,
        actor: Option<StaffId>,
        task: &Task,
        action: &'static str,
        from: Option<TaskState>,
        detail: String,
        now: Millis,
    ) {
        fx.audit.push(crate::domain::AuditRecord {
            at: now,
            actor,
            entity: "task",
            entity_id: task.view.id.to_string(),
            action,
            from_state: from.map(|s| s.as_str().to_owned()),
            to_state: Some(task.state().as_str().to_owned()),
            detail,
        });
    }

    /// Plans the task's next escalation, tells everyone who hears of it and
    /// stores it.
    pub(super) fn finish_task(
        &mut self,
        mut fx: Effects,
        by: Option<StaffId>,
        mut task: Task,
        change: TaskChange,
        now: Millis,
    ) -> Effects {
        // A handover lapses once its giver no longer holds the task.
        let lapsed = task
            .view
            .handover
            .as_ref()
            .is_some_and(|h| !task.held_by(h.from.id));
        if lapsed {
            task.view.handover = None;
        }
        self.note_former_holder(&mut task, now);
        self.schedule_task(&mut task, now);
        task.holder_shift_ends_at = self.holder_shift_end(&task);
        self.note_unreached(&mut task, now);
        let mut recipients: BTreeSet<StaffId> = task.involved.clone();
        recipients.extend(self.roster.ward_team(&task.view.ward, now));
        recipients.extend(self.roster.overseers(now));
        self.deliver(
            &mut fx,
            now,
            Event::Task {
                change,
                task: task.view.clone(),
                by: by.map(|a| self.roster.staff_ref(a)),
            },
            recipients,
        );
        fx.result = Some(CommandResult::Task {
            task: task.view.clone(),
        });
        let closed_for = task
            .state()
            .is_terminal()
            .then(|| task.view.patient_ref.as_ref().map(|p| p.id))
            .flatten();
        let id = task.view.id;
        fx.writes.push(Write::Task(Box::new(task.clone())));
        self.tasks.insert(id, Box::new(task));
        if let Some(patient) = closed_for {
            self.end_episode(&mut fx, patient, id, now);
        }
        fx
    }
}
