//! One night's story, run against every storage backend: SQLite always,
//! PostgreSQL when `WARDPAGE_TEST_POSTGRES` names a server (CI sets it; a
//! run without it says loudly that it skipped).

use sqlx::Connection;
use std::sync::Arc;
use wardpage_proto::{Command, Event, PageTarget, Priority, Role, StaffId, TaskChange, TaskState};
use wardpage_server::config::Config;
use wardpage_server::domain::AuditRecord;
use wardpage_server::store::audit_chain::{self, AuditChain};
use wardpage_server::store::postgres::PgStore;
use wardpage_server::store::sqlite::SqliteStore;
use wardpage_server::store::{Batch, EventRow, Store, StoreError, StreamEvent};
use wardpage_tests::pg::on_fresh_postgres;
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

fn event(id: i64, to: &[(StaffId, u64)]) -> EventRow {
    EventRow {
        id,
        at: 1_000 + id,
        body: Arc::from(format!("{{\"event\":{id}}}")),
        recipients: to.to_vec(),
    }
}

fn seqs(events: &[StreamEvent]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
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

/// The fixture of [`a_large_prune`]: 201,000 events, 200,000 of them below
/// the inbox watermark with their inbox rows: `a` hears every event and
/// acknowledged them all, `b` every tenth and acknowledged half of its old
/// ones. Events 180,001-200,000 are recent; all others (those above the
/// watermark too) are old. Every event has its recipient rows.
const PRUNE_EVENTS: i64 = 201_000;
const PRUNE_WATERMARK: i64 = 200_000;
const PRUNE_OLD: i64 = 180_000;
const RECENT: i64 = 1_000_000_000_000;

fn prune_fixture(a: StaffId, b: StaffId) -> Vec<String> {
    let b_acked = PRUNE_OLD / 20;
    let nums = |top: i64| {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {top})")
    };
    vec![
        format!(
            "{} INSERT INTO events (id, at, body) SELECT i, \
             CASE WHEN i > {PRUNE_OLD} AND i <= {PRUNE_WATERMARK} THEN {RECENT} ELSE 1 END, \
             '{{}}' FROM n",
            nums(PRUNE_EVENTS)
        ),
        // Every event's recipients, as its commit wrote them.
        format!(
            "{} INSERT INTO event_recipients (event, staff, seq) SELECT i, '{a}', i FROM n",
            nums(PRUNE_EVENTS)
        ),
        format!(
            "{} INSERT INTO event_recipients (event, staff, seq) SELECT i * 10, '{b}', i FROM n",
            nums(PRUNE_EVENTS / 10)
        ),
        format!(
            "{} INSERT INTO inbox (staff, seq, event) SELECT '{a}', i, i FROM n",
            nums(PRUNE_WATERMARK)
        ),
        format!(
            "{} INSERT INTO inbox (staff, seq, event) SELECT '{b}', i, i * 10 FROM n",
            nums(PRUNE_WATERMARK / 10)
        ),
        format!(
            "INSERT INTO streams (staff, last_seq, acked_seq) VALUES \
             ('{a}', {PRUNE_WATERMARK}, {PRUNE_EVENTS}), ('{b}', {}, {b_acked})",
            PRUNE_WATERMARK / 10
        ),
        format!("UPDATE meta SET value = {PRUNE_WATERMARK} WHERE key = 'inbox_through'"),
    ]
}

