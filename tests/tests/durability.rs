//! Nothing the hub said "ok" to is ever lost: not across a dropped
//! connection, not across a SIGKILL. Resumed streams have every missed
//! event exactly once after de-duplication.

use std::collections::BTreeSet;
use wardpage_proto::{Command, Event, TaskChange};
use wardpage_server::config::Config;
use wardpage_tests::client::login;
use wardpage_tests::story::*;
use wardpage_tests::{Client, HubProcess, TestHub, DEMO_PASSWORD};

/// These tests are about delivery, not reach: the doctor is offline on
/// purpose, so an offer to nobody connected waits for its step as before
/// (the default would escalate it at once, adding events to the streams).
const WAIT: &str = "[escalation]\nnobody_connected = \"wait\"\n";

fn waiting(c: &mut Config) {
    c.escalation = Config::parse(WAIT).expect("the option parses").escalation;
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_every_missed_event() -> anyhow::Result<()> {
    let hub = TestHub::start_with(waiting).await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut doctor = Client::login_connect(&hub.base(), "fy1.patel").await?;
    let first = raise_ok(&mut nurse, cannula_w7()).await?;
    task_event(&mut doctor, first.id, TaskChange::Raised).await?;
    doctor.ack().await?;
    let cursor = doctor.cursor;

    // The doctor walks into a stairwell.
    let token = doctor.token.clone();
    drop(doctor);
    let mut raised = Vec::new();
    for _ in 0..25 {
        raised.push(raise_ok(&mut nurse, cannula_w7()).await?.id);
    }

    let mut doctor = Client::connect(&hub.base(), &token, cursor).await?;
    assert!(!doctor.resync);
    let mut got = Vec::new();
    while got.len() < raised.len() {
        let (_, e) = doctor.next_event().await?;
        if let Event::Task {
            task,
            change: TaskChange::Raised,
            ..
        } = e
        {
            got.push(task.id);
        }
    }
    assert_eq!(got, raised, "every missed raise, in order");

    // Reconnecting with an older cursor re-sends; the client drops the repeats.
    let old = doctor.cursor;
    drop(doctor);
    let mut doctor = Client::connect(&hub.base(), &token, cursor).await?;
    doctor.cursor = old; // what the device had processed
    let newest = raise_ok(&mut nurse, cannula_w7()).await?;
    let t = task_event(&mut doctor, newest.id, TaskChange::Raised).await?;
    assert_eq!(t.id, newest.id);
    assert_eq!(
        doctor.duplicates,
        raised.len() as u64,
        "the replayed events were seen as duplicates"
    );
    hub.stop().await
}

#[tokio::test]
async fn a_cursor_ahead_of_the_hub_gets_resync() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let token = login(&hub.base(), "fy1.patel", DEMO_PASSWORD).await?;
    let mut c = Client::connect(&hub.base(), &token, 999).await?;
    assert!(c.resync, "a device from another database must start over");
    assert_eq!(c.welcome_cursor, 0);
    let (cursor, _) = snapshot(&mut c).await?;
    assert_eq!(cursor, 0);
    // A fresh device asks for no history explicitly: no replay, resync.
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    raise_ok(&mut nurse, cannula_w7()).await?;
    let mut fresh = Client::connect_fresh(&hub.base(), &token).await?;
    assert!(fresh.resync);
    assert_eq!(fresh.welcome_cursor, 1);
    // A replay is sent before the hub reads any command: by the snapshot's
    // answer, every replayed event would have arrived.
    let (_, tasks) = snapshot(&mut fresh).await?;
    assert_eq!(fresh.buffered(), 0, "no replay");
    assert_eq!(tasks.len(), 1, "the snapshot has it instead");
    hub.stop().await
}

#[tokio::test]
async fn the_same_command_id_applies_once() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let id = wardpage_proto::CommandId::new_random();
    nurse.send_with_id(id, cannula_w7()).await?;
    let first = nurse.reply(id).await?.expect("raised");
    // The nurse's phone lost the reply and re-sends on a new connection.
    let mut nurse = nurse.reconnect().await?;
    nurse.send_with_id(id, cannula_w7()).await?;
    let second = nurse.reply(id).await?.expect("same answer");
    assert_eq!(task_of(&first).id, task_of(&second).id, "one task, not two");
    // Twice in the same instant (one batch) as well.
    let id2 = wardpage_proto::CommandId::new_random();
    nurse.send_with_id(id2, cannula_w7()).await?;
    nurse.send_with_id(id2, cannula_w7()).await?;
    let a = nurse.reply(id2).await?.expect("first");
    let b = nurse.reply(id2).await?.expect("second");
    assert_eq!(task_of(&a).id, task_of(&b).id);
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    assert_eq!(tasks.len(), 2, "two ids, two tasks");
    // The same id for a different command, or by someone else, is refused.
    let e = nurse
        .command_with_id(id, Command::Snapshot { after: None })
        .await?
        .expect_err("another command");
    assert_eq!(e.code, wardpage_proto::ErrorCode::IdReused);
    let e = coord
        .command_with_id(id, cannula_w7())
        .await?
        .expect_err("someone else's id");
    assert_eq!(e.code, wardpage_proto::ErrorCode::IdReused);
    // A first-time refusal is remembered too.
    let id3 = wardpage_proto::CommandId::new_random();
    let e1 = nurse
        .command_with_id(
            id3,
            Command::Accept {
                task: task_of(&a).id,
            },
        )
        .await?
        .expect_err("not offered to a nurse");
    let e2 = nurse
        .command_with_id(
            id3,
            Command::Accept {
                task: task_of(&a).id,
            },
        )
        .await?
        .expect_err("same answer");
    assert_eq!(e1, e2);
    // After a restart the answers come from the store, still the same.
    let hub = hub.restart().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    nurse.send_with_id(id, cannula_w7()).await?;
    let after = nurse.reply(id).await?.expect("same answer after a restart");
    assert_eq!(after, first, "word for word the first answer");
    let e3 = nurse
        .command_with_id(
            id3,
            Command::Accept {
                task: task_of(&a).id,
            },
        )
        .await?
        .expect_err("the same refusal after a restart");
    assert_eq!(e1, e3);
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert_eq!(tasks.len(), 2, "still two tasks");
    hub.stop().await
}

