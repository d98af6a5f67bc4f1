//! Measurements: latency samples with percentiles and a histogram, live
//! counters shared by the connection tasks, and a timeline sampled from
//! them (throughput and connections over time) for the report's charts.

use serde::Serialize;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Percentiles of one set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

/// Latency samples in microseconds (a few million fit comfortably).
#[derive(Debug, Default, Clone)]
pub struct Samples {
    pub us: Vec<u64>,
}

impl Samples {
    pub fn push(&mut self, d: Duration) {
        self.us.push(d.as_micros() as u64);
    }

    pub fn extend(&mut self, other: Samples) {
        self.us.extend(other.us);
    }

    pub fn percentiles(&mut self) -> Option<Percentiles> {
        if self.us.is_empty() {
            return None;
        }
        self.us.sort_unstable();
        let n = self.us.len();
        let at = |q: f64| self.us[((n as f64 * q).ceil() as usize).clamp(1, n) - 1] as f64 / 1000.0;
        Some(Percentiles {
            count: n as u64,
            p50: at(0.50),
            p95: at(0.95),
            p99: at(0.99),
            max: self.us[n - 1] as f64 / 1000.0,
            mean: self.us.iter().sum::<u64>() as f64 / n as f64 / 1000.0,
        })
    }

    /// Logarithmic histogram: bins of (upper bound in ms, count), four per
    /// decade from the decade below the fastest sample, so sub-millisecond
    /// and multi-second tails both show.
    pub fn histogram(&self) -> Vec<(f64, u64)> {
        if self.us.is_empty() {
            return Vec::new();
        }
        let max = self.us.iter().copied().max().unwrap_or(1).max(1) as f64;
        let min = self.us.iter().copied().min().unwrap_or(1).max(1) as f64;
        let mut bounds = Vec::new();
        // Start at the decade below the fastest sample, at least 10 µs.
        let mut b = 10f64.powf(min.log10().floor()).max(10.0);
        while b < max * 1.78 {
            bounds.push(b);
            b *= 10f64.powf(0.25);
        }
        let mut counts = vec![0u64; bounds.len()];
        for &v in &self.us {
            let i = bounds
                .partition_point(|&ub| ub < v as f64)
                .min(bounds.len() - 1);
            counts[i] += 1;
        }
        bounds
            .into_iter()
            .map(|ub| ub / 1000.0)
            .zip(counts)
            .collect()
    }
}

/// Counters every connection task bumps.
#[derive(Debug, Default)]
pub struct Live {
    /// Raises the hub answered `ok`.
    pub acked: AtomicU64,
    /// Events delivered to candidates.
    pub delivered: AtomicU64,
    /// Open connections.
    pub connections: AtomicI64,
    /// Reconnects so far.
    pub reconnects: AtomicU64,
    /// Refusals and transport errors.
    pub errors: AtomicU64,
    /// Observation sets the hub answered (scenarios with observations).
    pub observed: AtomicU64,
    /// Review tasks: offered to a doctor (`news2`) or accepted (`night`).
    pub reviews: AtomicU64,
}

/// One timeline point.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    /// Seconds since the run started.
    pub t: f64,
    /// Raises acknowledged per second over the last interval.
    pub acked_per_s: f64,
    /// Candidate deliveries per second over the last interval.
    pub delivered_per_s: f64,
    pub connections: i64,
}

/// Samples [`Live`] every `every` until dropped, and drives a progress bar.
pub struct Timeline {
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Timeline {
    pub fn start(
        live: Arc<Live>,
        every: Duration,
        bar: Option<indicatif::ProgressBar>,
    ) -> Timeline {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let out = samples.clone();
        let task = tokio::spawn(async move {
            let t0 = Instant::now();
            let (mut last_t, mut last_a, mut last_d) = (0.0f64, 0u64, 0u64);
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let t = t0.elapsed().as_secs_f64();
                let a = live.acked.load(Relaxed);
                let d = live.delivered.load(Relaxed);
                let dt = (t - last_t).max(1e-6);
                let s = Sample {
                    t,
                    acked_per_s: (a - last_a) as f64 / dt,
                    delivered_per_s: (d - last_d) as f64 / dt,
                    connections: live.connections.load(Relaxed),
                };
                (last_t, last_a, last_d) = (t, a, d);
                if let Some(b) = &bar {
                    let mut msg = format!(
                        "{} conns, {:.0} raises/s, {} acked, {} delivered",
                        s.connections, s.acked_per_s, a, d
                    );
                    let obs = live.observed.load(Relaxed);
                    if obs > 0 {
                        msg.push_str(&format!(
                            ", {obs} NEWS2 sets, {} reviews",
                            live.reviews.load(Relaxed)
                        ));
                    }
                    b.set_message(msg);
                    b.tick();
                }
                if let Ok(mut v) = out.lock() {
                    v.push(s);
                }
            }
        });
        Timeline { samples, task }
    }

    pub fn finish(self) -> Vec<Sample> {
        self.task.abort();
        self.samples.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// A spinner with elapsed time, hidden when stderr is not a terminal.
pub fn progress(label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} {prefix} [{elapsed_precise}] {msg}")
    {
        bar.set_style(style);
    }
    bar.set_prefix(label.to_owned());
    bar
}

/// A bar counting to `len`.
pub fn counter(label: &str, len: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
    ) {
        bar.set_style(style);
    }
    bar.set_prefix(label.to_owned());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred() {
        let mut s = Samples::default();
        for i in 1..=100u64 {
            s.push(Duration::from_millis(i));
        }
        let p = s.percentiles().expect("samples");
        assert_eq!((p.p50, p.p95, p.p99, p.max), (50.0, 95.0, 99.0, 100.0));
        let h = s.histogram();
        assert_eq!(h.iter().map(|(_, c)| c).sum::<u64>(), 100);
    }
}
