//! Handhelds in other simulator processes: one process may hold at most
//! 20,000 open files here, so a run of more devices than that spreads
//! them over child processes (`wardpage-sim cluster-shard`), each a fleet
//! of the same handhelds as [`device`](super::device).
//!
//! The parent and each child talk in JSON lines: the parent writes the
//! shard's devices first, then kills, the owner of the moment, each node's
//! open connections and, at the end, stop; the child writes its progress
//! (caught up, gone, deliveries, errors, reconnects, devices per staff
//! member) ten times a second and, once stopped, every device's outcome.
//! The parent folds progress into its own [`Shared`] by difference, so the
//! scenario's waits and counts see every process's devices as one fleet.
//!
//! A kill is told to every child, and acknowledged, before it is sent: a
//! device that loses its socket must already know which kill it lost it to.

use super::super::ledger::DeviceLog;
use super::super::stats::{Live, Samples};
use super::device::{device, Device, DeviceOut, Shared};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::time::Instant;
use wardpage_proto::StaffId;

/// One device as a child process is given it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceSpec {
    pub src: usize,
    /// Its site, an index into [`ShardSpec::sites`].
    #[serde(default)]
    pub site: usize,
    pub token: String,
    pub doctor: bool,
    pub accept_every: u64,
}

/// The first line a child reads: its nodes and its devices.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardSpec {
    pub nodes: Vec<SocketAddr>,
    /// Each site's path prefix (see [`Shared::sites`]).
    #[serde(default)]
    pub sites: Vec<String>,
    pub devices: Vec<DeviceSpec>,
    pub ramp: usize,
    pub seed: u64,
}

/// What the parent tells a child after the spec.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToShard {
    /// Kill `k`, of node `node`, is about to be sent (acknowledged with
    /// `Killed`).
    Kill {
        k: usize,
        node: usize,
    },
    /// The node that owns each site now, by site (`usize::MAX`: none).
    Owners {
        nodes: Vec<usize>,
    },
    /// Open connections per node, as the nodes' metrics last said.
    Load {
        open: Vec<u64>,
    },
    Stop,
}

/// What a child tells the parent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FromShard {
    Progress {
        caught_up: i64,
        gone: i64,
        delivered: u64,
        errors: u64,
        reconnects: u64,
        devices_of: Vec<(StaffId, u64)>,
        /// Devices connected per node and site (see [`Shared::slot`]).
        on_node: Vec<i64>,
    },
    Killed {
        k: usize,
    },
    Done {
        outs: Vec<OutWire>,
    },
}

/// A device's outcome on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct OutWire {
    pub log: DeviceLog,
    pub resumes: Vec<(usize, u64, bool)>,
    pub on_owner: Vec<u64>,
    pub on_other: Vec<u64>,
}

impl From<DeviceOut> for OutWire {
    fn from(o: DeviceOut) -> Self {
        OutWire {
            log: o.log,
            resumes: o
                .resumes
                .into_iter()
                .map(|(k, d, of_killed)| (k, d.as_micros() as u64, of_killed))
                .collect(),
            on_owner: o.latency.us,
            on_other: o.latency_other.us,
        }
    }
}

impl From<OutWire> for DeviceOut {
    fn from(w: OutWire) -> Self {
        DeviceOut {
            log: w.log,
            resumes: w
                .resumes
                .into_iter()
                .map(|(k, us, of_killed)| (k, Duration::from_micros(us), of_killed))
                .collect(),
            latency: Samples { us: w.on_owner },
            latency_other: Samples { us: w.on_other },
        }
    }
}

fn line<T: Serialize>(v: &T) -> anyhow::Result<Vec<u8>> {
    let mut b = serde_json::to_vec(v)?;
    b.push(b'\n');
    Ok(b)
}

