//! The shift commands: a coordinator starts or replaces someone's shift;
//! anyone ends their own (a coordinator anyone's). Each change goes
//! through [`Roster::set_shift`](crate::domain::Roster::set_shift), which
//! keeps the routing index true. An end returns what the person still
//! holds to offering (`handover`).

use super::{Effects, Hospital, Write};
use crate::domain::roster::Shift;
use crate::domain::{AuditRecord, DomainError};
use std::collections::BTreeSet;
use wardpage_proto::{BusyView, CommandResult, Event, Millis, Role, StaffId, WardId};

impl Hospital {
    pub(super) fn start_shift(
        &mut self,
        actor: StaffId,
        staff: StaffId,
        role: Role,
        wards: &[WardId],
        ends_at: Millis,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.require_overseer(actor, now, "manage shifts")?;
        if !self.roster.staff.contains_key(&staff) {
            return Err(DomainError::NotFound(format!("no member of staff {staff}")));
        }
        if let Some(w) = wards.iter().find(|w| !self.roster.wards.contains_key(*w)) {
            return Err(DomainError::NotFound(format!("no ward `{w}`")));
        }
        if ends_at <= now {
            return Err(DomainError::InvalidState(
                "a shift must end in the future".into(),
            ));
        }
        // A replaced shift keeps its person's busy state (cut at its end):
        // a coordinator extending the shift of someone in resus must not
        // set their phone ringing.
        let busy = self
            .roster
            .on_shift(staff, now)
            .and_then(|s| s.busy.clone())
            .map(|b| BusyView {
                until: b.until.min(ends_at),
                ..b
            });
        let shift = Shift {
            role,
            wards: wards.to_vec(),
            starts_at: now,
            ends_at,
            busy,
        };
        Ok(self.set_shift(actor, staff, Some(shift), now))
    }

    pub(super) fn end_shift(
        &mut self,
        actor: StaffId,
        staff: StaffId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        if staff != actor {
            self.require_overseer(actor, now, "end another person's shift")?;
        }
        if !self.roster.staff.contains_key(&staff) {
            return Err(DomainError::NotFound(format!("no member of staff {staff}")));
        }
        if self.roster.on_shift(staff, now).is_none() {
            return Err(DomainError::InvalidState("not on shift".into()));
        }
        Ok(self.set_shift(actor, staff, None, now))
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
        let ended = shift.is_none();
        fx.writes.push(Write::Shift(staff, shift));
        // What they still hold goes back to offering, never with them.
        let (returned, unacknowledged) = if ended {
            self.return_held(&mut fx, staff, Some(actor), now)
        } else {
            self.replan_held(&mut fx, staff);
            (Vec::new(), Vec::new())
        };
        fx.result = Some(CommandResult::Shift {
            staff,
            shift: view,
            returned,
            unacknowledged,
        });
        fx
    }
}
