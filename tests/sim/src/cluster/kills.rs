//! The kills of a `cluster` run: which node each kill takes (the owner, a
//! node that does not own, or the two in turn), how many devices it must
//! see resume, and the per-kill figures: the devices of the killed node
//! apart from those of the other nodes (which lose their socket too when
//! the owner dies: every tunnel to it closes).

use super::super::report::RunReport;
use super::super::stats::Samples;
use super::device::Shared;
use super::nodes::Nodes;
use super::shard::{Shards, ToShard};
use super::{all_caught_up, RESUME_LIMIT};
use serde::Serialize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;

/// Which node each kill takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum KillTarget {
    /// Always the node that owns the site.
    Owner,
    /// Always a node that does not own: the one with the most devices
    /// (with NATS every node serves devices; a node just restarted holds
    /// none until devices move).
    Other,
    /// The owner first, then a node that does not own, and so on.
    Alternate,
}

impl KillTarget {
    /// The node kill `k` takes, `owner` owning now, `on_node` devices on
    /// each node.
    pub fn pick(self, k: usize, owner: usize, on_node: &[i64]) -> usize {
        let n = on_node.len();
        // The busiest other node; of equals, the first after the owner.
        let other = || {
            (1..n)
                .map(|i| (owner + i) % n)
                .rev()
                .max_by_key(|&i| on_node[i])
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
    pub owner: bool,
    /// Kill to another node's `/readyz` saying it owns (owner kills only).
    pub takeover: Option<Duration>,
    pub all_resumed: Duration,
    /// Devices on the killed node when it was killed.
    pub on_killed: u64,
    /// Devices on the other nodes that must resume too: all of them when
    /// the owner is killed (their tunnels close), none otherwise.
    pub on_others: u64,
}

/// Waits until every device is caught up, SIGKILLs the node `target`
/// picks, waits for a new owner if it owned, restarts the killed node (it
/// stands by) and waits until every device has resumed.
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
    let owner = nodes.wait_owner(None, Duration::from_secs(30)).await?;
    let on: Vec<i64> = sh.on_node.iter().map(|n| n.load(Relaxed)).collect();
    let node = target.pick(k, owner, &on);
    let on_killed = sh.on_node[node].load(Relaxed).max(0) as u64;
    let on_all: i64 = sh.on_node.iter().map(|n| n.load(Relaxed)).sum();
    let on_others = if node == owner {
        (on_all.max(0) as u64).saturating_sub(on_killed)
    } else {
        0
    };
    // The shards first: their devices must know of the kill before any of
    // them can lose a socket to it.
    shards.kill(k, node).await?;
    let at = Instant::now();
    if let Ok(mut kills) = sh.kills.lock() {
        kills.push((at, node));
    }
    nodes.kill9(node).await?;
    let takeover = if node == owner {
        let next = nodes
            .wait_owner(Some(owner), Duration::from_secs(60))
            .await?;
        let t = at.elapsed();
        sh.owner.store(next, Relaxed);
        shards.tell(&ToShard::Owner { node: next }).await?;
        report.notes.push(format!(
            "kill {}: owner {} killed ({on_killed} devices on it, {on_others} elsewhere), node {} took over after {:.2} s",
            k + 1,
            nodes.name(node),
            nodes.name(next),
            t.as_secs_f64()
        ));
        Some(t)
    } else {
        report.notes.push(format!(
            "kill {}: node {} killed (not the owner; {on_killed} devices on it)",
            k + 1,
            nodes.name(node)
        ));
        None
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
        owner: node == owner,
        takeover,
        all_resumed: at.elapsed(),
        on_killed,
        on_others,
    })
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
    use super::KillTarget;

    #[test]
    fn alternate_takes_the_owner_then_the_busiest_other_node() {
        let t = KillTarget::Alternate;
        let on = [10, 0, 30];
        let picks: Vec<usize> = (0..4).map(|k| t.pick(k, 1, &on)).collect();
        assert_eq!(picks, vec![1, 2, 1, 2]);
        assert_eq!(KillTarget::Owner.pick(3, 2, &on), 2);
        assert_eq!(KillTarget::Other.pick(0, 2, &on), 0);
        // Of equals, the first after the owner.
        assert_eq!(KillTarget::Other.pick(0, 1, &[5, 5, 5]), 2);
        assert_eq!(KillTarget::Other.pick(0, 2, &[5, 5, 5]), 0);
        // One node: nothing else to kill.
        assert_eq!(KillTarget::Other.pick(0, 0, &[7]), 0);
    }
}
