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

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use wardpage_proto::{Category, Millis, Priority, Role, WardId};

mod firing;
mod words;

pub use firing::{fire, last_resort, next_grade, EscalationState, Fired, Firing, Found, Phase};
pub use words::{human_duration, phrase, role_title};

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
