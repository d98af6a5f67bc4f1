//! Whether every live node was started with the same `[cluster] sites`.
//! A node with `["north"]` beside nodes with `["north", "south"]` would
//! never serve south, a typo would open a new, empty site, and a list in
//! another order would send the plain URLs to another hospital. Each node
//! publishes its list in the database (`store::postgres::nodes`) at start
//! and every [`ROUND`], reads every other live node's, and says so loudly
//! when one differs: an `error!` naming both lists (when the difference
//! appears or changes), the node's `/readyz` field `site_list_mismatch`,
//! and `wardpage cluster status`.
//!
//! A node whose list differs still serves. Adding a site is a rolling
//! change (nodes restarted one at a time), during which lists differ by
//! design; refusing to serve then would take the hospital down with it.

use crate::store::postgres::{NodeLists, NodeSites};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tracing::{error, info, warn};

/// How often a node writes its row and reads the others'.
pub(super) const ROUND: Duration = Duration::from_secs(1);

/// A node not seen for this long (by the database's clock) is taken as
/// gone: its list no longer counts. Never under five rounds, so that a
/// slow round or two does not make a live node vanish and reappear.
pub(super) fn live_within(ttl: Duration) -> Duration {
    ttl.max(ROUND * 5)
}

/// This node's list and the live nodes whose lists differ from it.
pub(super) struct SiteLists {
    node: String,
    sites: Vec<String>,
    differing: Mutex<Vec<NodeSites>>,
}

impl SiteLists {
    pub(super) fn new(node: &str, sites: &[String]) -> Arc<SiteLists> {
        Arc::new(SiteLists {
            node: node.to_owned(),
            sites: sites.to_vec(),
            differing: Mutex::new(Vec::new()),
        })
    }

    /// For the node's `/readyz`: `None` while every live node's list is
    /// this one's, else this node's list and each differing node's.
    pub(super) fn mismatch(&self) -> Option<serde_json::Value> {
        let differing = self.differing.lock().unwrap_or_else(|p| p.into_inner());
        if differing.is_empty() {
            return None;
        }
        let nodes: Vec<serde_json::Value> = differing
            .iter()
            .map(|n| serde_json::json!({ "node": n.node, "sites": n.sites }))
            .collect();
        Some(serde_json::json!({ "this_node": self.sites, "differing": nodes }))
    }

    /// Replaces the differing nodes with `now`, logging when they change.
    fn update(&self, now: Vec<NodeSites>) {
        let mut differing = self.differing.lock().unwrap_or_else(|p| p.into_inner());
        let key = |v: &[NodeSites]| -> Vec<(String, Vec<String>)> {
            v.iter()
                .map(|n| (n.node.clone(), n.sites.clone()))
                .collect()
        };
        if key(&differing) == key(&now) {
            *differing = now;
            return;
        }
        for n in now
            .iter()
            .filter(|n| !key(&differing).contains(&(n.node.clone(), n.sites.clone())))
        {
            error!(
                this_node = %self.node,
                this_sites = ?self.sites,
                other_node = %n.node,
                other_sites = ?n.sites,
                "[cluster] sites differ between live nodes: node {} has {:?}, node {} has {:?} \
                 (a site missing from a node's list is never served by it; fix the config \
                 unless this is a rolling change of the list)",
                self.node, self.sites, n.node, n.sites
            );
        }
        if now.is_empty() {
            info!(sites = ?self.sites, "every live node now has the same [cluster] sites");
        }
        *differing = now;
    }
}

/// The live nodes of `all` other than `node` whose list is not `sites`.
fn differing(node: &str, sites: &[String], all: Vec<NodeSites>, live: Duration) -> Vec<NodeSites> {
    all.into_iter()
        .filter(|n| n.node != node && n.seen_secs_ago <= live.as_secs_f64() && n.sites != sites)
        .collect()
}

/// Publishes this node's list and checks the others' every [`ROUND`]
/// until the node stops, then takes its row out.
pub(super) async fn run(
    lists: Arc<SiteLists>,
    url: String,
    ttl: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(ROUND);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut table: Option<NodeLists> = None;
    let mut started = true;
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopping.wait_for(|s| *s) => break,
        }
        let round = async {
            let t = match table.take() {
                Some(t) => t,
                None => NodeLists::open(&url, ROUND * 2).await?,
            };
            let result = async {
                t.publish(&lists.node, &lists.sites, started).await?;
                t.all().await
            }
            .await;
            table = Some(t);
            result
        };
        match tokio::time::timeout(ROUND * 5, round).await {
            Ok(Ok(all)) => {
                started = false;
                lists.update(differing(&lists.node, &lists.sites, all, live_within(ttl)));
            }
            Ok(Err(e)) => warn!(error = %e, "could not publish this node's site list"),
            Err(_) => {
                warn!("could not publish this node's site list: the database does not answer")
            }
        }
    }
    if let Some(t) = table {
        // Not taken out, the row stops counting once it is not seen for
        // `live_within`: a stop need not wait on the database for it.
        match tokio::time::timeout(ROUND, t.forget(&lists.node)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(error = %e, "could not take this node's site list out"),
            Err(_) => {
                warn!("could not take this node's site list out: the database does not answer")
            }
        }
    }
}

/// `wardpage cluster status`'s lines on the nodes' lists: each node's,
/// and whether the live ones agree.
pub(super) fn status_lines(all: &[NodeSites], ttl: Duration) -> Vec<String> {
    let live = live_within(ttl).as_secs_f64();
    let mut lines = Vec::new();
    for n in all {
        let seen = if n.seen_secs_ago <= live {
            format!("seen {:.1} s ago", n.seen_secs_ago.max(0.0))
        } else {
            format!("not seen for {:.0} s: not counted", n.seen_secs_ago)
        };
        lines.push(format!(
            "node {}:{}[{}] ({seen})",
            n.node,
            pad(&n.node),
            n.sites.join(", ")
        ));
    }
    let live: Vec<&NodeSites> = all.iter().filter(|n| n.seen_secs_ago <= live).collect();
    let agree = live.windows(2).all(|w| w[0].sites == w[1].sites);
    lines.push(if live.is_empty() {
        "site lists:   no live node has published its list".to_owned()
    } else if agree {
        "site lists:   the same on every live node".to_owned()
    } else {
        let each: Vec<String> = live
            .iter()
            .map(|n| format!("{} [{}]", n.node, n.sites.join(", ")))
            .collect();
        format!(
            "site lists:   DIFFER between live nodes: {}",
            each.join("; ")
        )
    });
    lines
}

/// Spaces after `node <name>:` to line the value up with the others.
fn pad(name: &str) -> String {
    " ".repeat(14usize.saturating_sub(name.len() + 6).max(1))
}
