//! `wardpage report`: the night's response figures, read from the store
//! (beside a running hub; it claims nothing), written as CSV files and one
//! self-contained HTML page with charts.
//!
//! Tasks are taken by when they were raised, in `[from, to)`; their
//! figures are in [`figures`], their files in [`write`]. Times of day are
//! the hospital's: `--tz`, or the machine's zone.

pub mod figures;
pub mod handover;
pub mod handover_write;
pub mod write;

use crate::store::{Store, StoreError};
use figures::TaskFacts;
use jiff::tz::TimeZone;
use std::collections::HashMap;
use wardpage_proto::Millis;

/// Errors of `wardpage report`.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("--{which} {given:?} is not a date and time such as 2026-12-01T20:00 ({why})")]
    BadTime {
        which: &'static str,
        given: String,
        why: String,
    },
    #[error("unknown time zone {0:?} (give an IANA name such as Europe/London)")]
    BadZone(String),
    #[error("--to must be after --from")]
    EmptyWindow,
    #[error("could not write the report: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
}

/// The window and zone a report covers.
#[derive(Clone, Debug)]
pub struct Window {
    pub from: Millis,
    pub to: Millis,
    pub tz: TimeZone,
    /// The zone's name, for the report's heading.
    pub tz_name: String,
}

impl Window {
    /// Reads `--from`/`--to` as the hospital's local date and time (or
    /// RFC 3339 with an offset) in zone `tz` (the machine's if `None`).
    pub fn parse(from: &str, to: &str, tz: Option<&str>) -> Result<Window, ReportError> {
        let (tz, tz_name) = match tz {
            Some(name) => (
                TimeZone::get(name).map_err(|_| ReportError::BadZone(name.to_owned()))?,
                name.to_owned(),
            ),
            None => {
                let tz = TimeZone::system();
                let name = tz.iana_name().unwrap_or("the machine's zone").to_owned();
                (tz, name)
            }
        };
        let from_ms = instant("from", from, &tz)?;
        let to_ms = instant("to", to, &tz)?;
        if to_ms <= from_ms {
            return Err(ReportError::EmptyWindow);
        }
        Ok(Window {
            from: from_ms,
            to: to_ms,
            tz,
            tz_name,
        })
    }

    /// The hour of the day, in the window's zone, at `at`.
    pub fn hour(&self, at: Millis) -> u8 {
        jiff::Timestamp::from_millisecond(at)
            .map(|t| t.to_zoned(self.tz.clone()).hour() as u8)
            .unwrap_or(0)
    }

    /// `at` as the hospital reads it, to the minute.
    pub fn local(&self, at: Millis) -> String {
        jiff::Timestamp::from_millisecond(at)
            .map(|t| {
                t.to_zoned(self.tz.clone())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|_| at.to_string())
    }
}

fn instant(which: &'static str, given: &str, tz: &TimeZone) -> Result<Millis, ReportError> {
    let bad = |why: String| ReportError::BadTime {
        which,
        given: given.to_owned(),
        why,
    };
    if let Ok(ts) = given.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    let civil: jiff::civil::DateTime =
        given.parse().map_err(|e: jiff::Error| bad(e.to_string()))?;
    let zoned = civil.to_zoned(tz.clone()).map_err(|e| bad(e.to_string()))?;
    Ok(zoned.timestamp().as_millisecond())
}

/// The tasks raised in the window, with their decline reasons from the
/// audit trail (a task's view keeps only the latest round of offers).
pub async fn gather(store: &dyn Store, w: &Window) -> Result<Vec<TaskFacts>, ReportError> {
    let loaded = store.load(w.from, Millis::MAX).await?;
    let mut tasks: Vec<TaskFacts> = loaded
        .tasks
        .into_iter()
        .map(|t| t.view)
        .filter(|v| v.raised_at >= w.from && v.raised_at < w.to)
        .map(|view| TaskFacts {
            hour: w.hour(view.raised_at),
            view,
            declines: Vec::new(),
        })
        .collect();
    tasks.sort_by_key(|t| (t.view.raised_at, t.view.id));
    let index: HashMap<String, usize> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| (t.view.id.to_string(), i))
        .collect();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 2_000).await?;
        let Some((last, _)) = page.last() else { break };
        after = last.id;
        for (row, _) in page {
            // A declined assignment is a decline with its reason too.
            if row.entity != "task"
                || !matches!(row.action.as_str(), "decline" | "decline_assignment")
            {
                continue;
            }
            if let Some(&i) = index.get(&row.entity_id) {
                if let Some(t) = tasks.get_mut(i) {
                    t.declines.push(row.detail);
                }
            }
        }
    }
    Ok(tasks)
}
