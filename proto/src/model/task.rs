//! Tasks on the wire: what kind of work, how urgent, who may take it, the
//! SBAR handover, the lifecycle states, offers to candidates, and the task
//! view every client holds.

use super::{Role, RoleSet, Skill, StaffRef};
use crate::ids::{TaskId, WardId};
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What kind of work a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Category {
    Cannula,
    Bloods,
    BloodCultures,
    MedicalReview,
    DrugChart,
    Fluids,
    Ecg,
    Catheter,
    IvDrugs,
    /// Observations overdue: raised by the hub for the nurse in charge.
    Observations,
    Other,
}

/// How soon a task needs doing. Each priority has accept-by and
/// complete-by targets from the hub's config.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Priority {
    Routine,
    Soon,
    Urgent,
    Emergency,
}

impl Priority {
    /// The snake_case name used on the wire, in messages and in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Routine => "routine",
            Priority::Soon => "soon",
            Priority::Urgent => "urgent",
            Priority::Emergency => "emergency",
        }
    }
}

/// Who may take a task: anyone on shift covering the ward who holds this
/// role (on their current shift) or this skill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Requirement {
    Role(Role),
    Skill(Skill),
    /// Anyone holding one of these roles on their shift (a NEWS2
    /// emergency: registrar grade and critical care outreach at once).
    AnyRole(RoleSet),
}

/// Situation, background, assessment, recommendation: the structured
/// handover a nurse gives a doctor. Empty strings are allowed except for
/// `situation`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Sbar {
    pub situation: String,
    #[serde(default)]
    pub background: String,
    #[serde(default)]
    pub assessment: String,
    #[serde(default)]
    pub recommendation: String,
}

/// A task's place in its lifecycle. `completed` and `cancelled` are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum TaskState {
    /// Offered to every candidate at once; the first to accept takes it.
    Offering,
    /// Nobody can take it (every candidate declined, or there was no
    /// candidate): it waits for a coordinator.
    NoOneAccepted,
    /// A coordinator gave it to someone (`assignee`, with `assigned_by` and
    /// `assigned_at`) who has not yet acknowledged it: it is theirs, but
    /// nobody has said yes. Their `accept` acknowledges it (`accepted`),
    /// their `decline` hands it back.
    Assigned,
    Accepted,
    Started,
    Completed,
    Cancelled,
}

impl TaskState {
    /// Terminal states are final: no command moves a task out of them.
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Completed | TaskState::Cancelled)
    }

    /// The snake_case name used on the wire, in messages, the audit trail
    /// and the store's state column.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Offering => "offering",
            TaskState::NoOneAccepted => "no_one_accepted",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Started => "started",
            TaskState::Completed => "completed",
            TaskState::Cancelled => "cancelled",
        }
    }
}

/// Why a task is in `no_one_accepted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum UnassignedReason {
    /// Every offered candidate declined.
    AllDeclined,
    /// Nobody on shift covers the ward with the required role or skill.
    NoCandidates,
}

/// Where an offer to one candidate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OfferState {
    Offered,
    Declined,
    /// The task was taken by someone else, assigned, or cancelled.
    Withdrawn,
}

/// One candidate's offer of a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Offer {
    pub staff: StaffRef,
    pub state: OfferState,
    /// The decline reason, when declined.
    pub reason: Option<String>,
    /// While the offer is open: no device of theirs was connected when the
    /// hub last changed the task, so the offer did not ring for them
    /// (absent: connected, or the offer is no longer open). Only ever `true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unconnected: Option<bool>,
}

/// A task as every client sees it. Events carry the whole view, so a client
/// replaces what it had (newer `version` wins) and never patches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct TaskView {
    pub id: TaskId,
    /// Increases by one with every change; a client ignores a view older
    /// than the one it holds.
    pub version: u32,
    pub ward: WardId,
    pub bed: String,
    pub patient: String,
    /// The patient the task is for, when it names one: every view shows
    /// name, NHS number and bed, so nobody treats the wrong patient.
    #[serde(default)]
    pub patient_ref: Option<crate::clinical::PatientRef>,
    /// Why the hub raised or last changed this review (NEWS2 or a concern).
    #[serde(default)]
    pub review: Option<crate::clinical::ReviewTrigger>,
    pub category: Category,
    pub priority: Priority,
    pub requirement: Requirement,
    pub sbar: Sbar,
    pub state: TaskState,
    pub unassigned_reason: Option<UnassignedReason>,
    pub raised_by: StaffRef,
    pub offers: Vec<Offer>,
    pub assignee: Option<StaffRef>,
    #[ts(type = "number")]
    pub raised_at: Millis,
    #[ts(type = "number")]
    pub updated_at: Millis,
    /// Accept-by target, from the priority's config at raise (or re-prioritise) time.
    #[ts(type = "number")]
    pub accept_by: Millis,
    /// Complete-by target.
    #[ts(type = "number")]
    pub complete_by: Millis,
    /// When the assignee said yes: their `accept` of an offer, or their
    /// acknowledgement of an assignment (`null` while `assigned`).
    #[ts(type = "number | null")]
    pub accepted_at: Option<Millis>,
    /// Who gave the task to its assignee (`assign`), while the assignee
    /// holds it by that assignment (absent: they took it from an offer, or
    /// nobody holds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub assigned_by: Option<StaffRef>,
    /// When that assignment was made (absent with `assigned_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub assigned_at: Option<Millis>,
    #[ts(type = "number | null")]
    pub started_at: Option<Millis>,
    #[ts(type = "number | null")]
    pub closed_at: Option<Millis>,
    /// The completion outcome or the cancel reason.
    pub closing_note: Option<String>,
    /// How many times the hub has escalated this task (0: never).
    pub escalation_level: u32,
    /// When the hub will escalate next unless someone acts (`null`: nothing pending).
    #[ts(type = "number | null")]
    pub next_escalation_at: Option<Millis>,
    /// A handover waiting for the named person to accept (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub handover: Option<HandoverView>,
    /// While it is offered: since when none of the people it is offered to
    /// has a connected device, so the offer rings nowhere (absent: at least
    /// one of them is connected, or it is not on offer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub unreached_at: Option<Millis>,
}

/// A task's pending handover: `from` still holds it until `to` accepts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HandoverView {
    pub from: StaffRef,
    pub to: StaffRef,
    #[ts(type = "number")]
    pub at: Millis,
}

/// A priority's targets, as configured at the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PriorityTargetView {
    pub priority: Priority,
    #[ts(type = "number")]
    pub accept_within_ms: Millis,
    #[ts(type = "number")]
    pub complete_within_ms: Millis,
}
