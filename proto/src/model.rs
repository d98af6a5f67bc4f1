//! The hospital's vocabulary as it appears on the wire: roles, skills,
//! priorities, task and page views.

use crate::ids::{PageId, StaffId, TaskId, WardId};
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A role held on a shift. Permissions follow from it: `coordinator` and
/// `admin` see and steer everything; `nurse_in_charge` sees every task on
/// the wards the shift covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    Nurse,
    HealthcareAssistant,
    NurseInCharge,
    Phlebotomist,
    NursePractitioner,
    Fy1,
    Sho,
    Registrar,
    Consultant,
    /// Critical care outreach: the team with critical-care competencies
    /// that answers a NEWS2 emergency (7 or more).
    CriticalCareOutreach,
    Coordinator,
    Admin,
}

impl Role {
    /// Every role, in the order the hub lists them.
    pub const ALL: [Role; 12] = [
        Role::Nurse,
        Role::HealthcareAssistant,
        Role::NurseInCharge,
        Role::Phlebotomist,
        Role::NursePractitioner,
        Role::Fy1,
        Role::Sho,
        Role::Registrar,
        Role::Consultant,
        Role::CriticalCareOutreach,
        Role::Coordinator,
        Role::Admin,
    ];

    /// The snake_case name used on the wire and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Nurse => "nurse",
            Role::HealthcareAssistant => "healthcare_assistant",
            Role::NurseInCharge => "nurse_in_charge",
            Role::Phlebotomist => "phlebotomist",
            Role::NursePractitioner => "nurse_practitioner",
            Role::Fy1 => "fy1",
            Role::Sho => "sho",
            Role::Registrar => "registrar",
            Role::Consultant => "consultant",
            Role::CriticalCareOutreach => "critical_care_outreach",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    /// Roles that oversee the whole hospital: they receive every task event.
    pub fn oversees_all(self) -> bool {
        matches!(self, Role::Coordinator | Role::Admin)
    }

    /// Ward-based roles: they see every task raised on the wards they cover.
    pub fn is_ward_based(self) -> bool {
        matches!(
            self,
            Role::Nurse | Role::HealthcareAssistant | Role::NurseInCharge
        )
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role `{s}`"))
    }
}

/// A clinical skill a member of staff holds, independent of role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Skill {
    Cannulation,
    Bloods,
    BloodCultures,
    Ecg,
    IvDrugs,
    Catheterisation,
    Prescribing,
}

impl Skill {
    /// Every skill.
    pub const ALL: [Skill; 7] = [
        Skill::Cannulation,
        Skill::Bloods,
        Skill::BloodCultures,
        Skill::Ecg,
        Skill::IvDrugs,
        Skill::Catheterisation,
        Skill::Prescribing,
    ];

    /// The snake_case name used on the wire and in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Skill::Cannulation => "cannulation",
            Skill::Bloods => "bloods",
            Skill::BloodCultures => "blood_cultures",
            Skill::Ecg => "ecg",
            Skill::IvDrugs => "iv_drugs",
            Skill::Catheterisation => "catheterisation",
            Skill::Prescribing => "prescribing",
        }
    }
}

impl std::str::FromStr for Skill {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Skill::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown skill `{s}`"))
    }
}

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

/// A set of roles, sent as an array of role names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, TS)]
#[ts(export, type = "Array<import(\"./Role\").Role>")]
pub struct RoleSet(u16);

impl RoleSet {
    pub fn of(roles: &[Role]) -> RoleSet {
        RoleSet(roles.iter().fold(0, |m, r| m | (1 << (*r as u16))))
    }
    pub fn contains(self, role: Role) -> bool {
        self.0 & (1 << (role as u16)) != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn roles(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

impl Serialize for RoleSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.roles())
    }
}

impl<'de> Deserialize<'de> for RoleSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let roles: Vec<Role> = Vec::deserialize(d)?;
        Ok(RoleSet::of(&roles))
    }
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

