//! Overdue observations: the hub's timer finds a patient's next set due
//! and not taken, alerts the ward, and once the grace after the due time
//! passes raises a task for the nurse in charge; the next complete set (or
//! a discharge) closes that task. The deadline is the patient's stored
//! `next_check_at`, so it survives a restart like any escalation.

use super::observations::hub_ref;
use super::tasks::Draft;
use super::{Effects, Hospital, Subject};
use crate::domain::ids::Ids;
use crate::domain::patient::{ObsStage, Patient};
use std::collections::BTreeSet;
use wardpage_proto::{
    Category, Event, Millis, PatientChange, PatientId, Priority, Requirement, Role, Sbar,
    TaskChange, TaskId,
};

impl Hospital {
    /// A set recorded (or a discharge) closes the "observations overdue" task.
    pub(super) fn close_obs_task(&mut self, fx: &mut Effects, id: TaskId, note: &str, now: Millis) {
        let Some(t) = self.tasks.get(&id) else {
            return;
        };
        if t.state().is_terminal() {
            return;
        }
        let mut t = (**t).clone();
        let from = t.state();
        if t.cancel(note, now).is_ok() {
            self.audit_task(fx, None, &t, "cancel", Some(from), note.to_owned(), now);
            let more = self.finish_task(Effects::default(), None, t, TaskChange::Cancelled, now);
            fx.merge(Effects {
                result: None,
                ..more
            });
        }
    }

    /// The timer found a patient's check due: the first time the set is
    /// overdue, the ward is alerted; once the grace passes too, the nurse
    /// in charge gets a task. `None` if nothing is due (a set came in).
    pub(super) fn escalate_patient(&mut self, id: PatientId, now: Millis) -> Option<Effects> {
        let p = self.patients.get(&id)?;
        if p.next_check_at.is_none_or(|d| d > now) || !p.is_admitted() {
            return None;
        }
        // The task this may raise takes its id from the deadline that fired.
        let due = p.next_check_at.unwrap_or(now);
        let mut ids = Ids::for_deadline(Subject::Patient(id), due, p.stage as u64, p.view.version);
        let mut p = (**p).clone();
        let mut fx = Effects::default();
        match p.stage {
            ObsStage::Due => {
                p.stage = ObsStage::Alerted;
                p.view.obs_overdue = true;
                p.touch(now);
                let detail = format!(
                    "observations overdue (due {})",
                    p.view.obs_due_at.unwrap_or(now)
                );
                self.audit_patient(&mut fx, None, &p, "observations_overdue", detail, now);
                let audience = self.patient_audience(&p.view.ward, &[], now);
                self.deliver(
                    &mut fx,
                    now,
                    Event::Patient {
                        change: PatientChange::ObservationsOverdue,
                        patient: p.view.clone(),
                        observation: None,
                        by: None,
                    },
                    audience,
                );
            }
            ObsStage::Alerted => {
                p.stage = ObsStage::Tasked;
                p.obs_task = Some(self.raise_obs_task(&mut fx, &p, now, &mut ids));
            }
            ObsStage::Tasked => return None,
        }
        fx.result = None;
        self.store_patient(&mut fx, p);
        Some(fx)
    }

    fn raise_obs_task(
        &mut self,
        fx: &mut Effects,
        p: &Patient,
        now: Millis,
        ids: &mut Ids,
    ) -> TaskId {
        let overdue = now - p.view.obs_due_at.unwrap_or(now);
        let draft = Draft {
            ward: p.view.ward.clone(),
            bed: p.view.bed.clone(),
            patient: p.view.details.name.clone(),
            patient_ref: Some(p.reference()),
            review: None,
            category: Category::Observations,
            priority: Priority::Urgent,
            requirement: Requirement::Role(Role::NurseInCharge),
            sbar: Sbar {
                situation: format!("Observations overdue by {} min", overdue / 60_000),
                ..Sbar::default()
            },
            raised_by: hub_ref(),
            involved: BTreeSet::new(),
        };
        let task = self.draft_task(draft, now, ids);
        let id = task.view.id;
        let cause = format!("observations overdue for {}", p.view.details.name);
        let more = self.launch_task(task, None, Some(&cause), now);
        fx.merge(more);
        id
    }
}
