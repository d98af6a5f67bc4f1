//! Several sites (hospitals) on one PostgreSQL database (`[cluster]
//! sites`): each owned by one node at a time, spread over the nodes,
//! taken over on its own, and kept apart (its own schema, its own
//! accounts, tasks and tokens). Real processes: `wardpage` nodes on a fresh
//! PostgreSQL database each and a `nats-server` of each test's own. Needs
//! `WARDPAGE_TEST_POSTGRES` (a run without it says loudly that it skipped)
//! and `nats-server`. Short leases (1.5 s), so the tests run one at a
//! time.

use std::path::Path;
use wardpage_proto::ErrorCode;
use wardpage_tests::client::{login, CommandError};
use wardpage_tests::hub::HubProcess;
use wardpage_tests::nats::NatsServer;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::relay::Relay;
use wardpage_tests::sites::*;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client, DEMO_PASSWORD};

/// Two nodes started together on two sites: each owns one (not both on
/// one node), every node's `/readyz` lists both sites with their owners
/// and epochs and says which it owns, and `wardpage cluster status` prints
/// the same from the database.
#[tokio::test]
async fn two_sites_spread_over_two_nodes_and_are_listed() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("two_sites_spread_over_two_nodes", |url| async move {
        let TwoNodes {
            nats: _nats,
            dir,
            a,
            b,
            owners,
        } = TwoNodes::spread(&url).await?;
        let nodes = [("a", &a), ("b", &b)];
        // With NATS each node serves both sites: it owns one and forwards
        // to the other's owner, so both are ready.
        for (name, node) in nodes {
            let body = until_ready(node).await?;
            assert_eq!(body["node"], name, "{body}");
            let sites = body["sites"].as_array().cloned().unwrap_or_default();
            let listed: Vec<&str> = sites.iter().filter_map(|s| s["site"].as_str()).collect();
            assert_eq!(listed, SITES, "{body}");
            for site in &sites {
                let (owner, epoch) = &owners[site["site"].as_str().unwrap_or_default()];
                assert_eq!(site["epoch"], *epoch, "{body}");
                let named = if site["owns"] == true {
                    &site["node"]
                } else {
                    &site["owner"]
                };
                assert_eq!(named, owner.as_str(), "{body}");
            }
            let mine: Vec<&str> = SITES.into_iter().filter(|s| owners[*s].0 == name).collect();
            assert_eq!(body["owned"], serde_json::json!(mine), "{body}");
        }
        // A site's own readiness answers under its prefix.
        let (north_owner, north_epoch) = &owners["north"];
        let site_ready = reqwest::get(format!("{}/readyz", at(&a, "north")))
            .await?
            .json::<serde_json::Value>()
            .await?;
        assert_eq!(site_ready["site"], "north", "{site_ready}");
        assert_eq!(site_ready["epoch"], *north_epoch, "{site_ready}");
        let config = dir.path().join("a.toml");
        let status = wardpage_tests::hub::wardpage_cli(
            Path::new(&url),
            &[
                "cluster",
                "status",
                "--config",
                config.to_str().unwrap_or_default(),
            ],
            "",
        )?;
        for site in SITES {
            let (owner, epoch) = &owners[site];
            let block =
                format!("site:         {site}\nowner:        {owner}\nepoch:        {epoch}\n");
            assert!(status.contains(&block), "{site} in\n{status}");
        }
        assert!(
            status.contains(&format!("{north_owner} (north, epoch {north_epoch})")),
            "{status}"
        );
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// Three nodes on two sites: two own one each, one stands by. SIGKILL the
/// owner of north: the node that owned nothing takes north over (a new
/// epoch), while south keeps its owner and its epoch throughout, and
/// north's task is there on its new owner.
#[tokio::test]
async fn killing_one_sites_owner_moves_only_that_site() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("killing_one_sites_owner", |url| async move {
        let nats = NatsServer::start().await?;
        let nats_url = nats.url();
        let bus = Some(nats_url.as_str());
        let dir = tempfile::tempdir()?;
        let (a, b, c) = tokio::try_join!(
            start_site_node(&url, dir.path(), "a", &SITES, bus),
            start_site_node(&url, dir.path(), "b", &SITES, bus),
            start_site_node(&url, dir.path(), "c", &SITES, bus),
        )?;
        let mut nodes = vec![("a", a), ("b", b), ("c", c)];
        let refs: Vec<(&str, &HubProcess)> = nodes.iter().map(|(n, p)| (*n, p)).collect();
        let before = spread_over(&refs, "the sites spread over two nodes").await?;
        let (north_owner, north_epoch) = before["north"].clone();
        let south = before["south"].clone();
        let idle = ["a", "b", "c"]
            .into_iter()
            .find(|n| *n != north_owner && *n != south.0)
            .unwrap_or_default();
        // A task on north, raised through its owner.
        let i = nodes
            .iter()
            .position(|(n, _)| *n == north_owner)
            .unwrap_or(0);
        let mut nurse = Client::login_connect(&at(&nodes[i].1, "north"), "nurse.okafor").await?;
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        drop(nurse);
        let (_, killed) = nodes.remove(i);
        killed.kill9().await?;
        let refs: Vec<(&str, &HubProcess)> = nodes.iter().map(|(n, p)| (*n, p)).collect();
        let after = eventually("north is taken over", || async {
            let owners = site_owners(&refs).await?;
            // South never moves, not for a moment (whenever its owner
            // answers: a slow answer leaves it out of this look).
            anyhow::ensure!(
                owners.get("south").is_none_or(|o| *o == south),
                "south changed: {owners:?} (was {south:?})"
            );
            let moved = owners.get("north").is_some_and(|o| o.1 > north_epoch);
            Ok((moved && owners.contains_key("south")).then_some(owners))
        })
        .await?;
        assert_eq!(
            after["north"].0, idle,
            "the node that owned nothing took north"
        );
        assert_eq!(after["south"], south);
        let survivor = &nodes[0].1;
        let open = open_tasks(&at(survivor, "north")).await?;
        assert!(open.contains(&task.id), "north's task after the takeover");
        for (_, n) in nodes {
            n.terminate().await?;
        }
        Ok(())
    })
    .await
}

/// A task raised on north is not on south, whichever node a device is on;
/// a login is a site's own (its token is refused by the other site); a
/// site the deployment does not have answers 404; each site's web client
/// is served under its prefix, from either node.
#[tokio::test]
async fn a_task_raised_on_one_site_is_invisible_on_the_other() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_task_on_one_site", |url| async move {
        let TwoNodes {
            nats: _nats,
            dir: _dir,
            a,
            b,
            owners,
        } = TwoNodes::spread(&url).await?;
        // The nurse is on the node that does not own north: served over NATS.
        let forwarder = if owners["north"].0 == "a" { &b } else { &a };
        // Both nodes, not only the forwarder: south is read on each below,
        // and a node that has not heard south's owner yet answers 503.
        until_ready(&a).await?;
        until_ready(&b).await?;
        let mut nurse = Client::login_connect(&at(forwarder, "north"), "nurse.okafor").await?;
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        let on_north = open_tasks(&at(&a, "north")).await?;
        assert!(on_north.contains(&task.id), "north has its task");
        for node in [&a, &b] {
            let on_south = open_tasks(&at(node, "south")).await?;
            assert!(
                !on_south.contains(&task.id),
                "south must not see north's task"
            );
            assert!(on_south.is_empty(), "south has no staff task: {on_south:?}");
        }
        // The plain URLs are the first site's (north).
        assert!(open_tasks(&b.base()).await?.contains(&task.id));
        // North's token means nothing on south.
        let token = login(&at(&a, "north"), "coord.hale", DEMO_PASSWORD).await?;
        let refused = Client::connect_fresh(&at(&a, "south"), &token).await;
        let code = refused
            .err()
            .and_then(|e| e.downcast_ref::<CommandError>().map(|c| c.code));
        assert_eq!(
            code,
            Some(ErrorCode::Unauthorized),
            "a north token must not open south"
        );
        // It still opens north.
        Client::connect_fresh(&at(&b, "north"), &token).await?;
        let status =
            |path: String| async move { anyhow::Ok(reqwest::get(path).await?.status().as_u16()) };
        assert_eq!(
            status(format!("{}/site/west/healthz", a.base())).await?,
            404
        );
        assert_eq!(status(format!("{}/healthz", at(&a, "south"))).await?, 200);
        // Each site's web client is served under its prefix (it calls
        // every URL relative to its folder), with the client's headers; a
        // folder without its slash is sent to it, under the prefix.
        for (node, site) in [(&a, "south"), (&b, "north"), (&a, "north")] {
            web_client_is_served(&at(node, site)).await?;
        }
        assert_eq!(status(format!("{}/site/west/", a.base())).await?, 404);
        assert_eq!(status(format!("{}/", a.base())).await?, 200);
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// A node stopped cleanly hands over every site it owns at once (no lease
/// to wait out): the other node, owning one already, takes the stopped
/// node's site too, and its own site keeps its epoch. Without NATS: each
/// site's plain standby answers meanwhile.
#[tokio::test]
async fn a_clean_stop_hands_over_its_sites_and_the_rest_stay() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_clean_stop_hands_over_its_sites", |url| async move {
        let dir = tempfile::tempdir()?;
        let (a, b) = tokio::try_join!(
            start_site_node(&url, dir.path(), "a", &SITES, None),
            start_site_node(&url, dir.path(), "b", &SITES, None),
        )?;
        let before = spread_over(&[("a", &a), ("b", &b)], "each node owns one site").await?;
        // Node a stops; the site it owns moves to b, b's own stays.
        let (gone, kept) = (a, b);
        let moved = if before["north"].0 == "a" {
            "north"
        } else {
            "south"
        };
        let stays = if moved == "north" { "south" } else { "north" };
        // Without NATS, a node serves only the sites it owns: the other's
        // routes under its prefix are the standby answers.
        let standby = reqwest::get(format!("{}/api/openapi.json", at(&kept, moved))).await?;
        assert_eq!(standby.status().as_u16(), 503);
        let mut nurse = Client::login_connect(&at(&gone, moved), "nurse.okafor").await?;
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        assert!(gone.terminate().await?.success());
        let (code, _) = nurse.closed().await?;
        assert_eq!(code, 1012, "the device is told to reconnect");
        let after = eventually("the other node owns both sites", || async {
            let owners = site_owners(&[("b", &kept)]).await?;
            Ok((owners.len() == 2).then_some(owners))
        })
        .await?;
        assert_eq!(
            after[moved].1,
            before[moved].1 + 1,
            "a new epoch for {moved}"
        );
        assert_eq!(after[stays], before[stays], "{stays} did not move");
        assert!(open_tasks(&at(&kept, moved)).await?.contains(&task.id));
        kept.terminate().await?;
        Ok(())
    })
    .await
}