/// A member of staff as named in views: enough to show and address them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StaffRef {
    pub id: StaffId,
    pub name: String,
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

/// One recipient's receipts for a page: three separate facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageReceipt {
    pub staff: StaffRef,
    /// The recipient's device acknowledged the event carrying the page.
    #[ts(type = "number | null")]
    pub delivered_at: Option<Millis>,
    /// The page was shown to the recipient.
    #[ts(type = "number | null")]
    pub read_at: Option<Millis>,
    /// The recipient, a person, acknowledged it.
    #[ts(type = "number | null")]
    pub acked_at: Option<Millis>,
    /// Their one-tap reply, the latest one (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reply: Option<crate::page_extras::PageReply>,
    /// When they sent that reply (absent with `reply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub replied_at: Option<Millis>,
}

/// Whether a page still waits for a human acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PageState {
    /// No recipient has acknowledged yet.
    Open,
    /// At least one recipient acknowledged.
    Acknowledged,
    /// Nobody was on shift to receive it: the coordinator is told.
    Undeliverable,
}

impl PageState {
    /// The snake_case name used on the wire, in the audit trail and the
    /// store's state column.
    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Open => "open",
            PageState::Acknowledged => "acknowledged",
            PageState::Undeliverable => "undeliverable",
        }
    }
}

/// A page: "call me now" to a person or to everyone holding a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageView {
    pub id: PageId,
    pub version: u32,
    pub from: StaffRef,
    pub target: crate::command::PageTarget,
    pub priority: Priority,
    pub callback: String,
    /// The number a phone dials for `callback` (digits, a leading `+` kept):
    /// show it as a `tel:` link. Absent for the hub's own pages, whose
    /// callback is a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub callback_number: Option<String>,
    /// The ward the page was sent from, as the hospital names it (absent:
    /// the sender named none and their shift covers several or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from_ward: Option<crate::page_extras::WardRef>,
    pub message: String,
    pub state: PageState,
    #[ts(type = "number")]
    pub sent_at: Millis,
    pub recipients: Vec<PageReceipt>,
    /// How many times the hub has escalated this page (0: never).
    pub escalation_level: u32,
    /// When the hub will escalate next unless someone acknowledges.
    #[ts(type = "number | null")]
    pub next_escalation_at: Option<Millis>,
}

/// A shift: who is working now, in which role, covering which wards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ShiftView {
    pub role: Role,
    pub wards: Vec<WardId>,
    #[ts(type = "number")]
    pub starts_at: Millis,
    #[ts(type = "number")]
    pub ends_at: Millis,
    /// Whether they said they are busy (`set_busy`): their phone holds back
    /// non-emergency alerts until `until`. Absent when not busy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub busy: Option<BusyView>,
}

/// A busy state: "In resus until 03:40". Alerts below emergency are held
/// back on the person's phone (still offered, still escalating) until it
/// ends by `end_busy`, a new shift, or `until` passing (the hub's clock).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct BusyView {
    pub reason: String,
    #[ts(type = "number")]
    pub since: Millis,
    #[ts(type = "number")]
    pub until: Millis,
}

/// A member of staff as the directory shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StaffView {
    pub id: StaffId,
    pub login: String,
    pub name: String,
    /// Their substantive role (grade).
    pub role: Role,
    pub skills: Vec<Skill>,
    /// Their shift, while they are on one.
    pub shift: Option<ShiftView>,
    /// Whether a device of theirs is connected to the hub now.
    pub connected: bool,
    /// When a device of theirs last was (now, if connected); `null` if never.
    #[ts(type = "number | null")]
    pub last_seen_at: Option<Millis>,
    /// When they last changed something (accepted, completed, paged ...)
    /// since the hub started; `null` if not.
    #[ts(type = "number | null")]
    pub last_action_at: Option<Millis>,
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

/// A ward and its beds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WardView {
    pub id: WardId,
    pub name: String,
    pub beds: Vec<String>,
}
