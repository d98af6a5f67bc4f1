//! Several nodes on one PostgreSQL database, one site, active/standby
//! (`[cluster] enabled = true`). Exactly one node owns the database and
//! serves the hospital: its writer, its group commits, its devices. The
//! others stand by with HTTP up (`/healthz` 200, `/readyz` 503, everything
//! else 503 so the load balancer moves on) and try to claim every second.
//!
//! Ownership is decided by PostgreSQL alone (`store::postgres::lease`): a
//! session advisory lock, gone the moment the owner's session is (a crash:
//! a standby claims at once), a lease whose end is set by the database's
//! clock (a frozen or cut-off owner: a standby ends its sessions once the
//! lease has lapsed, and claims), and the fenced epoch that refuses every
//! commit of an owner that was taken over. The owner renews every ttl/3
//! and stops serving if it could not renew for 2/3 of the ttl, before the
//! lease could lapse, then stands by again (`keeper`).
//!
//! With `nats_url`, every node serves devices: one that does not own
//! forwards HTTP requests and tunnels WebSockets to the owner over NATS
//! (`bus`, `forward`, `tunnel`); without it a standby answers 503.
//!
//! One listener serves the node's whole life; `front` switches what is
//! behind it between the standby answers and the hub of the moment.

mod bus;
mod db_time;
mod forward;
mod front;
mod keeper;
pub mod tunnel;

use crate::metrics::Metrics;
use crate::store::postgres::{Claimed, Lease, PgStore};
use crate::store::Store;
use crate::{config::Config, config::ConfigError, Clock};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info, info_span, warn, Instrument};

/// `[cluster]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Run as one node of several on the same PostgreSQL database.
    pub enabled: bool,
    /// This node's name, unique in the cluster (shown by `/readyz` and
    /// `wardpage cluster status`).
    pub node: String,
    /// How long a lease lasts unless renewed (every third of it).
    pub lease_ttl_ms: u64,
    /// The NATS server that carries requests and device tunnels between
    /// nodes (`nats://host:4222`). Without it, a node that does not own
    /// answers 503 and a load balancer moves devices to the owner.
    pub nats_url: Option<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            node: String::new(),
            lease_ttl_ms: 15_000,
            nats_url: None,
        }
    }
}

impl ClusterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.node.trim().is_empty() || self.node.len() > 64 {
            return Err(ConfigError::Invalid(
                "cluster.node must name this node (1 to 64 characters)".into(),
            ));
        }
        // Under 300 ms a renewal every ttl/3 is within a commit's reach of
        // the network's jitter; over 10 minutes a frozen owner holds the
        // hospital for too long.
        if !(300..=600_000).contains(&self.lease_ttl_ms) {
            return Err(ConfigError::Invalid(
                "cluster.lease_ttl_ms must be between 300 and 600000".into(),
            ));
        }
        if let Some(url) = &self.nats_url {
            if url.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "cluster.nats_url must name a NATS server (nats://host:4222)".into(),
                ));
            }
        }
        Ok(())
    }

    fn ttl(&self) -> Duration {
        Duration::from_millis(self.lease_ttl_ms)
    }
}

/// What this node is doing, for `/readyz`.
pub struct Status {
    pub node: String,
    state: Mutex<State>,
    bus: Option<Arc<bus::Bus>>,
}

#[derive(Debug, Clone, Default)]
struct State {
    owns: bool,
    epoch: i64,
    owner: Option<String>,
    reason: String,
    /// This node's clock minus the database's, as last measured.
    clock_offset_ms: Option<i64>,
}

impl Status {
    fn new(node: &str, bus: Option<Arc<bus::Bus>>) -> Status {
        Status {
            node: node.to_owned(),
            bus,
            state: Mutex::new(State {
                reason: "starting".into(),
                ..State::default()
            }),
        }
    }

    fn set(&self, f: impl FnOnce(&mut State)) {
        // A poisoned lock only means a panic elsewhere mid-update: the
        // fields are plain values, still fit to overwrite.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s);
    }

    fn get(&self) -> State {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The `/readyz` answer: whether this node serves, and its body.
    /// With NATS, a node that does not own is ready while it hears the
    /// owner on the bus (it forwards); the body says whether NATS is up.
    pub fn readiness(&self) -> (bool, serde_json::Value) {
        let s = self.get();
        let nats = self.bus.as_ref().map(|b| b.connected());
        if s.owns {
            let mut body = serde_json::json!({
                "node": self.node, "owns": true, "epoch": s.epoch,
                "clock_offset_ms": s.clock_offset_ms,
            });
            if let Some(up) = nats {
                body["nats"] = up.into();
            }
            (true, body)
        } else if let Some(owner) = self.bus.as_ref().and_then(|b| b.owner()) {
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": owner.node, "epoch": owner.epoch,
                "forwarding": true, "nats": true, "clock_offset_ms": s.clock_offset_ms,
            });
            (true, body)
        } else if let Some(up) = nats {
            let reason = if up {
                s.reason
            } else {
                "NATS is unreachable".to_owned()
            };
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": s.owner, "reason": reason,
                "forwarding": false, "nats": up, "clock_offset_ms": s.clock_offset_ms,
            });
            (false, body)
        } else {
            let body = serde_json::json!({
                "node": self.node, "owns": false, "owner": s.owner, "reason": s.reason,
                "clock_offset_ms": s.clock_offset_ms,
            });
            (false, body)
        }
    }
}

