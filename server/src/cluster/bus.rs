//! The cluster's message bus: one NATS connection per node
//! (`[cluster] nats_url`), shared by its sites; per site, its subjects and
//! the heartbeats that tell every node who owns the site now.
//!
//! NATS only carries: the store remembers. A heartbeat that stops, an
//! owner with a new epoch, or a frame lost in transit (a gap in a
//! tunnel's sequence, `tunnel.rs`) closes what depended on it, and the
//! device resumes from its cursor against the store.
//!
//! - The owner publishes `{node, epoch}` on `wardpage.site.<site>.owner`
//!   every [`BEAT_EVERY`]; every node keeps the newest it heard.
//! - Every node publishes `{node}` on `wardpage.site.<site>.node` every
//!   [`BEAT_EVERY`], so the owner can end the tunnels of a node that went.
//! - Either is stale after [`BEAT_STALE`].

use crate::metrics::Metrics;
use axum::body::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

/// How often the owner and every node say they are there.
pub const BEAT_EVERY: Duration = Duration::from_millis(300);
/// A heartbeat older than this means its sender is gone (or cut off).
pub const BEAT_STALE: Duration = Duration::from_millis(1500);
/// How often staleness is looked for.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// The owner as last heard on the bus.
#[derive(Debug, Clone)]
pub struct OwnerBeat {
    pub node: String,
    pub epoch: i64,
    pub at: Instant,
}

impl OwnerBeat {
    pub fn fresh(&self) -> bool {
        self.at.elapsed() < BEAT_STALE
    }
}

#[derive(Serialize, Deserialize)]
struct Beat {
    node: String,
    #[serde(default)]
    epoch: i64,
}

/// A node's connection to the bus.
pub struct Bus {
    pub client: async_nats::Client,
    pub node: String,
    /// The site whose subjects this is about.
    pub site: String,
    pub metrics: Arc<Metrics>,
    owner: watch::Sender<Option<OwnerBeat>>,
    /// The owner while it is heard (`node`, `epoch`), `None` while not:
    /// recomputed on every beat and every [`CHECK_EVERY`], so that each
    /// tunnel waits on one watch instead of a timer of its own.
    live_owner: watch::Sender<Option<(String, i64)>>,
    /// When each node's heartbeat was last heard (read by the owner).
    nodes: Mutex<HashMap<String, Instant>>,
    /// Bumped whenever a node's heartbeat goes stale: the owner's tunnels
    /// from that node then end.
    nodes_lost: watch::Sender<u64>,
    /// Set when the node stops: its tunnels close with the standing-down
    /// reason, and [`Bus::stop`] waits for them.
    stopping: watch::Sender<bool>,
    /// The device ends of this node's tunnels.
    pub tunnels: tokio_util::task::TaskTracker,
    /// Wakes this node's claim of the site at once: the owner stopped
    /// answering on the bus (see [`Bus::owner_unreachable`]).
    pub owner_gone: tokio::sync::Notify,
}

/// Connects to `url` (in the background: a node starts without NATS and
/// keeps trying): the node's one connection, for all its sites.
pub async fn connect(url: &str, node: &str) -> anyhow::Result<async_nats::Client> {
    let client = async_nats::ConnectOptions::new()
        .name(format!("wardpage {node}"))
        .retry_on_initial_connect()
        .max_reconnects(None)
        // Back within a fraction of a second of NATS returning: a
        // node cut off serves no tunnel meanwhile.
        .reconnect_delay_callback(|n| Duration::from_millis((n as u64 * 100).min(1000)))
        .ping_interval(Duration::from_secs(5))
        .connection_timeout(Duration::from_secs(2))
        .event_callback(|event| async move { info!(%event, "NATS") })
        .connect(url)
        .await?;
    Ok(client)
}

