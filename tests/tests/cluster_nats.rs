//! Every cluster node serves devices (`[cluster] nats_url`): a node that
//! does not own forwards HTTP to the owner and tunnels WebSockets to it
//! over NATS. Real processes: `wardpage` nodes on a fresh PostgreSQL
//! database each and a `nats-server` of each test's own (so a test can
//! restart or cut it). Needs `WARDPAGE_TEST_POSTGRES` (a run without it
//! says loudly that it skipped) and `nats-server`. Short leases (1.5 s),
//! so the tests run one at a time.

use anyhow::Context;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wardpage_proto::{Command, Event, TaskChange, TaskId};
use wardpage_tests::client::login;
use wardpage_tests::hub::HubProcess;
use wardpage_tests::nats::NatsServer;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::relay::Relay;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client, DEMO_PASSWORD};

/// The close reason of a tunnel whose owner is no longer heard.
const OWNER_LOST: &str = "cluster owner lost: reconnect";

/// Two nodes on one NATS server: `a` owns, `b` forwards.
async fn owner_and_forwarder(
    url: &str,
    dir: &std::path::Path,
    nats_a: &str,
    nats_b: &str,
) -> anyhow::Result<(HubProcess, HubProcess, i64)> {
    with_config(url, dir, nats_a, nats_b, "").await
}

/// As [`owner_and_forwarder`], both nodes with `extra` config tables.
async fn with_config(
    url: &str,
    dir: &std::path::Path,
    nats_a: &str,
    nats_b: &str,
    extra: &str,
) -> anyhow::Result<(HubProcess, HubProcess, i64)> {
    let a = start_nats_node(url, dir, "a", nats_a, extra).await?;
    let epoch = until_owns(&a, "node a owns").await?;
    let b = start_nats_node(url, dir, "b", nats_b, extra).await?;
    until_forwards(&b, "a", "node b forwards to a").await?;
    Ok((a, b, epoch))
}

/// A metric's value in a `/metrics` text (the first line starting so).
fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// A device logged in and connected through the node that does not own
/// raises; a doctor on the owner sees it and accepts; the raiser, still on
/// the forwarding node, hears the acceptance. Its login and commands went
/// over NATS (the forwarding metrics count them).
#[tokio::test]
async fn a_device_on_a_forwarding_node_raises_and_hears_the_answer() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_device_on_a_forwarding_node", |url| async move {
        let nats = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let (a, b, _) = owner_and_forwarder(&url, dir.path(), &nats.url(), &nats.url()).await?;
        let mut nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        let mut patel = Client::login_connect(&a.base(), "fy1.patel").await?;
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        task_event(&mut patel, task.id, TaskChange::Raised).await?;
        patel.ok(Command::Accept { task: task.id }).await?;
        let accepted = task_event(&mut nurse, task.id, TaskChange::Accepted).await?;
        assert_eq!(accepted.assignee.map(|h| h.id), Some(patel.id()));
        // The forwarding node's own metrics: the login (HTTP), the tunnel,
        // and the device's frames went over the bus.
        let m = metrics(&b).await?;
        let forwarded = |kind: &str| {
            metric(
                &m,
                &format!("wardpage_cluster_forwarded_total{{kind=\"{kind}\"}}"),
            )
        };
        assert!(forwarded("http") >= Some(1.0), "{m}");
        assert_eq!(forwarded("tunnel"), Some(1.0), "{m}");
        assert!(forwarded("frame") >= Some(2.0), "{m}");
        assert_eq!(metric(&m, "wardpage_cluster_tunnels_open"), Some(1.0));
        // A wrong password through b is refused by the owner as it would
        // be on the owner itself.
        let wrong = login(&b.base(), "nurse.okafor", "not-the-password").await;
        assert!(wrong.is_err(), "a wrong password must not log in");
        nurse.close().await;
        // The owner's end of the tunnel goes with the device.
        eventually("the tunnel closes on the owner too", || async {
            let m = metrics(&a).await?;
            Ok((metric(&m, "wardpage_cluster_tunnels_open") == Some(0.0)).then_some(()))
        })
        .await?;
        // A forwarding node that stops tells its devices, as an owner does.
        let mut coord = Client::login_connect(&b.base(), "coord.hale").await?;
        b.terminate().await?;
        let (code, reason) = coord.closed().await?;
        assert_eq!(
            (code, reason.as_str()),
            (1012, "node standing down: reconnect")
        );
        drop(login(&a.base(), "nurse.okafor", DEMO_PASSWORD).await?);
        a.terminate().await?;
        Ok(())
    })
    .await
}

