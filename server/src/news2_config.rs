//! `[news2]` in the hub's config: the clinical response to NEWS2 scores
//! (how often the next set is due per band, the grace before an overdue set
//! becomes a task, who urgent and emergency reviews go to). Absent keys keep
//! the RCP defaults; the result is validated at load like escalation
//! policies, so a hub never starts monitoring less often than the chart asks.

use crate::config::ConfigError;
use crate::domain::response::ResponsePolicy;
use serde::Deserialize;
use wardpage_proto::{Role, RoleSet};

const MIN: i64 = 60_000;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct News2Config {
    /// Total 0 (default 12).
    pub zero_every_hours: Option<u32>,
    /// Total 1-4 (default 4; 4 to 6).
    pub low_every_hours: Option<u32>,
    /// A red flag or 5-6 (default 60).
    pub hourly_every_minutes: Option<u32>,
    /// 7 or more (default 15).
    pub high_every_minutes: Option<u32>,
    /// After the overdue alert, before the nurse in charge's task (default 30).
    pub overdue_grace_minutes: Option<u32>,
    /// Roles offered an urgent review (default fy1, sho).
    pub urgent_roles: Option<Vec<Role>>,
    /// Roles offered and paged for an emergency review (default registrar,
    /// critical_care_outreach).
    pub emergency_roles: Option<Vec<Role>>,
}

impl News2Config {
    pub fn to_policy(&self) -> Result<ResponsePolicy, ConfigError> {
        let d = ResponsePolicy::default();
        let mins = |v: Option<u32>, default: i64| v.map_or(default, |m| i64::from(m) * MIN);
        let hours = |v: Option<u32>, default: i64| v.map_or(default, |h| i64::from(h) * 60 * MIN);
        let roles =
            |v: &Option<Vec<Role>>, default: RoleSet| v.as_deref().map_or(default, RoleSet::of);
        let policy = ResponsePolicy {
            zero_every: hours(self.zero_every_hours, d.zero_every),
            low_every: hours(self.low_every_hours, d.low_every),
            hourly_every: mins(self.hourly_every_minutes, d.hourly_every),
            high_every: mins(self.high_every_minutes, d.high_every),
            overdue_grace: mins(self.overdue_grace_minutes, d.overdue_grace),
            urgent_roles: roles(&self.urgent_roles, d.urgent_roles),
            emergency_roles: roles(&self.emergency_roles, d.emergency_roles),
        };
        policy.validate().map_err(ConfigError::Invalid)?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_keys_keep_the_rcp_defaults_and_bad_ones_are_refused() {
        let none: News2Config = toml::from_str("").expect("valid");
        assert_eq!(none.to_policy().expect("valid"), ResponsePolicy::default());
        let six: News2Config = toml::from_str("low_every_hours = 6").expect("valid");
        assert_eq!(six.to_policy().expect("valid").low_every, 6 * 60 * MIN);
        let eight: News2Config = toml::from_str("low_every_hours = 8").expect("valid");
        assert!(eight.to_policy().is_err());
        let nobody: News2Config = toml::from_str("urgent_roles = []").expect("valid");
        assert!(nobody.to_policy().is_err());
        assert!(toml::from_str::<News2Config>("low_every = 4").is_err());
    }
}
