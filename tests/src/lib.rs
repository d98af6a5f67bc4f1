//! The wardpage test harness: a Rust client for protocol v1 over
//! tokio-tungstenite, and ways to start a real hub (in this process on a
//! random port, or as a separate `wardpage` process that can be killed).
//! The end-to-end suites, the simulator and the benchmarks all use it.

pub mod client;
pub mod hub;
pub mod pg;
pub mod sources;
pub mod story;

pub use client::{Client, CommandError};
pub use hub::{HubProcess, TestHub};

/// The demo hospital's password, shared by every demo login.
pub const DEMO_PASSWORD: &str = "night-shift";
