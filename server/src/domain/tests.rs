//! Domain tests: the rules alone, no I/O. The property tests drive random
//! command sequences through [`Hospital::apply`] and check the invariants
//! the rest of the hub relies on.

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

mod escalation_rules {
    use super::*;
    use crate::domain::escalation::{Action, Ladder, PageLadders, Policies, Step, TaskPolicy};
    use wardpage_proto::{Event, OfferState};

    const SEC: Millis = 1000;

    fn ladder(steps: Vec<(Option<Millis>, Action)>, repeat: Millis) -> Ladder {
        Ladder {
            steps: steps
                .into_iter()
                .map(|(after, action)| Step { after, action })
                .collect(),
            repeat_every: repeat,
        }
    }

    /// Accept: at the target re-alert; 10 s later widen to SHO; 10 s later
    /// the coordinator, then the coordinator every 30 s.
    fn short_policies() -> Policies {
        Policies {
            tasks: vec![TaskPolicy {
                name: "test".into(),
                priorities: vec![],
                categories: vec![],
                wards: vec![],
                accept: ladder(
                    vec![
                        (None, Action::Realert),
                        (
                            Some(10 * SEC),
                            Action::Widen {
                                roles: vec![Role::Sho],
                            },
                        ),
                        (Some(10 * SEC), Action::Coordinator),
                    ],
                    30 * SEC,
                ),
                complete: ladder(
                    vec![
                        (None, Action::Realert),
                        (Some(5 * SEC), Action::Coordinator),
                    ],
                    60 * SEC,
                ),
            }],
            pages: PageLadders::all(ladder(
                vec![
                    (Some(20 * SEC), Action::Realert),
                    (Some(20 * SEC), Action::Coordinator),
                ],
                60 * SEC,
            )),
            news2: Default::default(),
            nobody_connected: Default::default(),
        }
    }

    fn fy1_task(n: &mut Night) -> TaskId {
        n.h.policies = short_policies();
        let fx =
            n.h.apply(
                n.nurse,
                &raise("w1", Requirement::Role(Role::Fy1)),
                Stamp::fresh(NOW),
            )
            .expect("raise");
        raised(&fx)
    }

    fn escalation_of(fx: &Effects) -> (u32, String, Vec<StaffId>) {
        fx.deliveries
            .iter()
            .find_map(|d| match &d.event {
                Event::TaskEscalated {
                    level,
                    reason,
                    alerted,
                    ..
                } => Some((
                    *level,
                    reason.clone(),
                    alerted.iter().map(|a| a.id).collect(),
                )),
                _ => None,
            })
            .expect("an escalation event")
    }

    #[test]
    fn steps_fire_at_their_times_and_widen_to_the_next_grade() {
        let mut n = night();
        let id = fy1_task(&mut n);
        let accept_by = n.h.tasks[&id].view.accept_by;
        assert_eq!(
            n.h.tasks[&id].view.next_escalation_at,
            Some(accept_by),
            "first step at the target"
        );
        assert!(
            n.h.escalate(Subject::Task(id), accept_by - 1).is_none(),
            "not before it is due"
        );

        let fx = n.h.escalate(Subject::Task(id), accept_by).expect("due");
        let (level, reason, alerted) = escalation_of(&fx);
        assert_eq!(level, 1);
        assert!(
            alerted.contains(&n.fy1_a) && alerted.contains(&n.fy1_b),
            "re-alert the FY1s"
        );
        assert!(
            reason == "not accepted 15 min after it was raised, by any FY1 on W1 (urgent, bed 1): alerted again",
            "{reason}"
        );
        assert_eq!(
            n.h.tasks[&id].view.next_escalation_at,
            Some(accept_by + 10 * SEC)
        );

        let fx =
            n.h.escalate(Subject::Task(id), accept_by + 10 * SEC)
                .expect("widen");
        let (_, _, alerted) = escalation_of(&fx);
        assert_eq!(alerted, vec![n.sho]);
        let t = &n.h.tasks[&id];
        assert!(t
            .view
            .offers
            .iter()
            .any(|o| o.staff.id == n.sho && o.state == OfferState::Offered));

        let fx =
            n.h.escalate(Subject::Task(id), accept_by + 20 * SEC)
                .expect("coordinator");
        assert_eq!(escalation_of(&fx).2, vec![n.coord]);
        // The last step repeats.
        let t = &n.h.tasks[&id];
        assert_eq!(t.view.next_escalation_at, Some(accept_by + 50 * SEC));
        let fx =
            n.h.escalate(Subject::Task(id), accept_by + 50 * SEC)
                .expect("repeat");
        let (level, _, alerted) = escalation_of(&fx);
        assert_eq!((level, alerted), (4, vec![n.coord]));
        assert_eq!(
            n.h.tasks[&id].view.next_escalation_at,
            Some(accept_by + 80 * SEC)
        );
    }

