//! A member of staff's busy state ("In resus" until 03:40): set and ended
//! by its person, ended by the hub when its `until` passes (the deadline
//! `Subject::Busy`, stored with the shift, so it survives a restart).
//!
//! It changes no routing: a busy person is still offered tasks and paged,
//! and escalation counts their silence exactly as anyone's, so work held
//! back on their phone still reaches someone else in time. What it changes
//! is their phone's ringing (below emergency) and what coordinators see:
//! the shift view carries `busy`, and each change is a `shift` event to
//! the person and the coordinators, as a shift's own changes are.

use super::{Effects, Hospital, Write};
use crate::domain::{AuditRecord, DomainError};
use std::collections::BTreeSet;
use wardpage_proto::{BusyView, CommandResult, Event, Millis, StaffId};

impl Hospital {
    /// `set_busy`: the sender, on shift, is busy for `minutes` (cut at the
    /// shift's end); a busy state already set is replaced.
    pub(super) fn set_busy(
        &mut self,
        actor: StaffId,
        reason: &str,
        minutes: u32,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let shift = self
            .roster
            .on_shift(actor, now)
            .ok_or_else(|| DomainError::InvalidState("not on shift".into()))?;
        let until = (now + i64::from(minutes) * 60_000).min(shift.ends_at);
        let busy = BusyView {
            reason: reason.to_owned(),
            since: now,
            until,
        };
        let detail = format!("{reason}; until {until}");
        Ok(self.change_busy(actor, Some(actor), Some(busy), "set_busy", detail, now))
    }

    /// `end_busy`: the sender is no longer busy.
    pub(super) fn end_busy(&mut self, actor: StaffId, now: Millis) -> Result<Effects, DomainError> {
        let busy = self
            .roster
            .on_shift(actor, now)
            .and_then(|s| s.busy.as_ref())
            .ok_or_else(|| DomainError::InvalidState("not busy".into()))?;
        let detail = busy.reason.clone();
        Ok(self.change_busy(actor, Some(actor), None, "end_busy", detail, now))
    }

    /// When the staff member's busy state ends by itself, if it is set.
    pub(super) fn busy_deadline(&self, staff: StaffId) -> Option<Millis> {
        self.roster
            .shifts()
            .get(&staff)
            .and_then(|s| s.busy.as_ref())
            .map(|b| b.until)
    }

    /// Every busy state's end, for the escalation timer.
    pub(super) fn busy_deadlines(&self) -> impl Iterator<Item = (StaffId, Millis)> + '_ {
        self.roster
            .shifts()
            .iter()
            .filter_map(|(id, s)| s.busy.as_ref().map(|b| (*id, b.until)))
    }

    /// The hub ends a busy state whose `until` has passed (`None` if it was
    /// ended or replaced meanwhile, so it is not due).
    pub(super) fn expire_busy(&mut self, staff: StaffId, now: Millis) -> Option<Effects> {
        let busy = self.roster.shifts().get(&staff)?.busy.as_ref()?;
        if busy.until > now {
            return None;
        }
        let reason = busy.reason.clone();
        Some(self.change_busy(staff, None, None, "busy_expired", reason, now))
    }

    /// Stores the new busy state with the shift, audits it on the shift
    /// (`entity` `shift`, like its start and end) and tells the person and
    /// the coordinators on shift with a `shift` event.
    fn change_busy(
        &mut self,
        staff: StaffId,
        actor: Option<StaffId>,
        busy: Option<BusyView>,
        action: &'static str,
        detail: String,
        now: Millis,
    ) -> Effects {
        let mut fx = Effects::default();
        let from = self.busy_state(staff);
        let mut shift = self.roster.shifts().get(&staff).cloned();
        if let Some(s) = shift.as_mut() {
            s.busy = busy;
        }
        self.roster.set_shift(staff, shift.clone());
        fx.audit.push(AuditRecord {
            at: now,
            actor,
            entity: "shift",
            entity_id: staff.to_string(),
            action,
            from_state: Some(from.to_owned()),
            to_state: Some(self.busy_state(staff).to_owned()),
            detail,
        });
        // An ended shift is no shift: the event says so, as the directory does.
        let view = shift.as_ref().filter(|s| s.is_on(now)).map(|s| s.view());
        let mut audience: BTreeSet<StaffId> = self.roster.overseers(now).collect();
        audience.insert(staff);
        self.deliver(
            &mut fx,
            now,
            Event::Shift {
                staff: self.roster.staff_ref(staff),
                shift: view.clone(),
                by: actor.map(|a| self.roster.staff_ref(a)),
            },
            audience,
        );
        fx.writes.push(Write::Shift(staff, shift));
        fx.result = Some(CommandResult::Shift {
            staff,
            shift: view,
            returned: Vec::new(),
            unacknowledged: Vec::new(),
        });
        fx
    }

    fn busy_state(&self, staff: StaffId) -> &'static str {
        let busy = self
            .roster
            .shifts()
            .get(&staff)
            .is_some_and(|s| s.busy.is_some());
        if busy {
            "busy"
        } else {
            "available"
        }
    }
}
