//! wardpage's hub: the overnight ward task and paging server.
//!
//! [`run`] is the one entry point: tests call it on port 0; the binary
//! calls [`run_claimed`], the same after claiming the database itself
//! (before it loads the demo hospital). There is no global state.

pub mod auth;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod hub;
pub mod metrics;
pub mod roster;
pub mod store;
pub mod tls;

use config::Config;
use hub::registry::Registry;
use hub::writer::Writer;
use hub::Hub;
use metrics::Metrics;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use store::sqlite::SqliteStore;
use store::{HubClaim, Store};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

/// Opens the store named by `config`: a `postgres://` URL, or else a
/// SQLite file path.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if uses_postgres(config) {
        let url = config.database.to_string_lossy();
        return Ok(Arc::new(store::postgres::PgStore::open(&url).await?));
    }
    Ok(Arc::new(SqliteStore::open(&config.database).await?))
}

/// Whether `config.database` names PostgreSQL (else it is a SQLite file).
pub fn uses_postgres(config: &Config) -> bool {
    let db = config.database.to_string_lossy();
    db.starts_with("postgres://") || db.starts_with("postgresql://")
}

/// Serves the hub on `listener` until `shutdown` resolves, then closes
/// connections, commits whatever is in flight, and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    run_with_ready(listener, config, store, shutdown, || {}).await
}

/// [`run`], calling `ready` once the hospital's state is loaded and the hub
/// is about to serve (the binary prints its "listening" line then).
pub async fn run_with_ready(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let claim = store.claim_hub().await?;
    run_claimed(listener, config, store, claim, shutdown, ready).await
}

/// [`run_with_ready`] for a caller that already holds the database's
/// [`HubClaim`] (the binary claims it before loading the demo hospital).
pub async fn run_claimed(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    claim: HubClaim,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let (lost_tx, lost_rx) = tokio::sync::oneshot::channel::<()>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let keeper = tokio::spawn(keep_claim(claim, lost_tx, done_rx));
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            Ok(()) = lost_rx => {
                tracing::error!("lost the claim on the database (another hub could start on it): shutting down");
            }
        }
    };
    let served = serve(listener, config, store, shutdown, ready).await;
    // Only once the writer's last commit is done (or failed).
    let _ = done_tx.send(());
    if let Ok((claim, lost)) = keeper.await {
        claim.release().await;
        if lost {
            anyhow::bail!("stopped: lost the claim on the database; start the hub again");
        }
    }
    served
}

/// How long shutdown waits for connections to close before the writer
/// commits and stops.
const CONNECTIONS_CLOSE: Duration = Duration::from_secs(5);

/// How often a PostgreSQL claim's connection is checked.
const CLAIM_CHECK: Duration = Duration::from_secs(2);
/// How long a check may take before the claim counts as lost.
const CLAIM_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Holds the claim while the hub serves and hands it back when `done`,
/// with whether it was lost; says `lost` once if the claim stops holding,
/// so the hub stops rather than serve beside a hub that may have claimed
/// the database since.
async fn keep_claim(
    mut claim: HubClaim,
    lost: tokio::sync::oneshot::Sender<()>,
    mut done: tokio::sync::oneshot::Receiver<()>,
) -> (HubClaim, bool) {
    let mut lost = Some(lost);
    let mut every = tokio::time::interval(CLAIM_CHECK);
    loop {
        tokio::select! {
            _ = &mut done => return (claim, lost.is_none()),
            _ = every.tick(), if lost.is_some() => {
                // A database that does not answer for this long cannot take
                // commits either; and shutdown waits on this check.
                let alive = tokio::time::timeout(CLAIM_CHECK_TIMEOUT, claim.alive()).await;
                if !alive.unwrap_or(false) {
                    if let Some(tx) = lost.take() {
                        let _ = tx.send(());
                    }
                }
            }
        }
    }
}

async fn serve(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    // The binary validates as it loads; a caller building its own config
    // (tests, an embedding) must not get past the same rules.
    config.validate()?;
    let registry = Arc::new(Registry::default());
    let metrics = Arc::new(Metrics::new());
    let (writer, writer_task) = Writer::start(
        store.clone(),
        registry.clone(),
        metrics.clone(),
        config.priorities.to_targets(),
        config.escalation.to_policies()?,
        config.command_retention_hours,
        config.event_retention_hours,
    )
    .await?;
    // If the writer stops on its own (its store failed twice over), the hub
    // cannot keep any promise: stop serving so a supervisor restarts it.
    let (writer_result_tx, writer_result) = tokio::sync::oneshot::channel();
    let writer_stopped = Arc::new(tokio::sync::Notify::new());
    let notify = writer_stopped.clone();
    tokio::spawn(async move {
        let r = writer_task.await;
        notify.notify_one();
        let _ = writer_result_tx.send(r);
    });
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = writer_stopped.notified() => {
                tracing::error!("the writer stopped: shutting the hub down");
            }
        }
    };
    let stop = CancellationToken::new();
    let hub = Arc::new(Hub {
        store,
        writer: writer.clone(),
        registry,
        metrics,
        config,
        logins: auth::LoginThrottle::default(),
        passwords: auth::PasswordChecker::new(2),
        shutdown: stop.clone(),
        connections: TaskTracker::new(),
    });
    let app = http::router(hub.clone());
    ready();
    match (&hub.config.tls_cert, &hub.config.tls_key) {
        (Some(cert), Some(key)) => {
            let tls = tls::load(cert, key)?;
            let handle = axum_server::Handle::new();
            let stopper = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                info!("shutting down: closing connections");
                stop.cancel();
                stopper.graceful_shutdown(Some(Duration::from_secs(5)));
            });
            // Replies and events are small frames written back to back:
            // Nagle's algorithm would hold the second for the peer's ACK.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .acceptor(axum_server::accept::NoDelayAcceptor::new());
            axum_server::from_tcp(listener.into_std()?)?
                .acceptor(acceptor)
                .handle(handle)
                .serve(app.into_make_service())
                .await?;
        }
        _ => {
            use axum::serve::ListenerExt;
            // See above: no Nagle delay between back-to-back frames.
            let listener = listener.tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    shutdown.await;
                    info!("shutting down: closing connections");
                    stop.cancel();
                })
                .await?;
        }
    }
    // Give connections a moment to pass on replies to commands in flight.
    // Bounded: a connection that cannot get its goodbye out must not keep
    // the writer from its last commit.
    hub.connections.close();
    let _ = tokio::time::timeout(CONNECTIONS_CLOSE, hub.connections.wait()).await;
    drop(hub);
    writer.shutdown().await;
    writer_result
        .await??
        .map_err(|e| anyhow::anyhow!("the writer failed: {e}"))?;
    info!("stopped");
    Ok(())
}
