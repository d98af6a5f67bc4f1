//! The kills of a `cluster` run: which node each kill takes (an owner, a
//! node that does not own, or the two in turn), how many devices it must
//! see resume, and the per-kill figures: the devices of the killed node
//! apart from those of the other nodes (a site's devices on the other
//! nodes lose their socket too when that site's owner dies: every tunnel
//! to it closes).

use super::super::report::RunReport;
use super::super::stats::Samples;
use super::device::Shared;
use super::nodes::Nodes;
use super::shard::{Shards, ToShard};
use super::{all_caught_up, RESUME_LIMIT};
use serde::Serialize;
use std::time::Duration;
use tokio::time::Instant;

/// Which node each kill takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum KillTarget {
    /// Always the node that owns the site (of several sites, the node
    /// owning the most; of equals, the first site's owner).
    Owner,
    /// Always a node that does not own: the one with the most devices
    /// (with NATS every node serves devices; a node just restarted holds
    /// none until devices move). With several sites, if every node owns
    /// one, the busiest node other than the one `Owner` would take.
    Other,
    /// The owner first, then a node that does not own, and so on.
    Alternate,
}

impl KillTarget {
    /// The node kill `k` takes: `owner` is the node owning the most sites,
    /// `on_node` the devices on each node, `owning` the sites each owns.
    pub fn pick(self, k: usize, owner: usize, on_node: &[i64], owning: &[usize]) -> usize {
        let n = on_node.len();
        // The busiest other node, one owning nothing first; of equals, the
        // first after the owner.
        let other = || {
            (1..n)
                .map(|i| (owner + i) % n)
                .rev()
                .max_by_key(|&i| (owning.get(i) == Some(&0), on_node[i]))
                .unwrap_or(owner)
        };
        match self {
            KillTarget::Owner => owner,
            KillTarget::Other => other(),
            KillTarget::Alternate if k.is_multiple_of(2) => owner,
            KillTarget::Alternate => other(),
        }
    }
}

/// What one kill took, beside the per-device resume samples.
pub(super) struct KillTimes {
    pub node: usize,
    /// Whether the killed node owned a site.
    pub owner: bool,
    /// How many it owned.
    pub sites: usize,
    /// Kill to other nodes' `/readyz` saying they own every site the
    /// killed node owned (owner kills only).
    pub takeover: Option<Duration>,
    pub all_resumed: Duration,
    /// Devices on the killed node when it was killed.
    pub on_killed: u64,
    /// Devices on the other nodes that must resume too: those of the
    /// sites the killed node owned (their tunnels close).
    pub on_others: u64,
}

