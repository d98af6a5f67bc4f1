//! Several `wardpage` nodes on one PostgreSQL database (`[cluster]`): one
//! owns and serves, the others stand by and take over when it is killed,
//! frozen past its lease, or stopped. Real processes on a fresh database
//! each; short leases (1.5 s) so that the lapsed-lease paths run in
//! seconds, one test at a time. Needs `WARDPAGE_TEST_POSTGRES` (a run without it says loudly
//! that it skipped).

use anyhow::Context;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wardpage_proto::{Event, Role, TaskChange, TaskId};
use wardpage_tests::nginx::{nginx_or_skip, Nginx};
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client};

/// kill -9 of the owner in the middle of a burst of raises: the standby
/// takes over at once (the advisory lock went with the owner's session),
/// every raise the owner acknowledged is there, and a coordinator's device
/// resumes on the new node from its cursor with no gap (the client fails
/// on any gap in `seq`) and every raise in its stream.
#[tokio::test]
async fn a_killed_owner_is_taken_over_with_nothing_acknowledged_lost() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_killed_owner_is_taken_over", |url| async move {
        let dir = tempfile::tempdir()?;
        let a = start_node(&url, dir.path(), "a", TTL_MS, "").await?;
        let epoch_a = until_owns(&a, "node a owns").await?;
        let b = start_node(&url, dir.path(), "b", TTL_MS, "").await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        let mut coord = Client::login_connect(&a.base(), "coord.hale").await?;
        let nurse = Client::login_connect(&a.base(), "nurse.okafor").await?;
        let acked = Arc::new(watch::channel(Vec::new()).0);
        let mut progress = acked.subscribe();
        let raiser = raise_until_refused(nurse, acked.clone());
        tokio::time::timeout(
            Duration::from_secs(20),
            progress.wait_for(|a| a.len() >= 30),
        )
        .await
        .context("node a acknowledged too few raises")??;
        a.kill9().await?;
        let epoch_b = until_owns(&b, "node b takes over").await?;
        assert!(epoch_b > epoch_a, "a takeover raises the epoch");
        raiser.await?;
        let acked = acked.borrow().clone();
        let seen = open_tasks(&b.base()).await?;
        let missing = acked.iter().filter(|t| !seen.contains(t)).count();
        assert_eq!(missing, 0, "of {} acknowledged raises", acked.len());
        // The device: what it read from a, then the rest replayed by b.
        let mut raised: Vec<TaskId> = Vec::new();
        while let Ok(Some((_, e))) = coord.next_event_within(Duration::from_millis(200)).await {
            if let Event::Task {
                task,
                change: TaskChange::Raised,
                ..
            } = e
            {
                raised.push(task.id);
            }
        }
        coord.base = b.base();
        let mut coord = coord.reconnect().await?;
        while !acked.iter().all(|t| raised.contains(t)) {
            if let Event::Task {
                task,
                change: TaskChange::Raised,
                ..
            } = coord.next_event().await?.1
            {
                raised.push(task.id);
            }
        }
        assert_eq!(coord.duplicates, 0, "nothing shown twice");
        let mut nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        raise_ok(&mut nurse, cannula_w7()).await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// The owner frozen (SIGSTOP) past its lease: the standby finds the lease
