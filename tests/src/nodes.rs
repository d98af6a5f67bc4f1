//! Cluster nodes for tests: start a `wardpage` node with `[cluster]` on a
//! PostgreSQL database (again on its address, or under a wrong clock),
//! read its `/readyz` and `/metrics`, wait until it owns or stands by (or
//! until exactly one node owns), and keep raising on a device until it is
//! refused. Shared by the cluster suites.

use crate::hub::HubProcess;
use crate::story::*;
use crate::{eventually, Client};
use anyhow::Context;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wardpage_proto::TaskId;

/// The short lease of the cluster suites, so lapsed-lease paths run in
/// seconds.
pub const TTL_MS: u64 = 1500;

/// Not accepted within 3 s: re-alert, then the coordinator ten minutes
/// on (so that only the first step falls within the test).
pub const REALERT_IN_3S: &str = r#"
[escalation]
nobody_connected = "wait"

[[escalation.task]]
name = "test"
accept = { steps = [
  { action = "realert", after_secs = 3 },
  { action = "coordinator", after_secs = 600 },
], repeat_every_secs = 600 }
complete = { steps = [{ action = "coordinator", after_secs = 600 }] }
"#;

/// Held by a suite's test for its whole run so that the suite's tests run
/// one at a time. Their leases are short (1.5 s, renewed within 1 s), so
/// two of them starting and restarting PostgreSQL servers and node
/// processes together on two cores starve each other's renewals: a node
/// then loses its lease for a reason that is not the one under test.
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// A node named `name` on `url`, with a lease of `ttl_ms` and `extra`
/// config tables.
pub async fn start_node(
    url: &str,
    dir: &Path,
    name: &str,
    ttl_ms: u64,
    extra: &str,
) -> anyhow::Result<HubProcess> {
    let node = NodeSpec {
        url,
        dir,
        name,
        ttl_ms,
        extra,
    };
    node.start("127.0.0.1:0".parse()?, &[]).await
}

/// What a node is started with, for tests that start the same node again
/// (on the same address) or under a different environment (a wrong clock).
#[derive(Clone, Copy)]
pub struct NodeSpec<'a> {
    pub url: &'a str,
    pub dir: &'a Path,
    pub name: &'a str,
    pub ttl_ms: u64,
    pub extra: &'a str,
}

impl NodeSpec<'_> {
    /// Starts the node listening on `listen` with `env` added.
    pub async fn start(
        &self,
        listen: std::net::SocketAddr,
        env: &[(&str, &str)],
    ) -> anyhow::Result<HubProcess> {
        let NodeSpec {
            url,
            dir,
            name,
            ttl_ms,
            extra,
        } = *self;
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "{extra}\n[cluster]\nenabled = true\nnode = \"{name}\"\nlease_ttl_ms = {ttl_ms}\n"
            ),
        )?;
        let mut all = vec![("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
        all.extend_from_slice(env);
        HubProcess::start(Path::new(url), listen, &all).await
    }
}

/// `url` with its `host:port` swapped for `addr` (a node's database
/// connection through a [`crate::relay::Relay`]).
pub fn url_via(url: &str, addr: std::net::SocketAddr) -> anyhow::Result<String> {
    let (scheme, rest) = url.split_once("://").context("a URL")?;
    let (auth_host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = auth_host.rsplit_once('@').map(|(u, _)| u);
    Ok(match user {
        Some(u) => format!("{scheme}://{u}@{addr}/{path}"),
        None => format!("{scheme}://{addr}/{path}"),
    })
}

/// The socket address of `url`'s server (`host:port`, port 5432 if none).
pub fn url_addr(url: &str) -> anyhow::Result<std::net::SocketAddr> {
    let (_, rest) = url.split_once("://").context("a URL")?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    use std::net::ToSocketAddrs;
    host.to_socket_addrs()?
        .next()
        .context("the database's address")
}

/// Which of `bases` serves now (answers `/readyz` 200), if one does.
pub async fn serving_base(bases: &[String]) -> anyhow::Result<Option<String>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()?;
    for base in bases {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
            if res.status().as_u16() == 200 {
                return Ok(Some(base.clone()));
            }
        }
    }
    Ok(None)
}

