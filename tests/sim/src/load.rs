//! The load scenarios on the "pairs" hospital (ward `pK`, raiser `nK`, one
//! candidate `dK`): `throughput` (closed loop, as many durable raises per
//! second as the hub acknowledges), `latency` (open loop at a paced rate,
//! raise-to-candidate delivery percentiles) and `restart` (fill the hub with
//! open tasks, SIGKILL it, time the restart and replay everything).
//!
//! Each nurse and each doctor holds exactly one lean [`super::link`]
//! connection, so every raise is two deliveries, and each connection stays
//! under the hub's 200 frames/s limit by pacing itself.
//!
//! The parent module holds the parameters, the [`Rig`] (the hub and its
//! logged-in pairs) and the client-side rate limit; [`raiser`](mod@raiser) and
//! [`receiver`](mod@receiver) are the two ends of a pair, [`phase`] drives them all and
//! folds the outcome into a report, and [`restart`](mod@restart) is its own
//! scenario.

mod phase;
mod raiser;
mod receiver;
mod restart;

pub use phase::{drive, fill, Phase};
pub use raiser::{raiser, RaiserResult};
pub use receiver::{receiver, ReceiverResult};
pub use restart::restart;

use super::hubctl::{HubChoice, SimHub};
use super::report::RunReport;
use super::stats;
use serde::Serialize;
use std::net::SocketAddr;
use tokio::time::Instant;

/// Frames per second one connection allows itself (the hub's limit is 200).
const CONN_RATE: f64 = 180.0;
/// Events between cumulative acks.
const ACK_EVERY: u64 = 100;
/// A cursor beyond any stream: the hub answers `resync` with the top, so a
/// device starts from now instead of replaying earlier runs.
pub const FRESH: u64 = u64::MAX / 2;

#[derive(Debug, Clone, Serialize)]
pub struct LoadParams {
    pub pairs: usize,
    /// Measured seconds (after warm-up).
    pub secs: f64,
    pub warmup_secs: f64,
    /// Raises in flight per raiser (closed loop).
    pub window: usize,
    /// Aggregate raises per second (open loop); `None` for closed loop.
    pub rate: Option<f64>,
    /// Stop each raiser after this many raises (restart fill).
    pub max_per_raiser: Option<u64>,
}

/// The hub and its logged-in pairs.
pub struct Rig {
    pub hub: SimHub,
    pub addr: SocketAddr,
    /// (nurse token, doctor token, ward) per pair.
    pub pairs: Vec<(String, String, String)>,
}

impl Rig {
    pub async fn start(
        choice: &HubChoice,
        pairs: usize,
        password: &str,
        db: Option<&std::path::Path>,
    ) -> anyhow::Result<Rig> {
        let hospital = super::hospital::Hospital::pairs(pairs);
        Rig::start_hospital(choice, &hospital, password, db).await
    }

    /// [`Rig::start`] on a variant of the pairs hospital (its staff must be
    /// `nK` and `dK` on ward `pK`).
    pub async fn start_hospital(
        choice: &HubChoice,
        hospital: &super::hospital::Hospital,
        password: &str,
        db: Option<&std::path::Path>,
    ) -> anyhow::Result<Rig> {
        let hub = SimHub::start(choice, hospital, password, db).await?;
        Rig::log_in(hub, hospital.wards.len(), password).await
    }

    /// Logs in the `pairs` pairs on a hub that has started (or reached) a
    /// pairs hospital.
    pub async fn log_in(hub: SimHub, pairs: usize, password: &str) -> anyhow::Result<Rig> {
        let base = hub.base();
        super::hubctl::wait_for_roster(&base, "n0", password).await?;
        let addr = hub.addr()?;
        let bar = stats::counter("logging in", (pairs * 2) as u64);
        // A few logins at once: argon2 keeps the hub's cores busy anyway.
        let mut out = Vec::new();
        for chunk in (0..pairs).collect::<Vec<_>>().chunks(4) {
            let mut set = tokio::task::JoinSet::new();
            for &k in chunk {
                let base = base.clone();
                let pw = password.to_owned();
                set.spawn(async move {
                    let n = wardpage_tests::client::login(&base, &format!("n{k}"), &pw).await?;
                    let d = wardpage_tests::client::login(&base, &format!("d{k}"), &pw).await?;
                    anyhow::Ok((k, n, d))
                });
            }
            while let Some(r) = set.join_next().await {
                let (k, n, d) = r??;
                out.push((k, n, d, format!("p{k}")));
                bar.inc(2);
            }
        }
        bar.finish_and_clear();
        out.sort_by_key(|x| x.0);
        Ok(Rig {
            hub,
            addr,
            pairs: out.into_iter().map(|(_, n, d, w)| (n, d, w)).collect(),
        })
    }
}

/// Token bucket on the client side so a connection never trips the hub's
/// rate limit.
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new() -> Bucket {
        Bucket {
            tokens: 20.0,
            at: Instant::now(),
        }
    }
    fn take(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + now.duration_since(self.at).as_secs_f64() * CONN_RATE).min(20.0);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// `throughput` or `latency`.
pub async fn run(choice: &HubChoice, p: LoadParams, password: &str) -> anyhow::Result<RunReport> {
    let scenario = if p.rate.is_some() {
        "latency"
    } else {
        "throughput"
    };
    let mut report = RunReport::new(scenario, 0, serde_json::to_value(&p)?);
    let rig = Rig::start(choice, p.pairs, password, None).await?;
    let phase = drive(&rig, &p, true, scenario).await?;
    fill(&mut report, phase);
    if let Some(rate) = p.rate {
        report
            .figures
            .insert("offered rate (raises/s)".into(), rate);
        report.throughput_per_s = report.raises_acked as f64 / (p.secs + p.warmup_secs);
    }
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS at end (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    rig.hub.stop().await?;
    Ok(report)
}
