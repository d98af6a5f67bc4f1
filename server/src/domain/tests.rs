//! Domain tests: the rules alone, no I/O. The property tests drive random
//! command sequences through [`Hospital::apply`] and check the invariants
//! the rest of the hub relies on. The escalation ladders' tests are in
//! `tests/escalation_rules.rs`.

use super::*;
use crate::domain::Subject;
use proptest::prelude::*;
use std::collections::HashMap;
use wardpage_proto::{
    Category, Command, Priority, Requirement, Role, Sbar, Skill, StaffId, TaskId, TaskState, WardId,
};

pub(super) const NOW: Millis = 1_764_358_144_000;

pub(super) struct Night {
    pub h: Hospital,
    pub nurse: StaffId,
    pub fy1_a: StaffId,
    pub fy1_b: StaffId,
    pub sho: StaffId,
    pub coord: StaffId,
}

pub(super) fn night() -> Night {
    let mut h = Hospital::default();
    for w in ["w1", "w2"] {
        h.roster.wards.insert(
            WardId(w.into()),
            Ward {
                id: WardId(w.into()),
                name: w.to_uppercase(),
                beds: vec!["1".into(), "2".into()],
            },
        );
    }
    let mut add = |name: &str, role: Role, skills: Vec<Skill>, wards: &[&str]| {
        let id = StaffId::new_random();
        h.roster.staff.insert(
            id,
            Staff {
                id,
                login: name.into(),
                name: name.into(),
                role,
                skills,
                active: true,
            },
        );
        h.roster.set_shift(
            id,
            Some(Shift {
                role,
                wards: wards.iter().map(|w| WardId((*w).into())).collect(),
                starts_at: NOW - 1000,
                ends_at: NOW + 12 * 3_600_000,
                busy: None,
            }),
        );
        id
    };
    let nurse = add("nurse", Role::Nurse, vec![], &["w1"]);
    let fy1_a = add("fy1 a", Role::Fy1, vec![Skill::Cannulation], &["w1"]);
    let fy1_b = add(
        "fy1 b",
        Role::Fy1,
        vec![Skill::Cannulation, Skill::Bloods],
        &["w1", "w2"],
    );
    let sho = add("sho", Role::Sho, vec![Skill::Bloods], &["w1", "w2"]);
    let coord = add("coord", Role::Coordinator, vec![], &["w1", "w2"]);
    // Everyone's phone is connected: an offer rings (the default policy
    // treats a step whose people are all disconnected as finding nobody).
    for id in [nurse, fy1_a, fy1_b, sho, coord] {
        h.set_presence(id, true, NOW - 1000);
    }
    Night {
        h,
        nurse,
        fy1_a,
        fy1_b,
        sho,
        coord,
    }
}

pub(super) fn raise(ward: &str, requirement: Requirement) -> Command {
    Command::RaiseTask {
        ward: WardId(ward.into()),
        bed: "1".into(),
        patient: "p1".into(),
        patient_id: None,
        category: Category::Cannula,
        priority: Priority::Urgent,
        requirement,
        sbar: Sbar {
            situation: "s".into(),
            ..Sbar::default()
        },
    }
}

pub(super) fn raised(fx: &Effects) -> TaskId {
    match &fx.result {
        Some(wardpage_proto::CommandResult::Task { task }) => task.id,
        other => panic!("not a task: {other:?}"),
    }
}

#[test]
fn candidates_hold_the_skill_cover_the_ward_and_are_on_shift() {
    let mut n = night();
    let fx =
        n.h.apply(
            n.nurse,
            &raise("w1", Requirement::Skill(Skill::Cannulation)),
            Stamp::fresh(NOW),
        )
        .expect("raise");
    let t = &n.h.tasks[&raised(&fx)];
    let offered: Vec<StaffId> = t.view.offers.iter().map(|o| o.staff.id).collect();
    assert_eq!(offered.len(), 2);
    assert!(offered.contains(&n.fy1_a) && offered.contains(&n.fy1_b));
    // After their shifts end, nobody is a candidate.
    let later = NOW + 13 * 3_600_000;
    let mut longer = n.h.roster.shifts()[&n.nurse].clone();
    longer.ends_at = later + 1;
    n.h.roster.set_shift(n.nurse, Some(longer));
    let fx =
        n.h.apply(
            n.nurse,
            &raise("w1", Requirement::Skill(Skill::Cannulation)),
            Stamp::fresh(later),
        )
        .expect("raise");
    assert_eq!(n.h.tasks[&raised(&fx)].state(), TaskState::NoOneAccepted);
}

