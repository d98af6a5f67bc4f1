//! Property tests of the patient commands and the NEWS2 response: random
//! sequences of admissions, transfers, discharges, sets of observations,
//! concerns and the timer's checks keep the hospital's promises: one
//! patient per bed and the bed index right; at most one open review per
//! patient, which is the one the patient names; every admitted patient's
//! deadline is the one the state plans; and a refused command changes
//! nothing.

use super::hospital::Hospital;
use super::roster::{Shift, Staff, Ward};
use super::{Stamp, Subject};
use proptest::prelude::*;
use std::collections::HashMap;
use wardpage_proto::{
    Breathing, Category, Command, CommandResult, Consciousness, Millis, ObservationSet,
    PatientDetails, PatientId, Role, Sex, StaffId, Tenths, WardId, Whole,
};

const NOW: Millis = 1_800_000_000_000;
const MIN: Millis = 60_000;

struct Ward2 {
    h: Hospital,
    nic: StaffId,
    nurse: StaffId,
    coord: StaffId,
}

fn hospital() -> Ward2 {
    let mut h = Hospital::default();
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
    let mut add = |name: &str, role: Role| {
        let id = StaffId::new_random();
        h.roster.staff.insert(
            id,
            Staff {
                id,
                login: name.into(),
                name: name.into(),
                role,
                skills: vec![],
                active: true,
            },
        );
        h.roster.set_shift(
            id,
            Some(Shift {
                role,
                wards: vec!["w1".into(), "w2".into()],
                starts_at: NOW - 1000,
                ends_at: NOW + 24 * 3_600_000,
                busy: None,
            }),
        );
        id
    };
    let nic = add("nic", Role::NurseInCharge);
    let nurse = add("nurse", Role::Nurse);
    add("fy1", Role::Fy1);
    add("reg", Role::Registrar);
    add("ccot", Role::CriticalCareOutreach);
    let coord = add("coord", Role::Coordinator);
    Ward2 {
        h,
        nic,
        nurse,
        coord,
    }
}

#[derive(Debug, Clone)]
enum Op {
    Admit {
        ward: u8,
        bed: u8,
        person: u8,
    },
    Transfer {
        which: u8,
        ward: u8,
        bed: u8,
    },
    Discharge {
        which: u8,
    },
    Observe {
        which: u8,
        resp: i32,
        spo2: i32,
        pulse: i32,
        missing_temp: bool,
        ago_min: i64,
    },
    Concern {
        which: u8,
    },
    /// A coordinator cancels the patient's open review (the episode ends).
    CancelReview {
        which: u8,
    },
    Tick {
        minutes: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..2, 1u8..4, 0u8..6).prop_map(|(ward, bed, person)| Op::Admit { ward, bed, person }),
        (0u8..6, 0u8..2, 1u8..4).prop_map(|(which, ward, bed)| Op::Transfer { which, ward, bed }),
        (0u8..6).prop_map(|which| Op::Discharge { which }),
        (
            0u8..6,
            4i32..40,
            80i32..101,
            30i32..160,
            any::<bool>(),
            0i64..120
        )
            .prop_map(
                |(which, resp, spo2, pulse, missing_temp, ago_min)| Op::Observe {
                    which,
                    resp,
                    spo2,
                    pulse,
                    missing_temp,
                    ago_min
                }
            ),
        (0u8..6).prop_map(|which| Op::Concern { which }),
        (0u8..6).prop_map(|which| Op::CancelReview { which }),
        (1i64..90).prop_map(|minutes| Op::Tick { minutes }),
    ]
}

fn details(person: u8) -> PatientDetails {
    PatientDetails {
        nhs_number: None,
        local_number: Some(format!("RX{person}")),
        name: format!("Patient {person}"),
        born: "1950-01-01".into(),
        sex: Sex::Unknown,
        consultant: String::new(),
        alerts: String::new(),
    }
}

fn ward(i: u8) -> WardId {
    WardId(format!("w{}", i + 1))
}

fn admitted(h: &Hospital) -> Vec<PatientId> {
    let mut ids: Vec<PatientId> = h
        .patients
        .values()
        .filter(|p| p.is_admitted())
        .map(|p| p.view.id)
        .collect();
    ids.sort();
    ids
}

/// The promises that must hold after every step.
fn check(h: &Hospital) -> Result<(), TestCaseError> {
    let mut beds: HashMap<(WardId, String), PatientId> = HashMap::new();
    for p in h.patients.values().filter(|p| p.is_admitted()) {
        let key = (p.view.ward.clone(), p.view.bed.clone());
        prop_assert!(
            beds.insert(key, p.view.id).is_none(),
            "two patients in one bed"
        );
        let mut planned = (**p).clone();
        planned.plan(h.policies.news2.overdue_grace);
        prop_assert_eq!(
            planned.next_check_at,
            p.next_check_at,
            "the stored deadline is the planned one"
        );
        prop_assert_eq!(h.deadline_of(Subject::Patient(p.view.id)), p.next_check_at);
        let open_reviews: Vec<_> = h
            .tasks
            .values()
            .filter(|t| {
                !t.state().is_terminal()
                    && t.view.category == Category::MedicalReview
                    && t.view
                        .patient_ref
                        .as_ref()
                        .is_some_and(|r| r.id == p.view.id)
            })
            .map(|t| t.view.id)
            .collect();
        prop_assert!(
            open_reviews.len() <= 1,
            "one review per episode: {:?}",
            open_reviews
        );
        if let Some(open) = open_reviews.first() {
            prop_assert_eq!(
                p.view.review,
                Some(*open),
                "the patient names their open review"
            );
        }
    }
    prop_assert_eq!(h.bed_index(), beds, "the bed index matches the patients");
    Ok(())
}

