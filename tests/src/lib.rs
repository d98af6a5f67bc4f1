//! The wardpage test harness: a Rust client for protocol v1 over
//! tokio-tungstenite, and ways to start a real hub (in this process on a
//! random port, or as a separate `wardpage` process that can be killed).
//! The end-to-end suites, the simulator and the benchmarks all use it.

pub mod client;
pub mod fhir_client;
pub mod hub;
pub mod mllp;
pub mod nats;
pub mod nginx;
pub mod nodes;
pub mod patients;
pub mod pg;
pub mod pg_instance;
pub mod relay;
pub mod report_files;
pub mod roaming;
pub mod sites;
pub mod sources;
pub mod store_rows;
pub mod story;
pub mod ward_load;

pub use client::{Client, CommandError};
pub use hub::{HubProcess, TestHub};

/// Polls `check` until it finds what it looks for, for at most ten
/// seconds: for what a test can only see by looking (a file, a metric, a
/// fresh connection's welcome), never for an event the hub sends, which a
/// test waits for instead.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Option<T>>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(found) = check().await? {
            return Ok(found);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "not so after 10 s: {what}"
        );
        // The pace of looking, not a wait for the thing itself.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The demo hospital's password, shared by every demo login.
pub const DEMO_PASSWORD: &str = "night-shift";