impl Bus {
    /// `site`'s subjects on `client`; starts the heartbeats.
    pub fn start(
        client: async_nats::Client,
        node: &str,
        site: &str,
        metrics: Arc<Metrics>,
    ) -> Arc<Bus> {
        let bus = Arc::new(Bus {
            client,
            node: node.to_owned(),
            site: site.to_owned(),
            metrics,
            owner: watch::channel(None).0,
            live_owner: watch::channel(None).0,
            nodes: Mutex::new(HashMap::new()),
            nodes_lost: watch::channel(0).0,
            stopping: watch::channel(false).0,
            tunnels: tokio_util::task::TaskTracker::new(),
            owner_gone: tokio::sync::Notify::new(),
        });
        tokio::spawn(listen_owner(bus.clone()));
        tokio::spawn(listen_nodes(bus.clone()));
        tokio::spawn(beat_node(bus.clone()));
        bus
    }

    /// `wardpage.site.<site>.<leaf>`.
    pub fn subject(&self, leaf: &str) -> String {
        format!("wardpage.site.{}.{leaf}", self.site)
    }

    /// Waits (up to 2 s, and not while disconnected) until NATS has taken
    /// every subscription this node made before the call: a message sent
    /// to itself after them comes back only once the server has read them,
    /// as it reads one connection in order. (The client's `flush` only
    /// writes the socket.)
    pub async fn settle(&self) {
        if !self.connected() {
            return;
        }
        let inbox = self.client.new_inbox();
        let Ok(mut echo) = self.client.subscribe(inbox.clone()).await else {
            return;
        };
        if self.client.publish(inbox, Bytes::new()).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(2), echo.next()).await;
        }
    }

    /// Whether the node's NATS connection is up now.
    pub fn connected(&self) -> bool {
        matches!(
            self.client.connection_state(),
            async_nats::connection::State::Connected
        )
    }

    /// The owner, if its heartbeat is fresh and this node is on the bus.
    pub fn owner(&self) -> Option<OwnerBeat> {
        let beat = self.owner.borrow().clone()?;
        (beat.fresh() && self.connected()).then_some(beat)
    }

    /// Watches the owner while it is heard (see [`Bus::owner`]).
    pub fn watch_owner(&self) -> watch::Receiver<Option<(String, i64)>> {
        self.live_owner.subscribe()
    }

    /// The owner at `epoch` has nobody on its tunnel subject (NATS answered
    /// a tunnel open "no responders": its connection ended, so it died or
    /// was cut off). Forgets it now rather than when its heartbeat goes
    /// stale 1.5 s later, so that this node's tunnels to it close and
    /// their devices wait for the next owner, and wakes this node's claim.
    /// A live owner's next heartbeat brings it back.
    pub fn owner_unreachable(&self, epoch: i64) {
        let forgot = self.owner.send_if_modified(|held| {
            let it = held.as_ref().is_some_and(|h| h.epoch == epoch);
            if it {
                *held = None;
            }
            it
        });
        if forgot {
            info!(
                epoch,
                "the owner does not answer on the bus: looking for the next"
            );
            self.refresh_live_owner();
            self.owner_gone.notify_one();
        }
    }

    /// Recomputes the owner as heard now (for [`Bus::watch_owner`]).
    fn refresh_live_owner(&self) {
        let live = self.owner().map(|b| (b.node, b.epoch));
        self.live_owner.send_if_modified(|held| {
            let changed = *held != live;
            *held = live;
            changed
        });
    }

    /// Changes whenever some node's heartbeat has gone stale.
    pub fn watch_nodes_lost(&self) -> watch::Receiver<u64> {
        self.nodes_lost.subscribe()
    }

    /// Resolves once the node is stopping.
    pub async fn stopped(&self) {
        let mut stopping = self.stopping.subscribe();
        let _ = stopping.wait_for(|s| *s).await;
    }

    /// Closes this node's tunnels (their devices are told the node is
    /// standing down) and waits a little for their goodbyes.
    pub async fn stop(&self) {
        let _ = self.stopping.send(true);
        self.tunnels.close();
        let _ = tokio::time::timeout(Duration::from_secs(3), self.tunnels.wait()).await;
    }

    /// Whether `node`'s heartbeat is fresh (as this node heard it).
    pub fn node_alive(&self, node: &str) -> bool {
        let nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        nodes.get(node).is_some_and(|at| at.elapsed() < BEAT_STALE)
    }

    /// Every node whose heartbeat is fresh (this one included: NATS
    /// echoes a node's own messages to it).
    pub fn nodes_alive(&self) -> Vec<String> {
        let nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        nodes
            .iter()
            .filter(|(_, at)| at.elapsed() < BEAT_STALE)
            .map(|(n, _)| n.clone())
            .collect()
    }

    /// Counts `node` as heard now (a tunnel just opened by it is alive
    /// even before its first heartbeat reaches a new owner).
    pub fn heard_node(&self, node: &str) {
        let mut nodes = self.nodes.lock().unwrap_or_else(|p| p.into_inner());
        nodes.insert(node.to_owned(), Instant::now());
    }

    /// Publishes the owner's heartbeat until the returned task is aborted.
    pub fn beat_owner(self: &Arc<Self>, epoch: i64) -> tokio::task::JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            let beat = Beat {
                node: bus.node.clone(),
                epoch,
            };
            let Ok(body) = serde_json::to_vec(&beat) else {
                return;
            };
            let mut every = tokio::time::interval(BEAT_EVERY);
            loop {
                every.tick().await;
                // Not while disconnected: a beat buffered then would
                // arrive late and look fresh.
                if bus.connected() {
                    let _ = bus
                        .client
                        .publish(bus.subject("owner"), body.clone().into())
                        .await;
                }
            }
        })
    }
}

