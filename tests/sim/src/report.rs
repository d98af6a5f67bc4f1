//! What a run produces: a summary table on stdout, a JSON result file, and
//! a self-contained HTML report with inline SVG charts (latency histogram,
//! throughput and connections over time) that opens in any browser.

use super::ledger::InvariantReport;
use super::stats::{Percentiles, Sample};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Facts about the machine, printed beside every figure.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub mem_total_mib: u64,
    pub cpu: String,
    pub kernel: String,
}

impl Machine {
    pub fn here() -> Machine {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let mem_kib: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_default();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_owned();
        Machine {
            nproc: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            mem_total_mib: mem_kib / 1024,
            cpu,
            kernel,
        }
    }
}

/// One named latency figure: percentiles in `unit` (`ms`, `sim min`).
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub unit: String,
    #[serde(flatten)]
    pub percentiles: Percentiles,
}

/// The result of one scenario run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub seed: u64,
    pub machine: Machine,
    /// The scenario's parameters as given.
    pub params: serde_json::Value,
    pub duration_s: f64,
    pub raises_acked: u64,
    /// Acknowledged (durable) raises per second over the measured window.
    pub throughput_per_s: f64,
    pub deliveries: u64,
    /// Raise sent to candidate's event received.
    pub delivery_latency_ms: Option<Percentiles>,
    /// Raise sent to the hub's `ok` (durable commit).
    pub ack_latency_ms: Option<Percentiles>,
    /// Raise to accept, in simulated minutes (night scenarios).
    pub time_to_accept_min: Option<Percentiles>,
    /// Escalations the coordinator saw (task, level), night scenarios.
    pub escalations: u64,
    /// Further latencies a scenario measures (NEWS2 set to review offered,
    /// set to review accepted...), by name, each with its unit.
    pub latencies: BTreeMap<String, Latency>,
    pub reconnects: u64,
    /// Scenario-specific figures (memory per connection, resume time...).
    pub figures: BTreeMap<String, f64>,
    pub notes: Vec<String>,
    pub invariants: InvariantReport,
    pub timeline: Vec<Sample>,
    /// (upper bound ms, count) of the delivery latency histogram.
    pub histogram: Vec<(f64, u64)>,
    /// What the histogram shows (scenarios may histogram something else).
    pub histogram_title: String,
    /// What the timeline's "delivered" series counts.
    pub delivered_label: String,
}

impl RunReport {
    pub fn new(scenario: &str, seed: u64, params: serde_json::Value) -> RunReport {
        RunReport {
            scenario: scenario.to_owned(),
            seed,
            machine: Machine::here(),
            params,
            duration_s: 0.0,
            raises_acked: 0,
            throughput_per_s: 0.0,
            deliveries: 0,
            delivery_latency_ms: None,
            ack_latency_ms: None,
            time_to_accept_min: None,
            escalations: 0,
            latencies: BTreeMap::new(),
            reconnects: 0,
            figures: BTreeMap::new(),
            notes: Vec::new(),
            invariants: InvariantReport::default(),
            timeline: Vec::new(),
            histogram: Vec::new(),
            histogram_title: "Raise to candidate delivery latency".into(),
            delivered_label: "candidate deliveries/s".into(),
        }
    }

    /// Adds a named latency (nothing if there were no samples).
    pub fn latency(&mut self, name: &str, unit: &str, p: Option<Percentiles>) {
        if let Some(percentiles) = p {
            self.latencies.insert(
                name.to_owned(),
                Latency {
                    unit: unit.to_owned(),
                    percentiles,
                },
            );
        }
    }

    pub fn ok(&self) -> bool {
        self.invariants.ok
    }

