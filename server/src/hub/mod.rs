//! The live hub: the writer that owns the hospital's state, the registry of
//! open connections, and the per-connection protocol handler.

mod command_ids;
pub mod connection;
mod inbox;
pub(crate) mod own_thread;
pub mod registry;
pub mod session_lookups;
pub mod writer;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use std::sync::Arc;
use tokio::sync::watch;

/// The close reason (code 1012) of a cluster node that stops serving: its
/// devices reconnect, through the load balancer, to the node that serves.
pub const STANDING_DOWN: &str = "node standing down: reconnect";

/// Everything a request handler needs, shared by all connections.
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub writer: writer::WriterHandle,
    pub registry: Arc<registry::Registry>,
    pub metrics: Arc<Metrics>,
    pub config: Config,
    /// Password checks, off the async workers.
    pub passwords: crate::auth::PasswordChecker,
    /// Brakes on password guessing and login floods.
    pub logins: crate::login_limits::LoginLimits,
    /// Commands per member of staff, over all their sockets.
    pub commands: crate::conn_limits::CommandRate,
    /// Bumped when accounts or sessions may have changed outside the hub:
    /// open sockets then re-check theirs.
    pub sessions_changed: watch::Receiver<u64>,
    /// Flips to `true` when the hub starts shutting down.
    pub shutdown: watch::Receiver<bool>,
    /// Set before `shutdown` flips when this node stops serving while the
    /// process goes on (a cluster node standing down): sockets then close
    /// with [`STANDING_DOWN`] rather than "hub restarting".
    pub standing_down: std::sync::atomic::AtomicBool,
    /// Every connection's task, so that shutdown can wait for them to pass
    /// on the replies still owed before the writer stops.
    pub connections: tokio_util::task::TaskTracker,
    /// API key uses not yet counted in the store, and the keys' accounts
    /// the writer has loaded.
    pub api_keys: crate::apikeys::KeyState,
    /// Session checks of hellos and open sockets, many to a query.
    pub sessions: session_lookups::SessionLookups,
}
