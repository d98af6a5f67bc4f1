//! The load simulator behind `wardpage-sim`: it drives a whole hospital
//! through real WebSockets, checks that nothing was lost, and measures.
//!
//! Map of the modules:
//! - [`hospital`]: generated hospitals (wards, beds, a night team) as roster
//!   TOML, imported through the hub's own roster import;
//! - [`hubctl`]: the hub under test (a `wardpage` child process that can be
//!   SIGKILLed and restarted, an in-process [`wardpage_tests::TestHub`], or a URL);
//! - [`plan`]: the seeded plan of a night (who raises what when, who walks
//!   through a Wi-Fi not-spot, how long staff take to accept);
//! - [`obsplan`]: the night's patients and observation rounds (NEWS2
//!   totals rising for a seeded few);
//! - [`episodes`]: one review per episode, checked, and the times from a
//!   triggering set to its review being accepted;
//! - [`link`]: a lean protocol connection for the scale scenarios (bound
//!   source address, small buffers, light parsing);
//! - [`ledger`]: the invariants (no acknowledged raise lost, no gaps, no
//!   event shown twice, no task missing after a restart);
//! - [`stats`]: latency samples, percentiles and the timeline;
//! - [`report`]: the summary table, the JSON result and the HTML report;
//! - [`night`]: the `night` and `chaos` scenarios, on the shared
//!   [`wardpage_tests::Client`];
//! - [`load`]: `throughput`, `latency` and `restart`;
//! - [`news2`]: observation sets at a paced rate beside raises: set to
//!   review offered against raise to candidate in the same run;
//! - [`fleet`]: `idle` and `storm` (tens of thousands of connections);
//! - [`escalation`]: how late escalations fire on many staggered
//!   deadlines, optionally across a SIGKILL and restart;
//! - [`cluster`]: several nodes on one PostgreSQL, the owner SIGKILLed
//!   again and again, every handheld timed back onto the new owner;
//! - [`mqtt`]: the same fan-out through Mosquitto, for comparison.

pub mod cluster;
pub mod episodes;
pub mod escalation;
pub mod fleet;
pub mod hospital;
pub mod hubctl;
pub mod ledger;
pub mod link;
pub mod load;
pub mod mqtt;
pub mod news2;
pub mod night;
pub mod obsplan;
pub mod plan;
pub mod report;
pub mod stats;

/// The password the simulator gives every account it creates.
pub const SIM_PASSWORD: &str = "night-shift";