/// The child's side: reads its spec from stdin, runs the devices, and
/// reports until told to stop.
pub async fn run_child() -> anyhow::Result<()> {
    let mut input = BufReader::new(tokio::io::stdin()).lines();
    let first = input.next_line().await?.context("no shard spec on stdin")?;
    let spec: ShardSpec = serde_json::from_str(&first).context("the shard spec")?;
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("shard: open-file limit not raised: {e}");
    }
    let sh = Arc::new(Shared::new(
        spec.nodes.clone(),
        spec.sites.clone(),
        Arc::new(Live::default()),
    ));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ramp = Arc::new(Semaphore::new(spec.ramp.max(1)));
    let handles: Vec<_> = spec
        .devices
        .into_iter()
        .map(|d| {
            let d = Device {
                src: d.src,
                site: d.site,
                token: Arc::from(d.token.as_str()),
                doctor: d.doctor,
                accept_every: d.accept_every,
            };
            tokio::spawn(device(
                d,
                sh.clone(),
                stop_rx.clone(),
                ramp.clone(),
                spec.seed,
            ))
        })
        .collect();
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(b) = out_rx.recv().await {
            if stdout.write_all(&b).await.is_err() || stdout.flush().await.is_err() {
                break;
            }
        }
    });
    let progress = tokio::spawn(report_progress(sh.clone(), out_tx.clone()));
    while let Some(l) = input.next_line().await? {
        match serde_json::from_str::<ToShard>(&l)? {
            ToShard::Kill { k, node } => {
                if let Ok(mut kills) = sh.kills.lock() {
                    kills.push((Instant::now(), node));
                }
                let _ = out_tx.send(line(&FromShard::Killed { k })?);
            }
            ToShard::Owners { nodes } => sh.set_owners(&nodes),
            ToShard::Load { open } => {
                if let Ok(mut l) = sh.load.lock() {
                    *l = open;
                }
            }
            ToShard::Stop => break,
        }
    }
    stop_tx.send_replace(true);
    let mut outs = Vec::new();
    for h in handles {
        outs.push(OutWire::from(h.await?));
    }
    progress.abort();
    let _ = out_tx.send(line(&FromShard::Done { outs })?);
    drop(out_tx);
    writer.await?;
    Ok(())
}

async fn report_progress(sh: Arc<Shared>, out: mpsc::UnboundedSender<Vec<u8>>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let devices_of = sh
            .devices_of
            .lock()
            .map(|m| m.iter().map(|(k, v)| (*k, *v)).collect())
            .unwrap_or_default();
        let p = FromShard::Progress {
            caught_up: sh.caught_up.load(Relaxed),
            gone: sh.gone.load(Relaxed),
            delivered: sh.live.delivered.load(Relaxed),
            errors: sh.live.errors.load(Relaxed),
            reconnects: sh.live.reconnects.load(Relaxed),
            devices_of,
            on_node: sh.on_node.iter().map(|n| n.load(Relaxed)).collect(),
        };
        let Ok(b) = line(&p) else { return };
        if out.send(b).is_err() {
            return;
        }
    }
}

/// The parent's side: the child processes and what they said last.
pub(super) struct Shards {
    children: Vec<ShardChild>,
}

struct ShardChild {
    proc: tokio::sync::Mutex<Option<Child>>,
    stdin: tokio::sync::Mutex<ChildStdin>,
    killed: tokio::sync::Mutex<mpsc::UnboundedReceiver<usize>>,
    done: tokio::sync::Mutex<Option<oneshot::Receiver<Vec<OutWire>>>>,
}

/// The last progress a child reported, to fold the next one in by difference.
#[derive(Default)]
struct Last {
    caught_up: i64,
    gone: i64,
    delivered: u64,
    errors: u64,
    reconnects: u64,
    devices_of: HashMap<StaffId, u64>,
    on_node: Vec<i64>,
}

impl Shards {
    /// Starts one child per spec, running `exe` (default: this same
    /// executable).
    pub(super) async fn spawn(
        exe: Option<std::path::PathBuf>,
        specs: Vec<ShardSpec>,
        sh: Arc<Shared>,
    ) -> anyhow::Result<Shards> {
        let exe = match exe {
            Some(e) => e,
            None => std::env::current_exe()?,
        };
        let mut children = Vec::new();
        for spec in specs {
            let mut proc = Command::new(&exe)
                .arg("cluster-shard")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .kill_on_drop(true)
                .spawn()
                .context("starting a simulator shard")?;
            let mut stdin = proc.stdin.take().context("shard stdin")?;
            let stdout = proc.stdout.take().context("shard stdout")?;
            stdin.write_all(&line(&spec)?).await?;
            let (killed_tx, killed) = mpsc::unbounded_channel();
            let (done_tx, done) = oneshot::channel();
            tokio::spawn(read_child(stdout, sh.clone(), killed_tx, done_tx));
            children.push(ShardChild {
                proc: tokio::sync::Mutex::new(Some(proc)),
                stdin: tokio::sync::Mutex::new(stdin),
                killed: tokio::sync::Mutex::new(killed),
                done: tokio::sync::Mutex::new(Some(done)),
            });
        }
        Ok(Shards { children })
    }

