//! One night's story, run against every storage backend: SQLite always,
//! PostgreSQL when `WARDPAGE_TEST_POSTGRES` names a server (CI sets it; a
//! run without it says loudly that it skipped).

use sqlx::Connection;
use wardpage_proto::{Command, Event, PageTarget, Priority, Role, TaskChange, TaskState};
use wardpage_server::config::Config;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

/// Raise, decline, accept, page, escalate, restart: all still there.
async fn a_night(hub: TestHub) -> anyhow::Result<()> {
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    task_event(&mut patel, task.id, TaskChange::Raised).await?;
    patel.ok(Command::Accept { task: task.id }).await?;
    let unowned = raise_ok(&mut nurse, needs_role("w7", Role::Consultant)).await?;
    assert_eq!(unowned.state, TaskState::NoOneAccepted);
    let escalated = coord
        .wait_for(|e| matches!(e, Event::TaskEscalated { task, .. } if task.id == unowned.id))
        .await?;
    assert!(matches!(escalated, Event::TaskEscalated { level: 1, .. }));
    nurse
        .ok(Command::SendPage {
            target: PageTarget::Staff(patel.id()),
            priority: Priority::Urgent,
            callback: "ext 4471".into(),
            message: "please call".into(),
        })
        .await?;
    let (cursor_before, _) = snapshot(&mut patel).await?;
    let token = patel.token.clone();
    drop((nurse, patel, coord));

    let hub = hub.restart().await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    let held = tasks
        .iter()
        .find(|t| t.id == task.id)
        .expect("survived the restart");
    assert_eq!(held.state, TaskState::Accepted);
    assert_eq!(
        held.assignee.as_ref().map(|a| a.name.as_str()),
        Some("Dr Asha Patel")
    );
    let mut patel = Client::connect(&base, &token, 0).await?;
    assert_eq!(
        patel.welcome_cursor, cursor_before,
        "the stream position survived"
    );
    let mut seen = 0;
    while patel.cursor < cursor_before {
        patel.next_event().await?;
        seen += 1;
    }
    assert_eq!(seen, cursor_before, "replayed from the store, gap-free");
    let audit = hub.store.audit_for(&task.id.to_string()).await?;
    assert_eq!(audit.len(), 2, "raise and accept");
    // Pruning runs on this backend too: nothing was acknowledged, so
    // nothing may go.
    let now = wardpage_server::clock::now_ms();
    assert_eq!(hub.store.prune(now + 1000, 0).await?, 0);
    assert_eq!(hub.store.stream_floor(patel.id()).await?, 0);
    hub.stop().await
}

#[tokio::test]
async fn a_night_on_sqlite() -> anyhow::Result<()> {
    a_night(TestHub::start().await?).await
}

#[tokio::test]
async fn a_night_on_postgres() -> anyhow::Result<()> {
    let Ok(admin_url) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!("SKIPPED a_night_on_postgres: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it");
        return Ok(());
    };
    // A fresh database per run, dropped afterwards.
    let name = format!("wardpage_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .unwrap_or((admin_url.as_str(), ""));
    let url = format!("{base}/{name}");
    let result = async {
        let hub = TestHub::start_with(|c: &mut Config| c.database = url.clone().into()).await?;
        a_night(hub).await
    }
    .await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    result
}