/// Called after each claim, before the hub loads (the binary's `--demo`
/// writes the demo hospital then, as a single hub does after its claim).
pub type Prepare = Box<dyn Fn(Arc<dyn Store>) -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// How often a standby tries to claim.
const CLAIM_EVERY: Duration = Duration::from_secs(1);
/// A claim attempt that takes longer (an unreachable database) is given up
/// until the next round.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs a cluster node on `listener` until `shutdown` resolves: standing
/// by, owning and serving, standing by again, as the database decides.
/// `ready` is called once HTTP is up (standing by or not).
pub async fn run(
    listener: TcpListener,
    config: Config,
    store: Arc<PgStore>,
    prepare: Prepare,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    config.validate()?;
    // A commit unanswered for a whole ttl is on a connection that hangs
    // for good: failed, so that the node stands down and stands by again
    // rather than waiting on it for ever (the lease is lost by then).
    store.bound_commits(config.cluster.ttl());
    let node = config.cluster.node.clone();
    let metrics = Arc::new(Metrics::new());
    let bus = match &config.cluster.nats_url {
        Some(url) => Some(bus::Bus::connect(url, &node, metrics.clone()).await?),
        None => None,
    };
    let status = Arc::new(Status::new(&node, bus.clone()));
    let front = Arc::new(front::Front::new(
        &config,
        status.clone(),
        metrics.clone(),
        bus.clone(),
    ));
    let serving = crate::serving_for(&config, front.clone().router())?;
    let (stopping_tx, mut stopping) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    });
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(crate::serve::serve(listener, serving, async move {
        let _ = http_stopped.await;
    }));
    ready();
    let span = info_span!("node", node = %node);
    async {
        loop {
            front.stand_by();
            let lease = tokio::select! {
                l = wait_for_claim(&store, &status, &config) => l,
                _ = stopping.wait_for(|s| *s) => break,
            };
            db_time::follow_database(&status, lease.clock_offset_ms());
            let ctx = Owning {
                config: &config,
                store: &store,
                front: &front,
                metrics: &metrics,
                bus: bus.as_ref(),
                prepare: &prepare,
            };
            let stop = own(ctx, lease, &stopping).await;
            if stop {
                break;
            }
            // Not at once: a node that stood down because its store
            // failed would otherwise claim and fail again in a loop.
            tokio::select! {
                _ = tokio::time::sleep(CLAIM_EVERY) => {}
                _ = stopping.wait_for(|s| *s) => break,
            }
        }
    }
    .instrument(span)
    .await;
    info!("shutting down: closing connections");
    if let Some(bus) = &bus {
        bus.stop().await;
    }
    let _ = http_stop.send(());
    http.await??;
    info!("stopped");
    Ok(())
}

/// Tries to claim every [`CLAIM_EVERY`] until it has.
async fn wait_for_claim(store: &PgStore, status: &Status, config: &Config) -> Lease {
    let node = &config.cluster.node;
    let ttl_ms = i64::try_from(config.cluster.lease_ttl_ms).unwrap_or(15_000);
    let mut every = tokio::time::interval(CLAIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let why = match tokio::time::timeout(CLAIM_TIMEOUT, store.claim_lease(node, ttl_ms)).await {
            Ok(Ok(Claimed::Got(lease))) => return lease,
            Ok(Ok(Claimed::Held(row))) => {
                db_time::follow_database(status, row.clock_offset_ms);
                let reason = if row.owned() {
                    "another node owns the database".to_owned()
                } else {
                    "the owner's lease has lapsed: taking over".to_owned()
                };
                (row.holder, reason)
            }
            Ok(Err(e)) => (None, format!("cannot claim: {e}")),
            Err(_) => (
                None,
                "cannot claim: the database does not answer".to_owned(),
            ),
        };
        status.set(|s| {
            s.owns = false;
            s.owner = why.0;
            s.reason = why.1;
        });
    }
}

/// What a node owns with.
struct Owning<'a> {
    config: &'a Config,
    store: &'a Arc<PgStore>,
    front: &'a front::Front,
    metrics: &'a Arc<Metrics>,
    bus: Option<&'a Arc<bus::Bus>>,
    prepare: &'a Prepare,
}

