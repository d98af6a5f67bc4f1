//! Commands a client asks the hub to carry out, and their results.
//!
//! Each command travels in a [`crate::ClientFrame::Cmd`] with a
//! client-minted [`crate::CommandId`]. [`Command::validate`] holds the
//! protocol's field rules so that client and hub agree on them.

use crate::clinical::{
    ObservationSet, ObservationView, PatientDetails, PatientView, Spo2Scale, MAX_CONCERN_CHARS,
};
use crate::error::FieldError;
use crate::ids::{PageId, PatientId, StaffId, TaskId, WardId};
use crate::limits::*;
use crate::model::*;
use crate::paging::Resume;
use crate::text::{free_text as text, identifier};
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

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

impl Command {
    /// The command's name on the wire (its `op`).
    pub fn op(&self) -> &'static str {
        match self {
            Command::RaiseTask { .. } => "raise_task",
            Command::Accept { .. } => "accept",
            Command::Decline { .. } => "decline",
            Command::Start { .. } => "start",
            Command::Complete { .. } => "complete",
            Command::CompleteOffline { .. } => "complete_offline",
            Command::HandBack { .. } => "hand_back",
            Command::Cancel { .. } => "cancel",
            Command::Assign { .. } => "assign",
            Command::SetPriority { .. } => "set_priority",
            Command::SendPage { .. } => "send_page",
            Command::PageRead { .. } => "page_read",
            Command::PageAck { .. } => "page_ack",
            Command::StartShift { .. } => "start_shift",
            Command::EndShift { .. } => "end_shift",
            Command::EscalateNow { .. } => "escalate_now",
            Command::SetBusy { .. } => "set_busy",
            Command::EndBusy {} => "end_busy",
            Command::HandOver { .. } => "hand_over",
            Command::AcceptHandover { .. } => "accept_handover",
            Command::DeclineHandover { .. } => "decline_handover",
            Command::Handover {} => "handover",
            Command::History { .. } => "history",
            Command::Timeline { .. } => "timeline",
            Command::Snapshot { .. } => "snapshot",
            Command::Directory {} => "directory",
            Command::SetHandoverNote { .. } => "set_handover_note",
            Command::AdmitPatient { .. } => "admit_patient",
            Command::UpdatePatient { .. } => "update_patient",
            Command::TransferPatient { .. } => "transfer_patient",
            Command::DischargePatient { .. } => "discharge_patient",
            Command::SetSpo2Scale { .. } => "set_spo2_scale",
            Command::RecordObservations { .. } => "record_observations",
            Command::RaiseConcern { .. } => "raise_concern",
            Command::Patients { .. } => "patients",
            Command::Chart { .. } => "chart",
        }
    }

    /// Whether the command only reads (it changes nothing and needs no commit).
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Snapshot { .. }
                | Command::Directory {}
                | Command::History { .. }
                | Command::Timeline { .. }
                | Command::Patients { .. }
                | Command::Chart { .. }
                | Command::Handover {}
        )
    }

    /// Checks the protocol's field rules: lengths, which characters a text
    /// field may hold (`crate::text`), ward code shape, paging tokens. It
    /// knows nothing of which wards or staff exist, nor of the time: see
    /// [`Command::validate_at`].
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Command::RaiseTask {
                ward,
                bed,
                patient,
                sbar,
                ..
            } => {
                ward_ok("ward", ward)?;
                identifier("bed", bed, 1, MAX_BED_CHARS)?;
                identifier("patient", patient, 0, MAX_PATIENT_CHARS)?;
                text("sbar.situation", &sbar.situation, 1, MAX_SBAR_CHARS)?;
                text("sbar.background", &sbar.background, 0, MAX_SBAR_CHARS)?;
                text("sbar.assessment", &sbar.assessment, 0, MAX_SBAR_CHARS)?;
                text(
                    "sbar.recommendation",
                    &sbar.recommendation,
                    0,
                    MAX_SBAR_CHARS,
                )
            }
            Command::Decline { reason, .. }
            | Command::HandBack { reason, .. }
            | Command::DeclineHandover { reason, .. }
            | Command::Cancel { reason, .. } => text("reason", reason, 1, MAX_REASON_CHARS),
            Command::Complete { outcome, .. } | Command::CompleteOffline { outcome, .. } => {
                text("outcome", outcome, 0, MAX_REASON_CHARS)
            }
            Command::SendPage {
                callback,
                message,
                ward,
                ..
            } => {
                identifier("callback", callback, 1, MAX_CALLBACK_CHARS)?;
                crate::page_extras::callback_ok(callback)?;
                if let Some(w) = ward {
                    ward_ok("ward", w)?;
                }
                text("message", message, 0, MAX_MESSAGE_CHARS)
            }
            Command::StartShift { wards, .. } => {
                if wards.is_empty() || wards.len() > MAX_WARDS_PER_SHIFT {
                    return Err(FieldError::new(
                        "wards",
                        format!("must list 1 to {MAX_WARDS_PER_SHIFT} wards"),
                    ));
                }
                wards.iter().try_for_each(|w| ward_ok("wards", w))
            }
            Command::Snapshot { after } | Command::History { after, .. } => {
                Resume::from_after(after.as_deref()).map(|_| ())
            }
            Command::AdmitPatient { ward, bed, patient } => {
                crate::clinical::ward_bed_ok(ward, bed)?;
                patient.validate()
            }
            Command::UpdatePatient { details, .. } => details.validate(),
            Command::TransferPatient { ward, bed, .. } => crate::clinical::ward_bed_ok(ward, bed),
            Command::SetSpo2Scale {
                scale,
                reason,
                target_low,
                target_high,
                ..
            } => {
                let min = usize::from(*scale == Spo2Scale::Scale2);
                text("reason", reason, min, MAX_CONCERN_CHARS)?;
                let (lo, hi) = (target_low.unwrap_or(88), target_high.unwrap_or(92));
                if !(70..=100).contains(&lo) || !(70..=100).contains(&hi) || lo >= hi {
                    return Err(FieldError::new(
                        "target_low",
                        "the target range must be two values from 70 to 100, low below high",
                    ));
                }
                Ok(())
            }
            Command::RecordObservations { set, .. } => set.validate(),
            Command::RaiseConcern { concern, .. } => text("concern", concern, 1, MAX_CONCERN_CHARS),
            Command::SetHandoverNote { note, .. } => note.validate(),
            Command::SetBusy { reason, minutes } => {
                identifier("reason", reason, 1, MAX_BUSY_REASON_CHARS)?;
                if !(MIN_BUSY_MINUTES..=MAX_BUSY_MINUTES).contains(minutes) {
                    return Err(FieldError::new(
                        "minutes",
                        format!("must be {MIN_BUSY_MINUTES} to {MAX_BUSY_MINUTES} minutes"),
                    ));
                }
                Ok(())
            }
            Command::Patients { ward, after } => {
                if let Some(w) = ward {
                    ward_ok("ward", w)?;
                }
                Resume::from_after(after.as_deref()).map(|_| ())
            }
            Command::Accept { .. }
            | Command::Start { .. }
            | Command::Assign { .. }
            | Command::SetPriority { .. }
            | Command::PageRead { .. }
            | Command::PageAck { .. }
            | Command::EndShift { .. }
            | Command::EscalateNow { .. }
            | Command::EndBusy {}
            | Command::HandOver { .. }
            | Command::AcceptHandover { .. }
            | Command::Handover {}
            | Command::Timeline { .. }
            | Command::Directory {}
            | Command::DischargePatient { .. }
            | Command::Chart { .. } => Ok(()),
        }
    }

    /// [`Command::validate`], and the rules that need the time: a shift
    /// must end within [`MAX_SHIFT_MS`] of `now` (a shift ending in the year
    /// 2500 would keep someone a candidate forever).
    pub fn validate_at(&self, now: Millis) -> Result<(), FieldError> {
        self.validate()?;
        if let Command::RecordObservations { set, .. } = self {
            set.validate_at(now)?;
        }
        if let Command::StartShift { ends_at, .. } = self {
            if *ends_at > now.saturating_add(MAX_SHIFT_MS) {
                return Err(FieldError::new(
                    "ends_at",
                    format!(
                        "a shift must end within {} hours of now",
                        MAX_SHIFT_MS / 3_600_000
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn ward_ok(field: &'static str, ward: &WardId) -> Result<(), FieldError> {
    if ward.is_well_formed() {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "ward codes are 1 to 32 lower-case letters, digits or '-'",
        ))
    }
}

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
