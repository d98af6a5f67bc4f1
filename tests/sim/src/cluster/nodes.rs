//! The cluster under test: N `wardpage` child processes on one PostgreSQL
//! database, each with its own `[cluster]` config and a fixed port (a node
//! killed with SIGKILL comes back on the same address, as a systemd unit
//! would restart it), and which of them owns each site by `/readyz`.

use super::super::hubctl::{HubProc, LOAD_LIMITS};
use anyhow::{bail, Context};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::time::Instant;

/// One node: its process while it runs, and what it needs to start again.
struct Node {
    name: String,
    addr: SocketAddr,
    proc: Option<HubProc>,
    config: String,
    config_path: PathBuf,
}

/// The nodes, their shared database URL and the binary they run.
pub(super) struct Nodes {
    bin: PathBuf,
    url: String,
    nodes: Vec<Node>,
    /// The deployment's sites by name (`default` for a deployment of one).
    sites: Vec<String>,
    http: reqwest::Client,
}

impl Nodes {
    /// Starts `n` nodes named a, b, c... on `url` with a lease of
    /// `ttl_ms`, serving `sites` (`[]`: the one default site) and `extra`
    /// lines in `[cluster]`, config files in `dir`.
    pub async fn start(
        bin: &Path,
        url: &str,
        n: usize,
        ttl_ms: u64,
        sites: &[String],
        extra: &str,
        dir: &Path,
    ) -> anyhow::Result<Nodes> {
        let listed = if sites.is_empty() {
            String::new()
        } else {
            format!("sites = {sites:?}\n")
        };
        let mut nodes = Vec::new();
        for i in 0..n {
            let name = ((b'a' + (i % 26) as u8) as char).to_string();
            let config = format!(
                "{LOAD_LIMITS}\n[cluster]\nenabled = true\nnode = \"{name}\"\nlease_ttl_ms = {ttl_ms}\n{listed}{extra}"
            );
            let config_path = dir.join(format!("{name}.toml"));
            let proc = HubProc::spawn_at(
                bin,
                Path::new(url),
                &config_path,
                "127.0.0.1:0".parse()?,
                &config,
            )
            .await
            .with_context(|| format!("starting node {name}"))?;
            nodes.push(Node {
                name,
                addr: proc.addr,
                proc: Some(proc),
                config,
                config_path,
            });
        }
        Ok(Nodes {
            bin: bin.to_owned(),
            url: url.to_owned(),
            nodes,
            sites: if sites.is_empty() {
                vec!["default".into()]
            } else {
                sites.to_vec()
            },
            http: reqwest::Client::builder()
                .timeout(Duration::from_millis(500))
                .build()?,
        })
    }

    /// Every node's address, in order (what each handheld is configured with).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    pub fn base(&self, i: usize) -> String {
        format!("http://{}", self.nodes[i].addr)
    }

    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    pub fn site_name(&self, s: usize) -> &str {
        self.sites.get(s).map_or("?", String::as_str)
    }

    /// The sites node `i` owns, by index into the sites, as its `/readyz`
    /// says (none if it is down or does not answer).
    async fn owned(&self, i: usize) -> Vec<usize> {
        if self.nodes[i].proc.is_none() {
            return Vec::new();
        }
        let Ok(res) = self
            .http
            .get(format!("{}/readyz", self.base(i)))
            .send()
            .await
        else {
            return Vec::new();
        };
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let owned = body["owned"].as_array().cloned().unwrap_or_default();
        owned
            .iter()
            .filter_map(|s| s.as_str())
            .filter_map(|s| self.sites.iter().position(|n| n == s))
            .collect()
    }

    /// The node that owns each site now (`usize::MAX`: none says so).
    pub async fn owners(&self) -> Vec<usize> {
        let mut owners = vec![usize::MAX; self.sites.len()];
        for i in 0..self.nodes.len() {
            for s in self.owned(i).await {
                owners[s] = i;
            }
        }
        owners
    }

    /// Waits (up to `within`) until every site of `sites` is owned by a
    /// node other than `not`; each site's owner then.
    pub async fn wait_owners(
        &self,
        not: Option<usize>,
        sites: &[usize],
        within: Duration,
    ) -> anyhow::Result<Vec<usize>> {
        let deadline = Instant::now() + within;
        loop {
            let owners = self.owners().await;
            let done = sites
                .iter()
                .all(|&s| owners[s] != usize::MAX && Some(owners[s]) != not);
            if done {
                return Ok(owners);
            }
            if Instant::now() > deadline {
                bail!("the sites {sites:?} had no owner (other than {not:?}) within {within:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to `within`) until every site has an owner; each site's.
    pub async fn wait_all_owned(&self, within: Duration) -> anyhow::Result<Vec<usize>> {
        let all: Vec<usize> = (0..self.sites.len()).collect();
        self.wait_owners(None, &all, within).await
    }

    /// SIGKILL of node `i`: no chance to flush, hand over or say goodbye.
    pub async fn kill9(&mut self, i: usize) -> anyhow::Result<()> {
        let p = self.nodes[i].proc.take().context("node already down")?;
        p.kill9().await?;
        Ok(())
    }

    /// Starts node `i` again on its address (it stands by if another node
    /// owns); the time from spawn to listening.
    pub async fn restart(&mut self, i: usize) -> anyhow::Result<Duration> {
        let n = &mut self.nodes[i];
        // The port may linger briefly; retry the bind for a few seconds.
        let mut last = None;
        for _ in 0..50 {
            match HubProc::spawn_at(
                &self.bin,
                Path::new(&self.url),
                &n.config_path,
                n.addr,
                &n.config,
            )
            .await
            {
                Ok(p) => {
                    let t = p.startup;
                    n.proc = Some(p);
                    return Ok(t);
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("restart of node {} failed", n.name)))
    }

    /// Stops every node (SIGKILL: the database is dropped next anyway).
    pub async fn stop(self) -> anyhow::Result<()> {
        for n in self.nodes {
            if let Some(p) = n.proc {
                p.kill9().await?;
            }
        }
        Ok(())
    }
}