/// Raises on `nurse` one after another, recording each one acknowledged,
/// until one fails; returns the device and why it ended.
fn raise_until_closed(
    mut nurse: Client,
    acked: Arc<watch::Sender<Vec<TaskId>>>,
) -> tokio::task::JoinHandle<(Client, String)> {
    tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(10));
        loop {
            pace.tick().await;
            match nurse.command(cannula_w7()).await {
                Ok(Ok(result)) => {
                    let id = task_of(&result).id;
                    acked.send_modify(|a| a.push(id));
                }
                Ok(Err(e)) => return (nurse, format!("refused: {e:?}")),
                Err(e) => return (nurse, format!("{e:#}")),
            }
        }
    })
}

/// Reads `device`'s events until its socket ends; the raises among them,
/// and the error the end gave (it names the close frame).
async fn raises_until_closed(device: &mut Client) -> anyhow::Result<(Vec<TaskId>, String)> {
    let mut raised = Vec::new();
    loop {
        match device.next_event_within(Duration::from_secs(10)).await {
            Ok(Some((
                _,
                Event::Task {
                    task,
                    change: TaskChange::Raised,
                    ..
                },
            ))) => raised.push(task.id),
            Ok(Some(_)) => {}
            Ok(None) => anyhow::bail!("the socket stayed open"),
            Err(e) => return Ok((raised, format!("{e:#}"))),
        }
    }
}

/// Connects again to `base` from where `device` was (retrying while the
/// node cannot serve yet), keeping its duplicate count.
async fn resume(base: &str, device: &Client) -> anyhow::Result<Client> {
    let (token, cursor, dups) = (device.token.clone(), device.cursor, device.duplicates);
    let mut c = eventually("the device reconnects", || {
        let token = token.clone();
        async move { Ok(Client::connect(base, &token, cursor).await.ok()) }
    })
    .await?;
    c.duplicates = dups;
    Ok(c)
}

/// Takes events until every task in `want` has been seen raised.
async fn until_all_raised(
    device: &mut Client,
    raised: &mut Vec<TaskId>,
    want: &[TaskId],
) -> anyhow::Result<()> {
    while !want.iter().all(|t| raised.contains(t)) {
        if let Event::Task {
            task,
            change: TaskChange::Raised,
            ..
        } = device.next_event().await?.1
        {
            raised.push(task.id);
        }
    }
    Ok(())
}

/// kill -9 of the owner during a burst of raises from a device on the
/// forwarding node: every acknowledged raise is there after the takeover;
/// the tunnelled devices are closed with 1012, reconnect to the same node
/// (now the owner) and resume with no gap (the client fails on one) and
/// nothing twice.
#[tokio::test]
async fn a_killed_owner_closes_tunnels_and_devices_resume_on_their_node() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_killed_owner_closes_tunnels", |url| async move {
        let nats = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let (a, b, epoch_a) =
            owner_and_forwarder(&url, dir.path(), &nats.url(), &nats.url()).await?;
        let mut coord = Client::login_connect(&b.base(), "coord.hale").await?;
        let nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        let acked = Arc::new(watch::channel(Vec::new()).0);
        let mut progress = acked.subscribe();
        let raiser = raise_until_closed(nurse, acked.clone());
        tokio::time::timeout(
            Duration::from_secs(20),
            progress.wait_for(|a| a.len() >= 30),
        )
        .await
        .context("too few raises acknowledged through the tunnel")??;
        a.kill9().await?;
        let (nurse, why) = raiser.await?;
        assert!(why.contains(OWNER_LOST), "the raiser's socket: {why}");
        let (mut raised, why) = raises_until_closed(&mut coord).await?;
        assert!(why.contains(OWNER_LOST), "the coordinator's socket: {why}");
        assert!(why.contains("Restart"), "closed with 1012: {why}");
        let epoch_b = until_owns(&b, "node b takes over").await?;
        assert!(epoch_b > epoch_a);
        let acked = acked.borrow().clone();
        let mut coord = resume(&b.base(), &coord).await?;
        until_all_raised(&mut coord, &mut raised, &acked).await?;
        assert_eq!(coord.duplicates, 0, "nothing shown twice");
        let mut nurse = resume(&b.base(), &nurse).await?;
        raise_ok(&mut nurse, cannula_w7()).await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// NATS restarts: the tunnels close with 1012, and once it is back the
