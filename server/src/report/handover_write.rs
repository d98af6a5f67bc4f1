//! The handover report's files: one CSV per list (`handover-tasks.csv`,
//! `handover-patients.csv`, `handover-overdue.csv`,
//! `handover-escalations.csv`, `handover-pages.csv`) and `handover.html`,
//! a page made to be printed and carried (a print stylesheet: no colour
//! needed, tables kept whole across pages, the time on every page).

use super::handover::Handover;
use super::write::{esc, spreadsheet_safe};
use super::{ReportError, Window};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// Writes every file of the report into `dir` (created if missing).
pub fn all(dir: &Path, r: &Handover, w: &Window) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir)?;
    csv_of(&dir.join("handover-tasks.csv"), &r.tasks)?;
    csv_of(&dir.join("handover-patients.csv"), &r.patients)?;
    csv_of(&dir.join("handover-overdue.csv"), &r.overdue)?;
    csv_of(&dir.join("handover-escalations.csv"), &r.escalations)?;
    csv_of(&dir.join("handover-pages.csv"), &r.pages)?;
    std::fs::write(dir.join("handover.html"), html(r, w))?;
    Ok(())
}

/// One CSV: a header row of `columns(path)`, then each row's fields in
/// that order; text a spreadsheet would run as a formula is made inert.
fn csv_of<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), ReportError> {
    let mut out = csv::Writer::from_path(path)?;
    let heads = columns(path);
    out.write_record(&heads)?;
    for row in rows {
        let value = serde_json::to_value(row).map_err(|e| std::io::Error::other(e.to_string()))?;
        let cells = heads.iter().map(|k| match value.get(k) {
            Some(serde_json::Value::String(s)) => spreadsheet_safe(s),
            Some(other) => other.to_string(),
            None => String::new(),
        });
        out.write_record(cells)?;
    }
    out.flush()?;
    Ok(())
}

/// The columns of each file, by its name (the rows' field names).
fn columns(path: &Path) -> Vec<&'static str> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name {
        "handover-tasks.csv" => vec![
            "ward",
            "bed",
            "patient",
            "priority",
            "category",
            "state",
            "owner",
            "age_min",
            "situation",
            "handover_to",
            "task",
        ],
        "handover-patients.csv" => vec![
            "ward",
            "bed",
            "name",
            "number",
            "news2",
            "band",
            "red_flag",
            "trend",
            "taken_at",
            "note_situation",
            "note_plan",
            "note_what_if",
        ],
        "handover-overdue.csv" => vec!["ward", "bed", "name", "due_at", "late_min"],
        "handover-escalations.csv" => {
            vec!["at", "about", "ward", "bed", "priority", "detail", "id"]
        }
        _ => vec![
            "sent_at",
            "from",
            "waiting_on",
            "priority",
            "state",
            "message",
            "callback",
            "escalation_level",
            "page",
        ],
    }
}

const STYLE: &str = "body{font:15px/1.35 system-ui,sans-serif;margin:1.5rem;color:#111;max-width:1100px}\
 h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.2rem 0 .4rem}\
 table{border-collapse:collapse;width:100%;margin:0 0 1rem}th,td{border:1px solid #777;padding:.25rem .45rem;text-align:left;vertical-align:top}\
 thead th{background:#eee}.none{color:#444;font-style:italic}.flag{font-weight:700}\
 @media print{body{margin:0;font-size:11pt;max-width:none}thead{display:table-header-group}tr{break-inside:avoid}\
 h2{break-after:avoid}thead th{background:none;border-bottom:2px solid #000}@page{margin:12mm}}";

