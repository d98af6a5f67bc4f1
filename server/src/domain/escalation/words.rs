//! An escalation in words, for the person alerted and the audit trail: a
//! role as people write it, what a step did, a span of time as people say
//! it.

use super::Action;
use wardpage_proto::{Millis, Role};

/// A role as people write it.
pub fn role_title(r: Role) -> &'static str {
    match r {
        Role::Nurse => "nurse",
        Role::HealthcareAssistant => "healthcare assistant",
        Role::NurseInCharge => "nurse in charge",
        Role::Phlebotomist => "phlebotomist",
        Role::NursePractitioner => "nurse practitioner",
        Role::Fy1 => "FY1",
        Role::Sho => "SHO",
        Role::Registrar => "registrar",
        Role::Consultant => "consultant",
        Role::CriticalCareOutreach => "critical care outreach",
        Role::Coordinator => "coordinator",
        Role::Admin => "admin",
    }
}

fn titles(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| role_title(*r))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What a step did, in words for the person alerted and the audit trail.
pub fn phrase(action: &Action) -> String {
    match action {
        Action::Realert => "alerted again".into(),
        Action::Widen { roles } if roles.is_empty() => "offered to the next grade up".into(),
        Action::Widen { roles } => format!("offered to the {}", titles(roles)),
        Action::Coordinator => "coordinator alerted".into(),
        Action::NurseInCharge => "nurse in charge alerted".into(),
        Action::PageRole { roles } => format!("{} paged", titles(roles)),
    }
}

/// A span of time as people say it: "45 s", "15 min", "2 h 5 min".
pub fn human_duration(ms: Millis) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=59 => format!("{s} s"),
        60..=7199 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}
