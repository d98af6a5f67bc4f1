//! A device that reaches a node while its site's owner has just died is
//! held there until the next owner serves, rather than answered and closed
//! at once (which sends it, and every other handheld of the hospital, into
//! its backoff). Real processes: three `wardpage` nodes on a fresh
//! PostgreSQL database and a `nats-server` of the test's own. Needs
//! `WARDPAGE_TEST_POSTGRES` (a run without it says loudly that it skipped)
//! and `nats-server`. Short leases (1.5 s), so one test at a time.

use wardpage_tests::client::login;
use wardpage_tests::nats::NatsServer;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::{Client, DEMO_PASSWORD};

/// Three nodes: a owns, b and c forward. SIGKILL a, and at once (c still
/// hears a's last heartbeat) a device connects to c: the upgrade is held
/// while b or c takes over, and the device is welcomed by the next owner
/// (through a tunnel, or by c's own hub if c took over), with the task
/// raised before the kill there and its next raise acknowledged. A
/// request to `/ws` that is no WebSocket upgrade is refused at once, not
/// held.
#[tokio::test]
async fn a_device_arriving_during_a_takeover_is_held_and_served_by_the_next_owner(
) -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_device_arriving_during_a_takeover", |url| async move {
        let nats = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let a = start_nats_node(&url, dir.path(), "a", &nats.url(), "").await?;
        let epoch = until_owns(&a, "node a owns").await?;
        let b = start_nats_node(&url, dir.path(), "b", &nats.url(), "").await?;
        let c = start_nats_node(&url, dir.path(), "c", &nats.url(), "").await?;
        until_forwards(&b, "a", "node b forwards to a").await?;
        until_forwards(&c, "a", "node c forwards to a").await?;
        let plain = reqwest::get(format!("{}/ws", c.base())).await?;
        assert_eq!(plain.status().as_u16(), 400, "not an upgrade: refused");
        let mut nurse = Client::login_connect(&c.base(), "nurse.okafor").await?;
        let before = raise_ok(&mut nurse, cannula_w7()).await?;
        drop(nurse);
        let token = login(&c.base(), "coord.hale", DEMO_PASSWORD).await?;
        a.kill9().await?;
        // No wait: c has not yet seen a go.
        let mut coord = Client::connect_fresh(&c.base(), &token).await?;
        let (_, open) = snapshot(&mut coord).await?;
        assert!(
            open.iter().any(|t| t.id == before.id),
            "the task raised before the kill, on the next owner"
        );
        let mut nurse = Client::login_connect(&c.base(), "nurse.okafor").await?;
        let after = raise_ok(&mut nurse, cannula_w7()).await?;
        task_event(&mut coord, after.id, wardpage_proto::TaskChange::Raised).await?;
        let new_epoch = until_owns_any(&[&b, &c]).await?;
        assert!(new_epoch > epoch, "a new epoch: {new_epoch} after {epoch}");
        b.terminate().await?;
        c.terminate().await?;
        Ok(())
    })
    .await
}

/// The epoch of whichever of `nodes` owns now.
async fn until_owns_any(nodes: &[&wardpage_tests::HubProcess]) -> anyhow::Result<i64> {
    wardpage_tests::eventually("one of the nodes owns", || async {
        for n in nodes {
            if let Some((200, body)) = readyz(n).await? {
                if body["owns"] == true {
                    return Ok(body["epoch"].as_i64());
                }
            }
        }
        Ok(None)
    })
    .await
}
