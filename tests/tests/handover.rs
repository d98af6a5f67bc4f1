//! Shift handover end to end, against a real hub and real WebSocket
//! clients on the demo night team: the outgoing FY1 sees what they hold,
//! hands a task to a named colleague (who refuses or accepts), and what is
//! still held when a shift ends, by `end_shift` or its end time passing,
//! is offered again with the coordinator alerted. A SIGKILL while a
//! handover waits loses neither the task nor the handover.

use std::time::Duration;
use wardpage_proto::{
    Command, CommandResult, Event, PageTarget, Priority, Role, StaffId, TaskChange, TaskId,
    TaskState, TaskView, WardId,
};
use wardpage_tests::story::*;
use wardpage_tests::{Client, HubProcess, TestHub};

/// What the sender holds, per the `handover` read.
async fn holds(c: &mut Client) -> anyhow::Result<(Vec<TaskId>, usize)> {
    match c.ok(Command::Handover {}).await? {
        CommandResult::Handover { tasks, pages } => {
            Ok((tasks.into_iter().map(|t| t.id).collect(), pages.len()))
        }
        other => anyhow::bail!("not a handover: {other:?}"),
    }
}

/// A cannula on w7 (fy1.patel, sho.khan and np.murphy are candidates),
/// accepted by fy1.patel.
async fn held_by_fy1(nurse: &mut Client, fy1: &mut Client) -> anyhow::Result<TaskView> {
    let task = raise_ok(nurse, cannula_w7()).await?;
    fy1.ok(Command::Accept { task: task.id }).await?;
    Ok(task)
}

async fn holder(c: &mut Client, task: TaskId) -> anyhow::Result<Option<StaffId>> {
    let (_, tasks) = snapshot(c).await?;
    let t = tasks.into_iter().find(|t| t.id == task);
    Ok(t.and_then(|t| t.assignee).map(|a| a.id))
}

#[tokio::test]
async fn a_task_is_handed_over_refused_then_accepted_and_every_step_is_audited(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut sho = Client::login_connect(&base, "sho.khan").await?;
    let mut np = Client::login_connect(&base, "np.murphy").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = held_by_fy1(&mut nurse, &mut fy1).await?;
    assert_eq!(holds(&mut fy1).await?, (vec![task.id], 0));

    // Not an FY1 nor a cannulator, or not covering w7: refused.
    let hca = Client::login_connect(&base, "hca.brown").await?;
    let refused = fy1
        .command(Command::HandOver {
            task: task.id,
            to: hca.id(),
        })
        .await?;
    assert!(refused.is_err(), "handed to someone who cannot cannulate");

    let to = sho.id();
    fy1.ok(Command::HandOver { task: task.id, to }).await?;
    let offered = task_event(&mut sho, task.id, TaskChange::HandoverOffered).await?;
    assert_eq!(offered.handover.as_ref().map(|h| h.to.id), Some(to));
    assert_eq!(offered.assignee.as_ref().map(|a| a.id), Some(fy1.id()));
    task_event(&mut coord, task.id, TaskChange::HandoverOffered).await?;
    task_event(&mut nurse, task.id, TaskChange::HandoverOffered).await?;
    let reason = "in resus for the next hour".to_owned();
    sho.ok(Command::DeclineHandover {
        task: task.id,
        reason,
    })
    .await?;
    let back = task_event(&mut fy1, task.id, TaskChange::HandoverDeclined).await?;
    assert!(back.handover.is_none());
    assert_eq!(holder(&mut coord, task.id).await?, Some(fy1.id()));

    let to = np.id();
    fy1.ok(Command::HandOver { task: task.id, to }).await?;
    task_event(&mut np, task.id, TaskChange::HandoverOffered).await?;
    let stolen = sho
        .command(Command::AcceptHandover { task: task.id })
        .await?;
    assert!(stolen.is_err(), "someone not named took the handover");
    np.ok(Command::AcceptHandover { task: task.id }).await?;
    let taken = task_event(&mut fy1, task.id, TaskChange::HandoverAccepted).await?;
    assert_eq!(taken.assignee.map(|a| a.id), Some(np.id()));
    assert_eq!(holds(&mut fy1).await?, (vec![], 0));
    assert_eq!(holds(&mut np).await?, (vec![task.id], 0));

    let trail = match coord.ok(Command::Timeline { task: task.id }).await? {
        CommandResult::Timeline { entries, .. } => entries,
        other => anyhow::bail!("not a timeline: {other:?}"),
    };
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    for step in ["hand_over", "decline_handover", "accept_handover"] {
        assert!(actions.contains(&step), "{step} not audited: {actions:?}");
    }
    hub.stop().await
}

