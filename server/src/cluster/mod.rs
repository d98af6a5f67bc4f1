//! Several nodes on one PostgreSQL database (`[cluster] enabled = true`),
//! serving one or more sites (hospitals). Exactly one node owns each site
//! and serves it: its writer, its group commits, its devices. The others
//! stand by for that site with HTTP up (`/healthz` 200, the site's
//! `/readyz` 503, everything else 503 so the load balancer moves on) and
//! try to claim it every second. A node runs one `member` per site, so a
//! node may own some sites and stand by for others; sites spread over the
//! nodes (`member`'s doc).
//!
//! Ownership is decided by PostgreSQL alone (`store::postgres::lease`),
//! per site: a session advisory lock, gone the moment the owner's session
//! is (a crash: a standby claims at once), a lease whose end is set by
//! the database's clock (a frozen or cut-off owner: a standby ends its
//! sessions once the lease has lapsed, and claims), and the fenced epoch
//! that refuses every commit of an owner that was taken over. The owner
//! renews every ttl/3 and stops serving if it could not renew for 2/3 of
//! the ttl, before the lease could lapse, then stands by again (`keeper`).
//! Each site's rows are in a schema of its own (`store::postgres::site`).
//!
//! With `nats_url`, every node serves devices: one that does not own a
//! site forwards HTTP requests and tunnels WebSockets to its owner over
//! NATS (`bus`, `forward`, `tunnel`); without it a standby answers 503.
//!
//! One listener serves the node's whole life (`sites` routes each request
//! to its site); each site's `front` switches what is behind it between
//! the standby answers and the site's hub of the moment.

mod balance;
mod bus;
mod config;
mod db_time;
mod forward;
mod front;
mod keeper;
mod member;
mod site_lists;
mod sites;
mod status;
pub mod tunnel;
mod tunnel_open;

pub use config::ClusterConfig;
pub use status::{status_command, Status};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::postgres::PgStore;
use crate::store::Store;
use futures_util::future::BoxFuture;
use member::{Member, Spread};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, info_span, warn, Instrument};

/// Called after each claim of a site, with its store, before its hub
/// loads (the binary's `--demo` writes the demo hospital then, as a
/// single hub does after its claim).
pub type Prepare =
    Box<dyn Fn(Arc<dyn Store>) -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

/// Runs a cluster node on `listener` until `shutdown` resolves: for each
/// site, standing by, owning and serving, standing by again, as the
/// database decides. `stores` holds each configured site's store, in the
/// order of `config.cluster.sites`. `ready` is called once HTTP is up.
pub async fn run(
    listener: TcpListener,
    config: Config,
    stores: Vec<Arc<PgStore>>,
    prepare: Prepare,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    config.validate()?;
    let node = config.cluster.node.clone();
    let client = match &config.cluster.nats_url {
        Some(url) => Some(bus::connect(url, &node).await?),
        None => None,
    };
    let lease_thread = keeper::LeaseThread::start()?;
    let mut members = Vec::new();
    for store in stores {
        // A commit unanswered for a whole ttl is on a connection that
        // hangs for good: failed, so that the node stands down and stands
        // by again rather than waiting on it for ever.
        store.bound_commits(config.cluster.ttl());
        let site = store.site().to_owned();
        let metrics = Arc::new(Metrics::new());
        let bus = client
            .clone()
            .map(|c| bus::Bus::start(c, &node, &site, metrics.clone()));
        let status = Arc::new(Status::new(&node, &site, bus.clone()));
        let front = Arc::new(front::Front::new(
            &config,
            status.clone(),
            metrics.clone(),
            bus.clone(),
        ));
        members.push(Arc::new(Member {
            site,
            store,
            status,
            front,
            metrics,
            bus,
            lease_thread: lease_thread.clone(),
            hand_over: tokio::sync::Notify::new(),
        }));
    }
    let lists = site_lists::SiteLists::new(&node, &config.cluster.sites);
    let router = sites::router(&node, &members, lists.clone());
    let serving = crate::serving_for(&config, router)?;
    let (stopping_tx, stopping) = watch::channel(false);
    let publishing = tokio::spawn(
        site_lists::run(
            lists,
            config.database.to_string_lossy().into_owned(),
            config.cluster.ttl(),
            stopping.clone(),
        )
        .instrument(info_span!("node", node = %node)),
    );
    tokio::spawn(async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    });
    let (http_stop, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let http = tokio::spawn(crate::serve::serve(listener, serving, async move {
        let _ = http_stopped.await;
    }));
    ready();
    let prepare = Arc::new(prepare);
    let spread = Arc::new(Spread::default());
    let mut running = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let mut config = config.clone();
        // Each site's hub binds its own feed while it owns the site
        // (`[hl7.sites.<name>]`; `[hl7] listen` is the first site's).
        config.hl7 = config.hl7.for_site(&member.site, i == 0);
        let span = info_span!("node", node = %node, site = %member.site);
        running.push(tokio::spawn(
            member::run(
                member.clone(),
                Arc::new(config),
                prepare.clone(),
                spread.clone(),
                stopping.clone(),
            )
            .instrument(span),
        ));
    }
    if members.len() > 1 {
        running.push(tokio::spawn(
            balance::run(node.clone(), members.clone(), stopping.clone())
                .instrument(info_span!("node", node = %node)),
        ));
    }
    for r in running {
        if let Err(e) = r.await {
            warn!(error = %e, "a site's member failed");
        }
    }
    if let Err(e) = publishing.await {
        warn!(error = %e, "publishing the site list failed");
    }
    info!("shutting down: closing connections");
    let _ = http_stop.send(());
    http.await??;
    info!("stopped");
    Ok(())
}

/// `wardpage serve` as a node of a cluster: opens each site's store,
/// binds `config.listen` and [`run`]s, printing the "listening" line
/// (which tests and scripts wait for) once HTTP is up, standing by or not.
pub async fn serve_node(
    config: Config,
    prepare: Prepare,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let url = config.database.to_string_lossy().into_owned();
    let mut stores = Vec::new();
    for site in &config.cluster.sites {
        stores.push(Arc::new(PgStore::open_site(&url, site).await?));
    }
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    };
    run(listener, config, stores, prepare, shutdown, || {
        println!("wardpage listening on {scheme}://{addr}");
    })
    .await
}
