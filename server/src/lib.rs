//! wardpage's hub: the overnight ward task and paging server.
//!
//! [`run`] is the one entry point: tests call it on port 0; the binary
//! calls [`run_claimed`], the same after claiming the database itself
//! (before it loads the demo hospital); [`run_on_clock`] runs the writer on
//! a clock of the caller's (tests move a manual one). Each hub's state is
//! its own; the process shares only the hub clock (`clock`), the login's
//! decoy hash (`auth`) and the connection id counter (`http`).

pub mod apikeys;
pub mod auth;
pub mod census;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod conn_limits;
pub mod domain;
pub mod escalation_config;
pub mod fhir;
pub mod hl7;
pub mod http;
pub mod hub;
pub mod login_limits;
pub mod metrics;
pub mod news2_config;
pub mod report;
pub mod roster;
pub mod serve;
pub mod store;
pub mod tls;

use clock::Clock;
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
use tokio::sync::watch;
use tracing::info;

/// Opens the store named by `config`: a `postgres://` URL, or else a
/// SQLite file path.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let first = config.cluster.sites.first().map(String::as_str);
    open_site_store(config, first.unwrap_or(store::postgres::DEFAULT_SITE)).await
}

/// [`open_store`] for one of the deployment's sites (`[cluster] sites`):
/// on PostgreSQL, that site's schema; SQLite has the default site only.
pub async fn open_site_store(config: &Config, site: &str) -> anyhow::Result<Arc<dyn Store>> {
    if !config.cluster.sites.iter().any(|s| s == site) {
        anyhow::bail!(
            "this deployment has no site {site:?} (its sites: {})",
            config.cluster.sites.join(", ")
        );
    }
    if uses_postgres(config) {
        let url = config.database.to_string_lossy();
        return Ok(Arc::new(
            store::postgres::PgStore::open_site(&url, site).await?,
        ));
    }
    anyhow::ensure!(
        site == store::postgres::DEFAULT_SITE,
        "SQLite has one site, \"default\""
    );
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

/// [`run`] with the writer and its escalation timer on `clock` (see
/// `clock`): a test that is about timing moves a manual clock itself.
pub async fn run_on_clock(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let claim = store.claim_hub().await?;
    run_claimed_on(listener, config, store, claim, clock, shutdown, || {}).await
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
    run_claimed_on(listener, config, store, claim, Clock::Hub, shutdown, ready).await
}

async fn run_claimed_on(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    claim: HubClaim,
    clock: Clock,
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
    let served = serve(listener, config, store, clock, shutdown, ready).await;
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

/// How often the store is asked whether accounts or sessions were changed
/// from outside the hub (`wardpage user passwd`, `disable`, `revoke`).
const ACCOUNTS_CHECK: Duration = Duration::from_secs(1);

/// Tells open sockets to re-check their sessions whenever the store's
/// roster version moves (the CLI bumps it when it revokes sessions or
/// disables an account), so a revoked token's sockets close within a
/// second or so, without every socket polling the store.
async fn watch_accounts(store: Arc<dyn Store>, changed: watch::Sender<u64>) {
    let mut last = store.roster_version().await.ok();
    let mut every = tokio::time::interval(ACCOUNTS_CHECK);
    loop {
        tokio::select! {
            _ = changed.closed() => return,
            _ = every.tick() => {}
        }
        if let Ok(v) = store.roster_version().await {
            if last != Some(v) {
                last = Some(v);
                changed.send_modify(|n| *n += 1);
            }
        }
    }
}

/// How long shutdown waits for connections to pass on their last replies.
// A reply in flight waits only for its commit (milliseconds), so 5 s is
// ample; and it keeps a stop well inside a supervisor's stop timeout
// (systemd's default is 90 s) when a peer has stopped reading.
const CONNECTIONS_CLOSE: Duration = Duration::from_secs(5);

/// How often a PostgreSQL claim's connection is checked.
// A `SELECT 1` on a connection of its own every 2 s costs nothing, and a
// lost claim (a cut connection, a restarted database) is noticed within
// about as long as a supervisor takes to start a second hub on it.
// (Commits are fenced anyway: this only makes the hub stop promptly.)
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

/// The writer task's own result, or how it ended if it panicked.
type WriterResult = Result<Result<(), store::StoreError>, tokio::task::JoinError>;

/// Starts the writer on `config`'s rules and `clock`; also hands back what
/// is notified if the writer stops on its own (its store failed twice
/// over: the hub cannot keep any promise then, so it stops serving and a
/// supervisor restarts it), and the writer's result once it has stopped.
async fn start_writer(
    config: &Config,
    store: &Arc<dyn Store>,
    registry: &Arc<Registry>,
    metrics: &Arc<Metrics>,
    clock: Clock,
) -> anyhow::Result<(
    hub::writer::WriterHandle,
    Arc<tokio::sync::Notify>,
    tokio::sync::oneshot::Receiver<WriterResult>,
)> {
    let (writer, writer_task) = Writer::start(
        store.clone(),
        registry.clone(),
        metrics.clone(),
        config.priorities.to_targets(),
        crate::domain::Policies {
            news2: config.news2.to_policy()?,
            ..config.escalation.to_policies()?
        },
        hub::writer::Retention {
            command_hours: config.command_retention_hours,
            event_hours: config.event_retention_hours,
        },
        clock,
    )
    .await?;
    let (result_tx, result) = tokio::sync::oneshot::channel();
    let stopped = Arc::new(tokio::sync::Notify::new());
    let notify = stopped.clone();
    tokio::spawn(async move {
        let r = writer_task.await;
        notify.notify_one();
        let _ = result_tx.send(r);
    });
    Ok((writer, stopped, result))
}

/// Once the listener has stopped: gives connections a moment (at most
/// [`CONNECTIONS_CLOSE`]) to pass on replies to commands in flight (every
/// connection task is tracked), then stops the writer after its last
/// commit and returns how that went.
async fn wind_down(
    hub: Arc<Hub>,
    writer: hub::writer::WriterHandle,
    writer_result: tokio::sync::oneshot::Receiver<WriterResult>,
) -> anyhow::Result<()> {
    hub.connections.close();
    if tokio::time::timeout(CONNECTIONS_CLOSE, hub.connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = hub.connections.len(),
            "connections still open after 5 s; stopping anyway"
        );
    }
    drop(hub);
    writer.shutdown().await;
    writer_result
        .await??
        .map_err(|e| anyhow::anyhow!("the writer failed: {e}"))
}

async fn serve(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    clock: Clock,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    let started = start_hub(config, store, clock, Arc::new(Metrics::new())).await?;
    let writer_stopped = started.writer_stopped.clone();
    let shutdown = async move {
        tokio::select! {
            _ = shutdown => {}
            _ = writer_stopped.notified() => {
                tracing::error!("the writer stopped: shutting the hub down");
            }
        }
    };
    let serving = serving_for(&started.hub.config, http::router(started.hub.clone()))?;
    ready();
    let stop = started.stop_tx.clone();
    serve::serve(listener, serving, async move {
        shutdown.await;
        info!("shutting down: closing connections");
        let _ = stop.send(true);
    })
    .await?;
    started.stop().await?;
    info!("stopped");
    Ok(())
}

/// A hub with its state loaded and its writer running, not yet on a
/// listener: [`serve`] puts it on one for its whole life; a cluster node
/// (`cluster`) puts it behind its listener while it owns the database.
pub(crate) struct StartedHub {
    pub(crate) hub: Arc<Hub>,
    writer: hub::writer::WriterHandle,
    /// Notified if the writer stops on its own (see [`start_writer`]).
    pub(crate) writer_stopped: Arc<tokio::sync::Notify>,
    writer_result: tokio::sync::oneshot::Receiver<WriterResult>,
    stop_tx: watch::Sender<bool>,
}

impl StartedHub {
    /// Closes the hub's connections (after the replies they are owed) and
    /// stops the writer after its last commit.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop_tx.send(true);
        wind_down(self.hub, self.writer, self.writer_result).await
    }
}