/// lapsed by the database's clock, ends the frozen owner's sessions and
/// takes over. Woken (SIGCONT), the old owner acknowledges nothing more:
/// its late commit is refused by the fence (or it stands down first), its
/// devices are closed, and it stands by.
#[tokio::test]
async fn a_frozen_owner_is_fenced_out_and_stands_by_when_it_wakes() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_frozen_owner_is_fenced_out", |url| async move {
        let dir = tempfile::tempdir()?;
        let a = start_node(&url, dir.path(), "a", TTL_MS, "").await?;
        let epoch_a = until_owns(&a, "node a owns").await?;
        let b = start_node(&url, dir.path(), "b", TTL_MS, "").await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        let mut nurse_a = Client::login_connect(&a.base(), "nurse.okafor").await?;
        let before = raise_ok(&mut nurse_a, cannula_w7()).await?;
        a.signal("STOP")?;
        // Sent while a is frozen: a reads it only once it wakes.
        let late = nurse_a.send(cannula_w7()).await?;
        let epoch_b = until_owns(&b, "node b takes over the lapsed lease").await?;
        assert!(epoch_b > epoch_a);
        a.signal("CONT")?;
        // Refused (the fence) or unanswered (the socket closed): never ok.
        if let Ok(Ok(r)) = nurse_a.reply(late).await {
            panic!("node a acknowledged {:?} after b took over", task_of(&r).id);
        }
        let standing = until_stands_by(&a, "b", "node a stands by after waking").await?;
        assert_eq!(standing["node"], "a");
        let seen = open_tasks(&b.base()).await?;
        assert_eq!(
            seen,
            vec![before.id],
            "b has a's one committed raise, not the late one"
        );
        let mut nurse_b = Client::login_connect(&b.base(), "nurse.okafor").await?;
        raise_ok(&mut nurse_b, cannula_w7()).await?;
        // a answers devices 503 now, so a load balancer moves them on.
        let login = reqwest::Client::new()
            .post(format!("{}/api/login", a.base()))
            .json(&serde_json::json!({"username": "nurse.okafor", "password": "night-shift"}))
            .send()
            .await?;
        assert_eq!(login.status().as_u16(), 503);
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// Two nodes started at the same moment on a fresh database: exactly one
/// owns, the other names it.
#[tokio::test]
async fn two_nodes_started_at_once_make_exactly_one_owner() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("two_nodes_started_at_once", |url| async move {
        let dir = tempfile::tempdir()?;
        let (a, b) = tokio::join!(
            start_node(&url, dir.path(), "a", TTL_MS, ""),
            start_node(&url, dir.path(), "b", TTL_MS, "")
        );
        let (a, b) = (a?, b?);
        let (owner, other, name) = eventually("one of them owns", || async {
            let ra = readyz(&a).await?;
            let rb = readyz(&b).await?;
            Ok(match (ra, rb) {
                (Some((200, _)), Some((503, o))) if o["owner"] == "a" => Some((&a, o, "a")),
                (Some((503, o)), Some((200, _))) if o["owner"] == "b" => Some((&b, o, "b")),
                (Some((200, _)), Some((200, _))) => Some((&a, Value::Null, "both")),
                _ => None,
            })
        })
        .await?;
        assert_ne!(name, "both", "two owners");
        let standby = if name == "a" { &b } else { &a };
        let metric = |text: &str, name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")).map(str::to_owned))
        };
        let owner_metrics = metrics(owner).await?;
        let standby_metrics = metrics(standby).await?;
        assert_eq!(
            metric(&owner_metrics, "wardpage_cluster_owner").as_deref(),
            Some("1")
        );
        assert_eq!(
            metric(&standby_metrics, "wardpage_cluster_owner").as_deref(),
            Some("0")
        );
        assert_eq!(
            metric(&owner_metrics, "wardpage_cluster_takeovers_total").as_deref(),
            Some("1")
        );
        let status =
            wardpage_tests::hub::wardpage_cli(Path::new(&url), &["cluster", "status"], "")?;
        assert!(
            status.contains(&format!("owner:        {name}")),
            "{status}"
        );
        assert!(status.contains("epoch:        1"), "{status}");
        assert_eq!(other["owner"], name, "{other}");
        raise_ok(
            &mut Client::login_connect(&owner.base(), "nurse.okafor").await?,
            cannula_w7(),
        )
        .await?;
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// A clean stop hands over at once: with a lease of ten minutes, the
/// standby could only take over this soon if the stopping owner released
/// its claim; its devices are closed with the standing-down reason.
#[tokio::test]
async fn a_clean_stop_hands_over_without_waiting_for_the_lease() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_clean_stop_hands_over", |url| async move {
        let dir = tempfile::tempdir()?;
        let long = 600_000;
        let a = start_node(&url, dir.path(), "a", long, "").await?;
        until_owns(&a, "node a owns").await?;
        let b = start_node(&url, dir.path(), "b", long, "").await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        let mut nurse = Client::login_connect(&a.base(), "nurse.okafor").await?;
        let raised = raise_ok(&mut nurse, cannula_w7()).await?;
        let stop = tokio::spawn(a.terminate());
        let (code, reason) = nurse.closed().await?;
        assert_eq!(
            (code, reason.as_str()),
            (1012, "node standing down: reconnect")
        );
        assert!(stop.await??.success(), "a clean stop exits 0");
        until_owns(&b, "node b takes over within seconds, not ten minutes").await?;
        nurse.base = b.base();
        let mut nurse = nurse.reconnect().await?;
        assert!(open_tasks(&b.base()).await?.contains(&raised.id));
        raise_ok(&mut nurse, cannula_w7()).await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// Not accepted within 3 s: re-alert; 1 s later widen to the registrar.
/// The offer waits for its step though the FY1's phone is not connected
/// at the raise (this test is about the takeover, not about reach).
const SHORT_POLICY: &str = r#"
[escalation]
nobody_connected = "wait"

[[escalation.task]]
name = "test"
accept = { steps = [
  { action = "realert", after_secs = 3 },
  { action = "widen", roles = ["registrar"], after_secs = 1 },
  { action = "coordinator", after_secs = 1 },
], repeat_every_secs = 30 }
complete = { steps = [{ action = "coordinator", after_secs = 600 }] }
"#;

/// An escalation due across a takeover fires once, on the new owner,
/// within a second of due: the owner is killed 0.8 s into a 3 s countdown.
#[tokio::test]
async fn an_escalation_due_across_a_takeover_fires_once() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("an_escalation_due_across_a_takeover", |url| async move {
        let dir = tempfile::tempdir()?;
        let a = start_node(&url, dir.path(), "a", TTL_MS, SHORT_POLICY).await?;
        until_owns(&a, "node a owns").await?;
        let b = start_node(&url, dir.path(), "b", TTL_MS, SHORT_POLICY).await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        let mut nurse = Client::login_connect(&a.base(), "nurse.lee").await?;
        let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
        let due = task.next_escalation_at.context("a countdown is running")?;
        // Part of the scenario, not a wait for anything: the owner dies
        // part-way into the countdown.
        tokio::time::sleep(Duration::from_millis(800)).await;
        a.kill9().await?;
        until_owns(&b, "node b takes over").await?;
        let token =
            wardpage_tests::client::login(&b.base(), "fy1.patel", wardpage_tests::DEMO_PASSWORD)
                .await?;
        let mut fy1 = Client::connect(&b.base(), &token, 0).await?;
        let mut reg = Client::login_connect(&b.base(), "reg.evans").await?;
        let fired_at = loop {
            if let (
                _,
                Event::TaskEscalated {
                    task: t, level: 1, ..
                },
            ) = fy1.next_event().await?
            {
                if t.id == task.id {
                    break t.updated_at;
                }
            }
        };
        let late = fired_at - due;
        assert!((0..1000).contains(&late), "fired {late} ms after due");
        // The next step (1 s on) reached the registrar: by then a second
        // firing of the first would have reached fy1.
        loop {
            if let (
                _,
                Event::TaskEscalated {
                    task: t, level: 2, ..
                },
            ) = reg.next_event().await?
            {
                if t.id == task.id {
                    break;
                }
            }
        }
        while let Some((_, e)) = fy1.next_event_within(Duration::from_millis(200)).await? {
            if let Event::TaskEscalated {
                task: t, level: 1, ..
            } = e
            {
                assert_ne!(t.id, task.id, "the re-alert fired twice");
            }
        }
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// Debian's nginx with the shipped site in front of two nodes: a device
/// logs in and connects through nginx (whichever node nginx tries first,
/// a standby's 503 moves it on to the owner); the owner is killed; the
/// device reconnects to the same URL and resumes on the new owner.
#[tokio::test]
async fn through_nginx_a_device_resumes_on_the_new_owner() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    let Some(nginx) = nginx_or_skip("through_nginx_a_device_resumes_on_the_new_owner")? else {
        return Ok(());
    };
    on_fresh_postgres("through_nginx", |url| async move {
        let dir = tempfile::tempdir()?;
        let a = start_node(&url, dir.path(), "a", TTL_MS, "").await?;
        until_owns(&a, "node a owns").await?;
        let b = start_node(&url, dir.path(), "b", TTL_MS, "").await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        // b first: nginx's first try for each request meets the standby.
        let proxy = Nginx::start(&nginx, dir.path(), &[&b, &a]).await?;
        let base = proxy.base();
        let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
        let mut coord = Client::login_connect(&base, "coord.hale").await?;
        let first = raise_ok(&mut nurse, cannula_w7()).await?;
        task_event(&mut coord, first.id, TaskChange::Raised).await?;
        a.kill9().await?;
        until_owns(&b, "node b takes over").await?;
        let mut nurse = nurse.reconnect().await?;
        let second = raise_ok(&mut nurse, cannula_w7()).await?;
        let mut coord = coord.reconnect().await?;
        task_event(&mut coord, second.id, TaskChange::Raised).await?;
        assert_eq!(coord.duplicates, 0, "nothing shown twice");
        let open = open_tasks(&base).await?;
        assert!(open.contains(&first.id) && open.contains(&second.id));
        proxy.stop().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}
