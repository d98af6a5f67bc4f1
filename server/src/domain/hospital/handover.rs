//! Shift handover: what a person holds (the `handover` read), handing a
//! held task to a named incoming person who must accept or refuse it, and
//! what happens to whatever is still held when a shift ends (by
//! `end_shift` or its end time passing): it is offered again and the
//! coordinators are told, so nothing held at a shift's end is left with
//! someone who has gone home.

use super::{Effects, Hospital, Write};
use crate::domain::task::Task;
use crate::domain::{AuditRecord, DomainError};
use std::collections::BTreeSet;
use wardpage_proto::{
    CommandResult, Event, HandoverView, Millis, PageView, StaffId, TaskChange, TaskId, TaskView,
};

impl Hospital {
    /// When the holder's shift ends, for a task someone holds (`None` when
    /// nobody holds it or the holder has no shift on record).
    pub(super) fn holder_shift_end(&self, t: &Task) -> Option<Millis> {
        if t.state().is_terminal() {
            return None;
        }
        let holder = t.view.assignee.as_ref()?;
        self.roster.shifts().get(&holder.id).map(|s| s.ends_at)
    }

    /// The open tasks `staff` holds, oldest raised first.
    fn held_by(&self, staff: StaffId) -> Vec<&Task> {
        let mut held: Vec<&Task> = self.tasks().filter(|t| t.held_by(staff)).collect();
        held.sort_by_key(|t| (t.view.raised_at, t.view.id));
        held
    }

    /// Open pages to `staff` that they have not acknowledged, oldest first.
    fn unacknowledged_pages(&self, staff: StaffId) -> Vec<PageView> {
        let mut pages: Vec<PageView> = self
            .pages
            .values()
            .filter(|p| p.is_open())
            .filter(|p| {
                p.view
                    .recipients
                    .iter()
                    .any(|r| r.staff.id == staff && r.acked_at.is_none())
            })
            .map(|p| p.view.clone())
            .collect();
        pages.sort_by_key(|p| (p.sent_at, p.id));
        pages
    }

    /// The `handover` read: what the sender holds.
    pub(super) fn handover_read(&self, actor: StaffId) -> CommandResult {
        CommandResult::Handover {
            tasks: self
                .held_by(actor)
                .into_iter()
                .map(|t| t.view.clone())
                .collect(),
            pages: self.unacknowledged_pages(actor),
        }
    }

    /// The holder offers a held task to `to`: on shift, covering the ward,
    /// meeting the requirement. The holder keeps it until `to` accepts; a
    /// new handover replaces one still pending.
    pub(super) fn hand_over(
        &mut self,
        actor: StaffId,
        task: TaskId,
        to: StaffId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if to == actor {
            return Err(DomainError::InvalidState(
                "you cannot hand a task over to yourself".into(),
            ));
        }
        if !self.roster.staff.contains_key(&to) {
            return Err(DomainError::NotFound(format!("no member of staff {to}")));
        }
        let (from, incoming) = (self.roster.staff_ref(actor), self.roster.staff_ref(to));
        self.change_task(actor, task, now, "hand_over", |t, roster| {
            if !t.held_by(actor) {
                return Err(DomainError::Forbidden("you do not hold this task".into()));
            }
            if t.awaits_acknowledgement(actor) {
                return Err(DomainError::InvalidState(
                    "task is assigned to you: acknowledge (accept) or decline it first".into(),
                ));
            }
            let fits = roster
                .candidates(&t.view.ward, t.view.requirement, actor, now)
                .contains(&to);
            if !fits {
                return Err(DomainError::InvalidState(format!(
                    "{} is not on shift covering this ward in a role or skill it needs",
                    incoming.name
                )));
            }
            let detail = format!("to {}", incoming.name);
            t.involved.insert(to);
            t.view.handover = Some(HandoverView {
                from,
                to: incoming,
                at: now,
            });
            t.view.version += 1;
            t.view.updated_at = now;
            Ok((TaskChange::HandoverOffered, detail))
        })
    }

    /// The named incoming person takes the task: they hold it now, in the
    /// state it was in (accepted or started).
    pub(super) fn accept_handover(
        &mut self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if self.roster.on_shift(actor, now).is_none() {
            return Err(DomainError::InvalidState("not on shift".into()));
        }
        let me = self.roster.staff_ref(actor);
        self.change_task(actor, task, now, "accept_handover", |t, _| {
            let h = pending_for(t, actor)?;
            t.view.assignee = Some(me);
            t.clear_assignment();
            t.view.handover = None;
            t.view.version += 1;
            t.view.updated_at = now;
            Ok((
                TaskChange::HandoverAccepted,
                format!("from {}", h.from.name),
            ))
        })
    }

    /// The named incoming person refuses: the giver still holds the task.
    pub(super) fn decline_handover(
        &mut self,
        actor: StaffId,
        task: TaskId,
        reason: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_task(actor, task, now, "decline_handover", |t, _| {
            let h = pending_for(t, actor)?;
            t.view.handover = None;
            t.view.version += 1;
            t.view.updated_at = now;
            Ok((
                TaskChange::HandoverDeclined,
                format!("back to {}: {reason}", h.from.name),
            ))
        })
    }