    #[test]
    fn accepting_clears_the_accept_ladder_and_starts_the_complete_one() {
        let mut n = night();
        let id = fy1_task(&mut n);
        let accept_by = n.h.tasks[&id].view.accept_by;
        n.h.apply(
            n.fy1_a,
            &Command::Accept { task: id },
            Stamp::fresh(accept_by - 1),
        )
        .expect("accept");
        assert!(
            n.h.escalate(Subject::Task(id), accept_by).is_none(),
            "accepted just before the deadline: no escalation"
        );
        let t = &n.h.tasks[&id];
        assert_eq!(t.view.next_escalation_at, Some(t.view.complete_by));
        let fx =
            n.h.escalate(Subject::Task(id), t.view.complete_by)
                .expect("not completed");
        let (_, reason, alerted) = escalation_of(&fx);
        assert_eq!(alerted, vec![n.fy1_a], "the holder is reminded first");
        assert!(reason.contains("not completed"), "{reason}");
        n.h.apply(
            n.fy1_a,
            &Command::Complete {
                task: id,
                outcome: String::new(),
            },
            Stamp::fresh(accept_by + 1),
        )
        .expect("done");
        assert_eq!(
            n.h.tasks[&id].view.next_escalation_at, None,
            "closed: nothing pending"
        );
    }

    #[test]
    fn when_everyone_declines_the_next_step_fires_at_once() {
        let mut n = night();
        let id = fy1_task(&mut n);
        n.h.apply(
            n.fy1_a,
            &Command::Decline {
                task: id,
                reason: "busy".into(),
            },
            Stamp::fresh(NOW + 1),
        )
        .expect("decline");
        let fx =
            n.h.apply(
                n.fy1_b,
                &Command::Decline {
                    task: id,
                    reason: "busy".into(),
                },
                Stamp::fresh(NOW + 2),
            )
            .expect("decline");
        // Realert finds no open offer and falls through to widening.
        let (level, reason, alerted) = escalation_of(&fx);
        assert_eq!((level, alerted), (1, vec![n.sho]));
        assert!(
            reason.ends_with(": offered to the SHO (nobody on shift for: alerted again)"),
            "{reason}"
        );
        assert_eq!(
            n.h.tasks[&id].state(),
            TaskState::Offering,
            "offered again, to the SHO"
        );
    }

    #[test]
    fn a_step_with_nobody_on_shift_falls_through_to_the_coordinator() {
        let mut n = night();
        let id = fy1_task(&mut n);
        // The SHO goes home: widening finds nobody.
        n.h.roster.set_shift(n.sho, None);
        let accept_by = n.h.tasks[&id].view.accept_by;
        n.h.escalate(Subject::Task(id), accept_by).expect("realert");
        let fx =
            n.h.escalate(Subject::Task(id), accept_by + 10 * SEC)
                .expect("widen");
        let (_, reason, alerted) = escalation_of(&fx);
        assert_eq!(alerted, vec![n.coord]);
        assert!(
            reason.ends_with(": coordinator alerted (nobody on shift for: offered to the SHO)"),
            "{reason}"
        );
    }

    #[test]
    fn with_no_coordinator_every_senior_and_then_everyone_is_alerted() {
        let mut n = night();
        let id = fy1_task(&mut n);
        n.h.roster.set_shift(n.coord, None);
        n.h.roster.set_shift(n.sho, None);
        n.h.roster.set_shift(n.fy1_a, None);
        n.h.roster.set_shift(n.fy1_b, None);
        let accept_by = n.h.tasks[&id].view.accept_by;
        // Realert still reaches the (off-shift) candidates' open offers.
        n.h.escalate(Subject::Task(id), accept_by).expect("realert");
        let fx =
            n.h.escalate(Subject::Task(id), accept_by + 10 * SEC)
                .expect("widen");
        let (_, reason, alerted) = escalation_of(&fx);
        assert_eq!(
            alerted,
            vec![n.nurse],
            "nobody senior on shift: everyone on shift is told"
        );
        assert!(reason.contains("last resort"), "{reason}");
    }

    #[test]
    fn unacknowledged_pages_escalate_and_an_ack_clears_them() {
        let mut n = night();
        n.h.policies = short_policies();
        let fx =
            n.h.apply(
                n.nurse,
                &Command::SendPage {
                    target: wardpage_proto::PageTarget::Staff(n.fy1_a),
                    priority: Priority::Urgent,
                    callback: "x123".into(),
                    message: "come".into(),
                    ward: None,
                },
                Stamp::fresh(NOW),
            )
            .expect("page");
        let Some(wardpage_proto::CommandResult::Page { page }) = fx.result else {
            panic!("page")
        };
        assert_eq!(page.next_escalation_at, Some(NOW + 20 * SEC));
        let fx =
            n.h.escalate(Subject::Page(page.id), NOW + 20 * SEC)
                .expect("realert");
        assert!(fx
            .deliveries
            .iter()
            .any(|d| matches!(&d.event, Event::PageEscalated { level: 1, .. })));
        let fx =
            n.h.escalate(Subject::Page(page.id), NOW + 40 * SEC)
                .expect("coordinator");
        let alerted: Vec<StaffId> = fx
            .deliveries
            .iter()
            .find_map(|d| match &d.event {
                Event::PageEscalated { alerted, .. } => {
                    Some(alerted.iter().map(|a| a.id).collect())
                }
                _ => None,
            })
            .expect("escalated");
        assert_eq!(alerted, vec![n.coord]);
        // The coordinator, now a recipient, acknowledges; nothing more is pending.
        n.h.apply(
            n.coord,
            &Command::PageAck {
                page: page.id,
                reply: None,
            },
            Stamp::fresh(NOW + 41 * SEC),
        )
        .expect("ack");
        assert_eq!(n.h.pages[&page.id].view.next_escalation_at, None);
        assert!(n
            .h
            .escalate(Subject::Page(page.id), NOW + 100 * SEC)
            .is_none());
    }

