//! `cluster`: several `wardpage` nodes on one fresh PostgreSQL database
//! (`[cluster]`, a short lease), one site or several (`sites`: each its
//! own hospital, imported alike, with its own owner and handhelds at its
//! own `/site/<name>/` URLs), thousands of lean handhelds that each know
//! every node and move to the next one on a 503 or a closed socket (as the
//! load balancer would), a night's trickle of raises and accepts, and every
//! few seconds a SIGKILL of the current owner, restarted afterwards as a
//! standby (or, with `kill`, of a node that does not own, or the two in
//! turn). Per kill it measures the time from the kill to each handheld
//! resumed on the new owner (welcomed and replayed to the top of its
//! stream as the welcome gave it) and checks the ledger's invariants over
//! the whole run: nothing acknowledged lost, nothing shown twice, no gaps.
//!
//! [`nodes`] runs the node processes, [`device`](mod@device) the handhelds
//! and raisers (with what they share in [`shared`]), [`kills`] each kill and its figures; this module drives the
//! run and folds the outcome into a report.

mod device;
mod kills;
mod node_metrics;
mod nodes;
pub mod shard;
mod shared;

use super::hubctl::{hub_binary, SimHub};
use super::ledger::{self, AckedRaise};
use super::load::Rig;
use super::report::RunReport;
use super::stats::{self, Live, Samples};
use anyhow::Context;
use device::{device, raiser, Device, DeviceOut, Shared};
pub use kills::KillTarget;
use kills::{kill_once, Resumed};
use node_metrics::{hello_figures, node_open};
use nodes::Nodes;
use serde::Serialize;
use shard::{DeviceSpec, ShardSpec, Shards, ToShard};
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

#[derive(Debug, Clone, Serialize)]
pub struct ClusterParams {
    pub nodes: usize,
    /// Sites of the deployment (1: the default site at the plain URLs;
    /// more: `s1`, `s2`... each with the same hospital and its share of
    /// the devices).
    pub sites: usize,
    pub devices: usize,
    /// Pairs of logins (nurse and doctor per pair) sharing the devices.
    pub pairs: usize,
    pub kills: usize,
    /// Which node each kill takes.
    pub kill: KillTarget,
    /// Seconds between one kill's every device resumed and the next kill.
    pub every_secs: f64,
    pub lease_ttl_ms: u64,
    /// Raises per second, all nurses together.
    pub raise_rate: f64,
    /// Each doctor accepts one raise in this many (0: none).
    pub accept_every: u64,
    /// Devices connecting at once while ramping up.
    pub ramp_concurrency: usize,
    pub seed: u64,
    /// Simulator processes holding the devices (this one and `procs - 1`
    /// children): one process may open at most 20,000 files here.
    pub procs: usize,
    /// The nodes' bus (`[cluster] nats_url`); without it a standby answers
    /// 503 and devices move on to the owner.
    pub nats: Option<String>,
    /// The simulator executable the shards run (default: this process's).
    pub shard_bin: Option<std::path::PathBuf>,
}

/// How long a kill may take until every device has resumed before the
/// run counts the stragglers and moves on.
const RESUME_LIMIT: Duration = Duration::from_secs(60);

/// Runs the scenario on a fresh database on the PostgreSQL server
/// `admin_url` names (dropped afterwards).
pub async fn run(p: ClusterParams, admin_url: &str, password: &str) -> anyhow::Result<RunReport> {
    let mut out = None;
    let slot = &mut out;
    wardpage_tests::pg::on_fresh_postgres_at(admin_url, |url| async move {
        *slot = Some(on_database(p, &url, password).await?);
        Ok(())
    })
    .await?;
    out.context("the scenario did not run")
}

