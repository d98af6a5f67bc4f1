//! The patient commands: admit, update, transfer, discharge and the SpO2
//! scale, and the reads of a ward's patients and of one patient's chart.
//! Each checks who may act, changes a copy of the patient, audits it and
//! tells the ward; a transfer carries the patient's open tasks with them
//! and tells whoever holds those tasks.

use super::{Effects, Hospital, Write};
use crate::domain::ids::Ids;
use crate::domain::patient::{ObsStage, Patient};
use crate::domain::{AuditRecord, DomainError};
use std::collections::BTreeSet;
use wardpage_proto::{
    CommandResult, Event, Millis, PatientChange, PatientDetails, PatientId, PatientView, Role,
    Scale2Order, Spo2Scale, StaffId, TaskChange, WardId,
};

/// The grades that may prescribe Scale 2.
const DOCTORS: [Role; 4] = [Role::Fy1, Role::Sho, Role::Registrar, Role::Consultant];

impl Hospital {
    pub(super) fn admit_patient(
        &mut self,
        actor: StaffId,
        ward: &WardId,
        bed: &str,
        details: &PatientDetails,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        self.require_ward_charge(actor, ward, now)?;
        self.require_free_bed(ward, bed)?;
        let details = details.clone().canonical();
        self.require_unique_identity(&details, None)?;
        let view = PatientView {
            id: self.fresh_patient_id(now, ids),
            version: 1,
            ward: ward.clone(),
            bed: bed.to_owned(),
            details,
            admitted_at: now,
            discharged_at: None,
            scale: Spo2Scale::Scale1,
            scale2: None,
            latest: None,
            // A new patient's first set is due within the hour (RCP: on
            // admission); the overdue alert follows if none comes.
            obs_due_at: Some(now + self.policies.news2.hourly_every),
            obs_overdue: false,
            review: None,
            handover_note: None,
            updated_at: now,
        };
        let patient = Patient {
            view,
            stage: ObsStage::Due,
            obs_task: None,
            next_check_at: None,
        };
        let detail = format!("to {} bed {bed}", self.ward_name(ward));
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &patient, "admit", detail, now);
        Ok(self.finish_patient(fx, Some(actor), patient, PatientChange::Admitted, &[], now))
    }

    pub(super) fn update_patient(
        &mut self,
        actor: StaffId,
        id: PatientId,
        details: &PatientDetails,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.admitted(id)?.clone();
        self.require_ward_charge(actor, &p.view.ward, now)?;
        let details = details.clone().canonical();
        self.require_unique_identity(&details, Some(id))?;
        p.view.details = details;
        p.touch(now);
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "update", String::new(), now);
        let fx = self.finish_patient(fx, Some(actor), p, PatientChange::Updated, &[], now);
        Ok(self.retell_tasks(fx, actor, id, TaskChange::Moved, now))
    }

    pub(super) fn transfer_patient(
        &mut self,
        actor: StaffId,
        id: PatientId,
        ward: &WardId,
        bed: &str,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.admitted(id)?.clone();
        let from_ward = p.view.ward.clone();
        self.require_ward_charge(actor, &from_ward, now)?;
        self.require_ward_charge(actor, ward, now)?;
        if from_ward == *ward && p.view.bed == bed {
            return Err(DomainError::InvalidState(
                "the patient is already in that bed".into(),
            ));
        }
        self.require_free_bed(ward, bed)?;
        let detail = format!(
            "from {} bed {} to {} bed {bed}",
            self.ward_name(&from_ward),
            p.view.bed,
            self.ward_name(ward)
        );
        p.view.ward = ward.clone();
        p.view.bed = bed.to_owned();
        p.touch(now);
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "transfer", detail, now);
        let fx = self.finish_patient(
            fx,
            Some(actor),
            p,
            PatientChange::Transferred,
            std::slice::from_ref(&from_ward),
            now,
        );
        Ok(self.retell_tasks(fx, actor, id, TaskChange::Moved, now))
    }

    pub(super) fn discharge_patient(
        &mut self,
        actor: StaffId,
        id: PatientId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.admitted(id)?.clone();
        self.require_ward_charge(actor, &p.view.ward, now)?;
        p.view.discharged_at = Some(now);
        p.view.obs_due_at = None;
        p.view.obs_overdue = false;
        p.touch(now);
        let detail = format!("from {} bed {}", self.ward_name(&p.view.ward), p.view.bed);
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "discharge", detail, now);
        // No set is due any more; a review stays open for whoever holds it.
        if let Some(task) = p.obs_task.take() {
            self.close_obs_task(&mut fx, task, "the patient was discharged", now);
        }
        Ok(self.finish_patient(fx, Some(actor), p, PatientChange::Discharged, &[], now))
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn set_spo2_scale(
        &mut self,
        actor: StaffId,
        id: PatientId,
        scale: Spo2Scale,
        reason: &str,
        target: (u8, u8),
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let mut p = self.admitted(id)?.clone();
        let doctor = self
            .roster
            .on_shift(actor, now)
            .is_some_and(|s| DOCTORS.contains(&s.role) && s.covers(&p.view.ward));
        if !doctor {
            return Err(DomainError::Forbidden(
                "only a doctor on shift covering the ward may set the SpO2 scale".into(),
            ));
        }
        if p.view.scale == scale {
            return Err(DomainError::InvalidState(format!(
                "the patient is already on {}",
                scale_name(scale)
            )));
        }
        p.view.scale = scale;
        p.view.scale2 = (scale == Spo2Scale::Scale2).then(|| Scale2Order {
            by: self.roster.staff_ref(actor),
            reason: reason.to_owned(),
            target_low: target.0,
            target_high: target.1,
            at: now,
        });
        p.touch(now);
        let detail = match scale {
            Spo2Scale::Scale2 => format!("Scale 2, target {}-{}%: {reason}", target.0, target.1),
            Spo2Scale::Scale1 => format!("Scale 1: {reason}"),
        };
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "set_spo2_scale", detail, now);
        Ok(self.finish_patient(fx, Some(actor), p, PatientChange::ScaleChanged, &[], now))
    }

    pub(super) fn admitted(&self, id: PatientId) -> Result<&Patient, DomainError> {
        self.patients
            .get(&id)
            .map(|p| &**p)
            .filter(|p| p.is_admitted())
            .ok_or_else(|| DomainError::NotFound(format!("no admitted patient {id}")))
    }

    /// The admitted patient, if `who` may see them (on shift covering the
    /// ward, or a coordinator); otherwise not found.
    pub(super) fn visible_patient(
        &self,
        who: StaffId,
        id: PatientId,
        now: Millis,
    ) -> Result<&Patient, DomainError> {
        let p = self.admitted(id)?;
        if self.roster.oversees(who, now) || self.covers_now(who, &p.view.ward, now) {
            Ok(p)
        } else {
            Err(DomainError::NotFound(format!("no admitted patient {id}")))
        }
    }

    pub(super) fn covers_now(&self, who: StaffId, ward: &WardId, now: Millis) -> bool {
        self.roster
            .on_shift(who, now)
            .is_some_and(|s| s.covers(ward))
    }

    /// Admission, transfer and discharge: the nurse in charge of the ward,
    /// a coordinator or an admin (a patient administration feed acts as one).
    fn require_ward_charge(
        &self,
        actor: StaffId,
        ward: &WardId,
        now: Millis,
    ) -> Result<(), DomainError> {
        if !self.roster.wards.contains_key(ward) {
            return Err(DomainError::NotFound(format!("no ward `{ward}`")));
        }
        let in_charge = self
            .roster
            .on_shift(actor, now)
            .is_some_and(|s| s.role == Role::NurseInCharge && s.covers(ward));
        if in_charge || self.roster.oversees(actor, now) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(
                "only the nurse in charge of the ward or a coordinator may admit, move or discharge patients"
                    .into(),
            ))
        }
    }

    /// The ward, if it exists and has this bed (a ward listing no beds
    /// takes any label).
    pub(super) fn ward_with_bed(
        &self,
        ward: &WardId,
        bed: &str,
    ) -> Result<&crate::domain::Ward, DomainError> {
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
        Ok(w)
    }

    fn require_free_bed(&self, ward: &WardId, bed: &str) -> Result<(), DomainError> {
        let w = self.ward_with_bed(ward, bed)?;
        if let Some(other) = self.beds.get(&(ward.clone(), bed.to_owned())) {
            let name = self
                .patients
                .get(other)
                .map(|p| p.view.details.name.clone())
                .unwrap_or_default();
            return Err(DomainError::InvalidState(format!(
                "{} bed {bed} is taken by {name}",
                w.name
            )));
        }
        Ok(())
    }

    /// One admitted patient per NHS number (and per local number).
    fn require_unique_identity(
        &self,
        d: &PatientDetails,
        except: Option<PatientId>,
    ) -> Result<(), DomainError> {
        let clash = self.patients.values().find(|p| {
            p.is_admitted()
                && Some(p.view.id) != except
                && ((d.nhs_number.is_some() && p.view.details.nhs_number == d.nhs_number)
                    || (d.local_number.is_some() && p.view.details.local_number == d.local_number))
        });
        match clash {
            Some(p) => Err(DomainError::InvalidState(format!(
                "{} is already admitted, to {} bed {}",
                p.view.details.name,
                self.ward_name(&p.view.ward),
                p.view.bed
            ))),
            None => Ok(()),
        }
    }

    pub(super) fn ward_name(&self, ward: &WardId) -> String {
        self.roster
            .wards
            .get(ward)
            .map(|w| w.name.clone())
            .unwrap_or_else(|| ward.to_string())
    }

    pub(super) fn audit_patient(
        &self,
        fx: &mut Effects,
        actor: Option<StaffId>,
        p: &Patient,
        action: &'static str,
        detail: String,
        now: Millis,
    ) {
        fx.audit.push(AuditRecord {
            at: now,
            actor,
            entity: "patient",
            entity_id: p.view.id.to_string(),
            action,
            from_state: None,
            to_state: None,
            detail,
        });
    }

    /// Everyone who hears of a patient's change: staff on shift covering
    /// the ward (and `also` wards, e.g. the ward a transfer left) and
    /// coordinators.
    pub(super) fn patient_audience(
        &self,
        ward: &WardId,
        also: &[WardId],
        now: Millis,
    ) -> BTreeSet<StaffId> {
        let mut to: BTreeSet<StaffId> = self.roster.covering_ids(ward, now).collect();
        for w in also {
            to.extend(self.roster.covering_ids(w, now));
        }
        to.extend(self.roster.overseers(now));
        to
    }

    /// Tells the ward, stores the patient, keeps the bed index and the
    /// deadline right, and answers with the patient.
    pub(super) fn finish_patient(
        &mut self,
        mut fx: Effects,
        by: Option<StaffId>,
        mut p: Patient,
        change: PatientChange,
        also: &[WardId],
        now: Millis,
    ) -> Effects {
        if !p.is_admitted() {
            p.view.review = None;
        }
        let audience = self.patient_audience(&p.view.ward, also, now);
        self.deliver(
            &mut fx,
            now,
            Event::Patient {
                change,
                patient: p.view.clone(),
                observation: None,
                by: by.map(|a| self.roster.staff_ref(a)),
            },
            audience,
        );
        fx.result = Some(CommandResult::Patient {
            patient: p.view.clone(),
        });
        self.store_patient(&mut fx, p);
        fx
    }

    /// Puts the patient in the state (bed index, charts) and the batch.
    pub(super) fn store_patient(&mut self, fx: &mut Effects, mut p: Patient) {
        p.plan(self.policies.news2.overdue_grace);
        let id = p.view.id;
        if let Some(old) = self.patients.get(&id) {
            self.beds
                .remove(&(old.view.ward.clone(), old.view.bed.clone()));
        }
        if p.is_admitted() {
            self.beds
                .insert((p.view.ward.clone(), p.view.bed.clone()), id);
        } else {
            self.charts.forget(id);
        }
        fx.writes.push(Write::Patient(Box::new(p.clone())));
        self.patients.insert(id, Box::new(p));
    }

    /// A patient moved or was corrected: each of their open tasks takes
    /// the new bed, ward and name, and whoever holds or was offered them is told.
    fn retell_tasks(
        &mut self,
        mut fx: Effects,
        actor: StaffId,
        id: PatientId,
        change: TaskChange,
        now: Millis,
    ) -> Effects {
        let Some(p) = self.patients.get(&id) else {
            return fx;
        };
        let (ward, bed, reference) = (p.view.ward.clone(), p.view.bed.clone(), p.reference());
        let open: Vec<_> = self
            .tasks
            .values()
            .filter(|t| {
                !t.state().is_terminal() && t.view.patient_ref.as_ref().is_some_and(|r| r.id == id)
            })
            .map(|t| t.view.id)
            .collect();
        for task in open {
            let Some(t) = self.tasks.get(&task) else {
                continue;
            };
            let mut t = (**t).clone();
            let detail = format!("patient now on {} bed {bed}", self.ward_name(&ward));
            t.view.ward = ward.clone();
            t.view.bed = bed.clone();
            t.view.patient = reference.name.clone();
            t.view.patient_ref = Some(reference.clone());
            t.view.version += 1;
            t.view.updated_at = now;
            let mut more = Effects::default();
            self.audit_task(
                &mut more,
                Some(actor),
                &t,
                "move",
                Some(t.state()),
                detail,
                now,
            );
            let more = self.finish_task(more, Some(actor), t, change, now);
            fx.merge(Effects {
                result: None,
                ..more
            });
        }
        fx
    }
}

pub(super) fn scale_name(s: Spo2Scale) -> &'static str {
    match s {
        Spo2Scale::Scale1 => "Scale 1",
        Spo2Scale::Scale2 => "Scale 2",
    }
}
