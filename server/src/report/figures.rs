//! The response figures a trust buys on, computed from task views alone:
//! pure, so the tests can check them against figures worked out another way.
//!
//! Definitions (also in the report's own notes):
//! - *time to accept*: raise to the acceptance that stands (`accepted_at`);
//!   *time to complete*: raise to completion, for completed tasks.
//! - *met the accept target*: accepted by `accept_by`. A task counts toward
//!   the share once it was accepted or its target passed unaccepted (within
//!   the window, or before it was cancelled); one cancelled before its target
//!   without being accepted is left out, as it never had the chance to miss.
//!   The complete target is judged the same way against `complete_by`.
//! - percentiles are nearest-rank, as on the dashboard.
//! - NEWS2 compliance: review tasks whose score reached 5 or more (7 or
//!   more), accepted within the accept target their priority set.

use std::collections::BTreeMap;
use wardpage_proto::{Millis, TaskState, TaskView};

/// One task, with what the audit trail adds to its view.
#[derive(Clone, Debug)]
pub struct TaskFacts {
    pub view: TaskView,
    /// Decline reasons, one per decline, as typed.
    pub declines: Vec<String>,
    /// The hour of the day (0-23, hospital time) it was raised.
    pub hour: u8,
}

/// Figures for one group of tasks (a priority, a category, a ward, an hour).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Group {
    pub raised: u64,
    pub accepted: u64,
    /// Seconds, nearest-rank.
    pub accept_p50_s: Option<f64>,
    pub accept_p90_s: Option<f64>,
    pub accept_max_s: Option<f64>,
    /// Tasks judged against the accept target, and those that met it.
    pub accept_judged: u64,
    pub accept_met: u64,
    pub completed: u64,
    pub complete_p50_s: Option<f64>,
    pub complete_p90_s: Option<f64>,
    pub complete_max_s: Option<f64>,
    pub complete_judged: u64,
    pub complete_met: u64,
}

/// NEWS2 review episodes at or above a score.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct News2Compliance {
    pub threshold: u8,
    pub episodes: u64,
    /// Episodes judged against the accept target (as for any task).
    pub judged: u64,
    pub accepted_in_target: u64,
}

/// Every figure of one report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Figures {
    pub tasks: u64,
    /// (dimension, key) -> figures; dimensions "priority", "category",
    /// "ward", "hour", and "all".
    pub groups: BTreeMap<(String, String), Group>,
    /// Step (1 = first escalation) -> how many tasks reached it.
    pub escalations_by_step: BTreeMap<u32, u64>,
    /// Reason -> count.
    pub declines_by_reason: BTreeMap<String, u64>,
    pub news2: Vec<News2Compliance>,
}

/// The nearest-rank percentile `p` (0-100) of sorted `xs`.
pub fn nearest_rank(xs: &[Millis], p: u32) -> Option<Millis> {
    if xs.is_empty() {
        return None;
    }
    let rank = (u64::from(p) * xs.len() as u64).div_ceil(100).max(1) as usize;
    xs.get(rank - 1).copied()
}

fn seconds(ms: Option<Millis>) -> Option<f64> {
    ms.map(|m| (m as f64 / 100.0).round() / 10.0)
}

/// Whether `v` is judged against a target at `due`, and whether it met it,
/// given when it was done (`done`) and the end of the window (`until`).
fn judge(v: &TaskView, due: Millis, done: Option<Millis>, until: Millis) -> (bool, bool) {
    match done {
        Some(at) => (true, at <= due),
        None => {
            let gave_up = match v.state {
                TaskState::Cancelled | TaskState::Completed => v.closed_at.unwrap_or(until),
                _ => until,
            };
            (gave_up >= due, false)
        }
    }
}

#[derive(Default)]
struct Acc {
    raised: u64,
    to_accept: Vec<Millis>,
    accept_judged: u64,
    accept_met: u64,
    to_complete: Vec<Millis>,
    complete_judged: u64,
    complete_met: u64,
}