/// A node as [`start_node`] (with [`TTL_MS`] and `extra` config tables),
/// carrying traffic over the NATS server at `nats_url` (`[cluster] nats_url`).
pub async fn start_nats_node(
    url: &str,
    dir: &Path,
    name: &str,
    nats_url: &str,
    extra: &str,
) -> anyhow::Result<HubProcess> {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!(
            "{extra}\n[cluster]\nenabled = true\nnode = \"{name}\"\nlease_ttl_ms = {TTL_MS}\nnats_url = \"{nats_url}\"\n"
        ),
    )?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    HubProcess::start(Path::new(url), "127.0.0.1:0".parse()?, &env).await
}

/// Waits until `node` (not the owner) forwards to `owner` over NATS:
/// `/readyz` 200 with `forwarding: true`.
pub async fn until_forwards(node: &HubProcess, owner: &str, what: &str) -> anyhow::Result<Value> {
    eventually(what, || async {
        Ok(match readyz(node).await? {
            Some((200, body)) if body["forwarding"] == true && body["owner"] == owner => Some(body),
            _ => None,
        })
    })
    .await
}

/// `GET /readyz`: the status code and the JSON body; `None` if the node
/// does not answer (killed, frozen).
pub async fn readyz(node: &HubProcess) -> anyhow::Result<Option<(u16, Value)>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(500))
        .build()?;
    match client.get(format!("{}/readyz", node.base())).send().await {
        Ok(res) => {
            let code = res.status().as_u16();
            Ok(Some((code, res.json().await?)))
        }
        Err(_) => Ok(None),
    }
}

/// Waits until `node` serves; its epoch.
pub async fn until_owns(node: &HubProcess, what: &str) -> anyhow::Result<i64> {
    eventually(what, || async {
        Ok(match readyz(node).await? {
            Some((200, body)) if body["owns"] == true => body["epoch"].as_i64(),
            _ => None,
        })
    })
    .await
}

/// Waits until `node` stands by (answers 503, owns nothing) and names
/// `owner` as the owner; its body.
pub async fn until_stands_by(node: &HubProcess, owner: &str, what: &str) -> anyhow::Result<Value> {
    eventually(what, || async {
        Ok(match readyz(node).await? {
            Some((503, body)) if body["owns"] == false && body["owner"] == owner => Some(body),
            _ => None,
        })
    })
    .await
}

/// `GET /metrics` of `node` (open to loopback).
pub async fn metrics(node: &HubProcess) -> anyhow::Result<String> {
    Ok(reqwest::get(format!("{}/metrics", node.base()))
        .await?
        .text()
        .await?)
}

/// Raises tasks on `nurse` one after another, recording every one the
/// node acknowledged, until it refuses one or goes.
pub fn raise_until_refused(
    mut nurse: Client,
    acked: Arc<watch::Sender<Vec<TaskId>>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut pace = tokio::time::interval(Duration::from_millis(10));
        loop {
            pace.tick().await;
            match nurse.command(cannula_w7()).await {
                Ok(Ok(result)) => {
                    let id = task_of(&result).id;
                    acked.send_modify(|a| a.push(id));
                }
                _ => return,
            }
        }
    })
}

/// Open tasks raised by staff, as the node at `base` holds them.
pub async fn open_tasks(base: &str) -> anyhow::Result<Vec<TaskId>> {
    let mut coord = Client::login_connect(base, "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    Ok(tasks
        .into_iter()
        .filter(|t| !t.raised_by.id.0.is_nil())
        .map(|t| t.id)
        .collect())
}

/// Every task open on the node at `base`, as a coordinator's snapshot has it.
pub async fn tasks_on(base: &str) -> anyhow::Result<Vec<wardpage_proto::TaskView>> {
    let mut coord = Client::login_connect(base, "coord.hale").await?;
    Ok(snapshot(&mut coord).await?.1)
}

