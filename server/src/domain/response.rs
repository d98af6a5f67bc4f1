//! The clinical response to a NEWS2 score (RCP Chart 4), as the hub starts
//! it: how often the next set is due for each band, how long an overdue set
//! waits before it becomes a task for the nurse in charge, and which roles
//! an urgent or an emergency review is offered to. The defaults follow the
//! RCP table; `[news2]` in the hub's config may change them within bounds
//! validated at load, like escalation policies.

use wardpage_proto::{Band, Millis, Priority, Role, RoleSet};

const MIN: Millis = 60_000;
const HOUR: Millis = 60 * MIN;

/// What the hub does for each band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePolicy {
    /// Total 0: next set due after this (12 h).
    pub zero_every: Millis,
    /// Total 1-4: next set due after this (4 h; 4 to 6 h allowed).
    pub low_every: Millis,
    /// A red flag or 5-6: next set due after this (1 h).
    pub hourly_every: Millis,
    /// 7 or more: next set due after this ("continuous": 15 min).
    pub high_every: Millis,
    /// How long after its due time an overdue set becomes a task for the
    /// nurse in charge (the ward's nurses are alerted at the due time).
    pub overdue_grace: Millis,
    /// Who an urgent review (a red flag, 5-6, a clinical concern) is offered to.
    pub urgent_roles: RoleSet,
    /// Who an emergency review (7 or more) is offered to and paged.
    pub emergency_roles: RoleSet,
}

impl Default for ResponsePolicy {
    fn default() -> Self {
        ResponsePolicy {
            zero_every: 12 * HOUR,
            low_every: 4 * HOUR,
            hourly_every: HOUR,
            high_every: 15 * MIN,
            overdue_grace: 30 * MIN,
            urgent_roles: RoleSet::of(&[Role::Fy1, Role::Sho]),
            emergency_roles: RoleSet::of(&[Role::Registrar, Role::CriticalCareOutreach]),
        }
    }
}

/// The review a band calls for: its priority and who is offered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Review {
    pub priority: Priority,
    pub roles: RoleSet,
    /// Page the roles as well as offering them the task.
    pub page: bool,
}

impl ResponsePolicy {
    /// When the next set is due after one scoring `band`.
    pub fn every(&self, band: Band) -> Millis {
        match band {
            Band::Zero => self.zero_every,
            Band::Low => self.low_every,
            Band::LowMedium | Band::Medium => self.hourly_every,
            Band::High => self.high_every,
        }
    }

    /// The review `band` calls for (`None`: monitoring only).
    pub fn review(&self, band: Band) -> Option<Review> {
        match band {
            Band::Zero | Band::Low => None,
            Band::LowMedium | Band::Medium => Some(Review {
                priority: Priority::Urgent,
                roles: self.urgent_roles,
                page: false,
            }),
            Band::High => Some(Review {
                priority: Priority::Emergency,
                roles: self.emergency_roles,
                page: true,
            }),
        }
    }

    /// Checks the policy keeps to the RCP table's minimums, so that no
    /// configuration can make the hub monitor less often than the chart asks.
    pub fn validate(&self) -> Result<(), String> {
        let within = |name: &str, v: Millis, lo: Millis, hi: Millis| {
            if v < lo || v > hi {
                Err(format!(
                    "news2.{name} must be between {} and {} minutes",
                    lo / MIN,
                    hi / MIN
                ))
            } else {
                Ok(())
            }
        };
        within("zero_every_hours", self.zero_every, HOUR, 12 * HOUR)?;
        within("low_every_hours", self.low_every, 4 * HOUR, 6 * HOUR)?;
        within("hourly_every_minutes", self.hourly_every, 15 * MIN, HOUR)?;
        within("high_every_minutes", self.high_every, 5 * MIN, 30 * MIN)?;
        within(
            "overdue_grace_minutes",
            self.overdue_grace,
            5 * MIN,
            2 * HOUR,
        )?;
        if self.urgent_roles.is_empty() || self.emergency_roles.is_empty() {
            return Err(
                "news2.urgent_roles and news2.emergency_roles must each name a role".into(),
            );
        }
        if self.emergency_roles.roles().any(|r| r.oversees_all())
            || self.urgent_roles.roles().any(|r| r.oversees_all())
        {
            return Err("news2 review roles are clinical roles, not coordinator or admin".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_follow_the_rcp_table_and_validate() {
        let p = ResponsePolicy::default();
        p.validate().unwrap();
        assert_eq!(p.every(Band::Zero), 12 * HOUR);
        assert_eq!(p.every(Band::Low), 4 * HOUR);
        assert_eq!(p.every(Band::LowMedium), HOUR);
        assert_eq!(p.every(Band::Medium), HOUR);
        assert_eq!(p.every(Band::High), 15 * MIN);
        assert!(p.review(Band::Low).is_none());
        assert_eq!(p.review(Band::Medium).unwrap().priority, Priority::Urgent);
        let high = p.review(Band::High).unwrap();
        assert!(high.page && high.roles.contains(Role::CriticalCareOutreach));
    }

    #[test]
    fn monitoring_less_often_than_the_chart_is_refused() {
        let p = ResponsePolicy {
            low_every: 8 * HOUR,
            ..ResponsePolicy::default()
        };
        assert!(p.validate().unwrap_err().contains("low_every_hours"));
    }
}
