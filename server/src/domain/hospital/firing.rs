//! Carrying out a due escalation step: for a task (re-alert, widen the
//! offer to the next grade, the nurse in charge, the coordinator, a role)
//! or a page (the same, with the deputy in place of the next grade), with
//! the audit row and event that say why and whom it alerted.

use super::{Effects, Hospital, Write};
use crate::domain::escalation::{self, Action, Phase};
use crate::domain::page::Page;
use crate::domain::task::Task;
use crate::domain::AuditRecord;
use std::collections::BTreeSet;
use wardpage_proto::{
    CommandResult, Event, Millis, PageId, PageReceipt, PageState, PageTarget, Requirement, Role,
    StaffId, TaskId, TaskState,
};

impl Hospital {
    pub(super) fn escalate_task(
        &mut self,
        id: TaskId,
        now: Millis,
        force: bool,
    ) -> Option<Effects> {
        let t = self.tasks.get(&id)?;
        let due = t.view.next_escalation_at.is_some_and(|d| d <= now);
        if !(due || force) || t.state().is_terminal() {
            return None;
        }
        let ladder = self.task_ladder(t)?;
        let mut task = t.clone();
        let step = task.escalation.step;
        let fired = escalation::fire(
            &ladder,
            step,
            &self.roster,
            now,
            |action| self.perform_task(&mut task, action, now),
            |s| self.reachable(s),
        );
        let (alerted, done) = (fired.alerted, fired.firing);
        task.escalation.step = fired.next_step;
        task.view.escalation_level += 1;
        task.view.version += 1;
        task.view.updated_at = now;
        task.view.next_escalation_at = Some(fired.next_at);
        task.holder_shift_ends_at = self.holder_shift_end(&task);
        self.note_unreached(&mut task, now);
        let reason = self.task_reason(&task, now, &done);
        let mut fx = Effects::default();
        fx.audit.push(AuditRecord {
            at: now,
            actor: None,
            entity: "task",
            entity_id: id.to_string(),
            action: "escalate",
            from_state: Some(t.state().as_str().to_owned()),
            to_state: Some(task.state().as_str().to_owned()),
            detail: format!("{reason}; alerted {}", self.roster.names(&alerted)),
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
                        // Widen from the most senior grade offered.
                        Requirement::AnyRole(set) => set
                            .roles()
                            .filter(|r| escalation::next_grade(*r).is_some())
                            .max_by_key(|r| grade_rank(*r))
                            .unwrap_or(Role::Fy1),
                    };
                    escalation::next_grade(base).into_iter().collect()
                } else {
                    roles.clone()
                };
                let mut found = self.roster.on_shift_in(&roles, Some(&ward), now);
                if found.is_empty() {
                    // Seniors often cover the whole site without listing wards.
                    found = self.roster.on_shift_in(&roles, None, now);
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
                        unconnected: None,
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
            Action::NurseInCharge => {
                self.roster
                    .on_shift_in(&[Role::NurseInCharge], Some(&ward), now)
            }
            Action::PageRole { roles } => self.roster.on_shift_in(roles, None, now),
        }
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
            Requirement::AnyRole(set) => {
                let names: Vec<&str> = set.roles().map(escalation::role_title).collect();
                format!("any {}", names.join(" or "))
            }
        };
        let base = match (t.escalation.phase, &t.view.assignee) {
            (Phase::Acknowledge, Some(a)) => format!(
                "not acknowledged {} after {} assigned it to {} ({}, {ward}, bed {})",
                since(t.view.assigned_at.unwrap_or(t.view.updated_at)),
                t.view
                    .assigned_by
                    .as_ref()
                    .map_or("a coordinator", |b| b.name.as_str()),
                a.name,
                t.view.priority.as_str(),
                t.view.bed
            ),
            (Phase::Complete, Some(a)) => format!(
                "not completed {} after {} accepted it ({}, {ward}, bed {})",
                since(t.view.accepted_at.unwrap_or(t.view.raised_at)),
                a.name,
                t.view.priority.as_str(),
                t.view.bed
            ),
            _ => format!(
                "not accepted {} after it was raised, by {who} on {ward} ({}, bed {})",
                since(t.view.raised_at),
                t.view.priority.as_str(),
                t.view.bed
            ),
        };
        format!("{base}: {}", done.text())
    }

    pub(super) fn escalate_page(
        &mut self,
        id: PageId,
        now: Millis,
        force: bool,
    ) -> Option<Effects> {
        let p = self.pages.get(&id)?;
        let due = p.view.next_escalation_at.is_some_and(|d| d <= now);
        if !(due || force) || p.view.state == PageState::Acknowledged {
            return None;
        }
        let ladder = self.policies.pages.get(p.view.priority).clone();
        let mut page = p.clone();
        // A page's steps count whoever they alert: `nobody_connected` is
        // a task policy.
        let fired = escalation::fire(
            &ladder,
            page.escalation_step,
            &self.roster,
            now,
            |action| self.perform_page(&page, action, now),
            |_| true,
        );
        let (alerted, done) = (fired.alerted, fired.firing);
        // Whoever is alerted about a page can acknowledge it.
        for s in &alerted {
            if !page.view.recipients.iter().any(|r| r.staff.id == *s) {
                page.view.recipients.push(PageReceipt {
                    staff: self.roster.staff_ref(*s),
                    delivered_at: None,
                    read_at: None,
                    acked_at: None,
                    reply: None,
                    replied_at: None,
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
            from_state: Some(p.view.state.as_str().into()),
            to_state: Some(page.view.state.as_str().into()),
            detail: format!("{reason}; alerted {}", self.roster.names(&alerted)),
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
                self.roster
                    .on_shift_in(&roles, None, now)
                    .into_iter()
                    .filter(|s| !already.contains(s) && *s != page.view.from.id)
                    .collect()
            }
            Action::Coordinator => self.roster.overseers(now).collect(),
            Action::NurseInCharge => sender_wards
                .iter()
                .flat_map(|w| {
                    self.roster
                        .on_shift_in(&[Role::NurseInCharge], Some(w), now)
                })
                .collect(),
            Action::PageRole { roles } => self.roster.on_shift_in(roles, None, now),
        }
    }
}

/// How senior a grade is, for widening an offer made to several roles.
fn grade_rank(r: Role) -> u8 {
    match r {
        Role::Consultant => 4,
        Role::Registrar | Role::CriticalCareOutreach => 3,
        Role::Sho | Role::NursePractitioner => 2,
        Role::Fy1 => 1,
        _ => 0,
    }
}