/// Raises a burst, kills the hub with SIGKILL right after the last "ok",
/// restarts it on the same file: every acknowledged task is there, and a
/// doctor who was offline resumes and is offered every one of them.
#[tokio::test]
async fn sigkill_after_a_burst_loses_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let config = dir.path().join("wardpage.toml");
    std::fs::write(&config, WAIT)?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let base = hub.base();
    let doctor_token = login(&base, "fy1.patel", DEMO_PASSWORD).await?;
    let mut nurses = Vec::new();
    for login_name in ["nurse.okafor", "hca.brown", "nic.grant"] {
        nurses.push(Client::login_connect(&base, login_name).await?);
    }
    let mut acknowledged = BTreeSet::new();
    for round in 0..20 {
        let mut ids = Vec::new();
        for n in nurses.iter_mut() {
            for _ in 0..10 {
                ids.push((n.send(cannula_w7()).await?, round));
            }
        }
        let mut k = 0;
        for n in nurses.iter_mut() {
            for _ in 0..10 {
                let (id, _) = ids[k];
                k += 1;
                acknowledged.insert(task_of(&n.reply(id).await?.expect("raised")).id);
            }
        }
    }
    assert_eq!(acknowledged.len(), 600);
    hub.kill9().await?;

    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    let stored: BTreeSet<_> = tasks.iter().map(|t| t.id).collect();
    assert_eq!(
        stored, acknowledged,
        "every acknowledged raise survived SIGKILL"
    );
    // The doctor, offline throughout, resumes from 0 and is offered all of them.
    let mut doctor = Client::connect(&base, &doctor_token, 0).await?;
    let mut offered = BTreeSet::new();
    while offered.len() < acknowledged.len() {
        let (_, e) = doctor.next_event().await?;
        if let Event::Task {
            task,
            change: TaskChange::Raised,
            ..
        } = e
        {
            offered.insert(task.id);
        }
    }
    assert_eq!(offered, acknowledged);
    assert_eq!(doctor.cursor, 600, "gap-free: one event per raise");

    // Inbox rows are written in bulk a little after their events. Once the
    // hub has written all it owes (seen in the file), one raise, and a SIGKILL
    // right after its "ok" leaves that event above the watermark, with no
    // inbox row: the restarted hub must replay it from the event itself.
    drop(doctor);
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let file = &db;
    wardpage_tests::eventually("every inbox row written", || async move {
        let (through, newest) = inbox_watermark(file).await?;
        Ok((through >= newest).then_some(()))
    })
    .await?;
    let last = raise_ok(&mut nurse, cannula_w7()).await?;
    hub.kill9().await?;
    let (through, newest) = inbox_watermark(&db).await?;
    assert!(
        through < newest,
        "precondition: the last event ({newest}) has no inbox rows yet (written through {through})"
    );
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let mut doctor = Client::connect(&hub.base(), &doctor_token, 600).await?;
    assert_eq!(
        doctor.welcome_cursor, 601,
        "the stream counts the unwritten row"
    );
    match doctor.next_event().await? {
        (
            601,
            Event::Task {
                task,
                change: TaskChange::Raised,
                ..
            },
        ) => assert_eq!(task.id, last.id),
        other => panic!("expected the last raise as event 601, got {other:?}"),
    }
    hub.terminate().await?;
    Ok(())
}