/// Keeps the newest owner heartbeat. A beat from an older epoch than the
/// one held (an owner that was taken over and has not noticed yet) is
/// ignored while the newer one is fresh.
async fn listen_owner(bus: Arc<Bus>) {
    let mut sub = match bus.client.subscribe(bus.subject("owner")).await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "cannot subscribe to the owner's heartbeat");
            return;
        }
    };
    let mut age = tokio::time::interval(CHECK_EVERY);
    loop {
        tokio::select! {
            msg = sub.next() => {
                let Some(msg) = msg else { return };
                let Ok(beat) = serde_json::from_slice::<Beat>(&msg.payload) else {
                    continue;
                };
                bus.owner.send_if_modified(|held| {
                    let newer = match held {
                        Some(h) => beat.epoch >= h.epoch || !h.fresh(),
                        None => true,
                    };
                    if newer {
                        *held = Some(OwnerBeat { node: beat.node, epoch: beat.epoch, at: Instant::now() });
                    }
                    newer
                });
            }
            _ = age.tick() => {
                // Bus lag as a node sees it: how old the owner's last word is.
                let ms = bus.owner.borrow().as_ref().map_or(-1, |b| b.at.elapsed().as_millis() as i64);
                bus.metrics.cluster_owner_beat_age_ms.set(ms);
                lose_stale_nodes(&bus);
            }
        }
        bus.refresh_live_owner();
    }
}

/// Forgets nodes whose heartbeat went stale, and says so if any did.
fn lose_stale_nodes(bus: &Bus) {
    let lost = {
        let mut nodes = bus.nodes.lock().unwrap_or_else(|p| p.into_inner());
        let before = nodes.len();
        nodes.retain(|_, at| at.elapsed() < BEAT_STALE);
        nodes.len() != before
    };
    // A node cut off from the bus hears no one: its own view counts too.
    if lost || !bus.connected() {
        bus.nodes_lost.send_modify(|n| *n += 1);
    }
}

async fn listen_nodes(bus: Arc<Bus>) {
    let mut sub = match bus.client.subscribe(bus.subject("node")).await {
        Ok(s) => s,
        Err(e) => {
            warn!(error = %e, "cannot subscribe to the nodes' heartbeats");
            return;
        }
    };
    while let Some(msg) = sub.next().await {
        if let Ok(beat) = serde_json::from_slice::<Beat>(&msg.payload) {
            bus.heard_node(&beat.node);
        }
    }
}

async fn beat_node(bus: Arc<Bus>) {
    let beat = Beat {
        node: bus.node.clone(),
        epoch: 0,
    };
    let Ok(body) = serde_json::to_vec(&beat) else {
        return;
    };
    let mut every = tokio::time::interval(BEAT_EVERY);
    loop {
        every.tick().await;
        if bus.connected() {
            let _ = bus
                .client
                .publish(bus.subject("node"), body.clone().into())
                .await;
        }
    }
}
