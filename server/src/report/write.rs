//! The report's files: `response-times.csv`, `escalations.csv`,
//! `declines.csv`, `news2.csv` and `report.html`, one page with its charts
//! drawn as inline SVG (nothing fetched, so it opens on a ward PC offline
//! and prints).

use super::figures::{Figures, Group};
use super::{ReportError, Window};
use std::fmt::Write as _;
use std::path::Path;

const DIMENSIONS: [(&str, &str); 5] = [
    ("all", "All tasks"),
    ("priority", "By priority"),
    ("category", "By category"),
    ("ward", "By ward"),
    ("hour", "By hour raised"),
];

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.1}")).unwrap_or_default()
}

fn share(met: u64, of: u64) -> String {
    if of == 0 {
        String::new()
    } else {
        format!("{:.1}", met as f64 * 100.0 / of as f64)
    }
}

/// An empty figure on the page is a dash, not a blank.
fn shown(s: String) -> String {
    if s.is_empty() {
        "\u{2013}".to_owned()
    } else {
        s
    }
}

/// "93.0% (40 of 43)", or a dash when nothing was judged.
fn share_of(met: u64, of: u64) -> String {
    if of == 0 {
        "\u{2013}".to_owned()
    } else {
        format!("{}% ({met} of {of})", share(met, of))
    }
}

/// Hours in the order of a night (noon to noon), so 23 comes before 00.
fn night_order(dim: &str, key: &str) -> (u32, String) {
    match (dim, key.parse::<u32>()) {
        ("hour", Ok(h)) => ((h + 12) % 24, String::new()),
        _ => (0, key.to_owned()),
    }
}

fn ordered<'a>(f: &'a Figures, dim: &str) -> Vec<(&'a str, &'a Group)> {
    let mut rows: Vec<(&str, &Group)> = f
        .groups
        .iter()
        .filter(|((d, _), _)| d == dim)
        .map(|((_, k), g)| (k.as_str(), g))
        .collect();
    rows.sort_by_key(|(k, _)| night_order(dim, k));
    rows
}

/// Writes every CSV file and the HTML page into `dir`.
pub fn all(dir: &Path, f: &Figures, w: &Window) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir)?;
    response_times(&dir.join("response-times.csv"), f)?;
    let mut out = csv::Writer::from_path(dir.join("escalations.csv"))?;
    out.write_record(["step", "tasks"])?;
    for (step, n) in &f.escalations_by_step {
        out.write_record([step.to_string(), n.to_string()])?;
    }
    out.flush()?;
    let mut out = csv::Writer::from_path(dir.join("declines.csv"))?;
    out.write_record(["reason", "declines"])?;
    for (reason, n) in &f.declines_by_reason {
        // A reason is typed by staff: keep a spreadsheet from reading it as
        // a formula.
        out.write_record([spreadsheet_safe(reason), n.to_string()])?;
    }
    out.flush()?;
    let mut out = csv::Writer::from_path(dir.join("news2.csv"))?;
    out.write_record([
        "score_at_least",
        "episodes",
        "judged",
        "accepted_in_target",
        "share_pct",
    ])?;
    for c in &f.news2 {
        out.write_record([
            c.threshold.to_string(),
            c.episodes.to_string(),
            c.judged.to_string(),
            c.accepted_in_target.to_string(),
            share(c.accepted_in_target, c.judged),
        ])?;
    }
    out.flush()?;
    std::fs::write(dir.join("report.html"), html(f, w))?;
    Ok(())
}

