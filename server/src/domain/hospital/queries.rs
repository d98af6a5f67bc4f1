//! The read commands: a snapshot of what someone may see, the shift's
//! history, the directory, the permission check for a timeline, a ward's
//! patients and a patient's chart. They change nothing; `snapshot`,
//! `history` and `patients` answer in parts (`wardpage_proto::paging`).

use super::Hospital;
use crate::domain::task::Task;
use crate::domain::DomainError;
use wardpage_proto::paging::{self, Position, Resume};
use wardpage_proto::{
    CommandResult, Millis, PageView, PatientId, PatientView, Priority, Role, StaffId, TaskId,
    TaskView, WardId,
};

impl Hospital {
    /// One part of the patients on `ward` (every ward for a coordinator
    /// when `None`), by admission, resuming after `from`.
    pub fn patients(
        &self,
        who: StaffId,
        ward: Option<&WardId>,
        from: Resume,
        now: Millis,
    ) -> Result<CommandResult, DomainError> {
        let oversees = self.roster.oversees(who, now);
        match ward {
            None if !oversees => {
                return Err(DomainError::Forbidden(
                    "name a ward: only a coordinator may list every ward".into(),
                ))
            }
            Some(w) if !oversees && !self.covers_now(who, w, now) => {
                return Err(DomainError::Forbidden(format!(
                    "you are not on shift covering {w}"
                )))
            }
            _ => {}
        }
        let mut list: Vec<&PatientView> = self
            .patients
            .values()
            .filter(|p| p.is_admitted() && ward.is_none_or(|w| p.view.ward == *w))
            .map(|p| &p.view)
            .collect();
        list.sort_unstable_by_key(|p| (p.admitted_at, p.id.0));
        let (mut budget, mut empty) = (paging::PART_BUDGET_BYTES, true);
        let (list, at) = paging::fill(
            list,
            |p| (p.admitted_at, p.id.0),
            from.tasks,
            &mut budget,
            &mut empty,
        );
        let next = Resume {
            tasks: at,
            pages: Position::Done,
        };
        Ok(CommandResult::Patients {
            patients: list.into_iter().cloned().collect(),
            next: next.next_token(),
        })
    }

    /// A patient's chart: their sets of the last 72 hours, oldest first.
    pub fn chart(
        &self,
        who: StaffId,
        id: PatientId,
        now: Millis,
    ) -> Result<CommandResult, DomainError> {
        let p = self.visible_patient(who, id, now)?;
        Ok(CommandResult::Chart {
            patient: p.view.clone(),
            observations: self.charts.get(id).map(|o| o.as_ref().clone()).collect(),
        })
    }

    /// One part of the open tasks and pages `who` may see, resuming at
    /// `from` (`wardpage_proto::paging`: at most 200 of each, within the
    /// part's byte budget, tasks by `(raised_at, id)`, pages by
    /// `(sent_at, id)`).
    pub fn snapshot(&self, who: StaffId, from: Resume, now: Millis) -> CommandResult {
        let oversees = self.roster.oversees(who, now);
        let mut tasks: Vec<&TaskView> = self
            .tasks
            .values()
            .filter(|t| !t.state().is_terminal() && (oversees || self.task_visible_to(t, who, now)))
            .map(|t| &t.view)
            .collect();
        tasks.sort_unstable_by_key(|t| task_key(t));
        let mut pages: Vec<&PageView> = self
            .pages
            .values()
            .filter(|p| {
                p.is_open()
                    && (oversees
                        || p.view.from.id == who
                        || p.view.recipients.iter().any(|r| r.staff.id == who))
            })
            .map(|p| &p.view)
            .collect();
        pages.sort_unstable_by_key(|p| (p.sent_at, p.id.0));
        let (mut budget, mut empty) = (paging::PART_BUDGET_BYTES, true);
        let (tasks, at_tasks) =
            paging::fill(tasks, |t| task_key(t), from.tasks, &mut budget, &mut empty);
        let (pages, at_pages) = paging::fill(
            pages,
            |p| (p.sent_at, p.id.0),
            from.pages,
            &mut budget,
            &mut empty,
        );
        let next = Resume {
            tasks: at_tasks,
            pages: at_pages,
        };
        CommandResult::Snapshot {
            cursor: self.cursor(who),
            tasks: tasks.into_iter().cloned().collect(),
            pages: pages.into_iter().cloned().collect(),
            next: next.next_token(),
        }
    }