/// A prune of a large history while group commits stream in: every commit
/// succeeds, and commits complete while the prune is under way (seen as
/// `a`'s stream floor part-way up), so none waited behind the whole prune;
/// the prune then leaves exactly what must stay. `query` runs SQL on the
/// database and returns the first column of the first row.
async fn a_large_prune<Q, Fut>(store: Arc<dyn Store>, query: Q) -> anyhow::Result<()>
where
    Q: Fn(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<i64>>,
{
    let (a, b) = (StaffId::new_random(), StaffId::new_random());
    for sql in prune_fixture(a, b) {
        query(sql).await?;
    }
    let floor_a = format!("SELECT pruned_through FROM streams WHERE staff = '{a}'");
    let pruner = store.clone();
    let prune = tokio::spawn(async move { pruner.prune(2, 0).await });
    let (mut commits, mut during) = (0, 0);
    while !prune.is_finished() {
        commits += 1;
        let id = PRUNE_EVENTS + commits;
        let batch = Batch {
            events: vec![event(id, &[])],
            ..Default::default()
        };
        store.commit(&batch).await?;
        let floor = query(floor_a.clone()).await?;
        if floor > 0 && floor < PRUNE_OLD {
            during += 1;
        }
    }
    let gone = prune.await??;
    let b_acked = PRUNE_OLD / 20;
    assert_eq!(gone, (PRUNE_OLD + b_acked) as u64, "stream entries pruned");
    assert!(
        during > 0,
        "{commits} commits went through, none of them while the prune was under way"
    );
    let count = |sql: &str| query(sql.to_string());
    assert_eq!(query(floor_a).await?, PRUNE_OLD);
    assert_eq!(
        count(&format!(
            "SELECT pruned_through FROM streams WHERE staff = '{b}'"
        ))
        .await?,
        b_acked
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM inbox WHERE staff = '{a}'")).await?,
        PRUNE_WATERMARK - PRUNE_OLD,
        "a's recent entries stay"
    );
    assert_eq!(
        count(&format!("SELECT count(*) FROM inbox WHERE staff = '{b}'")).await?,
        PRUNE_WATERMARK / 10 - b_acked,
        "b's unacknowledged and recent entries stay"
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id > {PRUNE_WATERMARK}"
        ))
        .await?,
        PRUNE_EVENTS - PRUNE_WATERMARK + commits,
        "nothing above the watermark is pruned, however old"
    );
    // Old events go once no stream refers to them: all but b's unacked ones.
    let kept_old = PRUNE_OLD / 10 - b_acked;
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id <= {PRUNE_OLD}"
        ))
        .await?,
        kept_old
    );
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM events WHERE id > {PRUNE_OLD} AND id <= {PRUNE_WATERMARK}"
        ))
        .await?,
        PRUNE_WATERMARK - PRUNE_OLD,
        "recent events stay"
    );
    // Recipient rows are read only above the watermark: below it they go,
    // however recent; above it they stay, however old.
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM event_recipients WHERE event <= {PRUNE_WATERMARK}"
        ))
        .await?,
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM event_recipients").await?,
        (PRUNE_EVENTS - PRUNE_WATERMARK) * 11 / 10,
        "a's and b's rows of the events above the watermark stay"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_prune_never_holds_up_a_group_commit_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("prune.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await?);
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(std::time::Duration::from_secs(30)),
        )
        .await?;
    a_large_prune(store, |sql| {
        let db = db.clone();
        async move {
            let row: Option<(i64,)> = sqlx::query_as(&sql).fetch_optional(&db).await?;
            Ok(row.map_or(0, |r| r.0))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_prune_never_holds_up_a_group_commit_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_large_prune_never_holds_up_a_group_commit_on_postgres",
        |url| async move {
            let store: Arc<dyn Store> = Arc::new(PgStore::open(&url).await?);
            let db = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(&url)
                .await?;
            a_large_prune(store, |sql| {
                let db = db.clone();
                async move {
                    let row: Option<(i64,)> = sqlx::query_as(&sql).fetch_optional(&db).await?;
                    Ok(row.map_or(0, |r| r.0))
                }
            })
            .await
        },
    )
    .await
}

/// Staff ids that share a prefix, a suffix or digits with each other: each
/// event is found by exactly its own recipients, above the watermark (the
/// events' recipient rows) and below it (the inbox), at start-up too.
async fn neighbouring_ids(store: &dyn Store) -> anyhow::Result<()> {
    let id = |n: u128| StaffId(uuid::Uuid::from_u128(n));
    let (a, b, c, d) = (id(0x1), id(0x11), id(0x10), id((1 << 124) | 0x1));
    let to = [(b, 1), (c, 1), (d, 1), (a, 1), (a, 2)];
    store
        .commit(&Batch {
            events: to
                .iter()
                .enumerate()
                .map(|(i, r)| event(i as i64 + 1, &[*r]))
                .collect(),
            ..Batch::default()
        })
        .await?;
    let bodies = |events: Vec<StreamEvent>| -> Vec<(u64, String)> {
        events.into_iter().map(|e| (e.seq, e.body)).collect()
    };
    let expect = |n: i64, seq: u64| (seq, format!("{{\"event\":{n}}}"));
    let check = || async move {
        assert_eq!(
            bodies(store.replay(a, 0, 100).await?),
            [expect(4, 1), expect(5, 2)]
        );
        assert_eq!(bodies(store.replay(a, 1, 100).await?), [expect(5, 2)]);
        assert_eq!(bodies(store.replay(b, 0, 100).await?), [expect(1, 1)]);
        assert_eq!(bodies(store.replay(c, 0, 100).await?), [expect(2, 1)]);
        assert_eq!(bodies(store.replay(d, 0, 100).await?), [expect(3, 1)]);
        assert!(store.replay(id(0x100), 0, 100).await?.is_empty());
        anyhow::Ok(())
    };
    check().await?;
    let mut tail = store.load(0, 0).await?.inbox_tail;
    tail.sort();
    let mut owed: Vec<_> = to
        .iter()
        .enumerate()
        .map(|(i, (s, seq))| (*s, *seq, i as i64 + 1))
        .collect();
    owed.sort();
    assert_eq!(tail, owed, "each recipient owed exactly their rows");
    // The inbox written and the watermark past them all: the same answers.
    store
        .commit(&Batch {
            inbox: owed,
            inbox_through: Some(5),
            streams: vec![(a, 2), (b, 1), (c, 1), (d, 1)],
            ..Batch::default()
        })
        .await?;
    check().await?;
    assert!(store.load(0, 0).await?.inbox_tail.is_empty());
    Ok(())
}

#[tokio::test]
async fn neighbouring_ids_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = SqliteStore::open(&dir.path().join("ids.db")).await?;
    neighbouring_ids(&store).await
}

