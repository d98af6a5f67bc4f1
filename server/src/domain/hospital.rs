//! The whole hospital's live state and the one entry point that changes it:
//! [`Hospital::apply`]. It checks permissions, runs the state machine, picks
//! the recipients of each event and numbers every recipient's stream.

use super::escalation::{self, Action, Ladder, Phase, Policies};
use super::page::Page;
use super::roster::{Roster, Shift};
use super::task::{state_name, Task};
use super::{AuditRecord, DomainError, Targets};
use std::collections::{BTreeSet, HashMap};
use wardpage_proto::paging::{self, Resume};
use wardpage_proto::{
    Command, CommandResult, Event, Millis, PageChange, PageId, PageReceipt, PageState, PageTarget,
    PageView, Priority, Requirement, Role, StaffId, TaskChange, TaskId, TaskState, TaskView,
};

/// Something the store must write because of a command.
#[derive(Debug, Clone)]
pub enum Write {
    Task(Box<Task>),
    Page(Box<Page>),
    /// A shift started, replaced (`Some`) or ended (`None`).
    Shift(StaffId, Option<Shift>),
}

/// One event and the stream position it takes in each recipient's stream.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub at: Millis,
    pub event: Event,
    pub recipients: Vec<(StaffId, u64)>,
}

/// What a successful command changed. Nothing of it may reach anyone before
/// the store has committed it.
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// The `ok` result for the command's sender (`None` for the hub's own changes).
    pub result: Option<CommandResult>,
    pub writes: Vec<Write>,
    pub audit: Vec<AuditRecord>,
    pub deliveries: Vec<Delivery>,
}

/// Something that can escalate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Task(TaskId),
    Page(PageId),
}

impl Effects {
    /// Appends `other`'s writes, audit rows and deliveries; its result wins.
    pub fn merge(&mut self, other: Effects) {
        if other.result.is_some() {
            self.result = other.result;
        }
        self.writes.extend(other.writes);
        self.audit.extend(other.audit);
        self.deliveries.extend(other.deliveries);
    }
}

/// The live state of the hospital.
#[derive(Debug, Clone, Default)]
pub struct Hospital {
    pub roster: Roster,
    pub tasks: HashMap<TaskId, Box<Task>>,
    pub pages: HashMap<PageId, Box<Page>>,
    /// Last sequence number used in each member of staff's stream.
    pub streams: HashMap<StaffId, u64>,
    pub targets: Targets,
    pub policies: Policies,
    /// Who has a device connected, and when each was last seen; kept by
    /// the hub's edge, read here for the directory.
    pub presence: HashMap<StaffId, (bool, Millis)>,
    /// When each member of staff last changed something, since start.
    pub last_action: HashMap<StaffId, Millis>,
    /// Pages not yet delivered to each recipient, by the stream position of
    /// the event that carries them: a transport ack looks only here.
    undelivered: HashMap<StaffId, BTreeSet<(u64, PageId)>>,
}

impl Hospital {
    /// The newest `seq` in this member of staff's stream (0 when empty).
    pub fn cursor(&self, staff: StaffId) -> u64 {
        self.streams.get(&staff).copied().unwrap_or(0)
    }

    /// Carries out `cmd` for `actor` at time `now`. On error nothing changed.
    pub fn apply(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let fx = self.apply_command(actor, cmd, now)?;
        if !cmd.is_read_only() {
            self.last_action.insert(actor, now);
        }
        Ok(fx)
    }