async fn on_database(p: ClusterParams, url: &str, password: &str) -> anyhow::Result<RunReport> {
    let mut report = RunReport::new("cluster", p.seed, serde_json::to_value(&p)?);
    if let Ok(n) = rlimit::increase_nofile_limit(u64::MAX) {
        report.notes.push(format!("simulator open-file limit {n}"));
    }
    let bin = hub_binary()?;
    let hospital = super::hospital::Hospital::pairs(p.pairs);
    let names = site_names(p.sites);
    if names.is_empty() {
        hospital
            .import_with_cli(&bin, Path::new(url), password)
            .await?;
    }
    for name in &names {
        hospital
            .import_into_site(&bin, Path::new(url), password, Some((name, &names)))
            .await?;
    }
    let dir = tempfile::tempdir()?;
    let bus = p
        .nats
        .as_ref()
        .map(|u| format!("nats_url = \"{u}\"\n"))
        .unwrap_or_default();
    let mut nodes =
        Nodes::start(&bin, url, p.nodes, p.lease_ttl_ms, &names, &bus, dir.path()).await?;
    let result = drive(&p, &names, &mut nodes, password, &mut report).await;
    nodes.stop().await?;
    result?;
    Ok(report)
}

/// The sites of a run of `n` (none named for one: the default site).
fn site_names(n: usize) -> Vec<String> {
    if n <= 1 {
        return Vec::new();
    }
    (1..=n).map(|i| format!("s{i}")).collect()
}

/// Each site's path prefix: `""` for the default site alone.
fn site_prefixes(names: &[String]) -> Vec<String> {
    if names.is_empty() {
        return vec![String::new()];
    }
    names.iter().map(|n| format!("/site/{n}")).collect()
}

/// Everything between the nodes starting and stopping.
async fn drive(
    p: &ClusterParams,
    names: &[String],
    nodes: &mut Nodes,
    password: &str,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let owners = nodes.wait_all_owned(Duration::from_secs(60)).await?;
    let prefixes = site_prefixes(names);
    let mut rigs = Vec::new();
    for (s, prefix) in prefixes.iter().enumerate() {
        report.notes.push(format!(
            "first owner of {}: node {}",
            nodes.site_name(s),
            nodes.name(owners[s])
        ));
        let base = format!("{}{prefix}", nodes.base(owners[s]));
        rigs.push(Rig::log_in(SimHub::External(base), p.pairs, password).await?);
    }
    let live = Arc::new(Live::default());
    let sh = Arc::new(Shared::new(nodes.addrs(), prefixes.clone(), live.clone()));
    sh.set_owners(&owners);
    let bar = stats::progress("cluster");
    let timeline =
        stats::Timeline::start(live.clone(), Duration::from_millis(250), Some(bar.clone()));
    let (stop_devices, devices_rx) = watch::channel(false);
    let (stop_raisers, raisers_rx) = watch::channel(false);
    let t0 = Instant::now();
    let (devices, specs) = spawn_devices(&rigs, p, &sh, devices_rx);
    let shards = Arc::new(Shards::spawn(p.shard_bin.clone(), specs, sh.clone()).await?);
    shards.tell(&ToShard::Owners { nodes: owners }).await?;
    let names = if names.is_empty() {
        vec!["default".to_owned()]
    } else {
        names.to_vec()
    };
    let poller = tokio::spawn(poll_load(sh.clone(), names, shards.clone()));
    let ramp = all_caught_up(&sh, p.devices, Duration::from_secs(300)).await;
    report
        .figures
        .insert("ramp up (s)".into(), ramp.as_secs_f64());
    let raisers = spawn_raisers(&rigs, p, &sh, raisers_rx);
    let mut per_kill = Vec::new();
    for k in 0..p.kills {
        tokio::time::sleep(Duration::from_secs_f64(p.every_secs)).await;
        per_kill.push(kill_once(k, p.kill, nodes, &sh, &shards, p.devices, report).await?);
    }
    tokio::time::sleep(Duration::from_secs_f64(p.every_secs)).await;
    stop_raisers.send_replace(true);
    let mut acked = Vec::new();
    for r in raisers {
        acked.extend(r.await?);
    }
    all_delivered(&sh, &acked, Duration::from_secs(60)).await;
    stop_devices.send_replace(true);
    poller.abort();
    let mut outs: Vec<DeviceOut> = Vec::new();
    for h in devices {
        outs.push(h.await?);
    }
    outs.extend(shards.stop().await?);
    let mut logs = Vec::new();
    let mut resumes = vec![Resumed::default(); p.kills];
    let (mut latency, mut latency_other) = (Samples::default(), Samples::default());
    for out in outs {
        for (k, d, of_killed) in out.resumes {
            if let Some(r) = resumes.get_mut(k) {
                let s = if of_killed {
                    &mut r.of_killed
                } else {
                    &mut r.of_others
                };
                s.push(d);
            }
        }
        latency.extend(out.latency);
        latency_other.extend(out.latency_other);
        logs.push(out.log);
    }
    report.timeline = timeline.finish();
    bar.finish_and_clear();
    report.duration_s = t0.elapsed().as_secs_f64();
    report.invariants = ledger::check(&acked, &logs);
    report.raises_acked = acked.len() as u64;
    report.deliveries = live.delivered.load(Relaxed);
    report.reconnects = live.reconnects.load(Relaxed);
    report.latency(
        "raise to candidate, device on another node",
        "ms",
        latency_other.clone().percentiles(),
    );
    report.latency(
        "raise to candidate, device on the owner",
        "ms",
        latency.clone().percentiles(),
    );
    latency.extend(latency_other);
    report.delivery_latency_ms = latency.percentiles();
    kills::figures(report, nodes, resumes, &per_kill, live.errors.load(Relaxed));
    report
        .figures
        .extend(hello_figures(&sh.nodes, &sh.sites).await);
    Ok(())
}