    /// The summary as (label, value) rows.
    pub fn rows(&self) -> Vec<(String, String)> {
        let mut rows: Vec<(String, String)> = vec![
            (
                "scenario".into(),
                format!("{} (seed {})", self.scenario, self.seed),
            ),
            (
                "machine".into(),
                format!(
                    "{} CPUs, {} MiB, {}",
                    self.machine.nproc, self.machine.mem_total_mib, self.machine.cpu
                ),
            ),
            ("duration".into(), format!("{:.1} s", self.duration_s)),
            ("raises acknowledged".into(), self.raises_acked.to_string()),
            (
                "throughput".into(),
                format!("{:.0} durable raises/s", self.throughput_per_s),
            ),
            (
                "deliveries to candidates".into(),
                self.deliveries.to_string(),
            ),
        ];
        let pct = |p: &Option<Percentiles>, unit: &str| match p {
            Some(p) => format!(
                "p50 {:.2} / p95 {:.2} / p99 {:.2} / max {:.2} {unit} (n={})",
                p.p50, p.p95, p.p99, p.max, p.count
            ),
            None => "-".into(),
        };
        rows.push((
            "raise -> candidate latency".into(),
            pct(&self.delivery_latency_ms, "ms"),
        ));
        rows.push((
            "raise -> ok (durable) latency".into(),
            pct(&self.ack_latency_ms, "ms"),
        ));
        rows.push((
            "time to accept".into(),
            pct(&self.time_to_accept_min, "sim min"),
        ));
        for (name, l) in &self.latencies {
            rows.push((name.clone(), pct(&Some(l.percentiles), &l.unit)));
        }
        rows.push(("escalations".into(), self.escalations.to_string()));
        rows.push(("reconnects".into(), self.reconnects.to_string()));
        for (k, v) in &self.figures {
            rows.push((k.clone(), format_figure(*v)));
        }
        let inv = &self.invariants;
        rows.push((
            "losses".into(),
            format!(
                "{} of {} deliveries",
                inv.deliveries_missing, inv.deliveries_expected
            ),
        ));
        rows.push((
            "missing after restart".into(),
            inv.tasks_missing_after_restart.to_string(),
        ));
        rows.push((
            "duplicates on the wire".into(),
            inv.duplicates_on_wire.to_string(),
        ));
        rows.push((
            "shown twice / gaps".into(),
            format!("{} / {}", inv.shown_twice, inv.gaps),
        ));
        if inv.triggering_sets > 0 || inv.review_episodes_broken > 0 {
            rows.push((
                "review episodes broken".into(),
                format!(
                    "{} (of {} triggering NEWS2 sets)",
                    inv.review_episodes_broken, inv.triggering_sets
                ),
            ));
        }
        rows.push((
            "invariants".into(),
            if inv.ok {
                "HOLD".into()
            } else {
                format!("BROKEN: {}", inv.failures().join("; "))
            },
        ));
        rows
    }

    /// The summary table, with notes and examples of broken invariants.
    pub fn table(&self) -> String {
        let rows = self.rows();
        let inv = &self.invariants;
        let w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(10);
        let mut s = String::new();
        for (k, v) in rows {
            let _ = writeln!(s, "  {k:<w$}  {v}");
        }
        for n in &self.notes {
            let _ = writeln!(s, "  note: {n}");
        }
        for e in &inv.examples {
            let _ = writeln!(s, "  ! {e}");
        }
        s
    }

    /// Writes `<scenario>-<unix time>.json` and `.html` into `dir`.
    pub fn write(&self, dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let json = dir.join(format!("{}-{stamp}.json", self.scenario));
        let html = dir.join(format!("{}-{stamp}.html", self.scenario));
        std::fs::write(&json, serde_json::to_string_pretty(self)?)?;
        std::fs::write(&html, self.html())?;
        Ok((json, html))
    }

