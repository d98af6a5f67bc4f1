//! Routing on a night shift: a raise reaches exactly its candidates (and the
//! people who must see it), first accept wins, and a task nobody can or will
//! take goes to the coordinator, never nowhere.

use std::collections::{BTreeSet, HashMap};
use wardpage_proto::{
    ErrorCode, Event, Priority, Requirement, Role, Skill, TaskChange, TaskState, UnassignedReason,
};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const EVERYONE: [&str; 11] = [
    "nurse.okafor",
    "nurse.lee",
    "hca.brown",
    "fy1.patel",
    "fy1.ruiz",
    "sho.khan",
    "reg.evans",
    "np.murphy",
    "phleb.ali",
    "coord.hale",
    "nic.grant",
];

#[tokio::test]
async fn a_raise_reaches_exactly_the_right_people() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut clients = HashMap::new();
    for login in EVERYONE {
        clients.insert(login, Client::login_connect(&hub.base(), login).await?);
    }
    let nurse = clients.get_mut("nurse.okafor").expect("nurse");
    let task = raise_ok(nurse, cannula_w7()).await?;

    // Candidates: on shift, covering Ward 7, holding cannulation.
    let offered: BTreeSet<String> = task.offers.iter().map(|o| o.staff.name.clone()).collect();
    assert_eq!(
        offered,
        BTreeSet::from([
            "Dr Asha Patel".to_string(),
            "Dr Omar Khan".into(),
            "Niamh Murphy".into()
        ])
    );
    assert_eq!(task.state, TaskState::Offering);

    // Who hears of it: candidates, the raiser, Ward 7's ward team, the coordinator.
    let hears = [
        "fy1.patel",
        "sho.khan",
        "np.murphy",
        "nurse.okafor",
        "hca.brown",
        "nic.grant",
        "coord.hale",
    ];
    for login in hears {
        let c = clients.get_mut(login).expect("client");
        let t = task_event(c, task.id, TaskChange::Raised).await?;
        assert_eq!(t.version, 1, "{login} got the raised task");
    }
    // Nobody else: their streams are still empty (the snapshot's cursor is
    // the hub's own count of what it has queued for them).
    for login in EVERYONE.iter().filter(|l| !hears.contains(l)) {
        let c = clients.get_mut(login).expect("client");
        let (cursor, tasks) = snapshot(c).await?;
        assert_eq!(cursor, 0, "{login} must not be told about a Ward 7 cannula");
        assert!(tasks.is_empty(), "{login} must not see it in a snapshot");
    }
    hub.stop().await
}

#[tokio::test]
async fn two_concurrent_accepts_give_one_owner() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut patel = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut khan = Client::login_connect(&hub.base(), "sho.khan").await?;
    let mut murphy = Client::login_connect(&hub.base(), "np.murphy").await?;
    for _round in 0..10 {
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        let accept = wardpage_proto::Command::Accept { task: task.id };
        // All three send before any reads a reply.
        let a = patel.send(accept.clone()).await?;
        let b = khan.send(accept.clone()).await?;
        let c = murphy.send(accept).await?;
        let results = [
            patel.reply(a).await?,
            khan.reply(b).await?,
            murphy.reply(c).await?,
        ];
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "exactly one accept wins: {results:?}");
        for r in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(r.code, ErrorCode::AlreadyTaken, "{r}");
        }
        let owner = task_event(&mut nurse, task.id, TaskChange::Accepted).await?;
        assert!(owner.assignee.is_some());
        assert_eq!(
            owner
                .offers
                .iter()
                .filter(|o| o.state == wardpage_proto::OfferState::Offered)
                .count(),
            1
        );
    }
    hub.stop().await
}

#[tokio::test]
async fn all_decline_goes_to_the_coordinator() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let mut candidates = Vec::new();
    for l in ["fy1.patel", "sho.khan", "np.murphy"] {
        candidates.push(Client::login_connect(&hub.base(), l).await?);
    }
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    for (i, c) in candidates.iter_mut().enumerate() {
        let r = c
            .ok(wardpage_proto::Command::Decline {
                task: task.id,
                reason: format!("busy in resus {i}"),
            })
            .await?;
        let t = task_of(&r);
        if i < 2 {
            assert_eq!(t.state, TaskState::Offering, "others can still accept");
        } else {
            assert_eq!(t.state, TaskState::NoOneAccepted);
            assert_eq!(t.unassigned_reason, Some(UnassignedReason::AllDeclined));
        }
    }
    let seen = task_event(&mut coord, task.id, TaskChange::NoOneAccepted).await?;
    assert_eq!(seen.offers.len(), candidates.len(), "every offer is kept");
    assert!(seen
        .offers
        .iter()
        .all(|o| o.reason.as_deref().is_some_and(|r| r.starts_with("busy"))));
    // A decliner cannot take it back by accepting now...
    let late = candidates[0]
        .command(wardpage_proto::Command::Accept { task: task.id })
        .await?;
    assert!(late.is_err());
    // ...but the coordinator can give it to someone.
    let khan_id = candidates[1].id();
    let r = coord
        .ok(wardpage_proto::Command::Assign {
            task: task.id,
            staff: khan_id,
        })
        .await?;
    assert_eq!(task_of(&r).state, TaskState::Assigned);
    let t = task_event(&mut candidates[1], task.id, TaskChange::Assigned).await?;
    assert_eq!(t.assignee.map(|a| a.id), Some(khan_id));
    hub.stop().await
}

