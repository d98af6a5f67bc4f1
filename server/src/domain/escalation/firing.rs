//! Running a ladder: firing its steps in turn ([`fire`]), falling through
//! a step that finds nobody, the last resort when every step did, the next
//! grade up for widening, and which ladder a task is on.

use super::{phrase, Action, Ladder};
use crate::domain::roster::Roster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use wardpage_proto::{Millis, Role, StaffId};

/// What one firing did: the steps that alerted someone, those that found
/// nobody on shift, and those whose people had no connected device (both
/// fell through).
#[derive(Debug, Default)]
pub struct Firing {
    pub acted: Vec<String>,
    pub found_nobody: Vec<String>,
    pub found_unconnected: Vec<String>,
}

/// What one step found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Someone,
    Nobody,
    NobodyConnected,
}

impl Firing {
    pub fn record(&mut self, action: &Action, found: Found) {
        let p = phrase(action);
        match found {
            Found::Someone => self.acted.push(p),
            Found::Nobody => self.found_nobody.push(p),
            Found::NobodyConnected => self.found_unconnected.push(p),
        }
    }

    pub fn text(&self) -> String {
        let mut t = self.acted.join("; ");
        if !self.found_nobody.is_empty() {
            t.push_str(&format!(
                " (nobody on shift for: {})",
                self.found_nobody.join(", ")
            ));
        }
        if !self.found_unconnected.is_empty() {
            t.push_str(&format!(
                " (nobody connected for: {})",
                self.found_unconnected.join(", ")
            ));
        }
        t
    }
}

/// One firing of a ladder: whom it alerted, what it did, and what is next.
#[derive(Debug)]
pub struct Fired {
    pub alerted: BTreeSet<StaffId>,
    pub firing: Firing,
    /// Index of the step to fire next (`steps.len()`: repeat the last).
    pub next_step: usize,
    pub next_at: Millis,
}

/// Fires `ladder` from step `step` at `now`. A step that alerts nobody
/// falls through to the next; steps with no delay fire together; past the
/// end the last step repeats. If every step found nobody, the last resort
/// ([`last_resort`]) is alerted. `perform` carries out one action and says
/// whom it alerted; `reachable` says whether someone alerted counts as
/// found (has a connected device, when the policy asks for one: a step
/// whose people are all unreachable still alerts them, and falls through).
pub fn fire(
    ladder: &Ladder,
    step: usize,
    roster: &Roster,
    now: Millis,
    mut perform: impl FnMut(&Action) -> BTreeSet<StaffId>,
    reachable: impl Fn(StaffId) -> bool,
) -> Fired {
    let n = ladder.steps.len();
    let mut i = step.min(n);
    let repeating = i == n;
    let mut alerted = BTreeSet::new();
    let mut reached = false;
    let mut firing = Firing::default();
    // An empty ladder cannot pass validation; it would go to the last resort.
    if n > 0 {
        loop {
            let idx = i.min(n - 1);
            let who = perform(&ladder.steps[idx].action);
            let found = who.iter().any(|s| reachable(*s));
            let what = match (found, who.is_empty()) {
                (true, _) => Found::Someone,
                (false, true) => Found::Nobody,
                (false, false) => Found::NobodyConnected,
            };
            firing.record(&ladder.steps[idx].action, what);
            reached |= found;
            alerted.extend(who);
            if i < n {
                i += 1;
            }
            if repeating || idx == n - 1 || (found && ladder.steps[i].after != Some(0)) {
                break;
            }
        }
    }
    if !reached {
        alerted.extend(last_resort(roster, now));
        firing
            .acted
            .push("last resort: coordinators, else seniors, else everyone on shift alerted".into());
    }
    let next_at = now
        + if i < n {
            ladder.steps[i].after.unwrap_or(0)
        } else {
            ladder.repeat_every
        };
    Fired {
        alerted,
        firing,
        next_step: i,
        next_at,
    }
}

/// The next grade up, for widening: FY1 → SHO → registrar → consultant.
pub fn next_grade(r: Role) -> Option<Role> {
    match r {
        Role::Fy1 | Role::Phlebotomist | Role::HealthcareAssistant => Some(Role::Sho),
        Role::Sho | Role::NursePractitioner => Some(Role::Registrar),
        Role::Registrar | Role::CriticalCareOutreach => Some(Role::Consultant),
        Role::Nurse => Some(Role::NurseInCharge),
        Role::NurseInCharge => Some(Role::Coordinator),
        Role::Consultant | Role::Coordinator | Role::Admin => None,
    }
}

/// Who is alerted when every step found nobody: coordinators on shift;
/// failing that every senior on shift (nurse in charge, registrar,
/// consultant, admin); failing that everyone on shift. Empty only when
/// nobody at all is on shift.
pub fn last_resort(roster: &Roster, now: Millis) -> BTreeSet<StaffId> {
    let coordinators: BTreeSet<StaffId> = roster.overseers(now).collect();
    if !coordinators.is_empty() {
        return coordinators;
    }
    let seniors: BTreeSet<StaffId> = roster
        .shifts()
        .iter()
        .filter(|(_, s)| {
            s.is_on(now)
                && matches!(
                    s.role,
                    Role::NurseInCharge | Role::Registrar | Role::Consultant | Role::Admin
                )
        })
        .map(|(id, _)| *id)
        .collect();
    if !seniors.is_empty() {
        return seniors;
    }
    roster
        .shifts()
        .iter()
        .filter(|(_, s)| s.is_on(now))
        .map(|(id, _)| *id)
        .collect()
}

/// Which ladder a task is on, and how far up it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EscalationState {
    pub phase: Phase,
    /// Index of the next step to fire (== steps.len() once repeating).
    pub step: usize,
    /// When this ladder started (raise, hand back, accept).
    #[serde(default)]
    pub started_at: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Accept,
    /// Assigned, waiting for the assignee to acknowledge (see
    /// `hospital::assignment::acknowledge_ladder`).
    Acknowledge,
    Complete,
    /// Closed, or a page that was acknowledged: nothing pending.
    Done,
}