/// devices reconnect to the node they were on, resume, and their commands
/// reach the owner again.
#[tokio::test]
async fn a_nats_restart_closes_tunnels_and_devices_resume() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_nats_restart_closes_tunnels", |url| async move {
        let nats = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let (a, b, _) = owner_and_forwarder(&url, dir.path(), &nats.url(), &nats.url()).await?;
        let mut nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        let mut coord = Client::login_connect(&b.base(), "coord.hale").await?;
        let before = raise_ok(&mut nurse, cannula_w7()).await?;
        let addr = nats.stop().await?;
        let (mut raised, why) = raises_until_closed(&mut coord).await?;
        assert!(why.contains(OWNER_LOST), "the coordinator's socket: {why}");
        let nats = NatsServer::start_on(addr).await?;
        until_forwards(&b, "a", "node b forwards again").await?;
        let mut nurse = resume(&b.base(), &nurse).await?;
        let after = raise_ok(&mut nurse, cannula_w7()).await?;
        let mut coord = resume(&b.base(), &coord).await?;
        until_all_raised(&mut coord, &mut raised, &[before.id, after.id]).await?;
        assert_eq!(coord.duplicates, 0, "nothing shown twice");
        drop(nats);
        b.terminate().await?;
        a.terminate().await?;
        Ok(())
    })
    .await
}

/// One node's NATS connection is cut mid-stream (a relay between it and
/// nats-server): its devices are closed with 1012; the owner's own
/// devices go on; once the route is back the cut node's devices resume.
#[tokio::test]
async fn a_node_cut_off_from_nats_closes_its_devices_until_restored() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_node_cut_off_from_nats", |url| async move {
        let nats = NatsServer::start().await?;
        let relay = Relay::start(nats.addr).await?;
        let dir = tempfile::tempdir()?;
        let via_relay = format!("nats://{}", relay.addr());
        let (a, b, _) = owner_and_forwarder(&url, dir.path(), &nats.url(), &via_relay).await?;
        let mut coord = Client::login_connect(&b.base(), "coord.hale").await?;
        let mut patel = Client::login_connect(&a.base(), "fy1.patel").await?;
        let nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        let acked = Arc::new(watch::channel(Vec::new()).0);
        let mut progress = acked.subscribe();
        let raiser = raise_until_closed(nurse, acked.clone());
        tokio::time::timeout(
            Duration::from_secs(20),
            progress.wait_for(|a| a.len() >= 10),
        )
        .await
        .context("too few raises acknowledged through the tunnel")??;
        relay.cut();
        let (nurse, why) = raiser.await?;
        assert!(why.contains(OWNER_LOST), "the raiser's socket: {why}");
        let (mut raised, why) = raises_until_closed(&mut coord).await?;
        assert!(why.contains(OWNER_LOST), "the coordinator's socket: {why}");
        // The owner's own device is untouched.
        snapshot(&mut patel).await?;
        relay.restore();
        until_forwards(&b, "a", "node b forwards again").await?;
        let acked = acked.borrow().clone();
        let mut coord = resume(&b.base(), &coord).await?;
        until_all_raised(&mut coord, &mut raised, &acked).await?;
        let mut nurse = resume(&b.base(), &nurse).await?;
        let after = raise_ok(&mut nurse, cannula_w7()).await?;
        until_all_raised(&mut coord, &mut raised, &[after.id]).await?;
        assert_eq!(coord.duplicates, 0, "nothing shown twice");
        b.terminate().await?;
        a.terminate().await?;
        Ok(())
    })
    .await
}
