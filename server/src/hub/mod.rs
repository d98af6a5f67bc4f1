//! The live hub: the writer that owns the hospital's state, the registry of
//! open connections, and the per-connection protocol handler.

mod command_ids;
pub mod connection;
mod inbox;
mod own_thread;
pub mod registry;
pub mod writer;

use crate::config::Config;
use crate::metrics::Metrics;
use crate::store::Store;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Everything a request handler needs, shared by all connections.
pub struct Hub {
    pub store: Arc<dyn Store>,
    pub writer: writer::WriterHandle,
    pub registry: Arc<registry::Registry>,
    pub metrics: Arc<Metrics>,
    pub config: Config,
    /// Password checks, off the async workers.
    pub passwords: crate::auth::PasswordChecker,
    /// Per-account brake on password guessing.
    pub logins: crate::auth::LoginThrottle,
    /// Cancelled when the hub starts shutting down.
    pub shutdown: CancellationToken,
    /// Every connection's task, so that shutdown can wait for them to pass
    /// on the replies still owed before the writer stops.
    pub connections: TaskTracker,
}
