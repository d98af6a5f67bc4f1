//! One night's story, run against every storage backend: SQLite always,
//! PostgreSQL when `WARDPAGE_TEST_POSTGRES` names a server (CI sets it; a
//! run without it says loudly that it skipped).
//! Also the inbox watermark's story, the audit chain, and a hub's claim on
//! its database. The event log's bulk rows (pruning, look-alike staff ids,
//! the recipient-list migration) are in `backends_events.rs`.

use sqlx::Connection;
use wardpage_proto::{Command, Event, PageTarget, Priority, Role, StaffId, TaskChange, TaskState};
use wardpage_server::config::Config;
use wardpage_server::domain::AuditRecord;
use wardpage_server::store::audit_chain::{self, AuditChain};
use wardpage_server::store::postgres::PgStore;
use wardpage_server::store::sqlite::SqliteStore;
use wardpage_server::store::{Batch, Store, StoreError};
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::store_rows::{event, seqs};
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
            ward: None,
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
    on_fresh_postgres("a_night_on_postgres", |url| async move {
        let hub = TestHub::start_with(|c: &mut Config| c.database = url.clone().into()).await?;
        a_night(hub).await
    })
    .await
}

/// Inbox rows are written in bulk, after their events: replay, start-up
/// and pruning must all see the events above the watermark through their
/// own recipient lists, and see each event exactly once either side of it.
async fn the_inbox_tail(store: &dyn Store) -> anyhow::Result<()> {
    let (a, b, c) = (
        StaffId::new_random(),
        StaffId::new_random(),
        StaffId::new_random(),
    );
    // Two events, no inbox rows yet.
    store
        .commit(&Batch {
            events: vec![event(1, &[(a, 1), (b, 1)]), event(2, &[(a, 2)])],
            ..Batch::default()
        })
        .await?;
    assert_eq!(seqs(&store.replay(a, 0, 100).await?), [1, 2]);
    assert_eq!(seqs(&store.replay(b, 0, 100).await?), [1]);
    assert_eq!(seqs(&store.replay(a, 1, 100).await?), [2]);
    assert_eq!(seqs(&store.replay(a, 0, 1).await?), [1]);
    assert!(store.replay(c, 0, 100).await?.is_empty());
    let replayed = store.replay(a, 1, 100).await?;
    assert_eq!(replayed[0].body, "{\"event\":2}");
    assert_eq!(replayed[0].at, 1_002);

    // A third event rides with the bulk write of the first two's rows, and
    // its own row is written early (as by a write spread over commits).
    store
        .commit(&Batch {
            events: vec![event(3, &[(a, 3)])],
            inbox: vec![(a, 1, 1), (a, 2, 2), (a, 3, 3), (b, 1, 1)],
            inbox_through: Some(2),
            streams: vec![(a, 2), (b, 1)],
            // `c` has no stream row yet: the ack makes one.
            acks: vec![(a, 3), (c, 0)],
            ..Batch::default()
        })
        .await?;
    assert_eq!(
        seqs(&store.replay(a, 0, 100).await?),
        [1, 2, 3],
        "once each"
    );
    assert_eq!(seqs(&store.replay(a, 0, 2).await?), [1, 2]);
    assert_eq!(seqs(&store.replay(a, 2, 100).await?), [3]);

    // Start-up counts the tail in each stream and owes its rows.
    let loaded = store.load(0, 0).await?;
    assert_eq!(loaded.max_event_id, 3);
    assert_eq!(loaded.inbox_tail, vec![(a, 3, 3)]);
    let stream = |s: StaffId| loaded.streams.iter().find(|x| x.0 == s).copied();
    assert_eq!(stream(a), Some((a, 3, 3)));
    assert_eq!(stream(b), Some((b, 1, 0)));

    // Everything is old enough to prune, and `a` acknowledged all of it:
    // its inbox rows go, but event 3 is above the watermark and must stay.
    let gone = store.prune(1_000_000, 0).await?;
    assert_eq!(gone, 3, "a's three inbox rows");
    assert_eq!(store.stream_floor(a).await?, 2);
    assert_eq!(seqs(&store.replay(a, 2, 100).await?), [3]);
    assert_eq!(seqs(&store.replay(b, 0, 100).await?), [1], "b never acked");

    // A row written twice (rebuilt after a crash mid-write) is no error.
    store
        .commit(&Batch {
            inbox: vec![(b, 1, 1), (a, 3, 3)],
            inbox_through: Some(3),
            streams: vec![(a, 3), (b, 1)],
            ..Batch::default()
        })
        .await?;
    assert_eq!(seqs(&store.replay(a, 2, 100).await?), [3]);
    assert!(store.load(0, 0).await?.inbox_tail.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_inbox_tail_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("tail.db")).await?;
    the_inbox_tail(&store).await
}