impl Acc {
    fn add(&mut self, v: &TaskView, until: Millis) {
        self.raised += 1;
        if let Some(at) = v.accepted_at {
            self.to_accept.push(at - v.raised_at);
        }
        let (judged, met) = judge(v, v.accept_by, v.accepted_at, until);
        self.accept_judged += u64::from(judged);
        self.accept_met += u64::from(met);
        let completed = (v.state == TaskState::Completed)
            .then_some(v.closed_at)
            .flatten();
        if let Some(at) = completed {
            self.to_complete.push(at - v.raised_at);
        }
        let (judged, met) = judge(v, v.complete_by, completed, until);
        self.complete_judged += u64::from(judged);
        self.complete_met += u64::from(met);
    }

    fn finish(mut self) -> Group {
        self.to_accept.sort_unstable();
        self.to_complete.sort_unstable();
        Group {
            raised: self.raised,
            accepted: self.to_accept.len() as u64,
            accept_p50_s: seconds(nearest_rank(&self.to_accept, 50)),
            accept_p90_s: seconds(nearest_rank(&self.to_accept, 90)),
            accept_max_s: seconds(self.to_accept.last().copied()),
            accept_judged: self.accept_judged,
            accept_met: self.accept_met,
            completed: self.to_complete.len() as u64,
            complete_p50_s: seconds(nearest_rank(&self.to_complete, 50)),
            complete_p90_s: seconds(nearest_rank(&self.to_complete, 90)),
            complete_max_s: seconds(self.to_complete.last().copied()),
            complete_judged: self.complete_judged,
            complete_met: self.complete_met,
        }
    }
}

/// The wire name of a serde enum value (categories have no `as_str`).
fn wire_name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "other".to_owned(),
    }
}

