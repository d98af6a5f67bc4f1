//! Roster files: wards, staff and tonight's shifts in one TOML file, for
//! `wardpage roster import` and the demo hospital. An import is one
//! transaction in the store that bumps the roster version once, so a
//! running hub that notices the change reloads all of it or none.

use crate::domain::{Shift, Staff, Ward};
use crate::store::{RosterImport, Store, StoreError};
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
        let hash = password.map(crate::auth::hash_password).transpose()?;
        let import = RosterImport {
            wards: self
                .wards
                .iter()
                .map(|w| Ward {
                    id: WardId(w.id.clone()),
                    name: w.name.clone(),
                    beds: match &w.beds {
                        Beds::Count(n) => (1..=*n).map(|i| i.to_string()).collect(),
                        Beds::Labels(l) => l.clone(),
                    },
                })
                .collect(),
            staff: self
                .staff
                .iter()
                .map(|s| {
                    let staff = Staff {
                        // Kept only if the login is new (see `import_roster`).
                        id: StaffId::new_random(),
                        login: s.login.clone(),
                        name: s.name.clone(),
                        role: s.role,
                        skills: s.skills.clone(),
                        active: true,
                    };
                    let shift = s.shift.as_ref().map(|sh| Shift {
                        role: sh.role.unwrap_or(s.role),
                        wards: sh.wards.iter().map(|w| WardId(w.clone())).collect(),
                        starts_at: now,
                        ends_at: now + i64::from(sh.hours.unwrap_or(12)) * 3_600_000,
                        busy: None,
                    });
                    (staff, shift)
                })
                .collect(),
            password_hash: hash.as_deref(),
        };
        // One transaction: a hub never loads half of it.
        store.import_roster(&import).await?;
        let summary = ImportSummary {
            wards: import.wards.len(),
            staff: import.staff.len(),
            shifts: import.staff.iter().filter(|(_, s)| s.is_some()).count(),
        };
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

    const TWO_WARDS: &str = r#"
        [[ward]]
        id = "w7"
        name = "Ward 7"
        beds = 2
        [[ward]]
        id = "w9"
        name = "Ward 9"
        beds = 2
        [[staff]]
        login = "a"
        name = "A"
        role = "fy1"
        shift = { wards = ["w7"] }
        [[staff]]
        login = "z"
        name = "Z"
        role = "fy1"
        shift = { wards = ["w9"] }
    "#;

    /// The database refuses the import's last write (here a trigger, as a
    /// full disk or a constraint would): nothing of the import is stored,
    /// and the roster version a running hub watches has not moved.
    #[tokio::test]
    async fn an_import_whose_last_write_fails_leaves_the_database_as_it_was() {
        let dir = tempfile_dir();
        let path = dir.join("r.db");
        let store = crate::store::sqlite::SqliteStore::open(&path)
            .await
            .expect("open");
        let version = store.roster_version().await.expect("version");
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            path.display()
        ))
        .await
        .expect("connect");
        sqlx::query(
            "CREATE TRIGGER refuse_w9 BEFORE INSERT ON shifts WHEN NEW.wards LIKE '%w9%'              BEGIN SELECT RAISE(ABORT, 'no room on the disk'); END",
        )
        .execute(&mut conn)
        .await
        .expect("trigger");
        let r = RosterFile::parse(TWO_WARDS).expect("valid");
        let e = r.import(&store, 0, None).await.expect_err("refused");
        assert!(e.to_string().contains("no room"), "{e}");
        assert!(store.list_staff().await.expect("list").is_empty());
        assert!(store.load_roster().await.expect("roster").wards.is_empty());
        assert_eq!(store.roster_version().await.expect("version"), version);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A hub reloads when the version changes: one import, one change, so
    /// it never reloads a part of one.
    #[tokio::test]
    async fn an_import_moves_the_roster_version_once() {
        let dir = tempfile_dir();
        let store = crate::store::sqlite::SqliteStore::open(&dir.join("r.db"))
            .await
            .expect("open");
        let version = store.roster_version().await.expect("version");
        let r = RosterFile::parse(TWO_WARDS).expect("valid");
        let s = r.import(&store, 0, None).await.expect("import");
        assert_eq!((s.wards, s.staff, s.shifts), (2, 2, 2));
        assert_eq!(store.roster_version().await.expect("version"), version + 1);
        // Again: existing logins keep their ids, and their shifts follow them.
        let ids: Vec<_> = store
            .list_staff()
            .await
            .expect("list")
            .iter()
            .map(|s| s.id)
            .collect();
        r.import(&store, 0, None).await.expect("import again");
        let roster = store.load_roster().await.expect("roster");
        assert_eq!(roster.staff.len(), 2);
        for id in ids {
            assert!(roster.staff.contains_key(&id));
            assert!(roster.on_shift(id, 1).is_some(), "{id} keeps a shift");
        }
        assert_eq!(store.roster_version().await.expect("version"), version + 2);
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