    /// Whether `who` may see this task (coordinators see all; checked separately).
    pub fn task_visible_to(&self, t: &Task, who: StaffId, now: Millis) -> bool {
        t.involved.contains(&who)
            || self
                .roster
                .on_shift(who, now)
                .is_some_and(|s| s.role.is_ward_based() && s.covers(&t.view.ward))
    }

    /// The task, if `who` may see it; otherwise not found.
    pub fn visible_task(
        &self,
        who: StaffId,
        id: TaskId,
        now: Millis,
    ) -> Result<&Task, DomainError> {
        self.tasks
            .get(&id)
            .map(|t| &**t)
            .filter(|t| self.roster.oversees(who, now) || self.task_visible_to(t, who, now))
            .ok_or_else(|| DomainError::NotFound(format!("no task {id}")))
    }

    /// One part of the tasks raised or changed since `since`, paged like a
    /// snapshot's tasks.
    pub(super) fn history(
        &self,
        who: StaffId,
        since: Millis,
        from: Resume,
        now: Millis,
    ) -> Result<CommandResult, DomainError> {
        let wards: Option<Vec<wardpage_proto::WardId>> = if self.roster.oversees(who, now) {
            None
        } else {
            match self.roster.on_shift(who, now) {
                Some(s) if s.role == Role::NurseInCharge => Some(s.wards.clone()),
                _ => {
                    return Err(DomainError::Forbidden(
                        "only a coordinator or nurse in charge may read the shift's history".into(),
                    ))
                }
            }
        };
        let kept = now - crate::domain::CLOSED_KEPT;
        let mut tasks: Vec<&TaskView> = self
            .tasks
            .values()
            .filter(|t| !t.state().is_terminal() || t.view.updated_at >= kept)
            .filter(|t| t.view.updated_at >= since || t.view.raised_at >= since)
            .filter(|t| wards.as_ref().is_none_or(|w| w.contains(&t.view.ward)))
            .map(|t| &t.view)
            .collect();
        tasks.sort_unstable_by_key(|t| task_key(t));
        let (mut budget, mut empty) = (paging::PART_BUDGET_BYTES, true);
        let (tasks, at) = paging::fill(tasks, |t| task_key(t), from.tasks, &mut budget, &mut empty);
        let next = Resume {
            tasks: at,
            pages: paging::Position::Done,
        };
        Ok(CommandResult::History {
            tasks: tasks.into_iter().cloned().collect(),
            next: next.next_token(),
        })
    }

    pub fn directory(&self, now: Millis) -> CommandResult {
        let mut staff: Vec<_> = self
            .roster
            .staff
            .values()
            .filter(|s| s.active)
            .filter_map(|s| self.roster.staff_view(s.id, now))
            .map(|mut v| {
                if let Some((connected, seen)) = self.presence.get(&v.id) {
                    v.connected = *connected;
                    v.last_seen_at = Some(*seen);
                }
                v.last_action_at = self.last_action.get(&v.id).copied();
                v
            })
            .collect();
        staff.sort_by(|a, b| a.name.cmp(&b.name));
        let targets = [
            Priority::Routine,
            Priority::Soon,
            Priority::Urgent,
            Priority::Emergency,
        ]
        .into_iter()
        .map(|priority| {
            let t = self.targets.for_priority(priority);
            wardpage_proto::PriorityTargetView {
                priority,
                accept_within_ms: t.accept_within,
                complete_within_ms: t.complete_within,
            }
        })
        .collect();
        CommandResult::Directory {
            wards: self.roster.ward_views(),
            staff,
            targets,
        }
    }

    /// The permission for a `timeline` command.
    pub(super) fn timeline(
        &self,
        actor: StaffId,
        task: TaskId,
        now: Millis,
    ) -> Result<super::Effects, DomainError> {
        // The entries come from the store; here only the permission.
        self.visible_task(actor, task, now)?;
        Ok(super::Effects::default())
    }
}

/// A paged read's `after`, already checked by `Command::validate`.
pub(super) fn resume(after: &Option<String>) -> Result<Resume, DomainError> {
    Resume::from_after(after.as_deref()).map_err(|e| DomainError::InvalidState(e.to_string()))
}

/// The order tasks are paged in: it never changes for a task.
fn task_key(t: &TaskView) -> paging::Key {
    (t.raised_at, t.id.0)
}
