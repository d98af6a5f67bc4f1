//! A command id is the idempotency key, and a key must never stand for two
//! intentions: re-sending the same command applies it once, but the same id
//! for a different command (another task, another bed, another user), or an
//! id older than the hub can vouch for, is refused and changes nothing.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{Command, CommandId, ErrorCode, TaskState};
use wardpage_tests::client::{login, open_socket};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub, DEMO_PASSWORD};

fn cancel(task: wardpage_proto::TaskId) -> Command {
    Command::Cancel {
        task,
        reason: "raised in error".into(),
    }
}

async fn state_of(c: &mut Client, task: wardpage_proto::TaskId) -> anyhow::Result<TaskState> {
    let (_, tasks) = snapshot(c).await?;
    Ok(tasks
        .iter()
        .find(|t| t.id == task)
        .map_or(TaskState::Cancelled, |t| t.state))
}

#[tokio::test]
async fn a_cancel_sent_under_another_cancels_id_is_refused_and_its_task_stays_open(
) -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let t1 = raise_ok(&mut nurse, cannula_w7()).await?;
    let t2 = raise_ok(&mut nurse, cannula_w7()).await?;
    let id = CommandId::new_random();
    nurse
        .command_with_id(id, cancel(t1.id))
        .await?
        .expect("t1 cancelled");
    let e = nurse
        .command_with_id(id, cancel(t2.id))
        .await?
        .expect_err("the same id for another task's cancel");
    assert_eq!(e.code, ErrorCode::IdReused, "{}", e.message);
    assert_eq!(
        state_of(&mut nurse, t2.id).await?,
        TaskState::Offering,
        "t2 was not cancelled, and the nurse was not told it was"
    );
    // The same cancel again is still the first answer.
    nurse
        .command_with_id(id, cancel(t1.id))
        .await?
        .expect("a true re-send is answered as the first time");
    hub.stop().await
}

#[tokio::test]
async fn a_raise_for_another_bed_under_a_used_id_is_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let id = CommandId::new_random();
    let first = nurse
        .command_with_id(id, cannula_w7())
        .await?
        .expect("raised");
    let mut other_bed = cannula_w7();
    if let Command::RaiseTask { bed, .. } = &mut other_bed {
        *bed = "14".into();
    }
    let e = nurse
        .command_with_id(id, other_bed.clone())
        .await?
        .expect_err("another bed is another task");
    assert_eq!(e.code, ErrorCode::IdReused);
    // Also after a restart, when the first answer is read back from the store.
    let hub = hub.restart().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let e = nurse
        .command_with_id(id, other_bed)
        .await?
        .expect_err("still another task after a restart");
    assert_eq!(e.code, ErrorCode::IdReused);
    let again = nurse
        .command_with_id(id, cannula_w7())
        .await?
        .expect("the true re-send");
    assert_eq!(task_of(&again).id, task_of(&first).id);
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert_eq!(tasks.len(), 1, "one task, for bed 12");
    assert_eq!(tasks[0].bed, "12");
    hub.stop().await
}

#[tokio::test]
async fn ids_of_reads_are_remembered_so_nobody_else_can_reuse_them() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let id = CommandId::new_random();
    nurse
        .command_with_id(id, Command::Directory {})
        .await?
        .expect("a read");
    // The same read again is answered afresh.
    nurse
        .command_with_id(id, Command::Directory {})
        .await?
        .expect("the same read, again");
    let e = coord
        .command_with_id(id, Command::Directory {})
        .await?
        .expect_err("someone else's read id");
    assert_eq!(e.code, ErrorCode::IdReused);
    let e = nurse
        .command_with_id(id, cannula_w7())
        .await?
        .expect_err("a write under a read's id");
    assert_eq!(e.code, ErrorCode::IdReused);
    let (_, tasks) = snapshot(&mut coord).await?;
    assert!(tasks.is_empty(), "nothing was raised");
    hub.stop().await
}

