//! `[escalation]` in the hub's config: task policies (first match wins)
//! and the page ladder, each step after seconds or minutes, turned into the
//! domain's `Policies` and validated at load.

use crate::config::ConfigError;
use crate::domain::escalation::{
    Action, Ladder, NobodyConnected, PageLadders, Policies, Step, TaskPolicy,
};
use serde::Deserialize;
use wardpage_proto::{Category, Priority, WardId};

/// `[escalation]`: `[[escalation.task]]` policies (first match wins),
/// `[escalation.page]` (the page ladder for every priority) and
/// `[escalation.page_by_priority.PRIORITY]` (one priority's, over both).
/// Each replaces the built-in defaults when given.
/// `nobody_connected` (`"as_nobody_on_shift"`, the default, or `"wait"`):
/// whether a task step whose people all have no connected device falls
/// through to the next step, as a step with nobody on shift does.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    #[serde(default)]
    pub nobody_connected: NobodyConnected,
    #[serde(default)]
    pub task: Vec<TaskPolicyConfig>,
    pub page: Option<LadderConfig>,
    #[serde(default)]
    pub page_by_priority: std::collections::BTreeMap<String, LadderConfig>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TaskPolicyConfig {
    pub name: String,
    #[serde(default)]
    pub priorities: Vec<Priority>,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub wards: Vec<String>,
    pub accept: LadderConfig,
    pub complete: LadderConfig,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct LadderConfig {
    pub steps: Vec<StepConfig>,
    pub repeat_every_secs: Option<u32>,
    pub repeat_every_mins: Option<u32>,
}

/// One step: `{ action = "widen", roles = ["sho"], after_mins = 5 }`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct StepConfig {
    #[serde(flatten)]
    pub action: Action,
    pub after_secs: Option<u32>,
    pub after_mins: Option<u32>,
}

fn delay(secs: Option<u32>, mins: Option<u32>, what: &str) -> Result<Option<i64>, ConfigError> {
    match (secs, mins) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid(format!(
            "{what}: give after_secs or after_mins, not both"
        ))),
        (Some(s), None) => Ok(Some(i64::from(s) * 1000)),
        (None, Some(m)) => Ok(Some(i64::from(m) * 60_000)),
        (None, None) => Ok(None),
    }
}

impl LadderConfig {
    fn to_ladder(&self, what: &str) -> Result<Ladder, ConfigError> {
        let steps = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                Ok(Step {
                    after: delay(
                        s.after_secs,
                        s.after_mins,
                        &format!("{what} step {}", i + 1),
                    )?,
                    action: s.action.clone(),
                })
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let repeat = delay(
            self.repeat_every_secs,
            self.repeat_every_mins,
            &format!("{what} repeat"),
        )?
        .or_else(|| steps.iter().rev().find_map(|s| s.after.filter(|a| *a > 0)))
        .unwrap_or(5 * 60_000);
        Ok(Ladder {
            steps,
            repeat_every: repeat,
        })
    }
}

/// A priority by its wire name, for `page_by_priority`'s keys.
fn priority_named(name: &str) -> Result<Priority, ConfigError> {
    [
        Priority::Routine,
        Priority::Soon,
        Priority::Urgent,
        Priority::Emergency,
    ]
    .into_iter()
    .find(|p| p.as_str() == name)
    .ok_or_else(|| {
        ConfigError::Invalid(format!(
            "escalation.page_by_priority.{name}: not a priority (routine, soon, urgent or emergency)"
        ))
    })
}

impl EscalationConfig {
    /// The policies this config describes, validated: a policy set in which
    /// some task or page could end up alerting nobody is refused here.
    pub fn to_policies(&self) -> Result<Policies, ConfigError> {
        let mut policies = Policies {
            nobody_connected: self.nobody_connected,
            ..Policies::default()
        };
        if !self.task.is_empty() {
            policies.tasks = self
                .task
                .iter()
                .map(|t| {
                    Ok(TaskPolicy {
                        name: t.name.clone(),
                        priorities: t.priorities.clone(),
                        categories: t.categories.clone(),
                        wards: t.wards.iter().map(|w| WardId(w.clone())).collect(),
                        accept: t
                            .accept
                            .to_ladder(&format!("escalation policy `{}` accept", t.name))?,
                        complete: t
                            .complete
                            .to_ladder(&format!("escalation policy `{}` complete", t.name))?,
                    })
                })
                .collect::<Result<_, ConfigError>>()?;
        }
        if let Some(p) = &self.page {
            policies.pages = PageLadders::all(p.to_ladder("escalation policy `pages`")?);
        }
        for (name, l) in &self.page_by_priority {
            let p = priority_named(name)?;
            *policies.pages.get_mut(p) =
                l.to_ladder(&format!("escalation policy `page_by_priority.{name}`"))?;
        }
        policies
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(policies)
    }
}