#[tokio::test]
async fn neighbouring_ids_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("neighbouring_ids_on_postgres", |url| async move {
        neighbouring_ids(&PgStore::open(&url).await?).await
    })
    .await
}

/// A database's migrations up to `through`, from the repository's files.
async fn migrations_through(
    backend: &str,
    through: i64,
) -> anyhow::Result<sqlx::migrate::Migrator> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../server/migrations")
        .join(backend);
    let mut migrator = sqlx::migrate::Migrator::new(dir).await?;
    let kept: Vec<_> = migrator
        .migrations
        .iter()
        .filter(|m| m.version <= through)
        .cloned()
        .collect();
    migrator.migrations = kept.into();
    Ok(migrator)
}

/// Events stored with the encoded recipient lists of before the
/// `event_recipients` table: one at the watermark, whose inbox rows are
/// written (left out here, so that a replay shows it was not moved), and
/// two above it, one with no recipients.
const OLD_EVENTS: [&str; 2] = [
    "UPDATE meta SET value = 1 WHERE key = 'inbox_through'",
    "INSERT INTO events (id, at, body, recipients) VALUES \
     (1, 1001, 'one', '00000000-0000-0000-0000-000000000001:1'), \
     (2, 1002, 'two', '00000000-0000-0000-0000-000000000001:2,00000000-0000-0000-0000-000000000011:1'), \
     (3, 1003, 'three', '')",
];

/// What the migration moved: the tail's recipients, each exactly once.
async fn moved_over(store: &dyn Store) -> anyhow::Result<()> {
    let id = |n: u128| StaffId(uuid::Uuid::from_u128(n));
    let loaded = store.load(0, 0).await?;
    assert_eq!(loaded.max_event_id, 3);
    let mut tail = loaded.inbox_tail;
    tail.sort();
    assert_eq!(tail, [(id(0x1), 2, 2), (id(0x11), 1, 2)]);
    let replayed = store.replay(id(0x11), 0, 10).await?;
    assert_eq!(replayed.len(), 1);
    assert_eq!((replayed[0].seq, replayed[0].body.as_str()), (1, "two"));
    assert_eq!(seqs(&store.replay(id(0x1), 0, 10).await?), [2]);
    Ok(())
}

#[tokio::test]
async fn recipient_lists_move_to_their_table_on_sqlite() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("old.db");
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    migrations_through("sqlite", 9)
        .await?
        .run(&mut conn)
        .await?;
    for sql in OLD_EVENTS {
        sqlx::query(sql).execute(&mut conn).await?;
    }
    conn.close().await?;
    moved_over(&SqliteStore::open(&path).await?).await
}

#[tokio::test]
async fn recipient_lists_move_to_their_table_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres(
        "recipient_lists_move_to_their_table_on_postgres",
        |url| async move {
            let mut conn = sqlx::PgConnection::connect(&url).await?;
            migrations_through("postgres", 6)
                .await?
                .run(&mut conn)
                .await?;
            for sql in OLD_EVENTS {
                sqlx::query(sql).execute(&mut conn).await?;
            }
            conn.close().await?;
            moved_over(&PgStore::open(&url).await?).await
        },
    )
    .await
}