/// The one node of `nodes` that serves, once exactly one does and every
/// other names it as the owner; its index.
pub async fn one_owner(nodes: &[(&str, &HubProcess)]) -> anyhow::Result<usize> {
    eventually("exactly one owner, named by the others", || async {
        let mut answers = Vec::new();
        for (_, n) in nodes {
            answers.push(readyz(n).await?);
        }
        let owners: Vec<usize> = (0..nodes.len())
            .filter(|i| matches!(&answers[*i], Some((200, _))))
            .collect();
        anyhow::ensure!(owners.len() <= 1, "two owners at once: {answers:?}");
        let Some(&o) = owners.first() else {
            return Ok(None);
        };
        let named = answers
            .iter()
            .enumerate()
            .all(|(i, a)| i == o || matches!(a, Some((503, b)) if b["owner"] == nodes[o].0));
        Ok(named.then_some(o))
    })
    .await
}

/// The nodes' base URLs, for devices that follow the owner.
pub fn bases(nodes: &[&HubProcess]) -> Vec<String> {
    nodes.iter().map(|n| n.base()).collect()
}

/// libfaketime's preload library, if Debian's `faketime` is installed.
pub fn libfaketime() -> Option<String> {
    let found = std::fs::read_dir("/usr/lib")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("faketime/libfaketimeMT.so.1"))
        .chain([std::path::PathBuf::from(
            "/usr/lib/faketime/libfaketimeMT.so.1",
        )])
        .find(|p| p.exists())?;
    Some(found.display().to_string())
}

/// The system's wall clock, ms since the Unix epoch (this process's,
/// which no preload fakes).
pub fn system_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Asserts for `span` that `owner` serves and `standby` names it.
pub async fn holds_for(
    owner: &HubProcess,
    standby: &HubProcess,
    name: &str,
    span: Duration,
) -> anyhow::Result<()> {
    let until = std::time::Instant::now() + span;
    while std::time::Instant::now() < until {
        let o = readyz(owner).await?;
        let s = readyz(standby).await?;
        anyhow::ensure!(
            matches!(&o, Some((200, _))),
            "the owner stopped serving: {o:?}"
        );
        anyhow::ensure!(
            matches!(&s, Some((503, b)) if b["owner"] == name),
            "the standby took over early: {s:?}"
        );
        // The pace of looking: the assertion holds over the whole span.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

/// A node as [`start_nats_node`], serving the sites `sites`
/// (`[cluster] sites`), over NATS at `nats_url` if given.
pub async fn start_site_node(
    url: &str,
    dir: &Path,
    name: &str,
    sites: &[&str],
    nats_url: Option<&str>,
) -> anyhow::Result<HubProcess> {
    start_site_node_with(url, dir, name, sites, nats_url, "").await
}

/// As [`start_site_node`], with `extra` config tables (`[hl7] ...`).
pub async fn start_site_node_with(
    url: &str,
    dir: &Path,
    name: &str,
    sites: &[&str],
    nats_url: Option<&str>,
    extra: &str,
) -> anyhow::Result<HubProcess> {
    let config = dir.join(format!("{name}.toml"));
    let nats = nats_url.map_or(String::new(), |u| format!("nats_url = \"{u}\"\n"));
    std::fs::write(
        &config,
        format!(
            "{extra}\n[cluster]\nenabled = true\nnode = \"{name}\"\nlease_ttl_ms = {TTL_MS}\n{nats}sites = {sites:?}\n"
        ),
    )?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    HubProcess::start(Path::new(url), "127.0.0.1:0".parse()?, &env).await
}

/// Who owns each site, as the nodes' own `/readyz` say (`sites`, each
/// with `owns` and `epoch`): site → (node, epoch). A site two nodes both
/// claim to own is an error.
pub async fn site_owners(
    nodes: &[(&str, &HubProcess)],
) -> anyhow::Result<std::collections::BTreeMap<String, (String, i64)>> {
    let mut owners = std::collections::BTreeMap::new();
    for (name, node) in nodes {
        let Some((_, body)) = readyz(node).await? else {
            continue;
        };
        for site in body["sites"].as_array().into_iter().flatten() {
            if site["owns"] != true {
                continue;
            }
            let id = site["site"].as_str().context("a site's name")?.to_owned();
            let epoch = site["epoch"].as_i64().context("an owner's epoch")?;
            if let Some(other) = owners.insert(id.clone(), ((*name).to_owned(), epoch)) {
                anyhow::bail!("two owners of {id}: {other:?} and {name}");
            }
        }
    }
    Ok(owners)
}
