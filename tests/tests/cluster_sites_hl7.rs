//! The HL7 ADT feed of a deployment of several sites: one feed per site
//! (`[hl7.sites.<name>]`), each bound by that site's owner only. An
//! admission sent to north's feed lands in north, one sent to south's in
//! south, and a node that does not own a site refuses connections on that
//! site's feed (the PAS's engine, or a load balancer's TCP check, moves on
//! to the owner); after a takeover the new owner opens it. Real `wardpage` nodes on a fresh PostgreSQL database;
//! needs `WARDPAGE_TEST_POSTGRES`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use tokio::net::TcpStream;
use wardpage_proto::{Command, CommandResult, PatientView};
use wardpage_tests::hub::HubProcess;
use wardpage_tests::mllp::{adt, free_addr, msa, send};
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::{eventually, Client};

const SITES: [&str; 2] = ["north", "south"];

/// A node's `[hl7]`: the demo's admin as the feed's account, and for each
/// site its listener and its PAS's code for Ward 7.
fn feeds(north: SocketAddr, south: SocketAddr) -> String {
    format!(
        "[hl7]\naccount = \"admin\"\n\
         [hl7.sites.north]\nlisten = \"{north}\"\n[hl7.sites.north.wards]\nN7 = \"w7\"\n\
         [hl7.sites.south]\nlisten = \"{south}\"\n[hl7.sites.south.wards]\nS7 = \"w7\"\n"
    )
}

/// The patients of `site` as its owner `node` holds them.
async fn patients(node: &HubProcess, site: &str) -> anyhow::Result<Vec<PatientView>> {
    let base = format!("{}/site/{site}", node.base());
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    match coord
        .ok(Command::Patients {
            ward: None,
            after: None,
        })
        .await?
    {
        CommandResult::Patients { patients, .. } => Ok(patients),
        other => anyhow::bail!("not a patient list: {other:?}"),
    }
}

/// Sends `message` to the feed at `addr`, once it listens (the owner's
/// hub binds it after loading); the ACK's MSA.
async fn admit_at(addr: SocketAddr, message: &str) -> anyhow::Result<(String, String)> {
    let mut feed = eventually("the owner's feed listens", || async {
        Ok(TcpStream::connect(addr).await.ok())
    })
    .await?;
    Ok(msa(&send(&mut feed, message).await?))
}

/// Two nodes on two sites, each site's owner a different node: each
/// site's feed at its owner admits into that site and no other; the
/// same site's feed address on the other node refuses the connection;
/// once north's owner stops, the other node takes north and its feed.
#[tokio::test]
async fn each_sites_feed_admits_into_that_site_at_its_owner() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("hl7_feed_per_site", |url| async move {
        let dir = tempfile::tempdir()?;
        // Each node's own ports (one machine): site → node → address.
        let mut ports: BTreeMap<(&str, &str), SocketAddr> = BTreeMap::new();
        for site in SITES {
            for node in ["a", "b"] {
                ports.insert((site, node), free_addr()?);
            }
        }
        let extra = |n: &str| feeds(ports[&("north", n)], ports[&("south", n)]);
        let (on_a, on_b) = (extra("a"), extra("b"));
        let (a, b) = tokio::try_join!(
            start_site_node_with(&url, dir.path(), "a", &SITES, None, &on_a),
            start_site_node_with(&url, dir.path(), "b", &SITES, None, &on_b),
        )?;
        let nodes = [("a", &a), ("b", &b)];
        let owners = eventually("each node owns one site", || async {
            let o = site_owners(&nodes).await?;
            let apart = o.len() == 2 && o["north"].0 != o["south"].0;
            Ok(apart.then_some(o))
        })
        .await?;
        let node = |name: &str| if name == "a" { &a } else { &b };
        for (site, code, nhs) in [("north", "N7", "9990000018"), ("south", "S7", "9990000026")] {
            let owner = owners[site].0.as_str();
            let other = if owner == "a" { "b" } else { "a" };
            let message = adt("A01", &format!("{site}-1"), nhs, &format!("{code}^^3"));
            let (code_sent, why) = admit_at(ports[&(site, owner)], &message).await?;
            assert_eq!(code_sent, "AA", "{site}: {why}");
            let here = patients(node(owner), site).await?;
            assert!(
                here.iter()
                    .any(|p| p.details.nhs_number.as_deref() == Some(nhs)),
                "{site} has its admission: {here:?}"
            );
            // The node that does not own the site does not listen for it.
            assert!(
                TcpStream::connect(ports[&(site, other)]).await.is_err(),
                "{other} listens for {site}, which it does not own"
            );
        }
        // Kept apart: neither site holds the other's admission.
        for (site, foreign) in [("north", "9990000026"), ("south", "9990000018")] {
            let owner = node(owners[site].0.as_str());
            let held = patients(owner, site).await?;
            assert!(
                !held
                    .iter()
                    .any(|p| p.details.nhs_number.as_deref() == Some(foreign)),
                "{site} holds the other site's admission: {held:?}"
            );
        }
        // North's owner stops cleanly: the other node takes north over and
        // opens north's feed, which moves the patient there.
        let north_owner = owners["north"].0.clone();
        let (stopped, stays, stays_name) = if north_owner == "a" {
            (a, b, "b")
        } else {
            (b, a, "a")
        };
        stopped.terminate().await?;
        let message = adt("A02", "north-2", "9990000018", "N7^^4");
        let (code, why) = admit_at(ports[&("north", stays_name)], &message).await?;
        assert_eq!(code, "AA", "north after the takeover: {why}");
        let north = patients(&stays, "north").await?;
        assert!(
            north
                .iter()
                .any(|p| p.details.nhs_number.as_deref() == Some("9990000018") && p.bed == "4"),
            "north's new owner applied its feed: {north:?}"
        );
        stays.terminate().await?;
        Ok(())
    })
    .await
}