#[tokio::test]
async fn the_inbox_tail_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("the_inbox_tail_on_postgres", |url| async move {
        let store = PgStore::open(&url).await?;
        the_inbox_tail(&store).await
    })
    .await
}

/// Chained audit rows, several to a commit (a multi-row insert on
/// PostgreSQL): stored in the order they were linked, continued after a
/// reload, and verified; an edit is caught at its row.
async fn the_audit_chain(store: &dyn Store) -> anyhow::Result<()> {
    let mut chain = AuditChain::after(None);
    let record = |n: i64| AuditRecord {
        at: 1_000 + n,
        actor: (n % 2 == 0).then(StaffId::new_random),
        entity: "task",
        entity_id: format!("t{}", n % 3),
        action: "raise",
        from_state: None,
        to_state: Some("offering".into()),
        detail: format!("row {n}"),
    };
    let mut n = 0;
    for _ in 0..2 {
        let audit = (0..40)
            .map(|_| {
                n += 1;
                chain.chain(record(n))
            })
            .collect();
        store
            .commit(&Batch {
                audit,
                ..Default::default()
            })
            .await?;
    }
    // What a restarted writer continues from.
    let head = store.load(0, 0).await?.audit_head;
    assert_eq!(head.as_deref(), Some(chain.head().as_str()));
    let mut chain = AuditChain::after(head.as_deref());
    n += 1;
    let last = chain.chain(record(n));
    store
        .commit(&Batch {
            audit: vec![last.clone()],
            ..Default::default()
        })
        .await?;
    let v = audit_chain::verify(store).await?;
    assert_eq!((v.rows, v.unchained, v.broken.clone()), (81, 0, None));
    assert_eq!(v.head(), Some(last.hash));
    // The trail read back page by page, in order.
    let page = store.audit_page(10, 5).await?;
    let ids: Vec<i64> = page.iter().map(|(r, _)| r.id).collect();
    assert_eq!(ids, [11, 12, 13, 14, 15]);
    assert_eq!(page[0].0.detail, "row 11");
    Ok(())
}

#[tokio::test]
async fn the_audit_chain_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("audit.db")).await?;
    the_audit_chain(&store).await
}

#[tokio::test]
async fn the_audit_chain_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("the_audit_chain_on_postgres", |url| async move {
        let store = PgStore::open(&url).await?;
        the_audit_chain(&store).await?;
        // And an edit made round the trigger is caught at its row.
        let mut conn = sqlx::PgConnection::connect(&url).await?;
        sqlx::query("ALTER TABLE audit DISABLE TRIGGER audit_append_only")
            .execute(&mut conn)
            .await?;
        sqlx::query("UPDATE audit SET detail = 'row 0' WHERE id = 7")
            .execute(&mut conn)
            .await?;
        let v = audit_chain::verify(&store).await?;
        assert_eq!(v.broken.map(|b| b.0), Some(7));
        Ok(())
    })
    .await
}

