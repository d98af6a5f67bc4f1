//! Roster files: wards, staff and tonight's shifts in one TOML file, for
//! `wardpage roster import` and the demo hospital. Importing goes through
//! the store; a running hub notices the change and reloads its roster.

use crate::domain::{Shift, Staff, Ward};
use crate::store::{Store, StoreError};
use serde::Deserialize;
use std::collections::HashSet;
use wardpage_proto::{Millis, Role, Skill, StaffId, WardId};

#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    #[error("roster file: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("roster file: {0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] crate::auth::HashError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RosterFile {
    #[serde(default, rename = "ward")]
    pub wards: Vec<WardEntry>,
    #[serde(default, rename = "staff")]
    pub staff: Vec<StaffEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WardEntry {
    pub id: String,
    pub name: String,
    /// Either a count (beds "1".."n") or explicit labels.
    pub beds: Beds,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Beds {
    Count(u32),
    Labels(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffEntry {
    pub login: String,
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub skills: Vec<Skill>,
    /// Tonight's shift, if they are working.
    pub shift: Option<ShiftEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftEntry {
    /// Defaults to the member of staff's role.
    pub role: Option<Role>,
    pub wards: Vec<String>,
    /// Defaults to 12.
    pub hours: Option<u32>,
}

/// What an import did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub wards: usize,
    pub staff: usize,
    pub shifts: usize,
}

impl RosterFile {
    pub fn parse(text: &str) -> Result<RosterFile, RosterError> {
        let file: RosterFile = toml::from_str(text)?;
        file.validate()?;
        Ok(file)
    }

    fn validate(&self) -> Result<(), RosterError> {
        let mut wards = HashSet::new();
        for w in &self.wards {
            if !WardId(w.id.clone()).is_well_formed() {
                return Err(RosterError::Invalid(format!(
                    "ward id `{}`: use 1-32 lower-case letters, digits or '-'",
                    w.id
                )));
            }
            if !wards.insert(w.id.as_str()) {
                return Err(RosterError::Invalid(format!(
                    "ward `{}` is listed twice",
                    w.id
                )));
            }
        }
        let mut logins = HashSet::new();
        for s in &self.staff {
            if s.login.trim().is_empty() || s.login.len() > 64 {
                return Err(RosterError::Invalid(
                    "every staff entry needs a login of 1-64 characters".into(),
                ));
            }
            if !logins.insert(s.login.as_str()) {
                return Err(RosterError::Invalid(format!(
                    "login `{}` is listed twice",
                    s.login
                )));
            }
            if let Some(shift) = &s.shift {
                if shift.wards.is_empty() {
                    return Err(RosterError::Invalid(format!(
                        "{}: a shift must cover at least one ward",
                        s.login
                    )));
                }
            }
        }
        Ok(())
    }

    /// Writes wards, staff and shifts (starting `now`) to the store. Staff
    /// are matched by login; new ones get `password` if given, else cannot
    /// log in until `wardpage user passwd`.
    pub async fn import(
        &self,
        store: &dyn Store,
        now: Millis,
        password: Option<&str>,
    ) -> Result<ImportSummary, RosterError> {
        // Shifts may name wards from this file or already in the hospital;
        // check them all before writing anything.
        let mut known: HashSet<String> = self.wards.iter().map(|w| w.id.clone()).collect();
        known.extend(store.load_roster().await?.wards.into_keys().map(|w| w.0));
        for s in &self.staff {
            let unknown = s
                .shift
                .iter()
                .flat_map(|sh| &sh.wards)
                .find(|w| !known.contains(*w));
            if let Some(w) = unknown {
                return Err(RosterError::Invalid(format!(
                    "{}: shift names unknown ward `{w}`",
                    s.login
                )));
            }
        }
        let mut summary = ImportSummary::default();
        for w in &self.wards {
            let beds = match &w.beds {
                Beds::Count(n) => (1..=*n).map(|i| i.to_string()).collect(),
                Beds::Labels(l) => l.clone(),
            };
            store
                .upsert_ward(&Ward {
                    id: WardId(w.id.clone()),
                    name: w.name.clone(),
                    beds,
                })
                .await?;
            summary.wards += 1;
        }
        let hash = password.map(crate::auth::hash_password).transpose()?;
        for s in &self.staff {
            let existing = store.staff_by_login(&s.login).await?;
            let id = existing
                .as_ref()
                .map(|e| e.id)
                .unwrap_or_else(StaffId::new_random);
            let staff = Staff {
                id,
                login: s.login.clone(),
                name: s.name.clone(),
                role: s.role,
                skills: s.skills.clone(),
                active: true,
            };
            store.upsert_staff(&staff, hash.as_deref()).await?;
            summary.staff += 1;
            if let Some(sh) = &s.shift {
                let hours = i64::from(sh.hours.unwrap_or(12));
                store
                    .put_shift(
                        id,
                        &Shift {
                            role: sh.role.unwrap_or(s.role),
                            wards: sh.wards.iter().map(|w| WardId(w.clone())).collect(),
                            starts_at: now,
                            ends_at: now + hours * 3_600_000,
                        },
                    )
                    .await?;
                summary.shifts += 1;
            }
        }
        Ok(summary)
    }
}

/// The demo hospital's roster.
pub const DEMO_ROSTER: &str = include_str!("../demo/hospital.toml");
/// Every demo login's password.
pub const DEMO_PASSWORD: &str = "night-shift";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_roster_is_valid() {
        let r = RosterFile::parse(DEMO_ROSTER).expect("demo roster parses");
        assert_eq!(r.wards.len(), 4);
        assert!(r
            .staff
            .iter()
            .any(|s| s.role == Role::Coordinator && s.shift.is_some()));
    }

    #[tokio::test]
    async fn shifts_on_unknown_wards_are_refused_before_anything_is_written() {
        let dir = tempfile_dir();
        let store = crate::store::sqlite::SqliteStore::open(&dir.join("r.db"))
            .await
            .expect("open");
        let unknown_ward = r#"
            [[ward]]
            id = "w7"
            name = "Ward 7"
            beds = 2
            [[staff]]
            login = "a"
            name = "A"
            role = "fy1"
            shift = { wards = ["w9"] }
        "#;
        let r = RosterFile::parse(unknown_ward).expect("shape is fine");
        let e = r.import(&store, 0, None).await.expect_err("unknown ward");
        assert!(e.to_string().contains("unknown ward `w9`"), "{e}");
        assert!(
            store.list_staff().await.expect("list").is_empty(),
            "nothing written"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("wardpage-roster-{}", uuid::Uuid::new_v4()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    #[test]
    fn bad_rosters_say_what_is_wrong() {
        let bad_role = "[[staff]]\nlogin = \"a\"\nname = \"A\"\nrole = \"wizard\"\n";
        assert!(RosterFile::parse(bad_role).is_err());
    }
}