/// With NATS, sites spread again when a node joins later: node a, alone,
/// owns both sites; once b is up, a hands one over (a new epoch for that
/// site) and keeps the other (its epoch unchanged), and a device of the
/// moved site resumes with its task there.
#[tokio::test]
async fn a_node_that_joins_later_is_handed_a_site() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_node_that_joins_later", |url| async move {
        let nats = NatsServer::start().await?;
        let nats_url = nats.url();
        let dir = tempfile::tempdir()?;
        let a = start_site_node(&url, dir.path(), "a", &SITES, Some(&nats_url)).await?;
        let alone = eventually("a owns both sites", || async {
            let owners = site_owners(&[("a", &a)]).await?;
            Ok((owners.len() == 2).then_some(owners))
        })
        .await?;
        let mut nurse = Client::login_connect(&at(&a, "south"), "nurse.okafor").await?;
        let task = raise_ok(&mut nurse, cannula_w7()).await?;
        let b = start_site_node(&url, dir.path(), "b", &SITES, Some(&nats_url)).await?;
        let after = spread_over(&[("a", &a), ("b", &b)], "a hands a site to b").await?;
        let moved = SITES
            .into_iter()
            .find(|s| after[*s].0 == "b")
            .unwrap_or_default();
        let stays = SITES.into_iter().find(|s| *s != moved).unwrap_or_default();
        assert_eq!(after[moved].1, alone[moved].1 + 1, "{moved} was taken over");
        assert_eq!(after[stays], alone[stays], "{stays} stayed as it was");
        assert!(open_tasks(&at(&a, "south")).await?.contains(&task.id));
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// The epoch of `site` as `node` owns it now, if it does.
async fn owned_epoch(node: &HubProcess, name: &str, site: &str) -> anyhow::Result<Option<i64>> {
    Ok(site_owners(&[(name, node)]).await?.get(site).map(|o| o.1))
}

