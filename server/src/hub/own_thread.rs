//! A runtime on a thread of its own, for the writer's group commits.
//!
//! A commit is a dozen round trips between an async task and the SQLite
//! connection's thread (begin, one insert per table, commit). On the shared
//! runtime each of those wake-ups queued behind hundreds of busy connection
//! tasks, so a commit that needed a few milliseconds of the database took
//! tens of milliseconds of wall time, and throughput was that latency
//! divided into the batch size. On a runtime of its own, a wake-up runs at
//! once; the operating system shares the cores between threads.
//!
//! (The writer itself stays on the shared runtime: measured on its own
//! thread, the cross-thread wake-up for every command cost more than it
//! saved.)

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A current-thread runtime on a named thread; it stops when dropped.
pub struct OwnThread {
    handle: Handle,
    _stop: oneshot::Sender<()>,
}

impl OwnThread {
    pub fn start(name: &str) -> std::io::Result<OwnThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(OwnThread {
            handle,
            _stop: stop,
        })
    }

    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }
}