    fn apply_command(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if !self.roster.staff.get(&actor).is_some_and(|s| s.active) {
            return Err(DomainError::Forbidden("account is not active".into()));
        }
        match cmd {
            Command::RaiseTask {
                ward,
                bed,
                patient,
                category,
                priority,
                requirement,
                sbar,
            } => {
                let oversees = self.roster.oversees(actor, now);
                if self.roster.on_shift(actor, now).is_none() && !oversees {
                    return Err(DomainError::Forbidden(
                        "only staff on shift may raise tasks".into(),
                    ));
                }
                let w = self
                    .roster
                    .wards
                    .get(ward)
                    .ok_or_else(|| DomainError::NotFound(format!("no ward `{ward}`")))?;
                if !w.beds.is_empty() && !w.beds.iter().any(|b| b == bed) {
                    return Err(DomainError::NotFound(format!(
                        "{} has no bed `{bed}`",
                        w.name
                    )));
                }
                let target = self.targets.for_priority(*priority);
                let mut task = Task {
                    view: TaskView {
                        id: TaskId::new_ordered(now),
                        version: 1,
                        ward: ward.clone(),
                        bed: bed.clone(),
                        patient: patient.clone(),
                        category: *category,
                        priority: *priority,
                        requirement: *requirement,
                        sbar: sbar.clone(),
                        state: TaskState::Offering,
                        unassigned_reason: None,
                        raised_by: self.roster.staff_ref(actor),
                        offers: Vec::new(),
                        assignee: None,
                        raised_at: now,
                        updated_at: now,
                        accept_by: now + target.accept_within,
                        complete_by: now + target.complete_within,
                        accepted_at: None,
                        started_at: None,
                        closed_at: None,
                        closing_note: None,
                        escalation_level: 0,
                        next_escalation_at: None,
                    },
                    involved: BTreeSet::from([actor]),
                    escalation: Default::default(),
                };
                let candidates = self.roster.candidates(ward, *requirement, actor, now);
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
                let mut fx = Effects::default();
                let id = task.view.id;
                let offered: Vec<&str> = task
                    .view
                    .offers
                    .iter()
                    .map(|o| o.staff.name.as_str())
                    .collect();
                let detail = if offered.is_empty() {
                    "nobody on shift can take it".to_owned()
                } else {
                    format!("offered to {}", offered.join(", "))
                };
                self.audit_task(&mut fx, actor, &task, "raise", None, detail, now);
                let fx = self.finish_task(fx, actor, task, change, now)?;
                Ok(self.escalate_at_once(fx, id, now))
            }
            Command::Accept { task } => {
                let who = self.roster.staff_ref(actor);
                self.change_task(actor, *task, now, "accept", |t, _| {
                    t.accept(who, now)
                        .map(|_| (TaskChange::Accepted, String::new()))
                })
            }
            Command::Decline { task, reason } => {
                let fx = self.change_task(actor, *task, now, "decline", |t, _| {
                    let none_left = t.decline(actor, reason, now)?;
                    let change = if none_left {
                        TaskChange::NoOneAccepted
                    } else {
                        TaskChange::Declined
                    };
                    Ok((change, reason.clone()))
                })?;
                // Every candidate said no: do not wait for the timer.
                Ok(self.escalate_at_once(fx, *task, now))
            }
            Command::Start { task } => self.change_task(actor, *task, now, "start", |t, _| {
                t.start(actor, now)
                    .map(|_| (TaskChange::Started, String::new()))
            }),
            Command::Complete { task, outcome } => {
                self.change_task(actor, *task, now, "complete", |t, _| {
                    t.complete(actor, outcome, now)
                        .map(|_| (TaskChange::Completed, outcome.clone()))
                })
            }
            Command::HandBack { task, reason } => {
                self.change_task(actor, *task, now, "hand_back", |t, roster| {
                    t.hand_back(actor, now)?;
                    let candidates =
                        roster.candidates(&t.view.ward, t.view.requirement, actor, now);
                    let candidates = candidates
                        .into_iter()
                        .filter(|c| *c != t.view.raised_by.id)
                        .map(|c| roster.staff_ref(c))
                        .collect();
                    t.offer_to(candidates);
                    Ok((TaskChange::HandedBack, reason.clone()))
                })
            }
            Command::Cancel { task, reason } => {
                let oversees = self.roster.oversees(actor, now);
                self.change_task(actor, *task, now, "cancel", |t, _| {
                    if t.view.raised_by.id != actor && !oversees {
                        return Err(DomainError::Forbidden(
                            "only the raiser or a coordinator may cancel a task".into(),
                        ));
                    }
                    t.cancel(reason, now)
                        .map(|_| (TaskChange::Cancelled, reason.clone()))
                })
            }
            Command::Assign { task, staff } => {
                self.require_overseer(actor, now, "assign tasks")?;
                if !self.roster.staff.contains_key(staff) {
                    return Err(DomainError::NotFound(format!("no member of staff {staff}")));
                }
                let to = self.roster.staff_ref(*staff);
                if self.roster.on_shift(*staff, now).is_none() {
                    return Err(DomainError::InvalidState(format!(
                        "{} is not on shift",
                        to.name
                    )));
                }
                let detail = format!("to {}", to.name);
                self.change_task(actor, *task, now, "assign", |t, _| {
                    t.assign(to, now).map(|_| (TaskChange::Assigned, detail))
                })
            }
            Command::SetPriority { task, priority } => {
                self.require_overseer(actor, now, "change priorities")?;
                let target = self.targets.for_priority(*priority);
                let replan = self
                    .tasks
                    .get(task)
                    .and_then(|t| self.replan_mid_ladder(t, *priority, now));
                self.change_task(actor, *task, now, "set_priority", |t, _| {
                    if t.view.state.is_terminal() {
                        return Err(DomainError::InvalidState("task is closed".into()));
                    }
                    if t.view.priority == *priority {
                        return Err(DomainError::InvalidState(format!(
                            "task is already {}",
                            priority_name(*priority)
                        )));
                    }
                    let from = priority_name(t.view.priority);
                    t.view.priority = *priority;
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
                        format!("{from} -> {}", priority_name(*priority)),
                    ))
                })
            }
            Command::SendPage {
                target,
                priority,
                callback,
                message,
            } => self.send_page(actor, *target, *priority, callback, message, now),
            Command::PageRead { page } => self.change_page(actor, *page, now, |p| {
                p.mark_read(actor, now)
                    .map(|c| c.then_some(PageChange::Read))
            }),
            Command::PageAck { page } => self.change_page(actor, *page, now, |p| {
                p.acknowledge(actor, now)
                    .map(|c| c.then_some(PageChange::Acknowledged))
            }),
            Command::StartShift {
                staff,
                role,
                wards,
                ends_at,
            } => {
                self.require_overseer(actor, now, "manage shifts")?;
                if !self.roster.staff.contains_key(staff) {
                    return Err(DomainError::NotFound(format!("no member of staff {staff}")));
                }
                if let Some(w) = wards.iter().find(|w| !self.roster.wards.contains_key(*w)) {
                    return Err(DomainError::NotFound(format!("no ward `{w}`")));
                }
                if *ends_at <= now {
                    return Err(DomainError::InvalidState(
                        "a shift must end in the future".into(),
                    ));
                }
                let shift = Shift {
                    role: *role,
                    wards: wards.clone(),
                    starts_at: now,
                    ends_at: *ends_at,
                };
                Ok(self.set_shift(actor, *staff, Some(shift), now))
            }
            Command::EndShift { staff } => {
                if *staff != actor {
                    self.require_overseer(actor, now, "end another person's shift")?;
                }
                if !self.roster.staff.contains_key(staff) {
                    return Err(DomainError::NotFound(format!("no member of staff {staff}")));
                }
                if self.roster.on_shift(*staff, now).is_none() {
                    return Err(DomainError::InvalidState("not on shift".into()));
                }
                Ok(self.set_shift(actor, *staff, None, now))
            }
            Command::EscalateNow { task } => {
                self.require_overseer(actor, now, "escalate tasks")?;
                let t = self
                    .tasks
                    .get(task)
                    .ok_or_else(|| DomainError::NotFound(format!("no task {task}")))?;
                if t.state().is_terminal() {
                    return Err(DomainError::InvalidState("task is closed".into()));
                }
                let mut fx = self
                    .escalate_task(*task, now, true)
                    .ok_or_else(|| DomainError::InvalidState("nothing to escalate".into()))?;
                if let Some(a) = fx.audit.last_mut() {
                    a.actor = Some(actor);
                    a.detail = format!("by hand: {}", a.detail);
                }
                Ok(fx)
            }
            Command::History { since, after } => Ok(Effects {
                result: Some(self.history(actor, *since, resume(after)?, now)?),
                ..Effects::default()
            }),
            Command::Timeline { task } => {
                // The entries come from the store; here only the permission.
                self.visible_task(actor, *task, now)?;
                Ok(Effects::default())
            }
            Command::Snapshot { after } => Ok(Effects {
                result: Some(self.snapshot(actor, resume(after)?, now)),
                ..Effects::default()
            }),
            Command::Directory {} => Ok(Effects {
                result: Some(self.directory(now)),
                ..Effects::default()
            }),
        }
    }

    /// The hub's own change: `staff`'s device has every event up to `seq`,
    /// so pages carried by those events are delivered to them.
    pub fn acknowledge_transport(&mut self, staff: StaffId, seq: u64, now: Millis) -> Effects {
        let mut fx = Effects::default();
        let Some(pending) = self.undelivered.get_mut(&staff) else {
            return fx;
        };
        let later = pending.split_off(&(seq + 1, PageId(uuid::Uuid::nil())));
        let due: Vec<PageId> = std::mem::replace(pending, later)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if pending.is_empty() {
            self.undelivered.remove(&staff);
        }
        for id in due {
            let Some(mut page) = self.pages.remove(&id) else {
                continue;
            };
            if page.mark_delivered(staff, now) {
                fx.audit.push(AuditRecord {
                    at: now,
                    actor: None,
                    entity: "page",
                    entity_id: id.to_string(),
                    action: "delivered",
                    from_state: None,
                    to_state: None,
                    detail: format!("to {}", self.roster.staff_ref(staff).name),
                });
                let recipients = self.page_audience(&page, now, false);
                self.deliver(
                    &mut fx,
                    now,
                    Event::Page {
                        change: PageChange::Delivered,
                        page: page.view.clone(),
                        by: Some(self.roster.staff_ref(staff)),
                    },
                    recipients,
                );
                fx.writes.push(Write::Page(page.clone()));
            }
            self.pages.insert(id, page);
        }
        fx
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
    fn history(
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
        let kept = now - super::CLOSED_KEPT;
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

    fn require_overseer(&self, actor: StaffId, now: Millis, what: &str) -> Result<(), DomainError> {
        if self.roster.oversees(actor, now) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "only a coordinator may {what}"
            )))
        }
    }

    /// Runs `f` on a copy of the task; stores it only if `f` succeeds, so a
    /// refused command leaves the task exactly as it was.
    fn change_task(
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
        self.audit_task(&mut fx, actor, &task, action, Some(from), detail, now);
        self.finish_task(fx, actor, task, change, now)
    }

    #[allow(clippy::too_many_arguments)]
    fn audit_task(
        &self,
        fx: &mut Effects,
        actor: StaffId,
        task: &Task,
        action: &'static str,
        from: Option<TaskState>,
        detail: String,
        now: Millis,
    ) {
        fx.audit.push(AuditRecord {
            at: now,
            actor: Some(actor),
            entity: "task",
            entity_id: task.view.id.to_string(),
            action,
            from_state: from.map(|s| state_name(s).to_owned()),
            to_state: Some(state_name(task.state()).to_owned()),
            detail,
        });
    }

    fn finish_task(
        &mut self,
        mut fx: Effects,
        actor: StaffId,
        mut task: Task,
        change: TaskChange,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.schedule_task(&mut task, now);
        let mut recipients: BTreeSet<StaffId> = task.involved.clone();
        recipients.extend(self.roster.ward_team(&task.view.ward, now));
        recipients.extend(self.roster.overseers(now));
        self.deliver(
            &mut fx,
            now,
            Event::Task {
                change,
                task: task.view.clone(),
                by: Some(self.roster.staff_ref(actor)),
            },
            recipients,
        );
        fx.result = Some(CommandResult::Task {
            task: task.view.clone(),
        });
        fx.writes.push(Write::Task(Box::new(task.clone())));
        self.tasks.insert(task.view.id, Box::new(task));
        Ok(fx)
    }

    fn send_page(
        &mut self,
        actor: StaffId,
        target: PageTarget,
        priority: Priority,
        callback: &str,
        message: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if self.roster.on_shift(actor, now).is_none() && !self.roster.oversees(actor, now) {
            return Err(DomainError::Forbidden(
                "only staff on shift may send pages".into(),
            ));
        }
        let to: Vec<StaffId> = match target {
            PageTarget::Staff(id) => {
                if !self.roster.staff.get(&id).is_some_and(|s| s.active) {
                    return Err(DomainError::NotFound(format!("no member of staff {id}")));
                }
                vec![id]
            }
            PageTarget::Role(role) => self
                .roster
                .on_shift_in_role(role, now)
                .into_iter()
                .filter(|id| *id != actor)
                .collect(),
        };
        let mut page = Page {
            view: PageView {
                id: PageId::new_ordered(now),
                version: 1,
                from: self.roster.staff_ref(actor),
                target,
                priority,
                callback: callback.to_owned(),
                message: message.to_owned(),
                state: if to.is_empty() {
                    PageState::Undeliverable
                } else {
                    PageState::Open
                },
                sent_at: now,
                recipients: to
                    .iter()
                    .map(|id| PageReceipt {
                        staff: self.roster.staff_ref(*id),
                        delivered_at: None,
                        read_at: None,
                        acked_at: None,
                    })
                    .collect(),
                escalation_level: 0,
                next_escalation_at: None,
            },
            delivery_seq: Default::default(),
            escalation_step: 0,
        };
        if page.view.state == PageState::Open {
            page.view.next_escalation_at = self
                .policies
                .pages
                .steps
                .first()
                .map(|s| now + s.after.unwrap_or(0));
        }
        let mut fx = Effects::default();
        fx.audit.push(AuditRecord {
            at: now,
            actor: Some(actor),
            entity: "page",
            entity_id: page.view.id.to_string(),
            action: "send",
            from_state: None,
            to_state: Some(page_state_name(page.view.state).into()),
            detail: message.to_owned(),
        });
        let audience = self.page_audience(&page, now, true);
        let delivery = self.deliver_only(
            now,
            Event::Page {
                change: PageChange::Sent,
                page: page.view.clone(),
                by: Some(self.roster.staff_ref(actor)),
            },
            audience,
        );
        self.await_delivery(&mut page, &delivery, |s| to.contains(s));
        fx.deliveries.push(delivery);
        fx.result = Some(CommandResult::Page {
            page: page.view.clone(),
        });
        fx.writes.push(Write::Page(Box::new(page.clone())));
        let id = page.view.id;
        let undeliverable = page.view.state == PageState::Undeliverable;
        self.pages.insert(id, Box::new(page));
        if undeliverable {
            // Nobody holds the role tonight: tell someone now.
            if let Some(more) = self.escalate_page(id, now, true) {
                fx.merge(Effects {
                    result: None,
                    ..more
                });
            }
        }
        Ok(fx)
    }

    fn change_page(
        &mut self,
        actor: StaffId,
        id: PageId,
        now: Millis,
        f: impl FnOnce(&mut Page) -> Result<Option<PageChange>, DomainError>,
    ) -> Result<Effects, DomainError> {
        let before = self
            .pages
            .get(&id)
            .ok_or_else(|| DomainError::NotFound(format!("no page {id}")))?;
        let from = before.view.state;
        let mut page = before.clone();
        let mut fx = Effects::default();
        if let Some(change) = f(&mut page)? {
            fx.audit.push(AuditRecord {
                at: now,
                actor: Some(actor),
                entity: "page",
                entity_id: id.to_string(),
                action: match change {
                    PageChange::Read => "read",
                    PageChange::Acknowledged => "acknowledge",
                    PageChange::Delivered => "delivered",
                    PageChange::Sent => "send",
                },
                from_state: Some(page_state_name(from).into()),
                to_state: Some(page_state_name(page.view.state).into()),
                detail: String::new(),
            });
            let everyone = change == PageChange::Acknowledged;
            let audience = self.page_audience(&page, now, everyone);
            let delivery = self.deliver_only(
                now,
                Event::Page {
                    change,
                    page: page.view.clone(),
                    by: Some(self.roster.staff_ref(actor)),
                },
                audience,
            );
            fx.deliveries.push(delivery);
            fx.writes.push(Write::Page(page.clone()));
            self.pages.insert(id, page.clone());
        }
        // A repeat read or ack changes nothing and answers with the page as it is.
        fx.result = Some(CommandResult::Page { page: page.view });
        Ok(fx)
    }

    /// Sender and coordinators always; every recipient when `everyone`.
    fn page_audience(&self, page: &Page, now: Millis, everyone: bool) -> BTreeSet<StaffId> {
        let mut to = BTreeSet::from([page.view.from.id]);
        to.extend(self.roster.overseers(now));
        if everyone {
            to.extend(page.view.recipients.iter().map(|r| r.staff.id));
        }
        to
    }

    fn set_shift(
        &mut self,
        actor: StaffId,
        staff: StaffId,
        shift: Option<Shift>,
        now: Millis,
    ) -> Effects {
        let mut fx = Effects::default();
        let from = self
            .roster
            .on_shift(staff, now)
            .map(|s| s.role.as_str().to_owned());
        fx.audit.push(AuditRecord {
            at: now,
            actor: Some(actor),
            entity: "shift",
            entity_id: staff.to_string(),
            action: if shift.is_some() {
                "start_shift"
            } else {
                "end_shift"
            },
            from_state: from,
            to_state: shift.as_ref().map(|s| s.role.as_str().to_owned()),
            detail: shift
                .as_ref()
                .map(|s| {
                    s.wards
                        .iter()
                        .map(|w| w.0.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default(),
        });
        // Tell coordinators on shift before the change as well as after it.
        let mut audience: BTreeSet<StaffId> = self.roster.overseers(now).collect();
        audience.insert(staff);
        self.roster.set_shift(staff, shift.clone());
        audience.extend(self.roster.overseers(now));
        let view = shift.as_ref().map(Shift::view);
        self.deliver(
            &mut fx,
            now,
            Event::Shift {
                staff: self.roster.staff_ref(staff),
                shift: view.clone(),
                by: Some(self.roster.staff_ref(actor)),
            },
            audience,
        );
        fx.writes.push(Write::Shift(staff, shift));
        fx.result = Some(CommandResult::Shift { staff, shift: view });
        fx
    }

    /// An empty hospital with these targets and escalation policies.
    pub fn new(targets: Targets, policies: Policies) -> Hospital {
        Hospital {
            targets,
            policies,
            ..Hospital::default()
        }
    }

    /// Remembers which event carries `page` to each of its recipients, so
    /// that their transport ack marks it delivered.
    fn await_delivery(
        &mut self,
        page: &mut Page,
        delivery: &Delivery,
        recipient: impl Fn(&StaffId) -> bool,
    ) {
        for (staff, seq) in delivery.recipients.iter().filter(|(s, _)| recipient(s)) {
            page.delivery_seq.insert(*staff, *seq);
            self.undelivered
                .entry(*staff)
                .or_default()
                .insert((*seq, page.view.id));
        }
    }

    /// Rebuilds the indexes derived from the pages (after loading them).
    /// Drops closed tasks and answered pages last changed before
    /// `CLOSED_KEPT` ago: the hub's memory, and the cost of `history`, stay
    /// bounded however long it runs, and match what a restart loads.
    /// Returns how many went.
    pub fn forget_closed(&mut self, now: Millis) -> usize {
        let kept = now - super::CLOSED_KEPT;
        let (tasks, pages) = (self.tasks.len(), self.pages.len());
        self.tasks
            .retain(|_, t| !t.state().is_terminal() || t.view.updated_at >= kept);
        self.pages
            .retain(|_, p| p.is_open() || p.updated_at() >= kept);
        if self.pages.len() != pages {
            self.rebuild_indexes();
        }
        tasks - self.tasks.len() + pages - self.pages.len()
    }

    pub fn rebuild_indexes(&mut self) {
        self.undelivered.clear();
        for p in self.pages.values() {
            for (staff, seq) in &p.delivery_seq {
                let waiting = p
                    .view
                    .recipients
                    .iter()
                    .any(|r| r.staff.id == *staff && r.delivered_at.is_none());
                if waiting {
                    self.undelivered
                        .entry(*staff)
                        .or_default()
                        .insert((*seq, p.view.id));
                }
            }
        }
    }

    /// Every pending escalation and when it is due.
    pub fn deadlines(&self) -> impl Iterator<Item = (Millis, Subject)> + '_ {
        let tasks = self.tasks.values().filter_map(|t| {
            t.view
                .next_escalation_at
                .map(|d| (d, Subject::Task(t.view.id)))
        });
        let pages = self.pages.values().filter_map(|p| {
            p.view
                .next_escalation_at
                .map(|d| (d, Subject::Page(p.view.id)))
        });
        tasks.chain(pages)
    }

    /// Fires the subject's escalation if it is due at `now`; `None` if it is
    /// not (it was accepted, acknowledged or closed in the meantime).
    pub fn escalate(&mut self, subject: Subject, now: Millis) -> Option<Effects> {
        match subject {
            Subject::Task(id) => self.escalate_task(id, now, false),
            Subject::Page(id) => self.escalate_page(id, now, false),
        }
    }

    /// After a command that left a task with nobody to take it: escalate now.
    fn escalate_at_once(&mut self, mut fx: Effects, id: TaskId, now: Millis) -> Effects {
        let unassigned = self
            .tasks
            .get(&id)
            .is_some_and(|t| t.state() == TaskState::NoOneAccepted);
        if unassigned {
            if let Some(more) = self.escalate_task(id, now, true) {
                fx.merge(more);
            }
        }
        fx
    }

    fn task_ladder(&self, t: &Task) -> Option<&Ladder> {
        let policy = self
            .policies
            .for_task(t.view.priority, t.view.category, &t.view.ward)?;
        match t.escalation.phase {
            Phase::Accept => Some(&policy.accept),
            Phase::Complete => Some(&policy.complete),
            Phase::Done => None,
        }
    }

    /// A task part-way up its ladder whose priority changes moves to the
    /// new priority's ladder at the same step, timed from now on the new
    /// cadence (an emergency must not wait out a routine gap). `None` when
    /// the task is not mid-ladder: `schedule_task` then plans it afresh.
    fn replan_mid_ladder(
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
        let ladder = match t.escalation.phase {
            Phase::Accept => &policy.accept,
            Phase::Complete => &policy.complete,
            Phase::Done => return None,
        };
        let step = t.escalation.step.min(ladder.steps.len());
        let gap = match ladder.steps.get(step) {
            Some(s) => s.after.unwrap_or(0),
            None => ladder.repeat_every,
        };
        Some((step, now + gap))
    }

    /// Puts the task on the ladder its state calls for and sets when it
    /// next escalates. Entering a new phase starts its ladder again.
    fn schedule_task(&self, t: &mut Task, now: Millis) {
        let phase = match t.state() {
            TaskState::Offering | TaskState::NoOneAccepted => Phase::Accept,
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
        let first = self.task_ladder(t).and_then(|l| l.steps.first());
        t.view.next_escalation_at = match (phase, first) {
            (Phase::Done, _) | (_, None) => None,
            (_, Some(s)) => Some(match (s.after, phase) {
                (Some(after), _) => t.escalation.started_at + after,
                (None, Phase::Accept) => t.view.accept_by,
                (None, _) => t.view.complete_by,
            }),
        };
    }

    fn escalate_task(&mut self, id: TaskId, now: Millis, force: bool) -> Option<Effects> {
        let t = self.tasks.get(&id)?;
        let due = t.view.next_escalation_at.is_some_and(|d| d <= now);
        if !(due || force) || t.state().is_terminal() {
            return None;
        }
        let ladder = self.task_ladder(t)?.clone();
        let mut task = t.clone();
        let step = task.escalation.step;
        let fired = escalation::fire(&ladder, step, &self.roster, now, |action| {
            self.perform_task(&mut task, action, now)
        });
        let (alerted, done) = (fired.alerted, fired.firing);
        task.escalation.step = fired.next_step;
        task.view.escalation_level += 1;
        task.view.version += 1;
        task.view.updated_at = now;
        task.view.next_escalation_at = Some(fired.next_at);
        let reason = self.task_reason(&task, now, &done);
        let mut fx = Effects::default();
        fx.audit.push(AuditRecord {
            at: now,
            actor: None,
            entity: "task",
            entity_id: id.to_string(),
            action: "escalate",
            from_state: Some(state_name(t.state()).to_owned()),
            to_state: Some(state_name(task.state()).to_owned()),
            detail: format!("{reason}; alerted {}", self.names(&alerted)),
        });
        let mut recipients: BTreeSet<StaffId> = task.involved.clone();
        recipients.extend(alerted.iter().copied());
        recipients.extend(self.roster.ward_team(&task.view.ward, now));
        recipients.extend(self.roster.overseers(now));
        let event = Event::TaskEscalated {
            task: task.view.clone(),
            level: task.view.escalation_level,
            reason,
            alerted: alerted.iter().map(|a| self.roster.staff_ref(*a)).collect(),
        };
        self.deliver(&mut fx, now, event, recipients);
        fx.result = Some(CommandResult::Task {
            task: task.view.clone(),
        });
        fx.writes.push(Write::Task(task.clone()));
        self.tasks.insert(id, task);
        Some(fx)
    }

    /// Carries out one step for a task; returns whom it alerted.
    fn perform_task(&self, task: &mut Task, action: &Action, now: Millis) -> BTreeSet<StaffId> {
        let r = &self.roster;
        let ward = task.view.ward.clone();
        match action {
            Action::Realert => match task.escalation.phase {
                Phase::Accept => task
                    .view
                    .offers
                    .iter()
                    .filter(|o| o.state == wardpage_proto::OfferState::Offered)
                    .map(|o| o.staff.id)
                    .collect(),
                _ => task.view.assignee.iter().map(|a| a.id).collect(),
            },
            Action::Widen { roles } => {
                let roles: Vec<Role> = if roles.is_empty() {
                    let base = match task.view.requirement {
                        Requirement::Role(role) => role,
                        Requirement::Skill(_) => Role::Fy1,
                    };
                    escalation::next_grade(base).into_iter().collect()
                } else {
                    roles.clone()
                };
                let mut found = self.on_shift_in(&roles, Some(&ward), now);
                if found.is_empty() {
                    // Seniors often cover the whole site without listing wards.
                    found = self.on_shift_in(&roles, None, now);
                }
                if task.escalation.phase != Phase::Accept {
                    return found;
                }
                let already: BTreeSet<StaffId> =
                    task.view.offers.iter().map(|o| o.staff.id).collect();
                let new: Vec<StaffId> = found
                    .into_iter()
                    .filter(|s| !already.contains(s) && *s != task.view.raised_by.id)
                    .collect();
                for s in &new {
                    task.view.offers.push(wardpage_proto::Offer {
                        staff: r.staff_ref(*s),
                        state: wardpage_proto::OfferState::Offered,
                        reason: None,
                    });
                    task.involved.insert(*s);
                }
                if !new.is_empty() && task.view.state == TaskState::NoOneAccepted {
                    task.view.state = TaskState::Offering;
                    task.view.unassigned_reason = None;
                }
                new.into_iter().collect()
            }
            Action::Coordinator => r.overseers(now).collect(),
            Action::NurseInCharge => self.on_shift_in(&[Role::NurseInCharge], Some(&ward), now),
            Action::PageRole { roles } => self.on_shift_in(roles, None, now),
        }
    }

    fn on_shift_in(
        &self,
        roles: &[Role],
        ward: Option<&wardpage_proto::WardId>,
        now: Millis,
    ) -> BTreeSet<StaffId> {
        self.roster
            .shifts()
            .iter()
            .filter(|(id, s)| {
                s.is_on(now)
                    && roles.contains(&s.role)
                    && ward.is_none_or(|w| s.covers(w))
                    && self.roster.staff.get(id).is_some_and(|st| st.active)
            })
            .map(|(id, _)| *id)
            .collect()
    }

    fn names(&self, who: &BTreeSet<StaffId>) -> String {
        if who.is_empty() {
            return "nobody (no one is on shift)".into();
        }
        who.iter()
            .map(|s| self.roster.staff_ref(*s).name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn task_reason(&self, t: &Task, now: Millis, done: &escalation::Firing) -> String {
        let ward = self
            .roster
            .wards
            .get(&t.view.ward)
            .map(|w| w.name.clone())
            .unwrap_or_else(|| t.view.ward.0.clone());
        let since = |at: Millis| escalation::human_duration(now - at);
        let who = match t.view.requirement {
            Requirement::Role(r) => format!("any {}", escalation::role_title(r)),
            Requirement::Skill(s) => format!("anyone with {}", s.as_str().replace('_', " ")),
        };
        let base = match (t.escalation.phase, &t.view.assignee) {
            (Phase::Complete, Some(a)) => format!(
                "not completed {} after {} accepted it ({}, {ward}, bed {})",
                since(t.view.accepted_at.unwrap_or(t.view.raised_at)),
                a.name,
                priority_name(t.view.priority),
                t.view.bed
            ),
            _ => format!(
                "not accepted {} after it was raised, by {who} on {ward} ({}, bed {})",
                since(t.view.raised_at),
                priority_name(t.view.priority),
                t.view.bed
            ),
        };
        format!("{base}: {}", done.text())
    }

    fn escalate_page(&mut self, id: PageId, now: Millis, force: bool) -> Option<Effects> {
        let p = self.pages.get(&id)?;
        let due = p.view.next_escalation_at.is_some_and(|d| d <= now);
        if !(due || force) || p.view.state == PageState::Acknowledged {
            return None;
        }
        let ladder = self.policies.pages.clone();
        let mut page = p.clone();
        let fired = escalation::fire(&ladder, page.escalation_step, &self.roster, now, |action| {
            self.perform_page(&page, action, now)
        });
        let (alerted, done) = (fired.alerted, fired.firing);
        // Whoever is alerted about a page can acknowledge it.
        for s in &alerted {
            if !page.view.recipients.iter().any(|r| r.staff.id == *s) {
                page.view.recipients.push(PageReceipt {
                    staff: self.roster.staff_ref(*s),
                    delivered_at: None,
                    read_at: None,
                    acked_at: None,
                });
            }
        }
        if page.view.state == PageState::Undeliverable && !alerted.is_empty() {
            page.view.state = PageState::Open;
        }
        page.escalation_step = fired.next_step;
        page.view.escalation_level += 1;
        page.view.version += 1;
        page.view.next_escalation_at = Some(fired.next_at);
        let reason = format!(
            "page from {} not acknowledged after {}: {}",
            page.view.from.name,
            escalation::human_duration(now - page.view.sent_at),
            done.text()
        );
        let mut fx = Effects::default();
        fx.audit.push(AuditRecord {
            at: now,
            actor: None,
            entity: "page",
            entity_id: id.to_string(),
            action: "escalate",
            from_state: Some(page_state_name(p.view.state).into()),
            to_state: Some(page_state_name(page.view.state).into()),
            detail: format!("{reason}; alerted {}", self.names(&alerted)),
        });
        let mut recipients = self.page_audience(&page, now, true);
        recipients.extend(alerted.iter().copied());
        let delivery = self.deliver_only(
            now,
            Event::PageEscalated {
                page: page.view.clone(),
                level: page.view.escalation_level,
                reason,
                alerted: alerted.iter().map(|a| self.roster.staff_ref(*a)).collect(),
            },
            recipients,
        );
        self.await_delivery(&mut page, &delivery, |s| alerted.contains(s));
        fx.deliveries.push(delivery);
        fx.result = Some(CommandResult::Page {
            page: page.view.clone(),
        });
        fx.writes.push(Write::Page(page.clone()));
        self.pages.insert(id, page);
        Some(fx)
    }

    fn perform_page(&self, page: &Page, action: &Action, now: Millis) -> BTreeSet<StaffId> {
        let sender_wards: Vec<wardpage_proto::WardId> = self
            .roster
            .on_shift(page.view.from.id, now)
            .map(|s| s.wards.clone())
            .unwrap_or_default();
        match action {
            Action::Realert => page
                .view
                .recipients
                .iter()
                .filter(|r| r.acked_at.is_none())
                .map(|r| r.staff.id)
                .collect(),
            Action::Widen { roles } => {
                let roles: Vec<Role> = if roles.is_empty() {
                    // The deputy: the next grade up from whoever was paged.
                    let mut base: Vec<Role> = match page.view.target {
                        PageTarget::Role(r) => vec![r],
                        PageTarget::Staff(s) => self
                            .roster
                            .on_shift(s, now)
                            .map(|sh| sh.role)
                            .or_else(|| self.roster.staff.get(&s).map(|st| st.role))
                            .into_iter()
                            .collect(),
                    };
                    base.dedup();
                    base.into_iter()
                        .filter_map(escalation::next_grade)
                        .collect()
                } else {
                    roles.clone()
                };
                let already: BTreeSet<StaffId> =
                    page.view.recipients.iter().map(|r| r.staff.id).collect();
                self.on_shift_in(&roles, None, now)
                    .into_iter()
                    .filter(|s| !already.contains(s) && *s != page.view.from.id)
                    .collect()
            }
            Action::Coordinator => self.roster.overseers(now).collect(),
            Action::NurseInCharge => sender_wards
                .iter()
                .flat_map(|w| self.on_shift_in(&[Role::NurseInCharge], Some(w), now))
                .collect(),
            Action::PageRole { roles } => self.on_shift_in(roles, None, now),
        }
    }

    /// Numbers the event in each recipient's stream and adds it to `fx`.
    fn deliver(
        &mut self,
        fx: &mut Effects,
        at: Millis,
        event: Event,
        recipients: BTreeSet<StaffId>,
    ) {
        let d = self.deliver_only(at, event, recipients);
        fx.deliveries.push(d);
    }

    fn deliver_only(
        &mut self,
        at: Millis,
        event: Event,
        recipients: BTreeSet<StaffId>,
    ) -> Delivery {
        let recipients = recipients
            .into_iter()
            .map(|r| {
                let seq = self.streams.entry(r).or_insert(0);
                *seq += 1;
                (r, *seq)
            })
            .collect();
        Delivery {
            at,
            event,
            recipients,
        }
    }
}

/// A paged read's `after`, already checked by `Command::validate`.
fn resume(after: &Option<String>) -> Result<Resume, DomainError> {
    Resume::from_after(after.as_deref()).map_err(|e| DomainError::InvalidState(e.to_string()))
}

/// The order tasks are paged in: it never changes for a task.
fn task_key(t: &TaskView) -> paging::Key {
    (t.raised_at, t.id.0)
}

fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Routine => "routine",
        Priority::Soon => "soon",
        Priority::Urgent => "urgent",
        Priority::Emergency => "emergency",
    }
}

fn page_state_name(s: PageState) -> &'static str {
    match s {
        PageState::Open => "open",
        PageState::Acknowledged => "acknowledged",
        PageState::Undeliverable => "undeliverable",
    }
}