/// The epoch of `site` if `node` owns it (`Some(None)`: it answered that
/// it does not), or `None` if its `/readyz` did not answer.
async fn said_epoch(node: &HubProcess, site: &str) -> anyhow::Result<Option<Option<i64>>> {
    let Some((_, body)) = readyz(node).await? else {
        return Ok(None);
    };
    let owned = body["sites"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["site"] == site && s["owns"] == true)
        .and_then(|s| s["epoch"].as_i64());
    Ok(Some(owned))
}

/// A node on the bus that cannot claim (cut off from the database) is
/// handed a site that it never takes: the owner takes it back, and waits
/// twice as long before it hands one over again, rather than closing that
/// site's devices every few seconds.
#[tokio::test]
async fn a_site_nobody_takes_comes_back_and_the_next_try_waits_longer() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_site_nobody_takes", |url| async move {
        let nats = NatsServer::start().await?;
        let nats_url = nats.url();
        let dir = tempfile::tempdir()?;
        let a = start_site_node(&url, dir.path(), "a", &SITES, Some(&nats_url)).await?;
        let relay = Relay::start(url_addr(&url)?).await?;
        eventually("a owns both sites", || async {
            Ok((site_owners(&[("a", &a)]).await?.len() == 2).then_some(()))
        })
        .await?;
        let b_url = url_via(&url, relay.addr())?;
        let b = start_site_node(&b_url, dir.path(), "b", &SITES, Some(&nats_url)).await?;
        relay.cut();
        // Each time a hands south over it stops owning it (the moment the
        // cool-down is counted from), and each time it takes it back the
        // epoch rises. The gap is taken between the hand-overs: between the
        // returns it would also hold how long each take-back took, which
        // varies by seconds on a busy machine.
        let start = owned_epoch(&a, "a", "south").await?.unwrap_or_default();
        let (mut handed, mut back) = (Vec::new(), 0);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
        let (mut last, mut owned) = (start, true);
        while (handed.len() < 2 || back < 2) && std::time::Instant::now() < deadline {
            // A readiness that did not answer says nothing (not "handed over").
            let Some(now) = said_epoch(&a, "south").await? else {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            };
            match now {
                Some(e) => {
                    if e > last {
                        back += 1;
                        last = e;
                    }
                    owned = true;
                }
                None if owned => {
                    handed.push(std::time::Instant::now());
                    owned = false;
                }
                None => {}
            }
            // The pace of looking at a's readiness.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::ensure!(back >= 2, "south came back {back} times");
        anyhow::ensure!(
            handed.len() >= 2,
            "south was handed over {} times",
            handed.len()
        );
        let gap = handed[1] - handed[0];
        assert!(
            gap >= std::time::Duration::from_secs(8),
            "the second hand-over waited twice the first's 5 s: {gap:?}"
        );
        assert_eq!(site_owners(&[("b", &b)]).await?.len(), 0, "b owns nothing");
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}
