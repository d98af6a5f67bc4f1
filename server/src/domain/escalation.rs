//! Escalation policy: what the hub does when nobody accepts, completes or
//! acknowledges in time, and the rules that make a policy safe (it can never
//! end with nobody alerted).
//!
//! A task has two ladders: `accept` (while offered or unassigned) and
//! `complete` (while held). A page has one. Each ladder is an ordered list
//! of steps; each step waits `after` from the step before it (the first
//! step of a task ladder, when `after` is absent, fires at the priority's
//! accept-by or complete-by target) and then alerts someone. The last step
//! repeats every `repeat_every` until someone acts.

use super::roster::Roster;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use wardpage_proto::{Category, Millis, Priority, Role, StaffId, WardId};

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Alert again whoever holds the open offers (or the task, or the page).
    Realert,
    /// Offer the task also to staff on shift in these roles (empty: the
    /// next grade up from the task's required role). For pages: the
    /// deputy, the next grade up from the recipients' roles.
    Widen {
        #[serde(default)]
        roles: Vec<Role>,
    },
    /// Alert every coordinator on shift.
    Coordinator,
    /// Alert the nurse in charge of the task's ward.
    NurseInCharge,
    /// Alert everyone on shift in these roles.
    PageRole { roles: Vec<Role> },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Realert => "realert",
            Action::Widen { .. } => "widen",
            Action::Coordinator => "coordinator",
            Action::NurseInCharge => "nurse_in_charge",
            Action::PageRole { .. } => "page_role",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Delay from the previous step (or from the ladder's start).
    pub after: Option<Millis>,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ladder {
    pub steps: Vec<Step>,
    pub repeat_every: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskPolicy {
    pub name: String,
    /// Empty: any.
    pub priorities: Vec<Priority>,
    pub categories: Vec<Category>,
    pub wards: Vec<WardId>,
    pub accept: Ladder,
    pub complete: Ladder,
}

impl TaskPolicy {
    fn matches(&self, p: Priority, c: Category, w: &WardId) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&p))
            && (self.categories.is_empty() || self.categories.contains(&c))
            && (self.wards.is_empty() || self.wards.contains(w))
    }

    fn is_catch_all_for(&self, p: Priority) -> bool {
        (self.priorities.is_empty() || self.priorities.contains(&p))
            && self.categories.is_empty()
            && self.wards.is_empty()
    }
}

/// The page ladders, one per priority: an emergency page is chased within
/// seconds, a routine one after a quarter of an hour, so that nobody is
/// chased a minute after a "soon" page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLadders {
    pub routine: Ladder,
    pub soon: Ladder,
    pub urgent: Ladder,
    pub emergency: Ladder,
}

impl PageLadders {
    /// The same ladder for every priority.
    pub fn all(l: Ladder) -> Self {
        PageLadders {
            routine: l.clone(),
            soon: l.clone(),
            urgent: l.clone(),
            emergency: l,
        }
    }

    pub fn get(&self, p: Priority) -> &Ladder {
        match p {
            Priority::Routine => &self.routine,
            Priority::Soon => &self.soon,
            Priority::Urgent => &self.urgent,
            Priority::Emergency => &self.emergency,
        }
    }

    pub fn get_mut(&mut self, p: Priority) -> &mut Ladder {
        match p {
            Priority::Routine => &mut self.routine,
            Priority::Soon => &mut self.soon,
            Priority::Urgent => &mut self.urgent,
            Priority::Emergency => &mut self.emergency,
        }
    }
}

/// All escalation policies: tasks (first match wins) and pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policies {
    pub tasks: Vec<TaskPolicy>,
    pub pages: PageLadders,
    /// The clinical response to NEWS2 scores (`[news2]` in the config).
    pub news2: super::response::ResponsePolicy,
    /// What a task step does when everyone it alerts has no connected device.
    pub nobody_connected: NobodyConnected,
}

/// What a task's escalation step does when it alerts people of whom none
/// has a connected device (`[escalation] nobody_connected`). An alert to a
/// phone that is not connected rings nowhere, so by default such a step
/// counts as having found nobody and falls through to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NobodyConnected {
    /// Fall through, as when nobody is on shift for the step (the default).
    #[default]
    AsNobodyOnShift,
    /// Count the step as done; wait for its delay before the next.
    Wait,
}

/// Why a policy set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("escalation policy `{policy}`: {problem}")]
pub struct PolicyError {
    pub policy: String,
    pub problem: String,
}

const MIN: Millis = 60_000;

fn step(after: Option<Millis>, action: Action) -> Step {
    Step { after, action }
}

