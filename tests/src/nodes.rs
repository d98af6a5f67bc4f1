//! Cluster nodes for tests: start a `wardpage` node with `[cluster]` on a
//! PostgreSQL database, read its `/readyz` and `/metrics`, wait until it
//! owns or stands by, and keep raising on a device until it is refused.
//! Shared by the cluster suites.

use crate::hub::HubProcess;
use crate::story::*;
use crate::{eventually, Client};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wardpage_proto::TaskId;

/// The short lease of the cluster suites, so lapsed-lease paths run in
/// seconds.
pub const TTL_MS: u64 = 1500;

/// A node named `name` on `url`, with a lease of `ttl_ms` and `extra`
/// config tables.
pub async fn start_node(
    url: &str,
    dir: &Path,
    name: &str,
    ttl_ms: u64,
    extra: &str,
) -> anyhow::Result<HubProcess> {
    let config = dir.join(format!("{name}.toml"));
    std::fs::write(
        &config,
        format!("{extra}\n[cluster]\nenabled = true\nnode = \"{name}\"\nlease_ttl_ms = {ttl_ms}\n"),
    )?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    HubProcess::start(Path::new(url), "127.0.0.1:0".parse()?, &env).await
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
