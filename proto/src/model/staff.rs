//! Staff on the wire: roles and skills (with their permissions and names),
//! a set of roles, how views name a person, shifts, busy states and the
//! staff directory.

use crate::ids::{StaffId, WardId};
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

/// A member of staff as named in views: enough to show and address them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct StaffRef {
    pub id: StaffId,
    pub name: String,
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
