//! The escalation ladders against a night's roster: steps fire at their
//! times and widen, accepting or declining moves the ladder on, a step
//! that finds nobody falls through, pages escalate until acknowledged, and
//! a policy is refused unless it can never end with nobody alerted.

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
            Event::PageEscalated { alerted, .. } => Some(alerted.iter().map(|a| a.id).collect()),
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