    /// Tells every child; an error if one has gone.
    pub(super) async fn tell(&self, msg: &ToShard) -> anyhow::Result<()> {
        let b = line(msg)?;
        for c in &self.children {
            c.stdin
                .lock()
                .await
                .write_all(&b)
                .await
                .context("a shard went away")?;
        }
        Ok(())
    }

    /// Tells every child of kill `k` (of node `node`) and waits until each
    /// has noted it.
    pub(super) async fn kill(&self, k: usize, node: usize) -> anyhow::Result<()> {
        self.tell(&ToShard::Kill { k, node }).await?;
        for c in &self.children {
            let mut killed = c.killed.lock().await;
            let got = tokio::time::timeout(Duration::from_secs(10), killed.recv()).await;
            anyhow::ensure!(
                matches!(got, Ok(Some(n)) if n == k),
                "a shard did not note kill {k}"
            );
        }
        Ok(())
    }

    /// Stops every child and collects its devices' outcomes.
    pub(super) async fn stop(&self) -> anyhow::Result<Vec<DeviceOut>> {
        self.tell(&ToShard::Stop).await?;
        let mut outs = Vec::new();
        for c in &self.children {
            let done = c
                .done
                .lock()
                .await
                .take()
                .context("shard already stopped")?;
            let got = tokio::time::timeout(Duration::from_secs(120), done)
                .await
                .context("a shard did not hand in its devices")?
                .context("a shard ended without its devices")?;
            outs.extend(got.into_iter().map(DeviceOut::from));
            if let Some(mut p) = c.proc.lock().await.take() {
                let _ = p.wait().await;
            }
        }
        Ok(outs)
    }
}

async fn read_child(
    stdout: tokio::process::ChildStdout,
    sh: Arc<Shared>,
    killed: mpsc::UnboundedSender<usize>,
    done: oneshot::Sender<Vec<OutWire>>,
) {
    let mut lines = BufReader::new(stdout).lines();
    let mut last = Last::default();
    while let Ok(Some(l)) = lines.next_line().await {
        match serde_json::from_str::<FromShard>(&l) {
            Ok(FromShard::Progress {
                caught_up,
                gone,
                delivered,
                errors,
                reconnects,
                devices_of,
                on_node,
            }) => {
                sh.caught_up.fetch_add(caught_up - last.caught_up, Relaxed);
                sh.gone.fetch_add(gone - last.gone, Relaxed);
                let live = &sh.live;
                live.delivered
                    .fetch_add(delivered - last.delivered, Relaxed);
                live.errors.fetch_add(errors - last.errors, Relaxed);
                live.reconnects
                    .fetch_add(reconnects - last.reconnects, Relaxed);
                fold_devices_of(&sh.devices_of, &mut last.devices_of, devices_of);
                fold_on_node(&sh.on_node, &mut last.on_node, on_node);
                (last.caught_up, last.gone) = (caught_up, gone);
                (last.delivered, last.errors, last.reconnects) = (delivered, errors, reconnects);
            }
            Ok(FromShard::Killed { k }) => {
                let _ = killed.send(k);
            }
            Ok(FromShard::Done { outs }) => {
                let _ = done.send(outs);
                return;
            }
            Err(e) => eprintln!("shard: unreadable line: {e}"),
        }
    }
}

/// Adds what changed since the child's last report to the parent's counts.
fn fold_on_node(into: &[AtomicI64], last: &mut Vec<i64>, now: Vec<i64>) {
    last.resize(now.len(), 0);
    for (i, (n, before)) in now.iter().zip(last.iter()).enumerate() {
        if let Some(a) = into.get(i) {
            a.fetch_add(n - before, Relaxed);
        }
    }
    *last = now;
}

fn fold_devices_of(
    into: &Mutex<HashMap<StaffId, u64>>,
    last: &mut HashMap<StaffId, u64>,
    now: Vec<(StaffId, u64)>,
) {
    let Ok(mut m) = into.lock() else { return };
    for (staff, n) in now {
        let before = last.insert(staff, n).unwrap_or(0);
        *m.entry(staff).or_default() += n.saturating_sub(before);
    }
}