/// One row per group of every dimension, in the page's order.
fn response_times(path: &Path, f: &Figures) -> Result<(), ReportError> {
    let mut out = csv::Writer::from_path(path)?;
    out.write_record([
        "group",
        "key",
        "raised",
        "accepted",
        "accept_p50_s",
        "accept_p90_s",
        "accept_max_s",
        "accept_judged",
        "accept_met",
        "accept_met_pct",
        "completed",
        "complete_p50_s",
        "complete_p90_s",
        "complete_max_s",
        "complete_judged",
        "complete_met",
        "complete_met_pct",
    ])?;
    for (dim, _) in DIMENSIONS {
        for (key, g) in ordered(f, dim) {
            out.write_record([
                dim.to_owned(),
                key.to_owned(),
                g.raised.to_string(),
                g.accepted.to_string(),
                opt(g.accept_p50_s),
                opt(g.accept_p90_s),
                opt(g.accept_max_s),
                g.accept_judged.to_string(),
                g.accept_met.to_string(),
                share(g.accept_met, g.accept_judged),
                g.completed.to_string(),
                opt(g.complete_p50_s),
                opt(g.complete_p90_s),
                opt(g.complete_max_s),
                g.complete_judged.to_string(),
                g.complete_met.to_string(),
                share(g.complete_met, g.complete_judged),
            ])?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Text a spreadsheet would run as a formula gets a leading apostrophe.
pub(super) fn spreadsheet_safe(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart: one bar per (label, value), labelled with `unit`.
fn bars(title: &str, rows: &[(String, f64)], unit: &str) -> String {
    let max = rows
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let row_h = 26;
    let height = row_h * rows.len().max(1) + 10;
    let mut s = format!(
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 640 {height}\" width=\"640\" height=\"{height}\">",
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = i * row_h + 5;
        let w = (v / max * 380.0).round();
        // Counts are whole; times and shares to a tenth.
        let value = if v.fract() == 0.0 && unit != "s" {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        };
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{}\" font-size=\"14\">{}</text><rect x=\"180\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"#1f5fa8\"/><text x=\"{}\" y=\"{}\" font-size=\"14\">{value} {}</text>",
            y + 14,
            esc(label),
            186.0 + w,
            y + 14,
            esc(unit)
        );
    }
    if rows.is_empty() {
        s.push_str("<text x=\"0\" y=\"20\" font-size=\"14\">none in this window</text>");
    }
    s.push_str("</svg></figure>");
    s
}

fn table(f: &Figures, dim: &str, heading: &str) -> String {
    let mut s = format!(
        "<h3>{heading}</h3><table><thead><tr><th scope=\"col\">{dim}</th><th scope=\"col\">raised</th><th scope=\"col\">accept p50 / p90 / max (s)</th><th scope=\"col\">accepted in target</th><th scope=\"col\">complete p50 / p90 (s)</th><th scope=\"col\">completed in target</th></tr></thead><tbody>"
    );
    for (key, g) in ordered(f, dim) {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{} / {} / {}</td><td>{}</td><td>{} / {}</td><td>{}</td></tr>",
            esc(key),
            g.raised,
            shown(opt(g.accept_p50_s)),
            shown(opt(g.accept_p90_s)),
            shown(opt(g.accept_max_s)),
            share_of(g.accept_met, g.accept_judged),
            shown(opt(g.complete_p50_s)),
            shown(opt(g.complete_p90_s)),
            share_of(g.complete_met, g.complete_judged),
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The self-contained HTML page.
pub fn html(f: &Figures, w: &Window) -> String {
    let mut s = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wardpage response report</title><style>\
         body{font:16px/1.4 system-ui,sans-serif;margin:2rem;color:#111;max-width:1000px}\
         table{border-collapse:collapse;margin:0 0 1.5rem}th,td{border:1px solid #999;padding:.3rem .6rem;text-align:left}\
         figure{margin:0 0 1.5rem}figcaption{font-weight:600;margin-bottom:.3rem}\
         @media print{body{margin:0}figure,table{break-inside:avoid}}</style></head><body>",
    );
    let _ = write!(
        s,
        "<h1>Response report</h1><p>Tasks raised from {} to {} ({}): {} in all.</p>",
        esc(&w.local(w.from)),
        esc(&w.local(w.to)),
        esc(&w.tz_name),
        f.tasks
    );
    let p90: Vec<(String, f64)> = ordered(f, "priority")
        .into_iter()
        .filter_map(|(k, g)| g.accept_p90_s.map(|v| (k.to_owned(), v)))
        .collect();
    s.push_str(&bars("Time to accept, p90, by priority", &p90, "s"));
    let met: Vec<(String, f64)> = ordered(f, "priority")
        .into_iter()
        .filter(|(_, g)| g.accept_judged > 0)
        .map(|(k, g)| {
            (
                k.to_owned(),
                g.accept_met as f64 * 100.0 / g.accept_judged as f64,
            )
        })
        .collect();
    s.push_str(&bars("Accepted within target, by priority", &met, "%"));
    let hours: Vec<(String, f64)> = ordered(f, "hour")
        .into_iter()
        .map(|(k, g)| (format!("{k}:00"), g.raised as f64))
        .collect();
    s.push_str(&bars("Tasks raised, by hour", &hours, "tasks"));
    for (dim, heading) in DIMENSIONS {
        s.push_str(&table(f, dim, heading));
    }
    let steps: Vec<(String, f64)> = f
        .escalations_by_step
        .iter()
        .map(|(k, n)| (format!("step {k}"), *n as f64))
        .collect();
    s.push_str(&bars("Escalations by step", &steps, "tasks"));
    let declines: Vec<(String, f64)> = f
        .declines_by_reason
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    s.push_str(&bars("Declines by reason", &declines, ""));
    s.push_str("<h3>NEWS2 response</h3><table><thead><tr><th scope=\"col\">score</th><th scope=\"col\">review episodes</th><th scope=\"col\">accepted within target</th></tr></thead><tbody>");
    for c in &f.news2 {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{} or more</th><td>{}</td><td>{}</td></tr>",
            c.threshold,
            c.episodes,
            share_of(c.accepted_in_target, c.judged),
        );
    }
    s.push_str("</tbody></table><p>Time to accept runs from the raise to the acceptance that stands; a task counts toward a target once it was met or the target passed. Percentiles are nearest-rank.</p></body></html>");
    s
}
