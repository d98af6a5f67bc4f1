//! The promises about shifts and handovers: a shift's end leaves nothing
//! with the person who went home, and a pending handover is on a task its
//! giver still holds.

use super::{holds, Promises};
use crate::domain::hospital::{Effects, Hospital, Write};
use std::collections::BTreeSet;
use wardpage_proto::{Event, Millis, StaffId, TaskChange, TaskId};

impl Promises {
    pub(super) fn shift_end(
        &mut self,
        before: &Hospital,
        after: &Hospital,
        (actor, at): (StaffId, Millis),
        staff: StaffId,
        fx: &Effects,
    ) -> Result<(), String> {
        let audited = fx.audit.iter().any(|a| {
            a.entity == "shift"
                && a.action == "end_shift"
                && a.entity_id == staff.to_string()
                && a.actor == Some(actor)
        });
        ensure!(audited, "a shift ended without an audit row");
        let told: BTreeSet<StaffId> = fx
            .deliveries
            .iter()
            .filter(
                |d| matches!(&d.event, Event::Shift { staff: s, shift: None, .. } if s.id == staff),
            )
            .flat_map(|d| d.recipients.iter().map(|(r, _)| *r))
            .collect();
        let mut should: BTreeSet<StaffId> = before.roster.overseers(at).collect();
        should.insert(staff);
        ensure!(
            should.is_subset(&told),
            "a shift end was not told to {:?}",
            should.difference(&told).collect::<Vec<_>>()
        );
        let held = |h: &Hospital| -> BTreeSet<TaskId> {
            h.tasks
                .values()
                .filter(|t| holds(t, staff))
                .map(|t| t.view.id)
                .collect()
        };
        let (was, is) = (held(before), held(after));
        ensure!(
            fx.writes.iter().all(|w| match w {
                Write::Shift(s, None) => *s == staff,
                Write::Task(t) => was.contains(&t.view.id),
                _ => false,
            }),
            "ending a shift wrote more than the shift and the tasks it returned"
        );
        if !was.is_empty() {
            self.tested.shift_ends_with_held_tasks += 1;
        }
        ensure!(
            is.is_empty(),
            "tasks still held by whoever went home: {is:?}"
        );
        for id in &was {
            let open = after
                .tasks
                .get(id)
                .is_some_and(|t| !t.state().is_terminal());
            ensure!(open, "task {id} held at a shift's end vanished or closed");
            let told = fx.deliveries.iter().any(|d| {
                matches!(&d.event, Event::Task { change: TaskChange::ReturnedAtShiftEnd, task, .. } if task.id == *id)
            });
            ensure!(told, "task {id} returned at a shift's end was not told");
        }
        let alerted = fx.deliveries.iter().any(|d| {
            matches!(&d.event, Event::HeldAtShiftEnd { staff: s, .. } if s.id == staff)
                && before
                    .roster
                    .overseers(at)
                    .all(|o| o == staff || d.recipients.iter().any(|(r, _)| *r == o))
        });
        ensure!(
            was.is_empty() || alerted,
            "coordinators were not alerted to what a shift left behind"
        );
        Ok(())
    }
}

/// A pending handover is on an open task its giver still holds.
pub(super) fn handovers_are_held(h: &Hospital) -> Result<(), String> {
    for t in h.tasks.values() {
        if let Some(ho) = &t.view.handover {
            ensure!(
                t.held_by(ho.from.id) && ho.to.id != ho.from.id,
                "task {} has a handover its giver no longer holds",
                t.view.id
            );
        }
    }
    Ok(())
}