#[tokio::test]
async fn one_hub_per_database_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("claim.db");
    let first = SqliteStore::open(&path).await?;
    let second = SqliteStore::open(&path).await?;
    one_hub_per_database(&first, &second).await
}

#[tokio::test]
async fn one_hub_per_database_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("one_hub_per_database_on_postgres", |url| async move {
        let first = PgStore::open(&url).await?;
        let second = PgStore::open(&url).await?;
        one_hub_per_database(&first, &second).await
    })
    .await
}

/// Two stores on one database: only one may be claimed at a time.
async fn one_hub_per_database(first: &dyn Store, second: &dyn Store) -> anyhow::Result<()> {
    let claim = first.claim_hub().await?;
    let refused = second.claim_hub().await;
    assert!(
        matches!(refused, Err(StoreError::Claimed(_))),
        "a second claim must be refused"
    );
    claim.release().await;
    let claim = second.claim_hub().await?;
    assert!(matches!(
        first.claim_hub().await,
        Err(StoreError::Claimed(_))
    ));
    claim.release().await;
    Ok(())
}

/// PostgreSQL drops an advisory lock with its connection: a hub whose
/// claim connection is cut stops (with an error, for its supervisor)
/// rather than serve beside a hub that may have claimed the database since.
#[tokio::test]
async fn a_hub_that_loses_its_claim_on_postgres_stops() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_hub_that_loses_its_claim_on_postgres_stops",
        |url| async move {
            let db = url.clone();
            let mut hub = TestHub::start_with(move |c: &mut Config| c.database = db.into()).await?;
            // The hub is serving, so it holds the claim.
            Client::login_connect(&hub.base(), "coord.hale").await?;
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            let cut: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_all(&mut admin)
            .await?;
            assert_eq!(cut, [true], "exactly one hub claim to cut");
            let result = hub
                .stopped_within(std::time::Duration::from_secs(15))
                .await?;
            let err = result.expect_err("a hub without its claim stops with an error");
            assert!(err.to_string().contains("lost the claim"), "{err}");
            // And the database can be served again.
            let store = PgStore::open(&url).await?;
            store.claim_hub().await?.release().await;
            Ok(())
        },
    )
    .await
}

/// A store whose claim connection was cut while a second store claimed the
/// database: its next commit fails and writes nothing (the second's commit
/// of the same event id goes through), and it stays refused.
#[tokio::test]
async fn a_stale_claim_commits_nothing_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_stale_claim_commits_nothing_on_postgres",
        |url| async move {
            let first = PgStore::open(&url).await?;
            let mut claim = first.claim_hub().await?;
            let a = StaffId::new_random();
            let one = |id| Batch {
                events: vec![event(id, &[(a, id as u64)])],
                ..Default::default()
            };
            first.commit(&one(1)).await?;
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            let cut: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
             WHERE locktype = 'advisory' AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_all(&mut admin)
            .await?;
            assert_eq!(cut, [true]);
            let second = PgStore::open(&url).await?;
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
            let claim2 = loop {
                match second.claim_hub().await {
                    Ok(c) => break c,
                    Err(StoreError::Claimed(_)) if tokio::time::Instant::now() < deadline => {
                        tokio::time::sleep(std::time::Duration::from_millis(5)).await
                    }
                    Err(e) => return Err(e.into()),
                }
            };
            let stale = first.commit(&one(2)).await;
            assert!(stale.is_err(), "a stale hub's commit must fail");
            second.commit(&one(2)).await?;
            let stored: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
                .fetch_all(&mut admin)
                .await?;
            assert_eq!(stored, [1, 2]);
            assert!(first.commit(&one(3)).await.is_err(), "and stays refused");
            assert!(
                first.load(0, 0).await.is_err(),
                "a fenced store does not reload"
            );
            assert!(!claim.alive().await, "its claim is lost");
            claim.release().await;
            claim2.release().await;
            Ok(())
        },
    )
    .await
}
