//! Generated hospitals: wards with beds and a night team with roles, skills
//! and ward coverage. A [`Hospital`] becomes a roster TOML file (the format
//! of `server/demo/hospital.toml`) and reaches the hub only through its own
//! roster import, never by writing to its database.

use anyhow::{bail, Context};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use wardpage_proto::{Role, Skill};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WardSpec {
    pub id: String,
    pub name: String,
    pub beds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StaffSpec {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub skills: Vec<Skill>,
    /// Wards covered on tonight's shift (empty: not on shift).
    pub wards: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Hospital {
    pub wards: Vec<WardSpec>,
    pub staff: Vec<StaffSpec>,
}

fn ward_range(wards: &[WardSpec], from: usize, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| wards[(from + i) % wards.len()].id.clone())
        .collect()
}

/// The cross-cover team's grades, cycled through: (role, skills, login
/// tag). A registrar early in the cycle, so even a small team can take a
/// NEWS2 emergency review, and critical care outreach in a full one.
const GRADES: [(Role, &[Skill], &str); 7] = [
    (
        Role::Fy1,
        &[Skill::Cannulation, Skill::Bloods, Skill::Ecg],
        "fy1",
    ),
    (
        Role::Sho,
        &[Skill::Cannulation, Skill::Prescribing, Skill::Ecg],
        "sho",
    ),
    (Role::Registrar, &[Skill::Prescribing, Skill::Ecg], "reg"),
    (
        Role::NursePractitioner,
        &[
            Skill::Cannulation,
            Skill::Bloods,
            Skill::IvDrugs,
            Skill::Prescribing,
            Skill::Catheterisation,
        ],
        "np",
    ),
    (
        Role::Phlebotomist,
        &[Skill::Bloods, Skill::BloodCultures],
        "phleb",
    ),
    (
        Role::Fy1,
        &[Skill::Cannulation, Skill::Bloods, Skill::BloodCultures],
        "fy1b",
    ),
    (Role::CriticalCareOutreach, &[Skill::Cannulation], "ccot"),
];

/// The site coordinator, `coord`, on shift across every ward: sees every
/// task and every escalation.
pub fn site_coordinator(wards: &[WardSpec]) -> StaffSpec {
    StaffSpec {
        login: "coord".into(),
        name: "Site Coordinator".into(),
        role: Role::Coordinator,
        skills: vec![],
        wards: wards.iter().map(|w| w.id.clone()).collect(),
    }
}

/// Wards of 25 beds, enough for about `beds` and at least two.
fn night_wards(beds: u32) -> Vec<WardSpec> {
    let nwards = beds.div_ceil(25).max(2) as usize;
    (0..nwards)
        .map(|i| WardSpec {
            id: format!("w{}", i + 1),
            name: format!("Ward {}", i + 1),
            beds: 25,
        })
        .collect()
}

/// `n` ward-based nurses sharing the wards, every fifth in charge.
fn night_nurses(wards: &[WardSpec], n: usize) -> Vec<StaffSpec> {
    let per_nurse = wards.len().div_ceil(n);
    (0..n)
        .map(|i| StaffSpec {
            login: format!("nurse{}", i + 1),
            name: format!("Nurse {}", i + 1),
            role: if i % 5 == 0 {
                Role::NurseInCharge
            } else {
                Role::Nurse
            },
            skills: vec![],
            wards: ward_range(wards, i * per_nurse, per_nurse),
        })
        .collect()
}

/// `n` of the cross-cover team, cycling through [`GRADES`]; each covers
/// a block of wards.
fn cross_cover(wards: &[WardSpec], n: usize) -> Vec<StaffSpec> {
    let nwards = wards.len();
    (0..n)
        .map(|i| {
            let (role, skills, tag) = GRADES[i % GRADES.len()];
            // Registrars and outreach cover the whole site; the others half of it.
            let span = if matches!(role, Role::Registrar | Role::CriticalCareOutreach) {
                nwards
            } else {
                nwards.div_ceil(2)
            };
            StaffSpec {
                login: format!("{tag}.{}", i + 1),
                name: format!("{} {}", role.as_str(), i + 1),
                role,
                skills: skills.to_vec(),
                wards: ward_range(
                    wards,
                    (i / GRADES.len()) * span + (i % 2) * nwards / 2,
                    span,
                ),
            }
        })
        .collect()
}

impl Hospital {
    /// A site of about `beds` beds in wards of 25, with a night team of
    /// about `handhelds` people: one nurse per two wards (ward-based), and
    /// doctors, nurse practitioners, phlebotomists and a coordinator
    /// covering blocks of wards, after the Hospital at Night model.
    pub fn night(beds: u32, handhelds: usize) -> Hospital {
        let wards = night_wards(beds);
        let handhelds = handhelds.max(8);
        // Roughly 60% nurses, 40% the cross-cover team.
        let nurses = (handhelds * 3 / 5).max(2);
        let team = handhelds - nurses;
        let mut staff = night_nurses(&wards, nurses);
        staff.extend(cross_cover(&wards, team.saturating_sub(1).max(1)));
        staff.push(site_coordinator(&wards));
        Hospital { wards, staff }
    }

    /// `n` isolated pairs for the load scenarios: ward `pK`, nurse `nK` on
    /// it and doctor `dK` (cannulation) covering only it. A cannula raise by
    /// `nK` reaches exactly two people: the nurse (raiser) and the doctor
    /// (the one candidate). No coordinator, so fan-out stays at two.
    pub fn pairs(n: usize) -> Hospital {
        Hospital::pairs_with(n, Role::Nurse)
    }

    /// [`Hospital::pairs`] with the nurses in `nurse_role` (the `news2`
    /// scenario makes them nurses in charge, so each admits its own ward's
    /// patients; the doctor, an FY1, is then offered every urgent review).
    pub fn pairs_with(n: usize, nurse_role: Role) -> Hospital {
        let mut h = Hospital::default();
        for k in 0..n {
            let ward = format!("p{k}");
            h.wards.push(WardSpec {
                id: ward.clone(),
                name: format!("Pair ward {k}"),
                beds: 30,
            });
            h.staff.push(StaffSpec {
                login: format!("n{k}"),
                name: format!("Nurse {k}"),
                role: nurse_role,
                skills: vec![],
                wards: vec![ward.clone()],
            });
            h.staff.push(StaffSpec {
                login: format!("d{k}"),
                name: format!("Doctor {k}"),
                role: Role::Fy1,
                skills: vec![Skill::Cannulation],
                wards: vec![ward],
            });
        }
        h
    }

    pub fn total_beds(&self) -> u32 {
        self.wards.iter().map(|w| w.beds).sum()
    }

    /// The roster file the hub imports.
    pub fn to_toml(&self) -> String {
        let mut s = String::from("# Generated by wardpage-sim.\n");
        for w in &self.wards {
            let _ = write!(
                s,
                "\n[[ward]]\nid = \"{}\"\nname = \"{}\"\nbeds = {}\n",
                w.id, w.name, w.beds
            );
        }
        for p in &self.staff {
            let skills: Vec<String> = p
                .skills
                .iter()
                .map(|k| format!("\"{}\"", k.as_str()))
                .collect();
            let _ = write!(
                s,
                "\n[[staff]]\nlogin = \"{}\"\nname = \"{}\"\nrole = \"{}\"\nskills = [{}]\n",
                p.login,
                p.name,
                p.role.as_str(),
                skills.join(", ")
            );
            if !p.wards.is_empty() {
                let wards: Vec<String> = p.wards.iter().map(|w| format!("\"{w}\"")).collect();
                let _ = writeln!(s, "shift = {{ wards = [{}] }}", wards.join(", "));
            }
        }
        s
    }

    /// Imports through the hub's own CLI: `wardpage --db DB roster import
    /// FILE --password-stdin`. A running hub picks it up within a second.
    pub async fn import_with_cli(
        &self,
        bin: &Path,
        db: &Path,
        password: &str,
    ) -> anyhow::Result<()> {
        self.import_into_site(bin, db, password, None).await
    }

    /// As [`import_with_cli`](Self::import_with_cli), into `site` of a
    /// deployment of several (`(site, every site)`: the CLI takes
    /// `--site` only for a site its config lists, so a config naming
    /// them is written beside the roster).
    pub async fn import_into_site(
        &self,
        bin: &Path,
        db: &Path,
        password: &str,
        site: Option<(&str, &[String])>,
    ) -> anyhow::Result<()> {
        let file = tempfile::Builder::new().suffix(".toml").tempfile()?;
        std::fs::write(file.path(), self.to_toml())?;
        let config = tempfile::Builder::new().suffix(".toml").tempfile()?;
        let mut cmd = tokio::process::Command::new(bin);
        if let Some((name, all)) = site {
            std::fs::write(
                config.path(),
                format!("[cluster]\nenabled = true\nnode = \"import\"\nsites = {all:?}\n"),
            )?;
            cmd.arg("--config")
                .arg(config.path())
                .args(["--site", name]);
        }
        let mut child = cmd
            .arg("--db")
            .arg(db)
            .args(["roster", "import"])
            .arg(file.path())
            .arg("--password-stdin")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {}", bin.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(format!("{password}\n").as_bytes()).await?;
        }
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!(
                "roster import failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Imports into an in-process hub through the same roster code the CLI
    /// uses (`RosterFile::import` on the hub's store).
    pub async fn import_in_process(
        &self,
        hub: &wardpage_tests::TestHub,
        password: &str,
    ) -> anyhow::Result<()> {
        let roster = wardpage_server::roster::RosterFile::parse(&self.to_toml())?;
        roster
            .import(
                &*hub.store,
                wardpage_server::clock::now_ms(),
                Some(password),
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_rosters_are_valid_roster_files() {
        for h in [
            Hospital::night(1000, 30),
            Hospital::night(200, 8),
            Hospital::pairs(3),
        ] {
            let r = wardpage_server::roster::RosterFile::parse(&h.to_toml()).expect("valid roster");
            assert_eq!(r.staff.len(), h.staff.len());
        }
        let h = Hospital::night(1000, 30);
        assert_eq!(h.total_beds(), 1000);
        assert_eq!(h.staff.len(), 30);
    }
}