/// Loads the hospital's state from `store`, starts the writer on `clock`
/// and builds the hub (with its HL7 listener, if configured).
pub(crate) async fn start_hub(
    config: Config,
    store: Arc<dyn Store>,
    clock: Clock,
    metrics: Arc<Metrics>,
) -> anyhow::Result<StartedHub> {
    // The binary validates as it loads; a caller building its own config
    // (tests, an embedding) must not get past the same rules.
    config.validate()?;
    let registry = Arc::new(Registry::default());
    let (writer, writer_stopped, writer_result) =
        start_writer(&config, &store, &registry, &metrics, clock).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let limits = config.limits.clone();
    let (sessions_tx, sessions_rx) = watch::channel(0u64);
    let hub = Arc::new(Hub {
        sessions: hub::session_lookups::SessionLookups::start(store.clone(), metrics.clone()),
        store,
        writer: writer.clone(),
        registry,
        metrics,
        config,
        logins: login_limits::LoginLimits::new(&limits),
        passwords: auth::PasswordChecker::new(
            limits.password_threads as usize,
            limits.login_queue as usize,
        ),
        commands: conn_limits::CommandRate::new(
            limits.commands_per_user_per_sec,
            limits.command_burst_per_user,
        ),
        sessions_changed: sessions_rx,
        shutdown: stop_rx,
        standing_down: Default::default(),
        connections: tokio_util::task::TaskTracker::new(),
        api_keys: Default::default(),
    });
    tokio::spawn(watch_accounts(hub.store.clone(), sessions_tx));
    if let Some(addr) = hub.config.hl7.listen {
        let tls = hl7::tls_acceptor(&hub.config.hl7)?;
        let adt = TcpListener::bind(addr).await?;
        info!(addr = %adt.local_addr()?, tls = tls.is_some(), "HL7 ADT feed listening (MLLP)");
        hub.connections.spawn(hl7::serve(adt, tls, hub.clone()));
    }
    Ok(StartedHub {
        hub,
        writer,
        writer_stopped,
        writer_result,
        stop_tx,
    })
}

/// How the listener serves `app` under `config`: TLS, the connection caps
/// and the header deadline.
pub(crate) fn serving_for(config: &Config, app: axum::Router) -> anyhow::Result<serve::Serving> {
    let limits = &config.limits;
    let max_connections = conn_limits::raise_open_files(limits.max_connections);
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(tls::load(cert, key)?.get_inner()),
        _ => None,
    };
    Ok(serve::Serving {
        app,
        tls,
        conns: conn_limits::ConnLimits::new(
            max_connections,
            limits.max_connections_per_source,
            limits.trusted_proxies.clone(),
        ),
        header_timeout: Duration::from_secs(u64::from(limits.header_timeout_secs)),
    })
}