/// Waits (up to `within`) until `n` devices are connected and caught up
/// (or have given up); the time it took.
async fn all_caught_up(sh: &Shared, n: usize, within: Duration) -> Duration {
    let t = Instant::now();
    let done = || (sh.caught_up.load(Relaxed) + sh.gone.load(Relaxed)) as usize;
    while done() < n && t.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    t.elapsed()
}

/// Waits (up to `within`) until the doctors' devices have received every
/// acknowledged raise once per device; the ledger then checks which.
async fn all_delivered(sh: &Shared, acked: &[AckedRaise], within: Duration) {
    let expected: u64 = {
        let Ok(of) = sh.devices_of.lock() else { return };
        acked
            .iter()
            .flat_map(|r| r.candidates.iter())
            .map(|c| of.get(c).copied().unwrap_or(0))
            .sum()
    };
    let t = Instant::now();
    while sh.live.delivered.load(Relaxed) < expected && t.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `p.devices` handhelds shared round-robin over the sites and, within
/// each, over its nurses and doctors, each from its own source address, a
/// few connecting at a time. Device `j` runs in process `j % p.procs`:
/// those of this process are spawned here, the others come back as one
/// spec per child process.
fn spawn_devices(
    rigs: &[Rig],
    p: &ClusterParams,
    sh: &Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> (Vec<JoinHandle<DeviceOut>>, Vec<ShardSpec>) {
    let procs = p.procs.max(1);
    let ramp = Arc::new(tokio::sync::Semaphore::new(p.ramp_concurrency.max(1)));
    let mut specs: Vec<ShardSpec> = (1..procs)
        .map(|_| ShardSpec {
            nodes: sh.nodes.clone(),
            sites: sh.sites.clone(),
            devices: Vec::new(),
            ramp: p.ramp_concurrency,
            seed: p.seed,
        })
        .collect();
    let mut local = Vec::new();
    for j in 0..p.devices {
        let (site, of_site) = (j % rigs.len(), j / rigs.len());
        let rig = &rigs[site];
        let users = rig.pairs.len() * 2;
        let user = of_site % users;
        let (ntok, dtok, _) = &rig.pairs[user / 2];
        let doctor = user % 2 == 1;
        let spec = DeviceSpec {
            src: j,
            site,
            token: if doctor { dtok.clone() } else { ntok.clone() },
            doctor,
            // The doctor's first device accepts.
            accept_every: if doctor && of_site < users {
                p.accept_every
            } else {
                0
            },
        };
        match j % procs {
            0 => {
                let d = Device {
                    src: spec.src,
                    site: spec.site,
                    token: Arc::from(spec.token.as_str()),
                    doctor: spec.doctor,
                    accept_every: spec.accept_every,
                };
                local.push(tokio::spawn(device(
                    d,
                    sh.clone(),
                    stop.clone(),
                    ramp.clone(),
                    p.seed,
                )));
            }
            k => specs[k - 1].devices.push(spec),
        }
    }
    (local, specs)
}

/// Reads each node's open connections (every site's, from each site's
/// metrics) twice a second, for the devices' choice of a node after a
/// loss, and who owns each site (a site handed over to spread the sites
/// moves its owner between kills); tells the shards both. A node that does
/// not answer counts as full.
async fn poll_load(sh: Arc<Shared>, names: Vec<String>, shards: Arc<Shards>) {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_millis(400))
        .build()
    else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let mut open = Vec::new();
        let mut owners = vec![usize::MAX; names.len()];
        for (i, a) in sh.nodes.iter().enumerate() {
            let mut sum = Some(0);
            for prefix in &sh.sites {
                let n = node_open(&http, *a, prefix).await;
                sum = sum.zip(n).map(|(s, n)| s + n);
            }
            open.push(sum.unwrap_or(u64::MAX));
            for s in node_owns(&http, *a, &names).await {
                owners[s] = i;
            }
        }
        if let Ok(mut l) = sh.load.lock() {
            *l = open.clone();
        }
        // A site between owners keeps the owner last known.
        let known: Vec<usize> = owners
            .iter()
            .zip(&sh.owner)
            .map(|(&o, was)| {
                if o == usize::MAX {
                    was.load(Relaxed)
                } else {
                    o
                }
            })
            .collect();
        sh.set_owners(&known);
        let told = shards.tell(&ToShard::Load { open }).await;
        if told.is_err()
            || shards
                .tell(&ToShard::Owners { nodes: known })
                .await
                .is_err()
        {
            return;
        }
    }
}

