//! Events the hub pushes. Each reaches a recipient inside a numbered
//! [`crate::ServerFrame::Event`]; the numbers form that recipient's
//! gap-free stream.

use crate::model::*;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What happened to a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TaskChange {
    /// Raised and offered to its candidates (the recipient may be one).
    Raised,
    /// A candidate declined (others may still accept).
    Declined,
    /// Every candidate declined, or there was none: a coordinator must act.
    NoOneAccepted,
    Accepted,
    /// A coordinator gave the task to someone (first time or again): it is
    /// `assigned` until they acknowledge it.
    Assigned,
    /// The assignee acknowledged an assignment (`accept` of an `assigned`
    /// task): it is `accepted` now.
    Acknowledged,
    Started,
    Completed,
    Cancelled,
    /// The holder gave it back; it is offered again.
    HandedBack,
    PriorityChanged,
    /// Its holder offered it to a named person (`handover` says who).
    HandoverOffered,
    /// The named person took it: they hold it now.
    HandoverAccepted,
    /// The named person refused it: the one handing over still holds it.
    HandoverDeclined,
    /// Its holder's shift ended while they held it: it is offered again.
    ReturnedAtShiftEnd,
    /// Its patient moved bed or ward: `ward` and `bed` changed.
    Moved,
    /// A new NEWS2 score (or concern) for its patient: `review` changed,
    /// and if the band rose, its priority and who is offered it.
    Rescored,
}

/// What happened to a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PageChange {
    Sent,
    Delivered,
    Read,
    /// A recipient acknowledged it (with a reply, when their receipt has one).
    Acknowledged,
    /// A recipient who had acknowledged sent another reply (their receipt's
    /// `reply` changed).
    Replied,
}

/// An event body, tagged by `kind`. Views are whole: replace, do not patch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
// Wire messages live briefly and are built once per reply or event;
// boxing the large view would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Event {
    Task {
        change: TaskChange,
        task: TaskView,
        /// Who caused the change (`null` for the hub itself).
        by: Option<StaffRef>,
    },
    Page {
        change: PageChange,
        page: PageView,
        by: Option<StaffRef>,
    },
    /// Nobody acted on a task in time: the hub alerted more people. Sent
    /// to those alerted (who should see a full-screen alert with `reason`),
    /// the raiser, everyone involved, and coordinators.
    TaskEscalated {
        task: TaskView,
        level: u32,
        /// Why, for people: "not accepted in 15 min (urgent) on Ward 7 ...".
        reason: String,
        alerted: Vec<StaffRef>,
    },
    /// Nobody acknowledged a page in time: the hub alerted more people.
    PageEscalated {
        page: PageView,
        level: u32,
        reason: String,
        alerted: Vec<StaffRef>,
    },
    /// A patient was admitted, moved, discharged, observed, their scale
    /// changed, or their observations fell overdue. Sent to the staff on
    /// shift covering the ward (both wards for a transfer) and coordinators.
    Patient {
        change: crate::clinical::PatientChange,
        patient: crate::clinical::PatientView,
        /// The set recorded, for `observed`.
        observation: Option<crate::clinical::ObservationView>,
        by: Option<StaffRef>,
    },
    /// A shift ended (by `end_shift` or its end time passing) while its
    /// holder still held tasks or had pages unacknowledged: the tasks are
    /// offered again. Sent to coordinators and the member of staff.
    HeldAtShiftEnd {
        staff: StaffRef,
        /// For people: "Ward 7: shift of Sam Nurse ended holding 2 tasks ...".
        reason: String,
        tasks: Vec<TaskView>,
        pages: Vec<PageView>,
    },
    /// A shift started, changed or ended, or its person's busy state
    /// (`shift.busy`) was set, ended or ran out (`by` `null`: the hub).
    /// Sent to coordinators and to the member of staff concerned.
    Shift {
        staff: StaffRef,
        shift: Option<ShiftView>,
        by: Option<StaffRef>,
    },
}