#[tokio::test]
async fn upper_case_ids_are_the_same_ids_and_answered_in_lower_case() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let token = login(&hub.base(), "nurse.okafor", DEMO_PASSWORD).await?;
    let mut ws = open_socket(&hub.base(), None).await?;
    let hello = serde_json::json!({"type": "hello", "version": 1, "token": token, "cursor": 0});
    ws.send(Message::Text(hello.to_string().into())).await?;
    let upper = "C0FFEE00-0000-4000-8000-0000000000AB";
    let raise =
        serde_json::json!({"type": "cmd", "id": upper, "cmd": serde_json::to_value(cannula_w7())?});
    let mut answers = Vec::new();
    for _ in 0..2 {
        ws.send(Message::Text(raise.to_string().into())).await?;
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
                .await?
                .ok_or_else(|| anyhow::anyhow!("closed"))??;
            let Message::Text(text) = msg else { continue };
            let v: serde_json::Value = serde_json::from_str(&text)?;
            if v["type"] == "ok" || v["type"] == "error" {
                answers.push(v);
                break;
            }
        }
    }
    for a in &answers {
        assert_eq!(a["type"], "ok", "{a}");
        assert_eq!(
            a["id"],
            upper.to_ascii_lowercase(),
            "every reply names the id in its canonical (lower-case) form"
        );
    }
    assert_eq!(
        answers[0]["result"]["task"]["id"], answers[1]["result"]["task"]["id"],
        "the upper-case re-send is the same command"
    );
    hub.stop().await
}

#[tokio::test]
async fn a_command_issued_before_the_id_window_is_refused_as_expired() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let now = wardpage_server::clock::now_ms();
    let day = 24 * 3_600_000;
    let id = CommandId::new_random();
    nurse
        .send_issued(id, cannula_w7(), Some(now - day - 60_000))
        .await?;
    let e = nurse.reply(id).await?.expect_err("older than the window");
    assert_eq!(e.code, ErrorCode::IdExpired, "{}", e.message);
    // Re-sent, it is still refused: nothing is raised by a retry either.
    nurse
        .send_issued(id, cannula_w7(), Some(now - day - 60_000))
        .await?;
    let e = nurse.reply(id).await?.expect_err("still expired");
    assert_eq!(e.code, ErrorCode::IdExpired);
    // One made an hour ago (a phone that was offline) is applied.
    let fresh = CommandId::new_random();
    nurse
        .send_issued(fresh, cannula_w7(), Some(now - 3_600_000))
        .await?;
    nurse.reply(fresh).await?.expect("inside the window");
    let (_, tasks) = snapshot(&mut nurse).await?;
    assert_eq!(tasks.len(), 1, "only the fresh raise");
    hub.stop().await
}

#[tokio::test]
async fn a_command_id_window_shorter_than_the_protocol_promises_is_refused() -> anyhow::Result<()> {
    // In the library, as tests and embeddings start it...
    for hours in [0, 23] {
        let dir = tempfile::tempdir()?;
        let config = wardpage_server::config::Config {
            listen: "127.0.0.1:0".parse()?,
            database: dir.path().join("hub.db"),
            command_retention_hours: hours,
            ..Default::default()
        };
        let store = wardpage_server::open_store(&config).await?;
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let served = wardpage_server::run(listener, config, store, std::future::pending()).await;
        let err = served.expect_err("a hub that forgets ids too soon must not serve");
        assert!(
            format!("{err:#}").contains("command_retention_hours"),
            "{err:#}"
        );
    }
    // ...and in the binary, from its config file.
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("wardpage.toml");
    std::fs::write(&config, "command_retention_hours = 0\n")?;
    let out = tokio::process::Command::new(wardpage_tests::hub::wardpage_bin()?)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--db")
        .arg(dir.path().join("hub.db"))
        .output()
        .await?;
    assert!(!out.status.success(), "the binary refused to start");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("command_retention_hours"), "{stderr}");
    TestHub::start_with(|c| c.command_retention_hours = 24)
        .await?
        .stop()
        .await
}
