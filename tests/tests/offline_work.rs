//! Work done offline (issue 17, hazard 5): Dr Patel completes a task with
//! her phone offline while the coordinator gives it to Dr Khan; her queued
//! `complete` is refused on reconnect, and `complete_offline` records the
//! completion on her word, telling Dr Khan and the coordinator.

use wardpage_proto::{Command, ErrorCode, Role, TaskChange};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

#[tokio::test]
async fn a_former_holder_reports_work_done_offline() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut fy1 = Client::login_connect(&base, "fy1.patel").await?;
    let mut sho = Client::login_connect(&base, "sho.khan").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;

    let t = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
    fy1.ok(Command::Accept { task: t.id }).await?;
    let done_at = hub.now();
    // Meanwhile (her phone offline), the coordinator gives it to Dr Khan.
    coord
        .ok(Command::Assign {
            task: t.id,
            staff: sho.id(),
        })
        .await?;

    // Her queued completion, sent on reconnect, is refused: she does not hold it.
    let code = fy1
        .command(Command::Complete {
            task: t.id,
            outcome: "Bloods sent".into(),
        })
        .await?
        .expect_err("no longer hers")
        .code;
    assert_eq!(code, ErrorCode::Forbidden);

    // Someone who never held it may not report it done.
    let code = reg
        .command(Command::CompleteOffline {
            task: t.id,
            outcome: String::new(),
            done_at,
        })
        .await?
        .expect_err("never held it")
        .code;
    assert!(
        matches!(code, ErrorCode::Forbidden | ErrorCode::NotFound),
        "{code:?}"
    );
    // Nor the new holder, who simply completes it.
    let code = sho
        .command(Command::CompleteOffline {
            task: t.id,
            outcome: String::new(),
            done_at,
        })
        .await?
        .expect_err("he holds it")
        .code;
    assert_eq!(code, ErrorCode::InvalidState);

    let r = fy1
        .ok(Command::CompleteOffline {
            task: t.id,
            outcome: "Bloods sent".into(),
            done_at,
        })
        .await?;
    let done = task_of(&r);
    assert_eq!(done.state, wardpage_proto::TaskState::Completed);
    assert_eq!(
        done.assignee.as_ref().map(|a| a.name.as_str()),
        Some("Dr Asha Patel")
    );
    let note = done.closing_note.clone().unwrap_or_default();
    assert!(
        note.starts_with("Bloods sent (done by Dr Asha Patel while offline, ")
            && note.ends_with("it had been given to Dr Omar Khan)"),
        "{note}"
    );

    // Dr Khan and the coordinator are told it is done.
    for c in [&mut sho, &mut coord] {
        let seen = task_event(c, t.id, TaskChange::Completed).await?;
        assert_eq!(seen.closing_note.as_deref(), Some(note.as_str()));
    }
    let audit = hub.store.audit_for(&t.id.to_string()).await?;
    let row = audit
        .iter()
        .find(|a| a.action == "complete_offline")
        .ok_or_else(|| anyhow::anyhow!("audited: {audit:?}"))?;
    assert!(
        row.detail.contains(&format!("done at {done_at}")),
        "{}",
        row.detail
    );

    // Closed: a second report changes nothing.
    let again = fy1
        .command(Command::CompleteOffline {
            task: t.id,
            outcome: String::new(),
            done_at,
        })
        .await?;
    assert!(again.is_err(), "{again:?}");
    hub.stop().await
}