/// The sites (by index into `names`) the node at `addr` says it owns.
async fn node_owns(
    http: &reqwest::Client,
    addr: std::net::SocketAddr,
    names: &[String],
) -> Vec<usize> {
    let Ok(res) = http.get(format!("http://{addr}/readyz")).send().await else {
        return Vec::new();
    };
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    body["owned"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str())
        .filter_map(|s| names.iter().position(|n| n == s))
        .collect()
}

/// One raiser per pair's nurse of every site, together at `p.raise_rate`.
fn spawn_raisers(
    rigs: &[Rig],
    p: &ClusterParams,
    sh: &Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<Vec<AckedRaise>>> {
    let all: usize = rigs.iter().map(|r| r.pairs.len()).sum();
    let per = p.raise_rate.max(0.01) / all.max(1) as f64;
    let every = Duration::from_secs_f64(1.0 / per);
    let nurses = rigs
        .iter()
        .enumerate()
        .flat_map(|(site, rig)| rig.pairs.iter().map(move |pair| (site, pair)));
    nurses
        .enumerate()
        .map(|(k, (site, (ntok, _, ward)))| {
            let d = Device {
                // Source addresses after the devices'.
                src: p.devices + k,
                site,
                token: Arc::from(ntok.as_str()),
                doctor: false,
                accept_every: 0,
            };
            tokio::spawn(raiser(
                d,
                ward.clone(),
                every,
                sh.clone(),
                stop.clone(),
                p.seed,
            ))
        })
        .collect()
}
