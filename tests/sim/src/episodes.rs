//! One review per episode: the NEWS2 check of the night scenarios, and the
//! times from a triggering set to its review being accepted.
//!
//! Two sides are compared. The nurse who sends a set keeps what the hub
//! answered ([`SetOutcome`]: the score and the review task it raised or
//! updated). The coordinator files every task event in stream order, which
//! is the hub's commit order ([`EpisodeTracker`]): the open review of each
//! patient, which task each triggering set landed on, and any second review
//! raised while one was open. [`check`] then holds the rules:
//! - every set the hub scored as calling for a review came back with one;
//! - it is the task the coordinator saw that set land on;
//! - a patient's review changes only after the earlier one closed;
//! - no patient ever had two open reviews, in the stream or in the final
//!   snapshot.

use super::ledger::InvariantReport;
use super::stats::Samples;
use std::collections::{HashMap, HashSet};
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{Band, ObservationId, PatientId, TaskChange, TaskId, TaskView};

/// What the hub answered to one set.
#[derive(Debug, Clone)]
pub struct SetOutcome {
    /// Index into the plan's patients.
    pub patient: usize,
    /// The total the plan meant the set to score.
    pub planned: u8,
    /// When the set was first sent.
    pub sent: Instant,
    pub observation: ObservationId,
    pub total: Option<u8>,
    pub band: Option<Band>,
    pub red_flag: bool,
    /// The review task raised or updated (`review` of the result).
    pub review: Option<TaskId>,
}

impl SetOutcome {
    /// Whether the hub's own score calls for a review (5 or more, or a red
    /// flag).
    pub fn triggers(&self) -> bool {
        self.red_flag || self.band >= Some(Band::LowMedium)
    }
}

/// The coordinator's view of review episodes, filed in stream order.
#[derive(Debug, Default)]
pub struct EpisodeTracker {
    open: HashMap<PatientId, TaskId>,
    closed: HashSet<TaskId>,
    /// The review task each set's event named as its trigger.
    landed: HashMap<ObservationId, TaskId>,
    /// Second reviews raised while one was open.
    doubles: Vec<String>,
    pub events: u64,
}

impl EpisodeTracker {
    /// Files one task event (`change` is `None` for an escalation).
    pub fn file(&mut self, change: Option<TaskChange>, task: &TaskView) {
        let (Some(p), Some(trigger)) = (task.patient_ref.as_ref(), task.review.as_ref()) else {
            return;
        };
        self.events += 1;
        if let (
            Some(o),
            Some(TaskChange::Raised | TaskChange::Rescored | TaskChange::NoOneAccepted),
        ) = (trigger.observation, change)
        {
            self.landed.entry(o).or_insert(task.id);
        }
        if task.state.is_terminal() {
            if self.open.get(&p.id) == Some(&task.id) {
                self.open.remove(&p.id);
            }
            self.closed.insert(task.id);
            return;
        }
        if self.closed.contains(&task.id) {
            return;
        }
        match self.open.insert(p.id, task.id) {
            Some(other) if other != task.id => self.doubles.push(format!(
                "patient {} had review {} open when review {} was {:?}",
                p.name, other, task.id, change
            )),
            _ => {}
        }
    }
}

/// Holds the rules over everything the nurses were answered, the
/// coordinator's stream (when it resumed to the top: `tracker`) and the
/// open tasks of its final snapshot.
pub fn check(
    inv: &mut InvariantReport,
    sets: &[SetOutcome],
    tracker: Option<&EpisodeTracker>,
    open_at_end: &[TaskView],
) {
    let mut by_patient: HashMap<usize, Vec<&SetOutcome>> = HashMap::new();
    for s in sets {
        by_patient.entry(s.patient).or_default().push(s);
    }
    for list in by_patient.values_mut() {
        list.sort_by_key(|s| s.sent);
        let mut last: Option<TaskId> = None;
        for s in list.iter() {
            if !s.triggers() {
                continue;
            }
            inv.triggering_sets += 1;
            let Some(r) = s.review else {
                inv.review_broken(format!(
                    "patient {}: set {} scored {:?} and raised no review",
                    s.patient, s.observation, s.total
                ));
                continue;
            };
            if let Some(t) = tracker {
                match t.landed.get(&s.observation) {
                    Some(seen) if *seen != r => inv.review_broken(format!(
                        "patient {}: set {} was answered with review {r} but landed on {seen}",
                        s.patient, s.observation
                    )),
                    None => inv.review_broken(format!(
                        "patient {}: no task event named set {} (review {r})",
                        s.patient, s.observation
                    )),
                    _ => {}
                }
                if let Some(prev) = last.filter(|p| *p != r && !t.closed.contains(p)) {
                    inv.review_broken(format!(
                        "patient {}: set {} got review {r} while review {prev} was still open",
                        s.patient, s.observation
                    ));
                }
            }
            last = Some(r);
        }
    }
    if let Some(t) = tracker {
        for d in &t.doubles {
            inv.review_broken(d.clone());
        }
    }
    let mut open: HashMap<PatientId, Vec<TaskId>> = HashMap::new();
    for t in open_at_end {
        if let (Some(p), Some(_)) = (&t.patient_ref, &t.review) {
            open.entry(p.id).or_default().push(t.id);
        }
    }
    for (p, ids) in open {
        if ids.len() > 1 {
            inv.review_broken(format!(
                "patient {p} has {} open reviews in the final snapshot: {ids:?}",
                ids.len()
            ));
        }
    }
}

