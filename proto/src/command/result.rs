//! What an `ok` reply carries ([`CommandResult`]), and one row of a task's
//! audit trail.

use crate::clinical::{ObservationView, PatientView};
use crate::ids::{StaffId, TaskId};
use crate::model::*;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What an `ok` reply carries, tagged by `kind`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
// Wire messages live briefly and are built once per reply or event;
// boxing the large view would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum CommandResult {
    /// The task as it stands after the command.
    Task { task: TaskView },
    /// The page as it stands after the command.
    Page { page: PageView },
    /// The shift as it stands after the command (`null` once ended).
    Shift {
        staff: StaffId,
        shift: Option<ShiftView>,
        /// On an end: the tasks they still held, now offered again (absent
        /// when none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[ts(as = "Option<Vec<TaskView>>", optional)]
        returned: Vec<TaskView>,
        /// On an end: pages to them not yet acknowledged (absent when none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[ts(as = "Option<Vec<PageView>>", optional)]
        unacknowledged: Vec<PageView>,
    },
    /// What the sender holds: tasks accepted or started (a pending handover
    /// in each task's `handover`), pages to them not yet acknowledged.
    Handover {
        tasks: Vec<TaskView>,
        pages: Vec<PageView>,
    },
    /// One part of the open tasks and pages visible to the user. `cursor`
    /// is the user's stream position when this part was read: events after
    /// it are newer. `next`: send it as `after` for the following part;
    /// `null` on the last part.
    Snapshot {
        #[ts(type = "number")]
        cursor: u64,
        tasks: Vec<TaskView>,
        pages: Vec<PageView>,
        next: Option<String>,
    },
    /// The hospital's wards and staff.
    Directory {
        wards: Vec<WardView>,
        staff: Vec<StaffView>,
        /// Accept-by and complete-by targets per priority.
        targets: Vec<PriorityTargetView>,
    },
    /// One part of the tasks raised or changed since the time asked for,
    /// oldest raised first; `next` as for a snapshot.
    History {
        tasks: Vec<TaskView>,
        next: Option<String>,
    },
    /// One task's audit trail.
    Timeline {
        task: TaskId,
        entries: Vec<TimelineEntry>,
    },
    /// The patient as they stand after the command.
    Patient { patient: PatientView },
    /// The set as stored and scored, the patient after it, and the review
    /// task it raised or changed (`null`: none).
    Observation {
        observation: ObservationView,
        patient: PatientView,
        review: Option<TaskView>,
    },
    /// One part of a ward's patients; `next` as for a snapshot.
    Patients {
        patients: Vec<PatientView>,
        next: Option<String>,
    },
    /// A patient and their observations of the last 72 hours, oldest first.
    Chart {
        patient: PatientView,
        observations: Vec<ObservationView>,
    },
}

/// One row of a task's audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TimelineEntry {
    #[ts(type = "number")]
    pub at: Millis,
    /// `null` when the hub itself acted (escalations, delivery receipts).
    pub actor: Option<StaffRef>,
    /// raise, accept, decline, start, complete, hand_back, cancel, assign,
    /// set_priority, escalate, ...
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// Reason, outcome, who it was assigned to, whom an escalation alerted.
    pub detail: String,
}