/// (inbox watermark, newest event id) in a hub's SQLite file.
async fn inbox_watermark(db: &std::path::Path) -> anyhow::Result<(i64, i64)> {
    use sqlx::Connection;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let through: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'inbox_through'")
        .fetch_one(&mut conn)
        .await?;
    let newest: i64 = sqlx::query_scalar("SELECT MAX(id) FROM events")
        .fetch_one(&mut conn)
        .await?;
    Ok((through, newest))
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_commits() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut sent = Vec::new();
    for _ in 0..50 {
        sent.push(nurse.send(cannula_w7()).await?);
    }
    // The first is answered before the stop, so at least one ok is checked
    // below (and the rest are in flight when the stop comes).
    let first = nurse.reply(sent.remove(0)).await?;
    let mut oks = BTreeSet::from([task_of(&first?).id]);
    let status = hub.terminate().await?;
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    // Whatever got an ok must be there after restart.
    for id in sent {
        match nurse.reply(id).await {
            Ok(Ok(r)) => {
                oks.insert(task_of(&r).id);
            }
            _ => break,
        }
    }
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    let stored: BTreeSet<_> = tasks.iter().map(|t| t.id).collect();
    assert!(
        oks.is_subset(&stored),
        "acknowledged {} but stored {}",
        oks.len(),
        stored.len()
    );
    hub.terminate().await?;
    Ok(())
}

/// Acknowledged history is pruned after the retention period; a device that
/// asks for it gets `resync` (and a snapshot), never a partial replay.
/// Unacknowledged events are never pruned.
#[tokio::test]
async fn pruned_history_makes_an_old_cursor_resync() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let khan_token = login(&base, "sho.khan", DEMO_PASSWORD).await?;
    for _ in 0..3 {
        let t = raise_ok(&mut nurse, cannula_w7()).await?;
        task_event(&mut patel, t.id, TaskChange::Raised).await?;
    }
    patel.ack().await?;
    // Acks are stored lazily (with the writer's next tick): prune until
    // they have been, which is when her events may go.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut gone = 0;
    while gone < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Dr Patel's acknowledged events went ({gone})"
        );
        tokio::task::yield_now().await;
        let now = wardpage_server::clock::now_ms();
        gone += hub.store.prune(now + 1000, 0).await?;
    }

    let token = patel.token.clone();
    let old = Client::connect(&base, &token, 0).await?;
    assert!(old.resync, "cursor 0 is before the pruned history");
    assert_eq!(old.welcome_cursor, 3);
    let current = Client::connect(&base, &token, 3).await?;
    assert!(!current.resync);
    // Dr Khan never acknowledged: all of his is still there.
    let mut khan = Client::connect(&base, &khan_token, 0).await?;
    assert!(!khan.resync);
    for _ in 0..3 {
        khan.next_event().await?;
    }
    hub.stop().await
}

/// A commit the database refuses: every command in it is answered
/// `internal`, nobody hears of it, nothing of it is visible, and re-sending
/// the same ids once the database works again applies each exactly once.
#[tokio::test]
async fn a_failed_commit_changes_nothing_and_a_retry_applies_once() -> anyhow::Result<()> {
    use sqlx::Connection;
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    // A second connection to the hub's own file makes it refuse every
    // command answer, as a full or failing disk would refuse the commit.
    let url = format!("sqlite://{}", hub.config.database.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query(
        "CREATE TRIGGER refuse BEFORE INSERT ON commands \
         BEGIN SELECT RAISE(ABORT, 'the disk is failing'); END",
    )
    .execute(&mut db)
    .await?;
    let ids: Vec<wardpage_proto::CommandId> = (0..6)
        .map(|_| wardpage_proto::CommandId::new_random())
        .collect();
    for id in &ids {
        nurse.send_with_id(*id, cannula_w7()).await?;
    }
    // Each is answered `internal` until the hub closes the nurse's socket:
    // a failed commit may have landed, so everyone it had events for must
    // resume from the store rather than carry on past a possible hole.
    let mut refused = 0;
    for id in &ids {
        match nurse.reply(*id).await {
            Ok(answer) => {
                let e = answer.expect_err("not stored");
                assert_eq!(e.code, wardpage_proto::ErrorCode::Internal);
                refused += 1;
            }
            Err(_) => break, // closed before the rest were read
        }
    }
    assert!(refused >= 1, "the first refusal arrives before the close");
    assert_eq!(
        coord.buffered(),
        0,
        "no event of them reached the coordinator"
    );
    let (code, reason) = coord.closed().await?;
    assert_eq!(code, 1012, "{reason}");
    assert!(reason.contains("resume"), "{reason}");
    let mut coord = coord.reconnect().await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    assert!(
        tasks.is_empty(),
        "nothing of the refused batches is visible"
    );

    sqlx::query("DROP TRIGGER refuse").execute(&mut db).await?;
    db.close().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    for id in &ids {
        nurse.send_with_id(*id, cannula_w7()).await?;
    }
    let mut raised = BTreeSet::new();
    for id in &ids {
        let ok = nurse.reply(*id).await?.expect("stored this time");
        raised.insert(task_of(&ok).id);
    }
    assert_eq!(raised.len(), ids.len());
    let (_, tasks) = snapshot(&mut coord).await?;
    assert_eq!(tasks.len(), ids.len(), "each applied once");
    let hub = hub.restart().await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    assert_eq!(tasks.len(), ids.len(), "and stored");
    hub.stop().await
}
