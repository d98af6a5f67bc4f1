//! Moving sites off a node that owns more than its share, while it runs
//! (with NATS, which tells every node who else is there and who owns
//! what). Claiming spreads sites as they are claimed (`member`); this
//! spreads them again when a node joins later: a node that owns at least
//! two sites more than some other live node hands one over, cleanly (as
//! at a clean stop: its devices are closed with 1012 and reconnect, the
//! lease is released at once), and its own claim then waits out the
//! spreading delay, so the node that owns fewer takes it.
//!
//! One hand-over at a time per node, [`COOL_DOWN`] apart, and only to
//! nodes heard for [`SETTLED`]: a node that flaps on the bus moves
//! nothing.

use super::member::Member;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::info;

/// How often a node looks.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long another node must have been heard before it counts.
const SETTLED: Duration = Duration::from_secs(3);
/// The least time between two hand-overs by one node (and from its start).
const COOL_DOWN: Duration = Duration::from_secs(5);

/// Runs until the node stops: hands a site over whenever this node owns
/// two or more than some settled live node.
pub(super) async fn run(
    node: String,
    members: Vec<Arc<Member>>,
    mut stopping: watch::Receiver<bool>,
) {
    let Some(bus) = members.first().and_then(|m| m.bus.clone()) else {
        return;
    };
    let mut first_heard: HashMap<String, Instant> = HashMap::new();
    let mut last_move = Instant::now();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        let alive = bus.nodes_alive();
        first_heard.retain(|n, _| alive.contains(n));
        for n in alive {
            first_heard.entry(n).or_insert_with(Instant::now);
        }
        let mut counts: HashMap<&str, usize> = first_heard
            .iter()
            .filter(|(n, at)| **n != node && at.elapsed() >= SETTLED)
            .map(|(n, _)| (n.as_str(), 0))
            .collect();
        let mut mine = Vec::new();
        for m in &members {
            if m.status.get().owns {
                mine.push(m);
            } else if let Some(owner) = m.bus.as_ref().and_then(|b| b.owner()) {
                if let Some(c) = counts.get_mut(owner.node.as_str()) {
                    *c += 1;
                }
            }
        }
        let fewest = counts
            .iter()
            .min_by_key(|(_, c)| **c)
            .map(|(n, c)| (*n, *c));
        let Some((to, fewest)) = fewest else { continue };
        if mine.len() < fewest + 2 || last_move.elapsed() < COOL_DOWN {
            continue;
        }
        if let Some(site) = mine.last() {
            info!(
                site = %site.site, owned = mine.len(), to, their = fewest,
                "owning more sites than another node: handing one over"
            );
            site.hand_over.notify_waiters();
            last_move = Instant::now();
        }
    }
}