    fn arb_action() -> impl Strategy<Value = Action> {
        prop_oneof![
            Just(Action::Realert),
            Just(Action::Widen { roles: vec![] }),
            Just(Action::Widen {
                roles: vec![Role::Registrar]
            }),
            Just(Action::Coordinator),
            Just(Action::NurseInCharge),
            Just(Action::PageRole {
                roles: vec![Role::Consultant]
            }),
        ]
    }

    /// Random steps; most ladders end with the coordinator (valid), some
    /// do not (refused by validation, and skipped).
    fn arb_ladder() -> impl Strategy<Value = Ladder> {
        (
            prop::collection::vec((0i64..30, arb_action()), 1..5),
            1i64..60,
            0u8..10,
        )
            .prop_map(|(steps, repeat, end)| {
                let mut steps: Vec<Step> = steps
                    .into_iter()
                    .enumerate()
                    .map(|(i, (after, action))| Step {
                        after: if i == 0 { None } else { Some(after * SEC) },
                        action,
                    })
                    .collect();
                if end > 0 {
                    steps.push(Step {
                        after: Some(SEC),
                        action: Action::Coordinator,
                    });
                }
                Ladder {
                    steps,
                    repeat_every: repeat * SEC,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any policy that passes validation alerts somebody at every firing,
        /// whoever has gone home, as long as anyone at all is on shift.
        #[test]
        fn valid_policies_never_alert_nobody(
            accept in arb_ladder(),
            complete in arb_ladder(),
            home in prop::collection::vec(any::<bool>(), 5),
            firings in 1usize..8,
            accept_first in any::<bool>(),
        ) {
            let policies = Policies {
                tasks: vec![TaskPolicy { name: "p".into(), priorities: vec![], categories: vec![], wards: vec![], accept, complete }],
                pages: PageLadders::all(ladder(vec![(Some(SEC), Action::Coordinator)], SEC)),
                news2: Default::default(),
                nobody_connected: Default::default(),
            };
            prop_assume!(policies.validate().is_ok());
            let mut n = night();
            n.h.policies = policies;
            let id = raised(&n.h.apply(n.nurse, &raise("w1", Requirement::Skill(Skill::Cannulation)), Stamp::fresh(NOW)).expect("raise"));
            if accept_first {
                n.h.apply(n.fy1_a, &Command::Accept { task: id }, Stamp::fresh(NOW + 1)).expect("accept");
            }
            // Some of the team go home; the nurse stays on shift.
            let people = [n.fy1_a, n.fy1_b, n.sho, n.coord, n.nurse];
            for (p, gone) in people.iter().zip(home) {
                if gone && *p != n.nurse {
                    n.h.roster.set_shift(*p, None);
                }
            }
            for _ in 0..firings {
                let due = n.h.tasks[&id].view.next_escalation_at.expect("pending");
                let fx = n.h.escalate(Subject::Task(id), due).expect("fires when due");
                let (_, _, alerted) = escalation_of(&fx);
                prop_assert!(!alerted.is_empty(), "somebody is always alerted");
            }
        }
    }

    #[test]
    fn validation_names_the_policy_and_the_problem() {
        let mut p = short_policies();
        p.tasks[0].accept.steps.pop();
        let e = p.validate().expect_err("ends with widen");
        assert!(
            e.to_string().contains("`test`") && e.to_string().contains("last step is `widen`"),
            "{e}"
        );

        let mut p = short_policies();
        p.tasks[0].complete.steps.clear();
        assert!(p
            .validate()
            .expect_err("empty")
            .to_string()
            .contains("at least one step"));

        let mut p = short_policies();
        p.tasks[0].accept.steps[1].after = None;
        assert!(p
            .validate()
            .expect_err("no delay")
            .to_string()
            .contains("step 2 needs a delay"));

        let mut p = short_policies();
        p.tasks[0].wards = vec![WardId("w1".into())];
        assert!(p
            .validate()
            .expect_err("uncovered")
            .to_string()
            .contains("would never escalate"));

        let mut p = short_policies();
        p.tasks[0].accept.steps[0].action = Action::PageRole { roles: vec![] };
        assert!(p
            .validate()
            .expect_err("no roles")
            .to_string()
            .contains("page_role needs"));

        let mut p = short_policies();
        p.pages.soon.repeat_every = 0;
        assert!(p
            .validate()
            .expect_err("repeat")
            .to_string()
            .contains("`pages (soon)`"));
        Policies::default()
            .validate()
            .expect("the defaults are valid");
    }
}

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
