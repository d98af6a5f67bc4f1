//! Commands a client asks the hub to carry out, and their results.
//!
//! Each command travels in a [`crate::ClientFrame::Cmd`] with a
//! client-minted [`crate::CommandId`]. [`Command::validate`] holds the
//! protocol's field rules so that client and hub agree on them.

use crate::clinical::{ObservationSet, PatientDetails, Spo2Scale};
use crate::ids::{PageId, PatientId, StaffId, TaskId, WardId};
use crate::model::*;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod result;
mod rules;

pub use result::{CommandResult, TimelineEntry};

/// Who a page goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PageTarget {
    /// One named member of staff.
    Staff(StaffId),
    /// Everyone on shift in this role (a team call).
    Role(Role),
}

/// A command, tagged by `op`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "op", rename_all = "snake_case")]
#[ts(export)]
pub enum Command {
    /// Raise a task on a ward. Any member of staff on shift may raise.
    RaiseTask {
        ward: WardId,
        bed: String,
        /// A label for the patient (may be empty): filled in from the
        /// bed's patient when `patient_id` names them or the bed holds one.
        #[serde(default)]
        patient: String,
        /// The patient in `bed`, as the sender's screen showed them: a
        /// raise naming a patient no longer in that bed is refused
        /// (`invalid_state`). Absent: the bed's patient, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        patient_id: Option<PatientId>,
        category: Category,
        priority: Priority,
        requirement: Requirement,
        sbar: Sbar,
    },
    /// Take an offered task (offered candidates only).
    Accept { task: TaskId },
    /// Turn an offer down, with a reason.
    Decline { task: TaskId, reason: String },
    /// Start work on a task you hold.
    Start { task: TaskId },
    /// Finish a task you hold.
    Complete {
        task: TaskId,
        #[serde(default)]
        outcome: String,
    },
    /// Tell the hub that a task you held was done while your device was
    /// offline and, meanwhile, given to someone else (former holders only):
    /// it is completed, saying so, and its new holder is told.
    CompleteOffline {
        task: TaskId,
        #[serde(default)]
        outcome: String,
        /// When it was done: the hub's clock as the device knew it.
        #[ts(type = "number")]
        done_at: Millis,
    },
    /// Give a task you hold back: it is offered again.
    HandBack { task: TaskId, reason: String },
    /// Cancel a task (its raiser, or a coordinator).
    Cancel { task: TaskId, reason: String },
    /// Give a task to a named person, skipping the offer, or move it to
    /// someone else (coordinator only).
    Assign { task: TaskId, staff: StaffId },
    /// Change a task's priority (coordinator only); its targets are recomputed.
    SetPriority { task: TaskId, priority: Priority },
    /// Page a person or a role. `callback` must hold a number to call
    /// (`page_extras`); `ward` is where the sender is (absent: the ward of
    /// their shift when it covers one).
    SendPage {
        target: PageTarget,
        priority: Priority,
        callback: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        ward: Option<WardId>,
    },
    /// The page was shown on screen.
    PageRead { page: PageId },
    /// A person acknowledges the page, optionally with a one-tap reply
    /// (which the sender sees); a reply after the acknowledgement replaces
    /// the one before.
    PageAck {
        page: PageId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        reply: Option<crate::page_extras::PageReply>,
    },
    /// Start (or replace) a shift (coordinator or admin).
    StartShift {
        staff: StaffId,
        role: Role,
        wards: Vec<WardId>,
        #[ts(type = "number")]
        ends_at: Millis,
    },
    /// End a shift now (coordinator, admin, or the member of staff themself).
    EndShift { staff: StaffId },
    /// Escalate a task now, as if its next deadline had passed (coordinator).
    EscalateNow { task: TaskId },
    /// Say you are busy ("In resus") for `minutes` (at most
    /// [`MAX_BUSY_MINUTES`]): your phone holds back non-emergency alerts,
    /// and coordinators see it in your shift. The hub ends it at `until`
    /// (or the shift's end, if sooner). Setting it again replaces it.
    SetBusy { reason: String, minutes: u32 },
    /// End your busy state now.
    EndBusy {},
    /// Offer a task you hold to a named person on shift who covers its ward
    /// and meets its requirement; you hold it until they accept.
    HandOver { task: TaskId, to: StaffId },
    /// Take a task handed over to you.
    AcceptHandover { task: TaskId },
    /// Refuse a task handed over to you, with a reason: the one handing it
    /// over keeps it.
    DeclineHandover { task: TaskId, reason: String },
    /// What you hold: tasks accepted or started, and pages to you not yet
    /// acknowledged (before ending a shift).
    Handover {},
    /// Every task raised or changed since `since`, open or closed
    /// (coordinator or admin: all wards; nurse in charge: their wards).
    /// Closed tasks are kept for 24 hours.
    History {
        #[ts(type = "number")]
        since: Millis,
        /// `null` or absent: the first part; otherwise the `next` of the
        /// part before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        after: Option<String>,
    },
    /// A task's audit trail, oldest first (anyone who can see the task).
    Timeline { task: TaskId },
    /// Open tasks and pages this user may see, and the cursor they reflect,
    /// in parts: `after` is `null` or absent for the first part, otherwise
    /// the `next` of the part before.
    Snapshot {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        after: Option<String>,
    },
    /// Wards, and staff with their current shifts.
    Directory {},
    /// Write the patient's shift handover note (SBAR with "what if"),
    /// replacing the one before (staff on shift covering the ward,
    /// coordinators).
    SetHandoverNote {
        patient: PatientId,
        note: crate::HandoverNoteText,
    },
    /// Admit a patient to an empty bed (nurse in charge of the ward,
    /// coordinator, admin).
    AdmitPatient {
        ward: WardId,
        bed: String,
        patient: PatientDetails,
    },
    /// Correct a patient's details (as admit).
    UpdatePatient {
        patient: PatientId,
        details: PatientDetails,
    },
    /// Move a patient to an empty bed, on their ward or another; their open
    /// tasks and observation history go with them (as admit, on either ward).
    TransferPatient {
        patient: PatientId,
        ward: WardId,
        bed: String,
    },
    /// Discharge a patient: the bed is free (as admit).
    DischargePatient { patient: PatientId },
    /// Set the SpO2 scale (a doctor: FY1, SHO, registrar, consultant).
    /// Scale 2 needs a reason and takes a target range (default 88-92).
    SetSpo2Scale {
        patient: PatientId,
        scale: Spo2Scale,
        #[serde(default)]
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number | null")]
        target_low: Option<u8>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number | null")]
        target_high: Option<u8>,
    },
    /// Record a set of observations; the hub scores it and starts the
    /// clinical response (staff on shift covering the ward, coordinators).
    RecordObservations {
        patient: PatientId,
        set: ObservationSet,
    },
    /// A nurse is worried whatever the score: an urgent review (as
    /// observations).
    RaiseConcern { patient: PatientId, concern: String },
    /// The patients on a ward (or, for a coordinator, every ward when
    /// `ward` is absent), in parts as a snapshot is, ordered by admission
    /// (clients sort by bed).
    Patients {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        ward: Option<WardId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "string | null")]
        after: Option<String>,
    },
    /// A patient's observations over the last 72 hours, oldest first (at
    /// most the newest 500 sets).
    Chart { patient: PatientId },
}
