//! A patient as the hub keeps them: the view everyone sees, where their
//! overdue-observations check stands, and the hub-raised tasks of their
//! current episode. Their chart (the last 72 h of sets) is kept apart, in
//! [`Charts`], so that changing a patient never copies their history.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use wardpage_proto::{
    Millis, ObservationView, PatientId, PatientRef, PatientView, TaskId, CHART_WINDOW_MS,
};

/// Where a patient's overdue-observations check stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObsStage {
    /// Waiting for `obs_due_at`.
    #[default]
    Due,
    /// Overdue: the ward's nurses were alerted; the nurse in charge gets a
    /// task once the grace period passes.
    Alerted,
    /// Overdue past the grace period: a task was raised; nothing more
    /// fires until a set is recorded.
    Tasked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patient {
    pub view: PatientView,
    #[serde(default)]
    pub stage: ObsStage,
    /// The open "observations overdue" task, closed by the next set.
    #[serde(default)]
    pub obs_task: Option<TaskId>,
    /// [`Patient::plan`]'s answer, stored with the row: the durable
    /// deadline the hub's timer mirrors.
    #[serde(default)]
    pub next_check_at: Option<Millis>,
}

impl Patient {
    pub fn is_admitted(&self) -> bool {
        self.view.discharged_at.is_none()
    }

    /// The next time the hub must look at this patient (the durable
    /// deadline stored with the row): when the next set is due, or when the
    /// grace after the overdue alert ends.
    pub fn plan(&mut self, grace: Millis) {
        self.next_check_at = match (self.is_admitted(), self.view.obs_due_at, self.stage) {
            (false, _, _) | (_, None, _) | (_, _, ObsStage::Tasked) => None,
            (true, Some(due), ObsStage::Due) => Some(due),
            (true, Some(due), ObsStage::Alerted) => Some(due + grace),
        };
    }

    pub fn touch(&mut self, now: Millis) {
        self.view.version += 1;
        self.view.updated_at = now;
    }

    /// How tasks name this patient.
    pub fn reference(&self) -> PatientRef {
        let d = &self.view.details;
        PatientRef {
            id: self.view.id,
            name: d.name.clone(),
            nhs_number: d.nhs_number.clone(),
            local_number: d.local_number.clone(),
            born: d.born.clone(),
        }
    }
}

/// Most sets a chart holds (the newest): a set every 15 minutes for 72
/// hours is 288, and 500 sets keep a `chart` answer well inside the
/// protocol's 1 MiB frame.
pub const CHART_MAX_SETS: usize = 500;

/// Every admitted patient's sets of the last 72 hours, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Charts {
    by_patient: HashMap<PatientId, VecDeque<Arc<ObservationView>>>,
}

impl Charts {
    /// Adds a set in `taken_at` order (a set queued offline may arrive
    /// after a later one) and drops sets older than the window.
    pub fn add(&mut self, obs: Arc<ObservationView>, now: Millis) {
        let chart = self.by_patient.entry(obs.patient).or_default();
        let at = obs.set.taken_at;
        let pos = chart.partition_point(|o| o.set.taken_at <= at);
        chart.insert(pos, obs);
        while chart
            .front()
            .is_some_and(|o| o.set.taken_at < now - CHART_WINDOW_MS)
            || chart.len() > CHART_MAX_SETS
        {
            chart.pop_front();
        }
    }

    pub fn get(
        &self,
        patient: PatientId,
    ) -> impl DoubleEndedIterator<Item = &Arc<ObservationView>> {
        self.by_patient.get(&patient).into_iter().flatten()
    }

    /// The newest complete set taken before `at`, for the trend.
    pub fn last_complete_before(&self, patient: PatientId, at: Millis) -> Option<&ObservationView> {
        self.get(patient)
            .rev()
            .find(|o| o.set.taken_at <= at && o.score.total.is_some())
            .map(|o| o.as_ref())
    }

    pub fn forget(&mut self, patient: PatientId) {
        self.by_patient.remove(&patient);
    }

    pub fn len(&self) -> usize {
        self.by_patient.values().map(|c| c.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