/// Waits until every device is caught up, SIGKILLs the node `target`
/// picks, waits for new owners of the sites it owned, restarts the killed
/// node (it stands by) and waits until every device has resumed.
pub(super) async fn kill_once(
    k: usize,
    target: KillTarget,
    nodes: &mut Nodes,
    sh: &Shared,
    shards: &Shards,
    devices: usize,
    report: &mut RunReport,
) -> anyhow::Result<KillTimes> {
    all_caught_up(sh, devices, RESUME_LIMIT).await;
    let owners = nodes.wait_all_owned(Duration::from_secs(30)).await?;
    let n = sh.nodes.len();
    let on: Vec<i64> = (0..n).map(|i| sh.on_all_sites(i)).collect();
    let owning: Vec<usize> = (0..n)
        .map(|i| owners.iter().filter(|&&o| o == i).count())
        .collect();
    let node = target.pick(k, main_owner(&owners, &owning), &on, &owning);
    // The sites whose owner dies: their devices on every node lose their tunnel.
    let theirs: Vec<usize> = (0..owners.len()).filter(|&s| owners[s] == node).collect();
    let on_killed = on[node].max(0) as u64;
    let on_others: i64 = (0..n)
        .filter(|&i| i != node)
        .flat_map(|i| theirs.iter().map(move |&s| (i, s)))
        .map(|(i, s)| sh.on(i, s))
        .sum();
    let on_others = on_others.max(0) as u64;
    // The shards first: their devices must know of the kill before any of
    // them can lose a socket to it.
    shards.kill(k, node).await?;
    let at = Instant::now();
    if let Ok(mut kills) = sh.kills.lock() {
        kills.push((at, node));
    }
    nodes.kill9(node).await?;
    let takeover = if theirs.is_empty() {
        report.notes.push(format!(
            "kill {}: node {} killed (owning no site; {on_killed} devices on it)",
            k + 1,
            nodes.name(node)
        ));
        None
    } else {
        let next = nodes
            .wait_owners(Some(node), &theirs, Duration::from_secs(60))
            .await?;
        let t = at.elapsed();
        sh.set_owners(&next);
        shards
            .tell(&ToShard::Owners {
                nodes: next.clone(),
            })
            .await?;
        let moved: Vec<String> = theirs
            .iter()
            .map(|&s| format!("{} to node {}", nodes.site_name(s), nodes.name(next[s])))
            .collect();
        report.notes.push(format!(
            "kill {}: owner {} killed ({on_killed} devices on it, {on_others} devices of its sites on other nodes), {} after {:.2} s",
            k + 1,
            nodes.name(node),
            moved.join(", "),
            t.as_secs_f64()
        ));
        Some(t)
    };
    let startup = nodes.restart(node).await?;
    report.notes.push(format!(
        "kill {}: node {} back as a standby in {:.2} s",
        k + 1,
        nodes.name(node),
        startup.as_secs_f64()
    ));
    all_caught_up(sh, devices, RESUME_LIMIT).await;
    Ok(KillTimes {
        node,
        owner: !theirs.is_empty(),
        sites: theirs.len(),
        takeover,
        all_resumed: at.elapsed(),
        on_killed,
        on_others,
    })
}

/// The node owning the most sites (of equals, the first site's owner);
/// node 0 if no site is owned.
fn main_owner(owners: &[usize], owning: &[usize]) -> usize {
    let mut best: Option<usize> = None;
    for &o in owners.iter().filter(|&&o| o < owning.len()) {
        if best.is_none_or(|b| owning[o] > owning[b]) {
            best = Some(o);
        }
    }
    best.unwrap_or(0)
}

/// One kill's resume samples: the killed node's devices, the others'.
#[derive(Clone, Default)]
pub(super) struct Resumed {
    pub of_killed: Samples,
    pub of_others: Samples,
}

fn put_percentiles(f: &mut std::collections::BTreeMap<String, f64>, what: &str, s: &Samples) {
    if let Some(r) = s.clone().percentiles() {
        f.insert(format!("{what} p50 (s)"), r.p50 / 1000.0);
        f.insert(format!("{what} p99 (s)"), r.p99 / 1000.0);
        f.insert(format!("{what} max (s)"), r.max / 1000.0);
    }
}