    /// The self-contained HTML report.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>wardpage-sim: {sc}</title>
<style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em;max-width:960px;color:#222}}
table{{border-collapse:collapse}}td{{padding:2px 12px 2px 0;vertical-align:top}}td:first-child{{color:#555}}
.ok{{color:#070;font-weight:bold}}.bad{{color:#b00;font-weight:bold}}h2{{margin-top:1.6em}}svg{{background:#fafafa;border:1px solid #ddd}}
</style></head><body><h1>wardpage-sim: {sc}</h1>"#,
            sc = esc(&self.scenario)
        );
        let verdict = if self.invariants.ok {
            r#"<p class="ok">Invariants hold: nothing acknowledged was lost.</p>"#.to_owned()
        } else {
            format!(
                r#"<p class="bad">Invariants broken: {}</p>"#,
                esc(&self.invariants.failures().join("; "))
            )
        };
        h.push_str(&verdict);
        h.push_str("<h2>Summary</h2><table>");
        for (k, v) in self.rows() {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(&k), esc(&v));
        }
        h.push_str("</table>");
        if !self.notes.is_empty() || !self.invariants.examples.is_empty() {
            h.push_str("<ul>");
            for n in &self.notes {
                let _ = write!(h, "<li>{}</li>", esc(n));
            }
            for e in &self.invariants.examples {
                let _ = write!(h, r#"<li class="bad">{}</li>"#, esc(e));
            }
            h.push_str("</ul>");
        }
        if !self.histogram.is_empty() {
            let _ = write!(h, "<h2>{}</h2>", esc(&self.histogram_title));
            h.push_str(&histogram_svg(&self.histogram));
        }
        if self.timeline.len() > 1 {
            h.push_str("<h2>Throughput over time</h2>");
            let series = [
                (
                    "raises acknowledged/s",
                    "#1f77b4",
                    self.timeline
                        .iter()
                        .map(|s| (s.t, s.acked_per_s))
                        .collect::<Vec<_>>(),
                ),
                (
                    self.delivered_label.as_str(),
                    "#ff7f0e",
                    self.timeline
                        .iter()
                        .map(|s| (s.t, s.delivered_per_s))
                        .collect(),
                ),
            ];
            h.push_str(&line_svg(&series, "per second"));
            h.push_str("<h2>Open connections over time</h2>");
            let conns = [(
                "connections",
                "#2ca02c",
                self.timeline
                    .iter()
                    .map(|s| (s.t, s.connections as f64))
                    .collect::<Vec<_>>(),
            )];
            h.push_str(&line_svg(&conns, "connections"));
        }
        let _ = writeln!(
            h,
            "<h2>Parameters</h2><pre>{}</pre></body></html>",
            esc(&serde_json::to_string_pretty(&self.params).unwrap_or_default())
        );
        h
    }
}

fn format_figure(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const W: f64 = 880.0;
const H: f64 = 260.0;
const PAD_L: f64 = 70.0;
const PAD_B: f64 = 40.0;

/// Bars of a log-binned histogram, labelled with their upper bounds.
fn histogram_svg(bins: &[(f64, u64)]) -> String {
    let max = bins.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let n = bins.len() as f64;
    let bw = (W - PAD_L - 10.0) / n;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-size="11">"#
    );
    let plot_h = H - PAD_B - 10.0;
    for (i, (ub, c)) in bins.iter().enumerate() {
        let bh = plot_h * (*c as f64) / max;
        let x = PAD_L + i as f64 * bw;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="#1f77b4"><title>&lt;= {ub:.3} ms: {c}</title></rect>"##,
            10.0 + plot_h - bh,
            (bw - 1.0).max(0.5)
        );
        if i % 4 == 0 || i + 1 == bins.len() {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                x + bw / 2.0,
                H - PAD_B + 14.0,
                short_ms(*ub)
            );
        }
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">milliseconds (log bins)</text><text x="10" y="20">{max:.0}</text><text x="10" y="{:.1}">0</text>"#,
        PAD_L + (W - PAD_L) / 2.0,
        H - 6.0,
        10.0 + plot_h
    );
    let _ = write!(
        s,
        r##"<line x1="{PAD_L}" y1="{:.1}" x2="{W}" y2="{:.1}" stroke="#888"/></svg>"##,
        10.0 + plot_h,
        10.0 + plot_h
    );
    s
}

fn short_ms(v: f64) -> String {
    if v < 1.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A named, coloured series of (x, y) points.
type Series<'a> = (&'a str, &'a str, Vec<(f64, f64)>);

/// Line chart of one or more series sharing the axes.
fn line_svg(series: &[Series], unit: &str) -> String {
    let xmax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.0))
        .fold(0.0f64, f64::max)
        .max(1e-6);
    let ymax = series
        .iter()
        .flat_map(|s| s.2.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.1;
    let plot_w = W - PAD_L - 10.0;
    let plot_h = H - PAD_B - 10.0;
    let mut s = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-size="11">"#
    );
    for i in 0..=4 {
        let y = 10.0 + plot_h * (1.0 - i as f64 / 4.0);
        let _ = write!(
            s,
            r##"<line x1="{PAD_L}" y1="{y:.1}" x2="{W}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0}</text>"##,
            PAD_L - 4.0,
            y + 4.0,
            ymax * i as f64 / 4.0
        );
        let x = PAD_L + plot_w * i as f64 / 4.0;
        let _ = write!(
            s,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{:.0} s</text>"#,
            H - PAD_B + 14.0,
            xmax * i as f64 / 4.0
        );
    }
    for (li, (name, colour, pts)) in series.iter().enumerate() {
        let path: Vec<String> = pts
            .iter()
            .map(|(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    PAD_L + plot_w * x / xmax,
                    10.0 + plot_h * (1.0 - y / ymax)
                )
            })
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="1.8" points="{}"/>"#,
            path.join(" ")
        );
        let _ = write!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="12" height="3" fill="{colour}"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            PAD_L + 10.0 + li as f64 * 220.0,
            H - 12.0,
            PAD_L + 26.0 + li as f64 * 220.0,
            H - 8.0,
            esc(name)
        );
    }
    let _ = write!(
        s,
        r#"<text x="10" y="20" font-size="10">{}</text></svg>"#,
        esc(unit)
    );
    s
}
