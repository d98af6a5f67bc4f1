//! What the coordinator's dashboard relies on at the hub: presence, the
//! shift's history, a task's timeline, escalating by hand; and that nobody
//! else can call them.

use wardpage_proto::{Command, CommandResult, ErrorCode, Event};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

#[tokio::test]
async fn the_coordinator_sees_who_is_connected() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let doctor = Client::login_connect(&base, "fy1.patel").await?;
    let id = doctor.id();
    assert!(coord.presence_of(id).await?, "connected");
    doctor.close().await;
    assert!(!coord.presence_of(id).await?, "gone");
    let CommandResult::Directory { staff, targets, .. } = coord.ok(Command::Directory {}).await?
    else {
        anyhow::bail!("directory")
    };
    let patel = staff.iter().find(|s| s.id == id).expect("listed");
    assert!(!patel.connected && patel.last_seen_at.is_some());
    assert!(
        patel.last_action_at.is_none(),
        "she has not done anything yet"
    );
    let urgent = targets
        .iter()
        .find(|t| t.priority == wardpage_proto::Priority::Urgent)
        .expect("urgent target");
    assert_eq!(urgent.accept_within_ms, 15 * 60_000);
    let me = staff
        .iter()
        .find(|s| s.login == "coord.hale")
        .expect("listed");
    assert!(me.connected);
    // Acting is remembered.
    coord.ok(Command::EndShift { staff: id }).await?;
    let CommandResult::Directory { staff, .. } = coord.ok(Command::Directory {}).await? else {
        anyhow::bail!("directory")
    };
    let me = staff
        .iter()
        .find(|s| s.login == "coord.hale")
        .expect("listed");
    assert!(me.last_action_at.is_some());
    hub.stop().await
}

#[tokio::test]
async fn history_and_timeline_tell_the_night_and_only_to_those_allowed() -> anyhow::Result<()> {
    use Command::*;
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut w8_nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let done = raise_ok(&mut nurse, cannula_w7()).await?;
    patel.ok(Accept { task: done.id }).await?;
    patel
        .ok(Complete {
            task: done.id,
            outcome: "sited".into(),
        })
        .await?;
    let open = raise_ok(
        &mut w8_nurse,
        raise(
            "w8",
            wardpage_proto::Requirement::Role(wardpage_proto::Role::Fy1),
            wardpage_proto::Priority::Soon,
        ),
    )
    .await?;
    let amu = raise_ok(
        &mut coord,
        raise(
            "amu",
            wardpage_proto::Requirement::Role(wardpage_proto::Role::Fy1),
            wardpage_proto::Priority::Soon,
        ),
    )
    .await?;

    let CommandResult::History { tasks, .. } = coord
        .ok(History {
            since: 0,
            after: None,
        })
        .await?
    else {
        anyhow::bail!("history")
    };
    let ids: Vec<_> = tasks.iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        vec![done.id, open.id, amu.id],
        "closed tasks too, oldest first"
    );
    let CommandResult::History { tasks, .. } = nic
        .ok(History {
            since: 0,
            after: None,
        })
        .await?
    else {
        anyhow::bail!("history")
    };
    assert_eq!(
        tasks.len(),
        2,
        "the nurse in charge of Wards 7 and 8 sees only those"
    );
    let e = nurse
        .command(History {
            since: 0,
            after: None,
        })
        .await?
        .expect_err("a nurse may not");
    assert_eq!(e.code, ErrorCode::Forbidden);

    let CommandResult::Timeline { entries, .. } = coord.ok(Timeline { task: done.id }).await?
    else {
        anyhow::bail!("timeline")
    };
    let steps: Vec<(String, Option<String>)> = entries
        .iter()
        .map(|e| (e.action.clone(), e.actor.as_ref().map(|a| a.name.clone())))
        .collect();
    assert_eq!(
        steps,
        vec![
            ("raise".into(), Some("Nurse Sam Okafor".into())),
            ("accept".into(), Some("Dr Asha Patel".into())),
            ("complete".into(), Some("Dr Asha Patel".into())),
        ]
    );
    assert_eq!(entries[2].detail, "sited");
    // The raiser may read her own task's timeline; another ward's nurse may not.
    nurse.ok(Timeline { task: done.id }).await?;
    let e = w8_nurse
        .command(Timeline { task: done.id })
        .await?
        .expect_err("not her ward");
    assert_eq!(e.code, ErrorCode::NotFound);
    hub.stop().await
}

#[tokio::test]
async fn escalate_now_is_for_coordinators() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    let e = nurse
        .command(Command::EscalateNow { task: task.id })
        .await?
        .expect_err("nurse");
    assert_eq!(e.code, ErrorCode::Forbidden);
    let r = coord.ok(Command::EscalateNow { task: task.id }).await?;
    assert_eq!(task_of(&r).escalation_level, 1);
    let e = patel
        .wait_for(|e| matches!(e, Event::TaskEscalated { .. }))
        .await?;
    let Event::TaskEscalated {
        alerted, reason, ..
    } = e
    else {
        unreachable!()
    };
    assert!(
        alerted.iter().any(|a| a.name == "Dr Asha Patel"),
        "{reason}"
    );
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    let last = audit.last().expect("rows");
    assert_eq!(last.action, "escalate");
    assert!(last.detail.starts_with("by hand"), "{}", last.detail);
    hub.stop().await
}

/// Whether the directory shows `login` as connected.
async fn shown_connected(coord: &mut Client, login: &str) -> anyhow::Result<bool> {
    let CommandResult::Directory { staff, .. } = coord.ok(Command::Directory {}).await? else {
        anyhow::bail!("directory")
    };
    Ok(staff
        .iter()
        .find(|s| s.login == login)
        .is_some_and(|s| s.connected))
}

#[tokio::test]
async fn presence_converges_when_devices_come_and_go_at_once() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let token =
        wardpage_tests::client::login(&base, "fy1.patel", wardpage_tests::DEMO_PASSWORD).await?;
    // Two phones of one doctor connecting and dropping over each other.
    for _ in 0..20 {
        let (a, b) = tokio::join!(
            Client::connect(&base, &token, 0),
            Client::connect(&base, &token, 0)
        );
        let (a, b) = (a?, b?);
        tokio::join!(a.close(), b.close());
    }
    let last = Client::connect(&base, &token, 0).await?;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !shown_connected(&mut coord, "fy1.patel").await? {
        assert!(
            tokio::time::Instant::now() < deadline,
            "shown gone while a phone is connected"
        );
        tokio::task::yield_now().await;
    }
    last.close().await;
    while shown_connected(&mut coord, "fy1.patel").await? {
        assert!(
            tokio::time::Instant::now() < deadline,
            "shown connected with no phone left"
        );
        tokio::task::yield_now().await;
    }
    hub.stop().await
}