/// Per-kill and overall resume figures; devices that should have resumed
/// after a kill and did not break the run.
pub(super) fn figures(
    report: &mut RunReport,
    nodes: &Nodes,
    resumes: Vec<Resumed>,
    per_kill: &[KillTimes],
    errors: u64,
) {
    let (mut all, mut of_killed) = (Samples::default(), Samples::default());
    let (mut short, mut notes) = (0u64, Vec::new());
    let f = &mut report.figures;
    for (k, (r, t)) in resumes.into_iter().zip(per_kill).enumerate() {
        let n = k + 1;
        f.insert(
            format!("kill {n}: owner killed"),
            f64::from(u8::from(t.owner)),
        );
        if let Some(d) = t.takeover {
            f.insert(format!("kill {n}: takeover (s)"), d.as_secs_f64());
        }
        let (a, b) = (r.of_killed.us.len() as u64, r.of_others.us.len() as u64);
        f.insert(
            format!("kill {n}: devices on the killed node"),
            t.on_killed as f64,
        );
        f.insert(
            format!("kill {n}: devices on other nodes to resume"),
            t.on_others as f64,
        );
        f.insert(
            format!("kill {n}: sites the killed node owned"),
            t.sites as f64,
        );
        f.insert(format!("kill {n}: devices resumed"), (a + b) as f64);
        f.insert(format!("kill {n}: killed node's devices resumed"), a as f64);
        f.insert(format!("kill {n}: other nodes' devices resumed"), b as f64);
        f.insert(
            format!("kill {n}: all resumed after (s)"),
            t.all_resumed.as_secs_f64(),
        );
        let mut both = r.of_killed.clone();
        both.extend(r.of_others.clone());
        put_percentiles(f, &format!("kill {n}: resume"), &both);
        put_percentiles(
            f,
            &format!("kill {n}: killed node's devices resume"),
            &r.of_killed,
        );
        put_percentiles(
            f,
            &format!("kill {n}: other nodes' devices resume"),
            &r.of_others,
        );
        short += t.on_killed.saturating_sub(a) + t.on_others.saturating_sub(b);
        notes.push(format!(
            "kill {n} (node {}): {a} of {} devices of the killed node resumed, {b} of other nodes ({} expected)",
            nodes.name(t.node),
            t.on_killed,
            t.on_others
        ));
        of_killed.extend(r.of_killed);
        all.extend(both);
    }
    f.insert("resumes missing (of devices x kills)".into(), short as f64);
    f.insert("connect attempts refused or failed".into(), errors as f64);
    report.notes.extend(notes);
    if short > 0 {
        report.invariants.devices_not_resumed += short;
        report.invariants.ok = false;
    }
    if let Some(r) = of_killed.percentiles() {
        report.latency(
            "kill to resumed, devices of the killed node (all kills)",
            "ms",
            Some(r),
        );
    }
    if let Some(r) = all.clone().percentiles() {
        report.latency("kill to device resumed (all kills)", "ms", Some(r));
    }
    report.histogram = all.histogram();
    report.histogram_title =
        "Per-device time from a node's SIGKILL to resumed (welcomed and replayed)".into();
}

#[cfg(test)]
mod tests {
    use super::{main_owner, KillTarget};

    #[test]
    fn alternate_takes_the_owner_then_the_busiest_other_node() {
        let t = KillTarget::Alternate;
        let on = [10, 0, 30];
        let one = |o: usize| {
            let mut v = vec![0; 3];
            v[o] = 1;
            v
        };
        let picks: Vec<usize> = (0..4).map(|k| t.pick(k, 1, &on, &one(1))).collect();
        assert_eq!(picks, vec![1, 2, 1, 2]);
        assert_eq!(KillTarget::Owner.pick(3, 2, &on, &one(2)), 2);
        assert_eq!(KillTarget::Other.pick(0, 2, &on, &one(2)), 0);
        // Of equals, the first after the owner.
        assert_eq!(KillTarget::Other.pick(0, 1, &[5, 5, 5], &one(1)), 2);
        assert_eq!(KillTarget::Other.pick(0, 2, &[5, 5, 5], &one(2)), 0);
        // One node: nothing else to kill.
        assert_eq!(KillTarget::Other.pick(0, 0, &[7], &[1]), 0);
    }

    #[test]
    fn of_several_sites_other_prefers_a_node_owning_none() {
        // Node 0 owns two sites, node 2 one, node 1 none (and fewer devices).
        let owning = [2, 0, 1];
        let on = [10, 3, 30];
        assert_eq!(main_owner(&[0, 2, 0], &owning), 0);
        assert_eq!(KillTarget::Other.pick(1, 0, &on, &owning), 1);
        // Every node owns one: the busiest that is not the owner's pick.
        assert_eq!(KillTarget::Other.pick(1, 0, &on, &[1, 1, 1]), 2);
        // Of equals, the first site's owner; nothing owned: node 0.
        assert_eq!(main_owner(&[2, 1], &[0, 1, 1]), 2);
        assert_eq!(main_owner(&[usize::MAX], &[0, 0]), 0);
    }
}