#[test]
fn the_raiser_is_never_their_own_candidate() {
    let mut n = night();
    let fx =
        n.h.apply(
            n.sho,
            &raise("w2", Requirement::Skill(Skill::Bloods)),
            Stamp::fresh(NOW),
        )
        .expect("raise");
    let t = &n.h.tasks[&raised(&fx)];
    assert!(t.view.offers.iter().all(|o| o.staff.id != n.sho));
    assert_eq!(t.view.offers.len(), 1);
}

#[test]
fn coordinators_hear_of_everything_and_ward_nurses_of_their_ward() {
    let mut n = night();
    let fx =
        n.h.apply(
            n.coord,
            &raise("w2", Requirement::Role(Role::Sho)),
            Stamp::fresh(NOW),
        )
        .expect("raise");
    let to: Vec<StaffId> = fx.deliveries[0].recipients.iter().map(|r| r.0).collect();
    assert!(to.contains(&n.coord) && to.contains(&n.sho));
    assert!(
        !to.contains(&n.nurse),
        "the w1 nurse does not hear of a w2 task"
    );
    assert!(!to.contains(&n.fy1_a));
}

/// One step of a random night.
#[derive(Debug, Clone)]
enum Step {
    Raise { by: usize, ward: bool, skill: bool },
    Accept { by: usize, task: usize },
    Decline { by: usize, task: usize },
    Start { by: usize, task: usize },
    Complete { by: usize, task: usize },
    HandBack { by: usize, task: usize },
    Cancel { by: usize, task: usize },
    Assign { by: usize, task: usize, to: usize },
    Reprioritise { by: usize, task: usize, p: u8 },
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0usize..5;
    let task = 0usize..8;
    prop_oneof![
        (who.clone(), any::<bool>(), any::<bool>()).prop_map(|(by, ward, skill)| Step::Raise {
            by,
            ward,
            skill
        }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::Accept { by, task }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::Decline { by, task }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::Start { by, task }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::Complete { by, task }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::HandBack { by, task }),
        (who.clone(), task.clone()).prop_map(|(by, task)| Step::Cancel { by, task }),
        (who.clone(), task.clone(), who.clone()).prop_map(|(by, task, to)| Step::Assign {
            by,
            task,
            to
        }),
        (who, task, 0u8..4).prop_map(|(by, task, p)| Step::Reprioritise { by, task, p }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random command sequences never give a task two owners, never leave a
    /// terminal state, never skip or repeat a sequence number, and a refused
    /// command changes nothing at all.
    #[test]
    fn random_nights_keep_the_invariants(steps in prop::collection::vec(step(), 1..80)) {
        let mut n = night();
        let people = [n.nurse, n.fy1_a, n.fy1_b, n.sho, n.coord];
        let mut tasks: Vec<TaskId> = Vec::new();
        let mut last_seq: HashMap<StaffId, u64> = HashMap::new();
        let mut closed: HashMap<TaskId, (TaskState, u32)> = HashMap::new();
        let mut now = NOW;
        for s in steps {
            now += 1000;
            let pick = |i: usize| tasks.get(i % tasks.len().max(1)).copied().unwrap_or_else(TaskId::new_random);
            let (actor, cmd) = match s {
                Step::Raise { by, ward, skill } => (people[by], raise(
                    if ward { "w1" } else { "w2" },
                    if skill { Requirement::Skill(Skill::Cannulation) } else { Requirement::Role(Role::Fy1) },
                )),
                Step::Accept { by, task } => (people[by], Command::Accept { task: pick(task) }),
                Step::Decline { by, task } => (people[by], Command::Decline { task: pick(task), reason: "busy".into() }),
                Step::Start { by, task } => (people[by], Command::Start { task: pick(task) }),
                Step::Complete { by, task } => (people[by], Command::Complete { task: pick(task), outcome: String::new() }),
                Step::HandBack { by, task } => (people[by], Command::HandBack { task: pick(task), reason: "called away".into() }),
                Step::Cancel { by, task } => (people[by], Command::Cancel { task: pick(task), reason: "not needed".into() }),
                Step::Assign { by, task, to } => (people[by], Command::Assign { task: pick(task), staff: people[to] }),
                Step::Reprioritise { by, task, p } => (people[by], Command::SetPriority {
                    task: pick(task),
                    priority: [Priority::Routine, Priority::Soon, Priority::Urgent, Priority::Emergency][p as usize],
                }),
            };
            let before_tasks = n.h.tasks.clone();
            let before_streams = n.h.streams.clone();
            match n.h.apply(actor, &cmd, Stamp::fresh(now)) {
                Ok(fx) => {
                    if let Command::RaiseTask { .. } = cmd {
                        tasks.push(raised(&fx));
                    }
                    for d in &fx.deliveries {
                        for (who, seq) in &d.recipients {
                            let prev = last_seq.entry(*who).or_insert(0);
                            prop_assert_eq!(*seq, *prev + 1, "gap-free stream");
                            *prev = *seq;
                        }
                    }
                }
                Err(_) => {
                    prop_assert!(before_tasks == n.h.tasks, "a refused command changed a task");
                    prop_assert_eq!(&before_streams, &n.h.streams);
                }
            }
            for t in n.h.tasks.values() {
                let v = &t.view;
                match v.state {
                    TaskState::Assigned | TaskState::Accepted | TaskState::Started => {
                        prop_assert!(v.assignee.is_some(), "held tasks have one owner");
                        prop_assert_eq!(v.state == TaskState::Assigned, v.accepted_at.is_none(), "an assignment is not an accept");
                        let open = v.offers.iter().filter(|o| o.state == wardpage_proto::OfferState::Offered).count();
                        prop_assert!(open <= 1, "no open offers beside the owner's");
                    }
                    TaskState::Offering => {
                        prop_assert!(v.assignee.is_none());
                        prop_assert!(v.offers.iter().any(|o| o.state == wardpage_proto::OfferState::Offered));
                    }
                    TaskState::NoOneAccepted => prop_assert!(v.assignee.is_none()),
                    TaskState::Completed | TaskState::Cancelled => {
                        let seen = closed.entry(v.id).or_insert((v.state, v.version));
                        prop_assert_eq!(*seen, (v.state, v.version), "terminal states are final");
                    }
                }
            }
            for (id, (state, _)) in &closed {
                prop_assert_eq!(n.h.tasks[id].state(), *state);
            }
        }
    }
}

mod escalation_rules;

#[test]
fn closed_tasks_leave_the_working_set_after_a_day_and_history_agrees() {
    let mut n = night();
    let day = CLOSED_KEPT;
    let fx =
        n.h.apply(
            n.nurse,
            &raise("w1", Requirement::Role(Role::Fy1)),
            Stamp::fresh(NOW),
        )
        .expect("raised");
    let closed = raised(&fx);
    n.h.apply(
        n.nurse,
        &Command::Cancel {
            task: closed,
            reason: "raised in error".into(),
        },
        Stamp::fresh(NOW),
    )
    .expect("cancelled");
    let fx =
        n.h.apply(
            n.nurse,
            &raise("w1", Requirement::Role(Role::Fy1)),
            Stamp::fresh(NOW),
        )
        .expect("raised");
    let open = raised(&fx);
    // (Both were raised in the same millisecond: compare as sets.)
    let history = |h: &mut Hospital, at: Millis| -> std::collections::BTreeSet<TaskId> {
        match h.apply(
            n.coord,
            &Command::History {
                since: 0,
                after: None,
            },
            Stamp::fresh(at),
        ) {
            Ok(Effects {
                result: Some(wardpage_proto::CommandResult::History { tasks, .. }),
                ..
            }) => tasks.iter().map(|t| t.id).collect(),
            other => panic!("history: {other:?}"),
        }
    };
    assert_eq!(history(&mut n.h, NOW + day - 1), [closed, open].into());
    // A day on, the closed task is past what a restart would load: history
    // leaves it out whether or not it is still in memory...
    assert_eq!(history(&mut n.h, NOW + day + 1), [open].into());
    // ...and the working set lets it go, keeping the open one.
    assert_eq!(n.h.forget_closed(NOW + day + 1), 1);
    assert!(!n.h.tasks.contains_key(&closed));
    assert!(n.h.tasks.contains_key(&open));
    assert_eq!(history(&mut n.h, NOW + day + 1), [open].into());
}