#[tokio::test]
async fn no_candidate_goes_straight_to_the_coordinator() -> anyhow::Result<()> {
    // About who is a candidate, not whether they are connected.
    let hub = TestHub::start_with(offers_wait).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.lee").await?;
    // Nobody on Ward 8 tonight is a consultant.
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Consultant)).await?;
    assert_eq!(task.state, TaskState::NoOneAccepted);
    assert_eq!(task.unassigned_reason, Some(UnassignedReason::NoCandidates));
    assert!(task.offers.is_empty());
    task_event(&mut coord, task.id, TaskChange::NoOneAccepted).await?;
    // A role requirement matches the role held on tonight's shift.
    let sho = raise_ok(
        &mut nurse,
        raise("w8", Requirement::Role(Role::Sho), Priority::Emergency),
    )
    .await?;
    assert_eq!(sho.offers.len(), 1);
    assert_eq!(sho.offers[0].staff.name, "Dr Omar Khan");
    let bloods = raise_ok(
        &mut nurse,
        raise("w8", Requirement::Skill(Skill::Bloods), Priority::Routine),
    )
    .await?;
    assert_eq!(
        bloods.offers.len(),
        3,
        "Patel, Murphy and Ali take bloods on Ward 8: {:?}",
        bloods.offers
    );
    hub.stop().await
}

#[tokio::test]
async fn the_lifecycle_runs_to_completion_and_stays_closed() -> anyhow::Result<()> {
    use wardpage_proto::Command::*;
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut patel = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let mut khan = Client::login_connect(&hub.base(), "sho.khan").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    patel.ok(Accept { task: task.id }).await?;
    // Handing back re-offers to the others.
    let r = patel
        .ok(HandBack {
            task: task.id,
            reason: "called to arrest".into(),
        })
        .await?;
    let t = task_of(&r);
    assert_eq!(t.state, TaskState::Offering);
    assert!(t.assignee.is_none());
    assert!(!t.offers.is_empty(), "offered to the others again");
    assert!(t.offers.iter().all(|o| o.staff.name != "Dr Asha Patel"));
    khan.ok(Accept { task: task.id }).await?;
    let err = patel
        .command(Start { task: task.id })
        .await?
        .expect_err("not hers any more");
    assert_eq!(err.code, ErrorCode::Forbidden);
    khan.ok(Start { task: task.id }).await?;
    let done = khan
        .ok(Complete {
            task: task.id,
            outcome: "22G left forearm".into(),
        })
        .await?;
    assert_eq!(task_of(&done).state, TaskState::Completed);
    let t = task_event(&mut nurse, task.id, TaskChange::Completed).await?;
    assert_eq!(t.closing_note.as_deref(), Some("22G left forearm"));
    // Terminal is final.
    for cmd in [
        Cancel {
            task: task.id,
            reason: "changed my mind".into(),
        },
        HandBack {
            task: task.id,
            reason: "x".into(),
        },
        Complete {
            task: task.id,
            outcome: String::new(),
        },
    ] {
        let by = if matches!(cmd, Cancel { .. }) {
            &mut nurse
        } else {
            &mut khan
        };
        let e = by.command(cmd).await?.expect_err("closed");
        assert_eq!(e.code, ErrorCode::InvalidState, "{e}");
    }
    // Every step is in the audit trail, in order.
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "raise",
            "accept",
            "hand_back",
            "accept",
            "start",
            "complete"
        ]
    );
    assert_eq!(audit[2].detail, "called to arrest");
    assert_eq!(audit[5].from_state.as_deref(), Some("started"));
    assert_eq!(audit[5].to_state.as_deref(), Some("completed"));
    hub.stop().await
}

#[tokio::test]
async fn coordinators_steer_and_nurses_cancel_their_own() -> anyhow::Result<()> {
    use wardpage_proto::Command::*;
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut other_nurse = Client::login_connect(&hub.base(), "hca.brown").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    let r = coord
        .ok(SetPriority {
            task: task.id,
            priority: Priority::Emergency,
        })
        .await?;
    let t = task_of(&r);
    assert_eq!(t.priority, Priority::Emergency);
    assert_eq!(
        t.accept_by,
        t.raised_at + 2 * 60_000,
        "emergency: accept within 2 minutes"
    );
    let e = other_nurse
        .command(Cancel {
            task: task.id,
            reason: "not mine".into(),
        })
        .await?
        .expect_err("not the raiser");
    assert_eq!(e.code, ErrorCode::Forbidden);
    let e = nurse
        .command(SetPriority {
            task: task.id,
            priority: Priority::Routine,
        })
        .await?
        .expect_err("not a coordinator");
    assert_eq!(e.code, ErrorCode::Forbidden);
    nurse
        .ok(Cancel {
            task: task.id,
            reason: "patient discharged".into(),
        })
        .await?;
    let t = task_event(&mut coord, task.id, TaskChange::Cancelled).await?;
    assert_eq!(t.closing_note.as_deref(), Some("patient discharged"));
    assert!(!t.offers.is_empty(), "it was offered before the cancel");
    assert!(t
        .offers
        .iter()
        .all(|o| o.state == wardpage_proto::OfferState::Withdrawn));
    hub.stop().await
}

#[tokio::test]
async fn events_name_who_acted() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut patel = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    patel
        .ok(wardpage_proto::Command::Accept { task: task.id })
        .await?;
    let e = nurse
        .wait_for(|e| {
            matches!(
                e,
                Event::Task {
                    change: TaskChange::Accepted,
                    ..
                }
            )
        })
        .await?;
    let Event::Task { by, task: t, .. } = e else {
        unreachable!()
    };
    assert_eq!(by.map(|b| b.name), Some("Dr Asha Patel".to_string()));
    assert_eq!(
        t.assignee.map(|a| a.name),
        Some("Dr Asha Patel".to_string())
    );
    hub.stop().await
}