/// Times from the first set of an episode at a level to the review being
/// accepted, in simulated minutes (`compression`: simulated per real ms),
/// for NEWS2 5 or more and 7 or more; and how many 7+ sets came only after
/// the review had been accepted (the holder was told, nobody re-accepts).
pub struct AcceptTimes {
    pub five: Samples,
    pub seven: Samples,
    pub seven_after_accept: u64,
}

pub fn accept_times(
    sets: &[SetOutcome],
    accepted: &HashMap<TaskId, Instant>,
    compression: f64,
) -> AcceptTimes {
    // The first set at 5+ and at 7+ of each review task.
    let mut first: HashMap<TaskId, (Option<Instant>, Option<Instant>)> = HashMap::new();
    for s in sets {
        let (Some(r), Some(total)) = (s.review, s.total) else {
            continue;
        };
        let e = first.entry(r).or_default();
        if total >= 5 && e.0.is_none_or(|t| s.sent < t) {
            e.0 = Some(s.sent);
        }
        if total >= 7 && e.1.is_none_or(|t| s.sent < t) {
            e.1 = Some(s.sent);
        }
    }
    let sim = |d: Duration| (d.as_secs_f64() * 1000.0 * compression / 60_000.0 * 1000.0) as u64;
    let mut out = AcceptTimes {
        five: Samples::default(),
        seven: Samples::default(),
        seven_after_accept: 0,
    };
    for (task, (five, seven)) in first {
        let Some(&at) = accepted.get(&task) else {
            continue;
        };
        if let Some(f) = five.filter(|f| *f <= at) {
            out.five.us.push(sim(at - f));
        }
        match seven {
            Some(s) if s <= at => out.seven.us.push(sim(at - s)),
            Some(_) => out.seven_after_accept += 1,
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardpage_proto::{
        Category, PatientRef, Priority, Requirement, ReviewTrigger, Sbar, Spo2Scale, StaffId,
        StaffRef, TaskState, Trend,
    };

    fn review(patient: PatientId, obs: ObservationId, state: TaskState) -> TaskView {
        TaskView {
            id: TaskId::new_random(),
            version: 1,
            ward: "w1".into(),
            bed: "1".into(),
            patient: "P".into(),
            patient_ref: Some(PatientRef {
                id: patient,
                name: "P".into(),
                nhs_number: None,
                local_number: Some("SIM0".into()),
                born: "1950-06-15".into(),
            }),
            review: Some(ReviewTrigger {
                observation: Some(obs),
                total: Some(5),
                band: Some(Band::Medium),
                red_flag: false,
                trend: Trend::Rising,
                scale: Spo2Scale::Scale1,
                summary: "NEWS2 5".into(),
            }),
            category: Category::MedicalReview,
            priority: Priority::Urgent,
            requirement: Requirement::Role(wardpage_proto::Role::Fy1),
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
                name: "NEWS2 (hub)".into(),
            },
            offers: vec![],
            assignee: None,
            raised_at: 0,
            updated_at: 0,
            accept_by: 0,
            complete_by: 0,
            accepted_at: None,
            assigned_by: None,
            assigned_at: None,
            started_at: None,
            closed_at: None,
            closing_note: None,
            escalation_level: 0,
            next_escalation_at: None,
            handover: None,
            unreached_at: None,
        }
    }

    fn outcome(obs: ObservationId, review: Option<TaskId>, sent: Instant) -> SetOutcome {
        SetOutcome {
            patient: 0,
            planned: 5,
            sent,
            observation: obs,
            total: Some(5),
            band: Some(Band::Medium),
            red_flag: false,
            review,
        }
    }

    #[test]
    fn a_second_review_while_one_is_open_breaks_the_episode() {
        let p = PatientId::new_random();
        let (o1, o2) = (ObservationId::new_random(), ObservationId::new_random());
        let a = review(p, o1, TaskState::Offering);
        let b = review(p, o2, TaskState::Offering);
        let mut t = EpisodeTracker::default();
        t.file(Some(TaskChange::Raised), &a);
        t.file(Some(TaskChange::Raised), &b);
        let now = Instant::now();
        let sets = [
            outcome(o1, Some(a.id), now),
            outcome(o2, Some(b.id), now + Duration::from_millis(1)),
        ];
        let mut inv = InvariantReport {
            ok: true,
            ..Default::default()
        };
        check(&mut inv, &sets, Some(&t), &[a.clone(), b.clone()]);
        assert!(!inv.ok);
        // Stream double, nurse-side change while open, snapshot double.
        assert_eq!(inv.review_episodes_broken, 3, "{:?}", inv.examples);
        assert_eq!(inv.triggering_sets, 2);
    }

    #[test]
    fn a_new_review_after_the_first_closed_is_a_new_episode() {
        let p = PatientId::new_random();
        let (o1, o2) = (ObservationId::new_random(), ObservationId::new_random());
        let mut a = review(p, o1, TaskState::Offering);
        let b = review(p, o2, TaskState::Offering);
        let mut t = EpisodeTracker::default();
        t.file(Some(TaskChange::Raised), &a);
        a.state = TaskState::Completed;
        t.file(Some(TaskChange::Completed), &a);
        t.file(Some(TaskChange::Raised), &b);
        let now = Instant::now();
        let sets = [
            outcome(o1, Some(a.id), now),
            outcome(o2, Some(b.id), now + Duration::from_millis(1)),
        ];
        let mut inv = InvariantReport {
            ok: true,
            ..Default::default()
        };
        check(&mut inv, &sets, Some(&t), &[b]);
        assert!(inv.ok, "{:?}", inv.examples);
        // A triggering set answered without a review is caught.
        check(&mut inv, &[outcome(o2, None, now)], Some(&t), &[]);
        assert_eq!(inv.review_episodes_broken, 1);
    }
}
