//! What a node is doing for each of its sites, for `/readyz` (a site's
//! and the node's), and `wardpage cluster status`, which reads the same
//! from the database.

use super::bus::Bus;
use crate::config::Config;
use crate::store::postgres::{NodeLists, PgStore};
use std::sync::{Arc, Mutex};

/// What this node is doing for one site, for `/readyz`.
pub struct Status {
    pub node: String,
    pub site: String,
    state: Mutex<State>,
    bus: Option<Arc<Bus>>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct State {
    pub owns: bool,
    pub epoch: i64,
    pub owner: Option<String>,
    pub reason: String,
    /// This node's clock minus the database's, as last measured.
    pub clock_offset_ms: Option<i64>,
}

impl Status {
    pub(super) fn new(node: &str, site: &str, bus: Option<Arc<Bus>>) -> Status {
        Status {
            node: node.to_owned(),
            site: site.to_owned(),
            bus,
            state: Mutex::new(State {
                reason: "starting".into(),
                ..State::default()
            }),
        }
    }

    pub(super) fn set(&self, f: impl FnOnce(&mut State)) {
        // A poisoned lock only means a panic elsewhere mid-update: the
        // fields are plain values, still fit to overwrite.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
    }

    pub(super) fn get(&self) -> State {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The site's `/readyz` answer: whether this node serves it, and its
    /// body. With NATS, a node that does not own is ready while it hears
    /// the owner on the bus (it forwards); the body says whether NATS is up.
    pub fn readiness(&self) -> (bool, serde_json::Value) {
        let s = self.get();
        let nats = self.bus.as_ref().map(|b| b.connected());
        let (ready, mut body) = if s.owns {
            let mut body = serde_json::json!({
                "node": self.node, "owns": true, "epoch": s.epoch,
                "clock_offset_ms": s.clock_offset_ms,
            });
            if let Some(up) = nats {
                body["nats"] = up.into();
            }
            (true, body)
        } else if let Some(owner) = self.bus.as_ref().and_then(|b| b.owner()) {
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": owner.node, "epoch": owner.epoch,
                "forwarding": true, "nats": true, "clock_offset_ms": s.clock_offset_ms,
            });
            (true, body)
        } else if let Some(up) = nats {
            let reason = if up {
                s.reason
            } else {
                "NATS is unreachable".to_owned()
            };
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": s.owner, "reason": reason,
                "forwarding": false, "nats": up, "clock_offset_ms": s.clock_offset_ms,
            });
            (false, body)
        } else {
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": s.owner, "reason": s.reason,
                "clock_offset_ms": s.clock_offset_ms,
            });
            (false, body)
        };
        body["site"] = self.site.clone().into();
        (ready, body)
    }
}

/// The node's `/readyz`: ready when it serves every site (owning it, or
/// forwarding to its owner). `sites` lists each site's answer and `owned`
/// the sites this node owns. A node of one site also answers with that
/// site's fields at the top, as before sites were several.
pub(super) fn node_readiness(node: &str, sites: &[Arc<Status>]) -> (bool, serde_json::Value) {
    let answers: Vec<(bool, serde_json::Value)> = sites.iter().map(|s| s.readiness()).collect();
    let ready = answers.iter().all(|(r, _)| *r);
    let owned: Vec<&str> = sites
        .iter()
        .zip(&answers)
        .filter(|(_, (_, b))| b["owns"] == true)
        .map(|(s, _)| s.site.as_str())
        .collect();
    let mut body = match answers.as_slice() {
        [(_, only)] => only.clone(),
        _ => serde_json::json!({ "node": node }),
    };
    body["owned"] = owned.into();
    body["sites"] = answers.into_iter().map(|(_, b)| b).collect();
    (ready, body)
}

/// `wardpage cluster status`: who owns each site, by the database's own
/// account (so on any machine that reaches it, node or not).
pub async fn status_command(config: &Config) -> anyhow::Result<()> {
    if !crate::uses_postgres(config) {
        anyhow::bail!("cluster status needs a PostgreSQL database (SQLite is single-node)");
    }
    let url = config.database.to_string_lossy();
    let mut owners = Vec::new();
    for (i, site) in config.cluster.sites.iter().enumerate() {
        let store = PgStore::open_site(&url, site).await?;
        let row = store.lease_row().await?;
        if i > 0 {
            println!();
        }
        let owner = match (&row.holder, row.owned()) {
            (Some(h), true) => {
                owners.push(format!("{h} ({site}, epoch {})", row.epoch));
                h.clone()
            }
            (None, true) => "a single hub (not a cluster node)".into(),
            (Some(h), false) => format!("none (last: {h})"),
            (None, false) => "none".into(),
        };
        println!("site:         {site}");
        println!("owner:        {owner}");
        println!("epoch:        {}", row.epoch);
        println!(
            "lease until:  {}",
            row.valid_until.as_deref().unwrap_or("(no lease)")
        );
        match row.seconds_left {
            Some(s) => println!("seconds left: {s:.1}"),
            None => println!("seconds left: -"),
        }
        println!("lock held:    {}", if row.locked { "yes" } else { "no" });
        if i + 1 == config.cluster.sites.len() {
            println!(
                "clock offset: {:+} ms (this machine's clock minus the database's)",
                row.clock_offset_ms
            );
        }
    }
    println!();
    if owners.is_empty() {
        println!("nodes:        none owns a site");
    } else {
        println!("nodes:        {}", owners.join(", "));
    }
    // Each node's `[cluster] sites`, as it published them at start.
    match NodeLists::open_existing(&url).await? {
        Some(lists) => {
            for line in super::site_lists::status_lines(&lists.all().await?, config.cluster.ttl()) {
                println!("{line}");
            }
        }
        None => println!("site lists:   no node has published its list yet"),
    }
    Ok(())
}