fn run(h: &mut Hospital, w: &Ward2Ids, op: &Op, now: &mut Millis) -> Option<Command> {
    if let Op::Tick { minutes } = *op {
        *now += minutes * MIN;
        let due: Vec<Subject> = h
            .deadlines()
            .filter(|(d, s)| *d <= *now && matches!(s, Subject::Patient(_)))
            .map(|(_, s)| s)
            .collect();
        for s in due {
            h.escalate(s, *now);
        }
        return None;
    }
    let (actor, cmd) = command(h, w, op, *now)?;
    let before = h.clone();
    match h.apply(actor, &cmd, Stamp::fresh(*now)) {
        Ok(fx) => {
            if let Command::RecordObservations { .. } = cmd {
                assert!(matches!(fx.result, Some(CommandResult::Observation { .. })));
            }
        }
        Err(_) => {
            // A refusal changes nothing.
            assert_eq!(admitted(h), admitted(&before));
            assert_eq!(h.bed_index(), before.bed_index());
            assert_eq!(h.tasks.len(), before.tasks.len());
        }
    }
    Some(cmd)
}

/// The command an op stands for, and its sender (`None` for a tick, or
/// when there is no patient to pick).
fn command(h: &Hospital, w: &Ward2Ids, op: &Op, now: Millis) -> Option<(StaffId, Command)> {
    let pick = |which: u8| {
        let ids = admitted(h);
        (!ids.is_empty()).then(|| ids[usize::from(which) % ids.len()])
    };
    let (actor, cmd) = match *op {
        Op::Admit {
            ward: wi,
            bed,
            person,
        } => (
            w.nic,
            Command::AdmitPatient {
                ward: ward(wi),
                bed: bed.to_string(),
                patient: details(person),
            },
        ),
        Op::Transfer {
            which,
            ward: wi,
            bed,
        } => (
            w.nic,
            Command::TransferPatient {
                patient: pick(which)?,
                ward: ward(wi),
                bed: bed.to_string(),
            },
        ),
        Op::Discharge { which } => (
            w.nic,
            Command::DischargePatient {
                patient: pick(which)?,
            },
        ),
        Op::Observe {
            which,
            resp,
            spo2,
            pulse,
            missing_temp,
            ago_min,
        } => (
            w.nurse,
            Command::RecordObservations {
                patient: pick(which)?,
                set: ObservationSet {
                    respiration_rate: Some(Whole(resp)),
                    spo2: Some(Whole(spo2)),
                    breathing: Some(Breathing::Air),
                    systolic: Some(Whole(120)),
                    diastolic: Some(Whole(70)),
                    pulse: Some(Whole(pulse)),
                    consciousness: Some(Consciousness::Alert),
                    temperature: (!missing_temp).then_some(Tenths(370)),
                    taken_at: now - ago_min * MIN,
                },
            },
        ),
        Op::Concern { which } => (
            w.nurse,
            Command::RaiseConcern {
                patient: pick(which)?,
                concern: "worried".into(),
            },
        ),
        Op::CancelReview { which } => (
            w.coord,
            Command::Cancel {
                task: h.patients.get(&pick(which)?)?.view.review?,
                reason: "reviewed at the bedside".into(),
            },
        ),
        Op::Tick { .. } => return None,
    };
    Some((actor, cmd))
}

struct Ward2Ids {
    nic: StaffId,
    nurse: StaffId,
    coord: StaffId,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn patients_keep_one_bed_one_review_and_a_planned_deadline(ops in prop::collection::vec(op(), 1..40)) {
        let Ward2 { mut h, nic, nurse, coord } = hospital();
        let ids = Ward2Ids { nic, nurse, coord };
        let mut now = NOW;
        for op in &ops {
            run(&mut h, &ids, op, &mut now);
            check(&h)?;
        }
    }
}

#[test]
fn cancelling_a_review_ends_the_episode() {
    let Ward2 {
        mut h,
        nic,
        nurse,
        coord,
    } = hospital();
    let ids = Ward2Ids { nic, nurse, coord };
    let mut now = NOW;
    let steps = [
        Op::Admit {
            ward: 0,
            bed: 1,
            person: 1,
        },
        Op::Observe {
            which: 0,
            resp: 26,
            spo2: 91,
            pulse: 120,
            missing_temp: false,
            ago_min: 0,
        },
        Op::CancelReview { which: 0 },
    ];
    for op in &steps {
        assert!(run(&mut h, &ids, op, &mut now).is_some(), "{op:?} ran");
    }
    let p = h.patients.values().next().expect("admitted");
    assert_eq!(
        p.view.review, None,
        "the cancelled review no longer names the patient's episode"
    );
    check(&h).expect("the promises hold");
}