impl Default for Policies {
    /// UK Hospital at Night defaults. Not accepted by the priority's target:
    /// re-alert the candidates and widen to the next grade; then the
    /// coordinator; then the coordinator and the ward's nurse in charge,
    /// repeating. Not completed by target: re-alert the holder, then the
    /// coordinator, repeating. Pages: re-alert, then the next grade up,
    /// then the coordinator, repeating; each step after 30 s for an
    /// emergency page, 1 min urgent, 5 min soon, 15 min routine.
    fn default() -> Self {
        let accept = |gap: Millis| Ladder {
            steps: vec![
                step(None, Action::Realert),
                step(Some(0), Action::Widen { roles: vec![] }),
                step(Some(gap), Action::Coordinator),
                step(Some(gap), Action::NurseInCharge),
                step(Some(0), Action::Coordinator),
            ],
            repeat_every: gap,
        };
        let page = |gap: Millis| Ladder {
            steps: vec![
                step(Some(gap), Action::Realert),
                step(Some(gap), Action::Widen { roles: vec![] }),
                step(Some(gap), Action::Coordinator),
            ],
            repeat_every: 2 * gap,
        };
        let complete = |gap: Millis| Ladder {
            steps: vec![
                step(None, Action::Realert),
                step(Some(gap), Action::Coordinator),
            ],
            repeat_every: gap,
        };
        Policies {
            tasks: vec![
                TaskPolicy {
                    name: "emergency".into(),
                    priorities: vec![Priority::Emergency],
                    categories: vec![],
                    wards: vec![],
                    accept: accept(MIN),
                    complete: complete(5 * MIN),
                },
                TaskPolicy {
                    name: "default".into(),
                    priorities: vec![],
                    categories: vec![],
                    wards: vec![],
                    accept: accept(5 * MIN),
                    complete: complete(15 * MIN),
                },
            ],
            pages: PageLadders {
                routine: page(15 * MIN),
                soon: page(5 * MIN),
                urgent: page(MIN),
                emergency: page(MIN / 2),
            },
            news2: Default::default(),
            nobody_connected: NobodyConnected::default(),
        }
    }
}

impl Policies {
    /// The policy for a task: the first that matches. [`Policies::validate`]
    /// guarantees one does.
    pub fn for_task(&self, p: Priority, c: Category, w: &WardId) -> Option<&TaskPolicy> {
        self.tasks.iter().find(|t| t.matches(p, c, w))
    }

    /// Refuses any policy set in which some path could end with nobody to alert.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let err = |policy: &str, problem: String| PolicyError {
            policy: policy.to_owned(),
            problem,
        };
        let mut names = BTreeSet::new();
        for t in &self.tasks {
            if !names.insert(t.name.as_str()) {
                return Err(err(&t.name, "two policies have this name".into()));
            }
            check_ladder(&t.accept, true)
                .map_err(|p| err(&t.name, format!("accept steps: {p}")))?;
            check_ladder(&t.complete, true)
                .map_err(|p| err(&t.name, format!("complete steps: {p}")))?;
        }
        for p in [
            Priority::Routine,
            Priority::Soon,
            Priority::Urgent,
            Priority::Emergency,
        ] {
            if !self.tasks.iter().any(|t| t.is_catch_all_for(p)) {
                return Err(err(
                    "(all)",
                    format!(
                        "no policy without ward or category filters covers {} tasks, so some would never escalate",
                        format!("{p:?}").to_lowercase()
                    ),
                ));
            }
        }
        for p in [
            Priority::Routine,
            Priority::Soon,
            Priority::Urgent,
            Priority::Emergency,
        ] {
            check_ladder(self.pages.get(p), false)
                .map_err(|e| err(&format!("pages ({})", p.as_str()), e))?;
        }
        Ok(())
    }
}

fn check_ladder(l: &Ladder, first_may_wait_for_target: bool) -> Result<(), String> {
    let Some(last) = l.steps.last() else {
        return Err("there must be at least one step".into());
    };
    for (i, s) in l.steps.iter().enumerate() {
        match s.after {
            None if i == 0 && first_may_wait_for_target => {}
            None => {
                return Err(format!(
                    "step {} needs a delay (after_secs or after_mins)",
                    i + 1
                ))
            }
            Some(ms) if ms < 0 => {
                return Err(format!("step {}: the delay cannot be negative", i + 1))
            }
            Some(_) => {}
        }
        if let Action::PageRole { roles } = &s.action {
            if roles.is_empty() {
                return Err(format!("step {}: page_role needs at least one role", i + 1));
            }
        }
    }
    if last.action != Action::Coordinator {
        return Err(format!(
            "the last step is `{}`, which may find nobody on shift; end with `coordinator` so the repeat always reaches someone",
            last.action.name()
        ));
    }
    if l.repeat_every < 1000 {
        return Err("repeat_every must be at least one second".into());
    }
    Ok(())
}

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
