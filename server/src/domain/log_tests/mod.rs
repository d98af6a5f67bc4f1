//! Property tests over random command logs: a seeded roster (the same
//! staff ids every run), a generator of logs mixing every kind of input
//! the hub feeds the domain (task and page commands, shifts, presence,
//! transport acks, patients and their sets, reads, and time passing, which
//! fires due escalations in due order as the hub's timer does), and a
//! driver that applies a log and records every outcome (`ops`, `run`).
//!
//! `replay` checks that a log applied to two fresh hospitals gives equal
//! outcomes, ids included; `promises` checks what pages, shifts,
//! escalations and transport acks promise along the way.

mod ops;
mod promises;
mod replay;
mod run;

use ops::op;
use run::{Outcome, Run};

use super::hospital::Hospital;
use super::roster::{Shift, Staff, Ward};
use super::{Policies, Targets};
use wardpage_proto::{Millis, Role, Skill, StaffId, WardId};

pub(super) const NOW: Millis = 1_764_358_144_000;

/// The night's staff: (name, grade, wards, skills). Their ids are fixed
/// (`staff_id`), so two hospitals built from this are the same hospital.
pub(super) const ROSTER: [(&str, Role, &[&str], &[Skill]); 8] = [
    ("nic", Role::NurseInCharge, &["w1", "w2"], &[]),
    ("nurse", Role::Nurse, &["w1"], &[]),
    ("fy1 a", Role::Fy1, &["w1"], &[Skill::Cannulation]),
    (
        "fy1 b",
        Role::Fy1,
        &["w1", "w2"],
        &[Skill::Cannulation, Skill::Bloods],
    ),
    ("sho", Role::Sho, &["w1", "w2"], &[Skill::Bloods]),
    ("reg", Role::Registrar, &["w1", "w2"], &[]),
    ("coord", Role::Coordinator, &["w1", "w2"], &[]),
    ("ccot", Role::CriticalCareOutreach, &["w1", "w2"], &[]),
];
pub(super) const STAFF: usize = ROSTER.len();

pub(super) fn staff_id(i: usize) -> StaffId {
    StaffId(uuid::Uuid::from_u128(0x5eed_0000 + i as u128))
}

/// A fresh hospital with the seeded roster, everyone on shift for 12 hours.
pub(super) fn seeded() -> Hospital {
    let mut h = Hospital::new(Targets::default(), Policies::default());
    for w in ["w1", "w2"] {
        h.roster.wards.insert(
            WardId(w.into()),
            Ward {
                id: WardId(w.into()),
                name: w.to_uppercase(),
                beds: vec!["1".into(), "2".into(), "3".into()],
            },
        );
    }
    for (i, (name, role, wards, skills)) in ROSTER.iter().enumerate() {
        let id = staff_id(i);
        h.roster.staff.insert(
            id,
            Staff {
                id,
                login: name.replace(' ', "_"),
                name: (*name).into(),
                role: *role,
                skills: skills.to_vec(),
                active: true,
            },
        );
        let shift = Shift {
            role: *role,
            wards: wards.iter().map(|w| WardId((*w).into())).collect(),
            starts_at: NOW - 1000,
            ends_at: NOW + 12 * 3_600_000,
            busy: None,
        };
        h.roster.set_shift(id, Some(shift));
    }
    h
}
