//! A coordinator's assignment end to end (issue 17): the task is
//! `assigned`, not accepted, until the assignee acknowledges it; that
//! survives a restart; an assignment nobody acknowledges within the time an
//! offer at its priority has to be accepted escalates to the coordinator,
//! once; the assignee's `accept` acknowledges it (its own audit row, and
//! `accepted_at` is the acknowledgement's time), their `decline` hands it
//! back with the reason. The writer runs on a manual clock, so "a
//! millisecond before due" is exact.

use anyhow::Context;
use std::time::Duration;
use wardpage_proto::{Command, Event, Millis, Role, TaskChange, TaskState, TaskView};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

/// A "soon" task for an FY1 on Ward 8 (accept within 60 min), offered to
/// Dr Patel, which the coordinator gives to Dr Khan.
async fn assigned_to_khan(
    hub: &TestHub,
) -> anyhow::Result<(Client, Client, Client, Client, TaskView)> {
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut khan = Client::login_connect(&base, "sho.khan").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    let r = coord
        .ok(Command::Assign {
            task: task.id,
            staff: khan.id(),
        })
        .await?;
    let t = task_of(&r).clone();
    assert_eq!(t.state, TaskState::Assigned, "assigned, not accepted");
    let seen = task_event(&mut khan, task.id, TaskChange::Assigned).await?;
    assert_eq!(seen.state, TaskState::Assigned);
    assert_eq!(seen.assignee.as_ref().map(|a| a.id), Some(khan.id()));
    assert_eq!(seen.accepted_at, None, "nobody has said yes");
    assert_eq!(
        seen.assigned_by.as_ref().map(|a| a.name.as_str()),
        Some("Sister Jo Hale")
    );
    assert_eq!(seen.assigned_at, Some(hub.now()));
    Ok((nurse, fy1, khan, coord, t))
}

fn advance_to(hub: &TestHub, at: Millis) -> anyhow::Result<()> {
    let by = at - hub.now();
    anyhow::ensure!(by >= 0, "{by} ms: the clock only moves on");
    hub.advance(Duration::from_millis(by as u64))
}

/// The task as `c` sees it now (a read through the writer, which first
/// fires whatever is due), and its audit actions in order.
async fn as_it_stands(
    hub: &TestHub,
    c: &mut Client,
    task: &TaskView,
) -> anyhow::Result<(TaskView, Vec<String>)> {
    let (_, tasks) = snapshot(c).await?;
    let t = tasks
        .into_iter()
        .find(|t| t.id == task.id)
        .context("the task is still open")?;
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    Ok((t, audit.into_iter().map(|a| a.action).collect()))
}

#[tokio::test]
async fn an_assignment_waits_for_acknowledgement_across_a_restart_and_escalates_once(
) -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(offers_wait).await?;
    let (_, _, _, _, task) = assigned_to_khan(&hub).await?;
    let assigned_at = task.assigned_at.context("assigned_at is set")?;
    let due = assigned_at + 60 * 60_000;
    assert_eq!(task.next_escalation_at, Some(due), "the soon accept target");

    // It is stored as it is: a restart keeps it assigned, and its deadline.
    let hub = hub.restart().await?;
    let base = hub.base();
    let mut khan = Client::login_connect(&base, "sho.khan").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let (t, actions) = as_it_stands(&hub, &mut khan, &task).await?;
    assert_eq!(t.state, TaskState::Assigned);
    assert_eq!((t.assigned_at, t.accepted_at), (Some(assigned_at), None));
    assert_eq!(t.next_escalation_at, Some(due));
    assert_eq!(actions, ["raise", "assign"]);

    advance_to(&hub, due - 1)?;
    let (t, actions) = as_it_stands(&hub, &mut coord, &task).await?;
    assert_eq!(
        (t.escalation_level, actions.len()),
        (0, 2),
        "not before due"
    );
    advance_to(&hub, due)?;
    let e = coord
        .wait_for(|e| matches!(e, Event::TaskEscalated { task: t, .. } if t.id == task.id))
        .await?;
    let Event::TaskEscalated {
        reason, alerted, ..
    } = e
    else {
        unreachable!("filtered above")
    };
    assert!(
        reason.starts_with(
            "not acknowledged 60 min after Sister Jo Hale assigned it to Dr Omar Khan"
        ),
        "{reason}"
    );
    let alerted: Vec<String> = alerted.into_iter().map(|a| a.name).collect();
    assert!(
        alerted.contains(&"Sister Jo Hale".to_string()),
        "{alerted:?}"
    );
    assert!(alerted.contains(&"Dr Omar Khan".to_string()), "{alerted:?}");

    // Once: a minute on (short of the ladder's repeat), still one.
    advance_to(&hub, due + 60_000)?;
    let (t, actions) = as_it_stands(&hub, &mut coord, &task).await?;
    assert_eq!(t.state, TaskState::Assigned);
    assert_eq!(actions, ["raise", "assign", "escalate"]);

    // Dr Khan acknowledges: accepted now, at this time, audited as such.
    let at = hub.now();
    let r = khan.ok(Command::Accept { task: task.id }).await?;
    let t = task_of(&r);
    assert_eq!((t.state, t.accepted_at), (TaskState::Accepted, Some(at)));
    let seen = task_event(&mut coord, task.id, TaskChange::Acknowledged).await?;
    assert_eq!(seen.state, TaskState::Accepted);
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let last = audit.last().context("audited")?;
    assert_eq!(last.action, "acknowledge");
    assert_eq!(
        (last.from_state.as_deref(), last.to_state.as_deref()),
        (Some("assigned"), Some("accepted"))
    );
    assert_eq!(last.actor, Some(khan.id().to_string()));
    hub.stop().await
}

#[tokio::test]
async fn declining_an_assignment_hands_it_back_with_the_reason() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(offers_wait).await?;
    let (mut nurse, mut fy1, mut khan, _, task) = assigned_to_khan(&hub).await?;
    let r = khan
        .ok(Command::Decline {
            task: task.id,
            reason: "In resus".into(),
        })
        .await?;
    let t = task_of(&r);
    assert_eq!(t.state, TaskState::Offering);
    assert!(t.assignee.is_none() && t.assigned_by.is_none());
    // Offered again to the FY1; the raiser hears it was handed back.
    let offered = task_event(&mut fy1, task.id, TaskChange::HandedBack).await?;
    assert!(
        offered
            .offers
            .iter()
            .any(|o| o.staff.name == "Dr Asha Patel"
                && o.state == wardpage_proto::OfferState::Offered)
    );
    task_event(&mut nurse, task.id, TaskChange::HandedBack).await?;
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let last = audit.last().context("audited")?;
    assert_eq!(
        (last.action.as_str(), last.detail.as_str()),
        ("decline_assignment", "In resus")
    );
    hub.stop().await
}
