//! The ids of new tasks, pages, patients and sets, taken from the change's
//! [`Ids`]. An id already in use is passed over for the next: the derived
//! bits make that all but impossible, and passing over keeps ids unique
//! even against a sender who chose command ids to force a clash, while the
//! same state and inputs still give the same ids.

use super::Hospital;
use crate::domain::ids::Ids;
use wardpage_proto::{Millis, ObservationId, PageId, PatientId, TaskId};

impl Hospital {
    pub(super) fn fresh_task_id(&self, now: Millis, ids: &mut Ids) -> TaskId {
        loop {
            let id = TaskId::ordered_from(now, ids.next_bits());
            if !self.tasks.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn fresh_page_id(&self, now: Millis, ids: &mut Ids) -> PageId {
        loop {
            let id = PageId::ordered_from(now, ids.next_bits());
            if !self.pages.contains_key(&id) {
                return id;
            }
        }
    }

    pub(super) fn fresh_patient_id(&self, now: Millis, ids: &mut Ids) -> PatientId {
        loop {
            let id = PatientId::ordered_from(now, ids.next_bits());
            if !self.patients.contains_key(&id) {
                return id;
            }
        }
    }

    /// A set's id, unique among the patient's charted sets (older sets
    /// have older times, so cannot share it).
    pub(super) fn fresh_observation_id(
        &self,
        patient: PatientId,
        now: Millis,
        ids: &mut Ids,
    ) -> ObservationId {
        loop {
            let id = ObservationId::ordered_from(now, ids.next_bits());
            if !self.charts.get(patient).any(|o| o.id == id) {
                return id;
            }
        }
    }
}