#[tokio::test]
async fn ending_a_shift_holding_work_offers_it_again_and_alerts_the_coordinator(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut sho = Client::login_connect(&base, "sho.khan").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = held_by_fy1(&mut nurse, &mut fy1).await?;
    let page = Command::SendPage {
        target: PageTarget::Staff(fy1.id()),
        priority: Priority::Urgent,
        callback: "2231".into(),
        message: "bed 12 again".into(),
        ward: None,
    };
    nurse.ok(page).await?;
    assert_eq!(holds(&mut fy1).await?, (vec![task.id], 1));

    let staff = fy1.id();
    let (returned, pages) = match fy1.ok(Command::EndShift { staff }).await? {
        CommandResult::Shift {
            returned,
            unacknowledged,
            ..
        } => (returned, unacknowledged),
        other => anyhow::bail!("not a shift: {other:?}"),
    };
    assert_eq!(returned.iter().map(|t| t.id).collect::<Vec<_>>(), [task.id]);
    assert_eq!(pages.len(), 1, "the unacknowledged page is listed");
    let again = task_event(&mut sho, task.id, TaskChange::ReturnedAtShiftEnd).await?;
    assert_eq!(again.state, TaskState::Offering);
    assert!(again.assignee.is_none());
    assert!(again.offers.iter().all(|o| o.staff.id != staff));
    let alert = coord
        .wait_for(|e| matches!(e, Event::HeldAtShiftEnd { .. }))
        .await?;
    let Event::HeldAtShiftEnd {
        staff: who,
        reason,
        tasks,
        pages,
    } = alert
    else {
        unreachable!("filtered above");
    };
    assert_eq!(who.id, staff);
    assert!(reason.contains("1 task"), "{reason}");
    assert_eq!((tasks.len(), pages.len()), (1, 1));
    hub.stop().await
}

#[tokio::test]
async fn a_shift_end_time_passing_offers_held_work_again() -> anyhow::Result<()> {
    let hub = TestHub::start_on_manual_clock(|_| {}).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let ends_at = hub.now() + 60_000;
    coord
        .ok(Command::StartShift {
            staff: fy1.id(),
            role: Role::Fy1,
            wards: vec![WardId("w7".into())],
            ends_at,
        })
        .await?;
    let task = held_by_fy1(&mut nurse, &mut fy1).await?;
    hub.advance(Duration::from_millis(59_999))?;
    assert_eq!(holder(&mut coord, task.id).await?, Some(fy1.id()));
    hub.advance(Duration::from_millis(1))?;
    // A read through the writer fires what is due first.
    assert_eq!(holder(&mut coord, task.id).await?, None);
    let alert = coord
        .wait_for(|e| matches!(e, Event::HeldAtShiftEnd { .. }))
        .await?;
    let Event::HeldAtShiftEnd { staff, tasks, .. } = alert else {
        unreachable!("filtered above");
    };
    assert_eq!(staff.id, fy1.id());
    assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [task.id]);
    let again = task_event(&mut nurse, task.id, TaskChange::ReturnedAtShiftEnd).await?;
    assert_eq!(again.updated_at, ends_at, "returned at the shift's end");
    assert_eq!(again.state, TaskState::Offering);
    hub.stop().await
}

/// The hub dies while a handover waits: after a restart the task is still
/// held by the giver, the handover still names the incoming person, and
/// they can accept it.
#[tokio::test]
async fn sigkill_during_a_pending_handover_loses_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let sho = Client::login_connect(&hub.base(), "sho.khan").await?;
    let (fy1_id, sho_id) = (fy1.id(), sho.id());
    let task = held_by_fy1(&mut nurse, &mut fy1).await?;
    let other = held_by_fy1(&mut nurse, &mut fy1).await?;
    fy1.ok(Command::HandOver {
        task: task.id,
        to: sho_id,
    })
    .await?;
    hub.kill9().await?;

    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let mut sho = Client::login_connect(&hub.base(), "sho.khan").await?;
    let (_, tasks) = snapshot(&mut sho).await?;
    let pending = tasks
        .iter()
        .find(|t| t.id == task.id)
        .expect("the task survived");
    assert_eq!(pending.assignee.as_ref().map(|a| a.id), Some(fy1_id));
    assert_eq!(pending.handover.as_ref().map(|h| h.to.id), Some(sho_id));
    sho.ok(Command::AcceptHandover { task: task.id }).await?;
    let mut fy1 = Client::login_connect(&hub.base(), "fy1.patel").await?;
    assert_eq!(holds(&mut fy1).await?, (vec![other.id], 0));
    assert_eq!(holds(&mut sho).await?, (vec![task.id], 0));
    hub.terminate().await?;
    Ok(())
}