    /// The hub's timer reached a task's holder's shift end: if the shift
    /// has ended, everything that person holds is offered again. `None`
    /// when the task's holder is still on shift (or nobody holds it).
    pub(super) fn return_at_shift_end(&mut self, id: TaskId, now: Millis) -> Option<Effects> {
        let t = self.tasks.get(&id)?;
        let ended = t.holder_shift_ends_at.is_some_and(|e| e <= now);
        let holder = t.view.assignee.as_ref()?.id;
        if !ended || !t.held_by(holder) {
            return None;
        }
        if self.roster.on_shift(holder, now).is_some() {
            // The shift was changed outside a command (a roster import):
            // wait for its new end, which the timer then reads.
            let ends = self.holder_shift_end(t);
            if let Some(t) = self.tasks.get_mut(&id) {
                t.holder_shift_ends_at = ends;
            }
            return None;
        }
        let mut fx = Effects::default();
        self.return_held(&mut fx, holder, None, now);
        Some(fx)
    }

    /// Offers again every task `staff` still holds (their shift has ended,
    /// so they are no candidate), and tells the coordinators, with `staff`
    /// themself, what was held and which pages to them are unanswered.
    /// `by`: who ended the shift (`None`: its end time passed).
    pub(super) fn return_held(
        &mut self,
        fx: &mut Effects,
        staff: StaffId,
        by: Option<StaffId>,
        now: Millis,
    ) -> (Vec<TaskView>, Vec<PageView>) {
        let held: Vec<TaskId> = self.held_by(staff).iter().map(|t| t.view.id).collect();
        let pages = self.unacknowledged_pages(staff);
        if held.is_empty() && pages.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let name = self.roster.staff_ref(staff).name;
        let how = if by.is_some() {
            "ended"
        } else {
            "end time passed"
        };
        let mut returned = Vec::new();
        for id in held {
            let Some(before) = self.tasks.get(&id) else {
                continue;
            };
            let from = before.state();
            let mut task = Task::clone(before);
            task.view.assignee = None;
            task.clear_assignment();
            task.view.accepted_at = None;
            task.view.started_at = None;
            task.view.handover = None;
            task.view.version += 1;
            task.view.updated_at = now;
            let candidates = self
                .roster
                .candidates(&task.view.ward, task.view.requirement, staff, now)
                .into_iter()
                .filter(|c| *c != task.view.raised_by.id)
                .map(|c| self.roster.staff_ref(c))
                .collect();
            task.offer_to(candidates);
            let offered = match task.view.offers.len() {
                0 => "nobody on shift can take it".to_owned(),
                n => format!("offered to {n}"),
            };
            let detail = format!("shift of {name} {how} while holding it; {offered}");
            self.audit_task(
                fx,
                by,
                &task,
                "return_at_shift_end",
                Some(from),
                detail,
                now,
            );
            let more = self.finish_task(
                Effects::default(),
                by,
                task,
                TaskChange::ReturnedAtShiftEnd,
                now,
            );
            let more = self.escalate_at_once(more, id, now);
            if let Some(t) = self.tasks.get(&id) {
                returned.push(t.view.clone());
            }
            let result = fx.result.take();
            fx.merge(more);
            fx.result = result;
        }
        self.alert_held(fx, (staff, by), &returned, pages.clone(), how, now);
        (returned, pages)
    }

    /// The coordinators' alert (and the person's own) for what a shift
    /// left behind, with its audit row (by whoever ended the shift, `None`
    /// when its time passed).
    fn alert_held(
        &mut self,
        fx: &mut Effects,
        (staff, by): (StaffId, Option<StaffId>),
        tasks: &[TaskView],
        pages: Vec<PageView>,
        how: &str,
        now: Millis,
    ) {
        let who = self.roster.staff_ref(staff);
        let reason = format!(
            "shift of {} {how} holding {} task(s), now offered again, and {} page(s) unacknowledged",
            who.name,
            tasks.len(),
            pages.len()
        );
        fx.audit.push(AuditRecord {
            at: now,
            actor: by,
            entity: "shift",
            entity_id: staff.to_string(),
            action: "held_at_shift_end",
            from_state: None,
            to_state: None,
            detail: reason.clone(),
        });
        let mut audience: BTreeSet<StaffId> = self.roster.overseers(now).collect();
        audience.insert(staff);
        let event = Event::HeldAtShiftEnd {
            staff: who,
            reason,
            tasks: tasks.to_vec(),
            pages,
        };
        self.deliver(fx, now, event, audience);
    }

    /// Sets every held task's shift end from the roster as it stands (at
    /// load and roster reload, when shifts may have changed outside a
    /// command).
    pub(super) fn refresh_holder_shift_ends(&mut self) {
        let ends: Vec<(TaskId, Option<Millis>)> = self
            .tasks()
            .map(|t| (t.view.id, self.holder_shift_end(t)))
            .collect();
        for (id, end) in ends {
            if let Some(t) = self.tasks.get_mut(&id) {
                t.holder_shift_ends_at = end;
            }
        }
    }

    /// A shift started or changed: the tasks its person holds now wait
    /// for the new end time. Stored again, unchanged to clients.
    pub(super) fn replan_held(&mut self, fx: &mut Effects, staff: StaffId) {
        let ends = self.roster.shifts().get(&staff).map(|s| s.ends_at);
        let ids: Vec<TaskId> = self.held_by(staff).iter().map(|t| t.view.id).collect();
        for id in ids {
            if let Some(t) = self.tasks.get_mut(&id) {
                if t.holder_shift_ends_at != ends {
                    t.holder_shift_ends_at = ends;
                    fx.writes.push(Write::Task(t.clone()));
                }
            }
        }
    }
}

/// The task's pending handover, if it is to `actor`.
fn pending_for(t: &Task, actor: StaffId) -> Result<HandoverView, DomainError> {
    match &t.view.handover {
        Some(h) if h.to.id == actor => Ok(h.clone()),
        _ => Err(DomainError::Forbidden(
            "this task is not being handed over to you".into(),
        )),
    }
}