/// Computes every figure over `tasks`, judging open targets at `until`.
pub fn compute(tasks: &[TaskFacts], until: Millis) -> Figures {
    let mut accs: BTreeMap<(String, String), Acc> = BTreeMap::new();
    let mut figures = Figures {
        tasks: tasks.len() as u64,
        ..Figures::default()
    };
    let mut news2 = [(5u8, 0u64, 0u64, 0u64), (7, 0, 0, 0)];
    for t in tasks {
        let v = &t.view;
        let keys = [
            ("all", "all".to_owned()),
            ("priority", v.priority.as_str().to_owned()),
            ("category", wire_name(&v.category)),
            ("ward", v.ward.0.clone()),
            ("hour", format!("{:02}", t.hour)),
        ];
        for (dim, key) in keys {
            accs.entry((dim.to_owned(), key)).or_default().add(v, until);
        }
        for step in 1..=v.escalation_level {
            *figures.escalations_by_step.entry(step).or_default() += 1;
        }
        for reason in &t.declines {
            let reason = reason.trim();
            let reason = if reason.is_empty() {
                "(no reason)"
            } else {
                reason
            };
            *figures
                .declines_by_reason
                .entry(reason.to_owned())
                .or_default() += 1;
        }
        if let Some(total) = v.review.as_ref().and_then(|r| r.total) {
            let (was_judged, in_target) = judge(v, v.accept_by, v.accepted_at, until);
            for (threshold, episodes, judged, met) in news2.iter_mut() {
                if total >= *threshold {
                    *episodes += 1;
                    *judged += u64::from(was_judged);
                    *met += u64::from(in_target);
                }
            }
        }
    }
    figures.groups = accs.into_iter().map(|(k, a)| (k, a.finish())).collect();
    figures.news2 = news2
        .into_iter()
        .map(
            |(threshold, episodes, judged, accepted_in_target)| News2Compliance {
                threshold,
                episodes,
                judged,
                accepted_in_target,
            },
        )
        .collect();
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardpage_proto::{
        Band, Category, Priority, Requirement, ReviewTrigger, Role, Sbar, Spo2Scale, StaffId,
        StaffRef, TaskId, Trend, WardId,
    };

    const MIN: Millis = 60_000;

    /// An urgent task raised at 0, to be accepted within 30 min and done
    /// within 2 h.
    fn task(state: TaskState, accepted: Option<Millis>, closed: Option<Millis>) -> TaskFacts {
        TaskFacts {
            view: TaskView {
                id: TaskId::new_ordered(1),
                version: 1,
                ward: WardId("w7".into()),
                bed: "1".into(),
                patient: String::new(),
                patient_ref: None,
                review: None,
                category: Category::MedicalReview,
                priority: Priority::Urgent,
                requirement: Requirement::Role(Role::Fy1),
                sbar: Sbar {
                    situation: "s".into(),
                    background: String::new(),
                    assessment: String::new(),
                    recommendation: String::new(),
                },
                state,
                unassigned_reason: None,
                raised_by: StaffRef {
                    id: StaffId(uuid::Uuid::nil()),
                    name: "n".into(),
                },
                offers: Vec::new(),
                assignee: None,
                raised_at: 0,
                updated_at: 0,
                accept_by: 30 * MIN,
                complete_by: 120 * MIN,
                accepted_at: accepted,
                assigned_by: None,
                assigned_at: None,
                started_at: None,
                closed_at: closed,
                closing_note: None,
                escalation_level: 0,
                next_escalation_at: None,
                handover: None,
                unreached_at: None,
            },
            declines: Vec::new(),
            hour: 2,
        }
    }

    fn review(mut t: TaskFacts, total: u8) -> TaskFacts {
        t.view.review = Some(ReviewTrigger {
            observation: None,
            total: Some(total),
            band: Some(if total >= 7 { Band::High } else { Band::Medium }),
            red_flag: false,
            trend: Trend::First,
            scale: Spo2Scale::Scale1,
            summary: String::new(),
        });
        t
    }

    #[test]
    fn targets_are_judged_once_met_or_missed_and_never_before() {
        let tasks = [
            // Accepted in time and done late.
            task(TaskState::Completed, Some(10 * MIN), Some(150 * MIN)),
            // Accepted late, still open.
            task(TaskState::Accepted, Some(40 * MIN), None),
            // Still offered, its accept target passed at the window's end.
            task(TaskState::Offering, None, None),
            // Cancelled unaccepted before its target: never judged.
            task(TaskState::Cancelled, None, Some(5 * MIN)),
        ];
        let f = compute(&tasks, 60 * MIN);
        let all = &f.groups[&("all".to_owned(), "all".to_owned())];
        assert_eq!((all.raised, all.accepted), (4, 2));
        assert_eq!((all.accept_judged, all.accept_met), (3, 1));
        assert_eq!(all.accept_p50_s, Some(600.0));
        assert_eq!(all.accept_max_s, Some(2400.0));
        // The completed task is late; the others' 2 h target has not passed.
        assert_eq!(
            (all.completed, all.complete_judged, all.complete_met),
            (1, 1, 0)
        );
        assert_eq!(f.groups[&("hour".to_owned(), "02".to_owned())].raised, 4);
    }

    #[test]
    fn news2_compliance_counts_fives_and_sevens_judged_like_any_task() {
        let tasks = [
            review(task(TaskState::Accepted, Some(5 * MIN), None), 7),
            review(task(TaskState::Accepted, Some(45 * MIN), None), 5),
            // Open, but its target has not passed: not judged yet.
            review(task(TaskState::Offering, None, None), 6),
            task(TaskState::Accepted, Some(MIN), None),
        ];
        let f = compute(&tasks, 20 * MIN);
        let five = &f.news2[0];
        let seven = &f.news2[1];
        assert_eq!((five.threshold, five.episodes, five.judged), (5, 3, 2));
        assert_eq!(five.accepted_in_target, 1);
        assert_eq!(
            (
                seven.threshold,
                seven.episodes,
                seven.judged,
                seven.accepted_in_target
            ),
            (7, 1, 1, 1)
        );
    }

    #[test]
    fn nearest_rank_takes_the_smallest_value_covering_the_share() {
        let xs = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(nearest_rank(&xs, 50), Some(50));
        assert_eq!(nearest_rank(&xs, 90), Some(90));
        assert_eq!(nearest_rank(&xs, 91), Some(100));
        assert_eq!(nearest_rank(&[7], 50), Some(7));
        assert_eq!(nearest_rank(&[], 50), None);
    }
}
