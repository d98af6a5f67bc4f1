//! What the several-sites tests share: the two demo sites (`north`,
//! `south`), a node's URL prefix for a site, two nodes on both sites
//! spread one site each over a NATS server of the test's own, and the
//! checks that a site's web client is served and that a node is ready.

use crate::eventually;
use crate::hub::HubProcess;
use crate::nats::NatsServer;
use crate::nodes::{readyz, site_owners, start_site_node};
use std::collections::BTreeMap;

pub const SITES: [&str; 2] = ["north", "south"];

/// `node`'s URL prefix for `site`.
pub fn at(node: &HubProcess, site: &str) -> String {
    format!("{}/site/{site}", node.base())
}

/// Waits until both sites have an owner and the owners are two different
/// nodes of `nodes`; site → (node, epoch).
pub async fn spread_over(
    nodes: &[(&str, &HubProcess)],
    what: &str,
) -> anyhow::Result<BTreeMap<String, (String, i64)>> {
    eventually(what, || async {
        let owners = site_owners(nodes).await?;
        let both = owners.len() == SITES.len();
        let apart = owners.get("north").map(|o| &o.0) != owners.get("south").map(|o| &o.0);
        Ok((both && apart).then_some(owners))
    })
    .await
}

/// Two nodes on both sites, started together, with a NATS server of the
/// test's own, once the sites have spread over them (one each).
pub struct TwoNodes {
    pub nats: NatsServer,
    pub dir: tempfile::TempDir,
    pub a: HubProcess,
    pub b: HubProcess,
    /// site → (node, epoch)
    pub owners: BTreeMap<String, (String, i64)>,
}

impl TwoNodes {
    pub async fn spread(url: &str) -> anyhow::Result<TwoNodes> {
        let nats = NatsServer::start().await?;
        let nats_url = nats.url();
        let bus = Some(nats_url.as_str());
        let dir = tempfile::tempdir()?;
        let (a, b) = tokio::try_join!(
            start_site_node(url, dir.path(), "a", &SITES, bus),
            start_site_node(url, dir.path(), "b", &SITES, bus),
        )?;
        let owners = spread_over(&[("a", &a), ("b", &b)], "each node owns one site").await?;
        Ok(TwoNodes {
            nats,
            dir,
            a,
            b,
            owners,
        })
    }
}

/// The web client's pages at `site` (a site's prefix): the handheld app
/// at the folder and its `index.html`, the dashboard at `dashboard/`,
/// each the client's HTML with its security headers; the folders without
/// their slash redirect to them, under the prefix.
pub async fn web_client_is_served(site: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    for (path, page, marker) in [
        ("/", "/", r#"src="js/main.js""#),
        ("/index.html", "/index.html", r#"src="js/main.js""#),
        ("", "/", r#"src="js/main.js""#),
        ("/dashboard/", "/dashboard/", r#"src="main.js""#),
        ("/dashboard", "/dashboard/", r#"src="main.js""#),
    ] {
        let res = http.get(format!("{site}{path}")).send().await?;
        let want = format!("{site}{page}");
        assert_eq!(
            (res.status().as_u16(), res.url().as_str()),
            (200, want.as_str()),
            "{site}{path}"
        );
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{site}{path} has the client's headers"
        );
        let html = res.text().await?;
        assert!(
            html.contains(marker),
            "{site}{path} is the client's page: {html}"
        );
    }
    Ok(())
}

/// Waits until `node` serves every site (its `/readyz` 200); its body.
pub async fn until_ready(node: &HubProcess) -> anyhow::Result<serde_json::Value> {
    eventually("the node serves every site", || async {
        Ok(match readyz(node).await? {
            Some((200, body)) => Some(body),
            _ => None,
        })
    })
    .await
}