/// Owns the database from a claim until this node stops serving: loads the
/// hospital, serves it, and winds it down. Whether the node is to stop.
async fn own(ctx: Owning<'_>, lease: Lease, stopping: &watch::Receiver<bool>) -> bool {
    let Owning {
        config,
        store,
        front,
        metrics,
        bus,
        prepare,
    } = ctx;
    let epoch = lease.epoch();
    metrics.cluster_takeovers.inc();
    metrics.cluster_epoch.set(epoch);
    info!(epoch, "took ownership: loading the hospital");
    // Renewals start now: loading must not let the lease lapse.
    let keeper = keeper::Keeper::start(lease, config.cluster.ttl());
    let dyn_store: Arc<dyn Store> = store.clone();
    let started = async {
        // The commit connection may be one the database ended (it
        // restarted while this node stood by, or since its last claim).
        store.check_writer().await?;
        prepare(dyn_store.clone()).await?;
        crate::start_hub(config.clone(), dyn_store, Clock::Hub, metrics.clone()).await
    };
    let started = tokio::select! {
        s = started => s,
        why = keeper.lost() => Err(anyhow::anyhow!("lost the lease while loading: {why}")),
    };
    let started = match started {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "could not take over: standing by");
            keeper.finish().await;
            return *stopping.borrow();
        }
    };
    let app = crate::http::router(started.hub.clone());
    front.serve(app.clone(), epoch);
    // On the bus: the heartbeat that tells the other nodes who owns, and
    // the answers to what they forward.
    let on_bus: Vec<tokio::task::JoinHandle<()>> = match bus {
        Some(bus) => vec![
            bus.beat_owner(epoch),
            forward::serve(bus.clone(), app),
            tunnel::accept(bus.clone(), started.hub.clone(), epoch),
        ],
        None => Vec::new(),
    };
    metrics.cluster_owner.set(1);
    info!(epoch, "serving");
    let mut stopping = stopping.clone();
    let stop = tokio::select! {
        why = keeper.lost() => {
            warn!(reason = why, "standing down");
            // A commit still in flight cannot be counted on now (it may
            // hang on the connection that cost the lease): its devices
            // are told at once that it is unconfirmed, and closed.
            store.abandon_commit();
            false
        }
        _ = started.writer_stopped.notified() => {
            warn!("the writer stopped (a commit was refused, or the store failed): standing down");
            false
        }
        _ = stopping.wait_for(|s| *s) => true,
    };
    // New requests get the standby answers from here on; sockets close
    // with the standing-down reason and reconnect to whoever serves next.
    front.stand_by();
    // No more heartbeats, forwarded requests or new tunnels; open tunnels
    // close with the hub's goodbye below.
    for task in on_bus {
        task.abort();
    }
    metrics.cluster_owner.set(0);
    started
        .hub
        .standing_down
        .store(true, std::sync::atomic::Ordering::Release);
    if let Err(e) = started.stop().await {
        warn!(error = %e, "the hub stopped with an error");
    }
    // After the last commit: the next owner loads it.
    keeper.finish().await;
    stop
}

/// `wardpage serve` as a node of a cluster: opens the database, binds
/// `config.listen` and [`run`]s, printing the "listening" line (which
/// tests and scripts wait for) once HTTP is up, standing by or not.
pub async fn serve_node(
    config: Config,
    prepare: Prepare,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Arc::new(PgStore::open(&config.database.to_string_lossy()).await?);
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    run(listener, config, store, prepare, shutdown, || {
        println!("wardpage listening on {scheme}://{addr}");
    })
    .await
}

/// `wardpage cluster status`: who owns the database, by its own account.
pub async fn status_command(config: &Config) -> anyhow::Result<()> {
    if !crate::uses_postgres(config) {
        anyhow::bail!("cluster status needs a PostgreSQL database (SQLite is single-node)");
    }
    let store = PgStore::open(&config.database.to_string_lossy()).await?;
    let row = store.lease_row().await?;
    let owner = match (&row.holder, row.owned()) {
        (Some(h), true) => h.clone(),
        (None, true) => "a single hub (not a cluster node)".into(),
        (Some(h), false) => format!("none (last: {h})"),
        (None, false) => "none".into(),
    };
    println!("owner:        {owner}");
    println!("epoch:        {}", row.epoch);
    println!(
        "lease until:  {}",
        row.valid_until.as_deref().unwrap_or("(no lease)")
    );
    match row.seconds_left {
        Some(s) => println!("seconds left: {s:.1}"),
        None => println!("seconds left: -"),
    }
    println!("lock held:    {}", if row.locked { "yes" } else { "no" });
    println!(
        "clock offset: {:+} ms (this machine's clock minus the database's)",
        row.clock_offset_ms
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn nats_url_is_optional_and_must_name_a_server() {
        let node = "[cluster]\nenabled = true\nnode = \"a\"\n";
        let plain = Config::parse(node).expect("parse");
        assert_eq!(plain.cluster.nats_url, None);
        let with =
            Config::parse(&format!("{node}nats_url = \"nats://127.0.0.1:4222\"")).expect("parse");
        with.validate().expect("valid");
        assert_eq!(
            with.cluster.nats_url.as_deref(),
            Some("nats://127.0.0.1:4222")
        );
        let empty = Config::parse(&format!("{node}nats_url = \" \"")).expect("parse");
        assert!(empty.validate().is_err(), "an empty nats_url");
    }
}