/// A table with a caption row of headings, or a line saying it is empty.
fn table(s: &mut String, title: &str, heads: &[&str], rows: Vec<Vec<String>>, none: &str) {
    let _ = write!(s, "<h2>{} ({})</h2>", esc(title), rows.len());
    if rows.is_empty() {
        let _ = write!(s, "<p class=\"none\">{}</p>", esc(none));
        return;
    }
    s.push_str("<table><thead><tr>");
    for h in heads {
        let _ = write!(s, "<th scope=\"col\">{}</th>", esc(h));
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            let _ = write!(s, "<td>{}</td>", esc(&cell));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
}

/// Minutes as "2 h 05 min".
fn age(min: i64) -> String {
    if min < 60 {
        format!("{min} min")
    } else {
        format!("{} h {:02} min", min / 60, min % 60)
    }
}

/// The printable page.
pub fn html(r: &Handover, w: &Window) -> String {
    let mut s = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Handover: {}</title><style>{STYLE}</style></head><body>",
        esc(&r.scope_name)
    );
    let _ = write!(
        s,
        "<h1>Handover: {}</h1><p>As at {} ({}); the night from {} to {}.</p>",
        esc(&r.scope_name),
        esc(&w.local(r.at)),
        esc(&w.tz_name),
        esc(&w.local(w.from)),
        esc(&w.local(w.to))
    );
    let heads = [
        "Priority",
        "Where",
        "Patient",
        "Task",
        "Situation",
        "State",
        "Owner",
        "Age",
    ];
    table(
        &mut s,
        "Open tasks",
        &heads,
        task_cells(r),
        "No open tasks.",
    );
    let heads = [
        "Where",
        "Patient",
        "NEWS2",
        "Trend",
        "Taken",
        "Situation",
        "Plan",
        "What if",
    ];
    let none = "No patient scores 5 or more or has a red flag.";
    let title = "Patients with NEWS2 5 or more, or a red flag";
    table(&mut s, title, &heads, patient_cells(r, w), none);
    let overdue = r
        .overdue
        .iter()
        .map(|o| {
            vec![
                place(&o.ward, &o.bed),
                o.name.clone(),
                w.local(o.due_at),
                age(o.late_min),
            ]
        })
        .collect();
    let heads = ["Where", "Patient", "Due", "Late by"];
    table(
        &mut s,
        "Observations overdue",
        &heads,
        overdue,
        "No observations overdue.",
    );
    let escalations = r
        .escalations
        .iter()
        .map(|e| {
            vec![
                w.local(e.at),
                e.about.clone(),
                place(&e.ward, &e.bed),
                e.priority.clone(),
                e.detail.clone(),
            ]
        })
        .collect();
    let heads = ["At", "About", "Where", "Priority", "Why"];
    let none = "No escalations in the night.";
    table(
        &mut s,
        "Escalations in the night",
        &heads,
        escalations,
        none,
    );
    let heads = ["Sent", "From", "Waiting on", "Priority", "State", "Message"];
    table(
        &mut s,
        "Unanswered pages",
        &heads,
        page_cells(r, w),
        "No unanswered pages.",
    );
    s.push_str("<p>Every open task needs a named owner who has accepted it; nothing held at the end of a shift may silently vanish.</p></body></html>");
    s
}

/// "Ward 7 (Medicine) bed 12", or nothing when there is no ward.
fn place(ward: &str, bed: &str) -> String {
    if ward.is_empty() {
        String::new()
    } else {
        format!("{ward} bed {bed}")
    }
}

fn task_cells(r: &Handover) -> Vec<Vec<String>> {
    r.tasks
        .iter()
        .map(|t| {
            let owner = if t.handover_to.is_empty() {
                t.owner.clone()
            } else {
                format!("{} (handing over to {})", t.owner, t.handover_to)
            };
            let (what, state) = (t.category.clone(), t.state.clone());
            vec![
                t.priority.clone(),
                place(&t.ward, &t.bed),
                t.patient.clone(),
                what,
                t.situation.clone(),
                state,
                owner,
                age(t.age_min),
            ]
        })
        .collect()
}

fn patient_cells(r: &Handover, w: &Window) -> Vec<Vec<String>> {
    r.patients
        .iter()
        .map(|p| {
            let flag = if p.red_flag { " (red flag)" } else { "" };
            let score = if p.news2.is_empty() {
                "incomplete"
            } else {
                &p.news2
            };
            let who = format!("{} {}", p.name, p.number);
            let note = [
                p.note_situation.clone(),
                p.note_plan.clone(),
                p.note_what_if.clone(),
            ];
            let mut row = vec![
                place(&p.ward, &p.bed),
                who,
                format!("{score}{flag}"),
                p.trend.clone(),
                w.local(p.taken_at),
            ];
            row.extend(note);
            row
        })
        .collect()
}

fn page_cells(r: &Handover, w: &Window) -> Vec<Vec<String>> {
    r.pages
        .iter()
        .map(|p| {
            let message = format!("{} (call {})", p.message, p.callback);
            vec![
                w.local(p.sent_at),
                p.from.clone(),
                p.waiting_on.clone(),
                p.priority.clone(),
                p.state.clone(),
                message,
            ]
        })
        .collect()
}
