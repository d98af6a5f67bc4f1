//! What a `cluster` run's devices and raisers share with the scenario:
//! the nodes and sites, the kills so far, the counts the scenario waits
//! on, each site's owner and the nodes' load (for the balancer's choice of
//! a node after a loss).

use super::super::stats::Live;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::StaffId;

/// What the devices and raisers share with the scenario.
pub(super) struct Shared {
    pub nodes: Vec<SocketAddr>,
    /// Each site's path prefix (`""` for a deployment of one site, whose
    /// URLs are the plain ones; `/site/<name>` for each of several).
    pub sites: Vec<String>,
    pub live: Arc<Live>,
    /// When each kill was sent and the node it killed, in order.
    pub kills: Mutex<Vec<(Instant, usize)>>,
    /// Devices welcomed and still connected, per node and site (at
    /// [`slot`](Self::slot)): how many a kill of that node must see resume.
    pub on_node: Vec<AtomicI64>,
    /// Devices connected and replayed to the top of their stream.
    pub caught_up: AtomicI64,
    /// Devices that gave up (they will never catch up: no use waiting).
    pub gone: AtomicI64,
    /// Devices per staff member (filled at each device's first welcome).
    pub devices_of: Mutex<HashMap<StaffId, u64>>,
    /// The node that owns each site now (`usize::MAX`: not known yet), so
    /// that latency is told apart for devices on the owner and elsewhere.
    pub owner: Vec<AtomicUsize>,
    /// Open connections per node, as the nodes' metrics last said: a
    /// device that lost its node picks the next as a least-connections
    /// load balancer would (empty: in turn).
    pub load: Mutex<Vec<u64>>,
}

/// How long after a kill a lost socket is still put down to it.
const LOSS_WINDOW: Duration = Duration::from_secs(30);

/// Connections one node may hold (the file limit is 20,000 a process,
/// less the node's database and bus connections and its own files).
const NODE_CAPACITY: u64 = 19_000;

impl Shared {
    pub fn new(nodes: Vec<SocketAddr>, sites: Vec<String>, live: Arc<Live>) -> Shared {
        Shared {
            on_node: (0..nodes.len() * sites.len().max(1))
                .map(|_| AtomicI64::new(0))
                .collect(),
            owner: (0..sites.len().max(1))
                .map(|_| AtomicUsize::new(usize::MAX))
                .collect(),
            nodes,
            sites,
            live,
            kills: Mutex::new(Vec::new()),
            caught_up: Default::default(),
            gone: Default::default(),
            devices_of: Mutex::new(Default::default()),
            load: Mutex::new(Vec::new()),
        }
    }

    /// Where the devices of `site` on `node` are counted in `on_node`.
    pub fn slot(&self, node: usize, site: usize) -> usize {
        node * self.sites.len().max(1) + site
    }

    /// Devices of `site` on `node` now.
    pub fn on(&self, node: usize, site: usize) -> i64 {
        self.on_node
            .get(self.slot(node, site))
            .map_or(0, |n| n.load(Relaxed))
    }

    /// Devices of every site on `node` now.
    pub fn on_all_sites(&self, node: usize) -> i64 {
        (0..self.sites.len().max(1)).map(|s| self.on(node, s)).sum()
    }

    /// Notes each site's owner now (`usize::MAX`: none known).
    pub fn set_owners(&self, owners: &[usize]) {
        for (a, &o) in self.owner.iter().zip(owners) {
            a.store(o, Relaxed);
        }
    }

    /// The node device `src` starts on: `src mod nodes` for one site. Of
    /// several, device `src` is of site `src mod sites` (see the
    /// scenario's `spawn_devices`), so it starts on `(src / sites) mod
    /// nodes`: each site's devices spread over every node, not all on the
    /// node whose number is the site's.
    pub(super) fn first_node(&self, src: usize) -> usize {
        (src / self.sites.len().max(1)) % self.nodes.len().max(1)
    }

    /// The ws path of `site`.
    pub(super) fn ws_path(&self, site: usize) -> String {
        format!("{}/ws", self.sites.get(site).map_or("", String::as_str))
    }

    /// The node a device that lost `lost` tries first: a random one of the
    /// others, weighted by the room each has left (as a least-connections
    /// balancer spreads a reconnect storm); the next in turn if no load is
    /// known.
    pub(super) fn pick_after(&self, lost: usize, rng: &mut ChaCha8Rng) -> usize {
        let n = self.nodes.len();
        let load = self.load.lock().map(|l| l.clone()).unwrap_or_default();
        let room: Vec<u64> = (0..n)
            .map(|i| match load.get(i) {
                Some(&open) if i != lost => NODE_CAPACITY.saturating_sub(open).max(1),
                _ => 0,
            })
            .collect();
        let total: u64 = room.iter().sum();
        if total == 0 {
            return (lost + 1) % n;
        }
        let mut x = rng.gen_range(0..total);
        for (i, r) in room.iter().enumerate() {
            if x < *r {
                return i;
            }
            x -= r;
        }
        (lost + 1) % n
    }

    pub(super) fn now_us(&self) -> u64 {
        // The wall clock, not an `Instant`: a raise sent by this process
        // may be heard by a device in another (a shard), on the same machine.
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0)
    }

    /// The kill a socket of node `was` lost just now is put down to: the
    /// latest, if it was sent within [`LOSS_WINDOW`] (a loss long after
    /// any kill is not a kill's), and whether it killed `was` itself.
    pub(super) fn loss_of(&self, was: usize) -> Option<(usize, bool)> {
        let kills = self.kills.lock().ok()?;
        let k = kills.len().checked_sub(1)?;
        let (at, node) = kills[k];
        (at.elapsed() < LOSS_WINDOW).then_some((k, node == was))
    }

    pub(super) fn kill_at(&self, k: usize) -> Option<Instant> {
        self.kills
            .lock()
            .ok()
            .and_then(|v| v.get(k).map(|(at, _)| *at))
    }
}
