//! Moving sites off a node that owns more than its share, while it runs
//! (with NATS, which tells every node who else is there and who owns
//! what). Claiming spreads sites as they are claimed (`member`); this
//! spreads them again when a node joins later: a node that owns at least
//! two sites more than some other live node hands one over, cleanly (as
//! at a clean stop: its devices are closed with 1012 and reconnect, the
//! lease is released at once), and its own claim then waits out the
//! spreading delay, so the node that owns fewer takes it.
//!
//! One hand-over at a time per node, [`COOL_DOWN`] apart (doubling while
//! handed-over sites come back: a node on the bus that cannot claim), and
//! only to nodes heard for [`SETTLED`]: a node that flaps on the bus moves
//! nothing.

use super::member::Member;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;
use tracing::{info, warn};

/// How often a node looks.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How long another node must have been heard before it counts.
const SETTLED: Duration = Duration::from_secs(3);
/// The least time between two hand-overs by one node (and from its start).
const COOL_DOWN: Duration = Duration::from_secs(5);
/// What the time between hand-overs doubles up to while handed-over sites
/// keep coming back (no other node could claim them).
const MAX_COOL_DOWN: Duration = Duration::from_secs(300);

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
    let mut cool_down = COOL_DOWN;
    // The site last handed over, until someone owns it again.
    let mut pending: Option<Arc<Member>> = None;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(LOOK_EVERY) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
        if let Some(site) = &pending {
            match outcome(site) {
                Some(true) => cool_down = COOL_DOWN,
                Some(false) => {
                    // Nobody took it (the other node cannot claim: its
                    // database connection, say): no churn every few
                    // seconds, each closing the site's devices.
                    cool_down = (cool_down * 2).min(MAX_COOL_DOWN);
                    warn!(site = %site.site, next_in = ?cool_down, "the site handed over came back to this node");
                }
                None => continue,
            }
            pending = None;
        }
        let alive = bus.nodes_alive();
        first_heard.retain(|n, _| alive.contains(n));
        for n in alive {
            first_heard.entry(n).or_insert_with(Instant::now);
        }
        if last_move.elapsed() < cool_down {
            continue;
        }
        if let Some(site) = to_hand_over(&node, &members, &first_heard) {
            site.hand_over.notify_waiters();
            last_move = Instant::now();
            pending = Some(site);
        }
    }
}

/// Whether a site handed over went to another node (`Some(true)`), came
/// back to this one (`Some(false)`), or is not owned yet (`None`).
fn outcome(site: &Member) -> Option<bool> {
    if site.status.get().owns {
        return Some(false);
    }
    // Not this node's own last heartbeat, still fresh for a moment.
    let owner = site.bus.as_ref().and_then(|b| b.owner());
    owner.filter(|o| o.node != site.status.node).map(|_| true)
}

/// The site to hand over, if this node owns two or more than another
/// node heard for [`SETTLED`].
fn to_hand_over(
    node: &str,
    members: &[Arc<Member>],
    first_heard: &HashMap<String, Instant>,
) -> Option<Arc<Member>> {
    let mut counts: HashMap<&str, usize> = first_heard
        .iter()
        .filter(|(n, at)| *n != node && at.elapsed() >= SETTLED)
        .map(|(n, _)| (n.as_str(), 0))
        .collect();
    let mut mine = Vec::new();
    for m in members {
        if m.status.get().owns {
            mine.push(m);
        } else if let Some(owner) = m.bus.as_ref().and_then(|b| b.owner()) {
            if let Some(c) = counts.get_mut(owner.node.as_str()) {
                *c += 1;
            }
        }
    }
    let (to, fewest) = counts.into_iter().min_by_key(|(_, c)| *c)?;
    if mine.len() < fewest + 2 {
        return None;
    }
    let site = mine.last()?;
    info!(
        site = %site.site, owned = mine.len(), to, their = fewest,
        "owning more sites than another node: handing one over"
    );
    Some(Arc::clone(site))
}
