//! The invariants every scenario checks, and the bookkeeping behind them.
//!
//! Devices keep their own logs while they run (no shared lock on the hot
//! path) and hand them in at the end; [`check`] compares them with the raises
//! the hub acknowledged:
//! - every acknowledged raise reached every device of each candidate that was
//!   connected or later resumed;
//! - no acknowledged task is missing after a restart (coordinator snapshot);
//! - duplicates are counted (allowed on the wire) but nothing is shown twice;
//! - each device's sequence numbers are gap-free.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use wardpage_proto::{StaffId, TaskId};

/// One raise the hub acknowledged with `ok`, and who it was offered to.
#[derive(Debug, Clone)]
pub struct AckedRaise {
    pub task: TaskId,
    pub candidates: Vec<StaffId>,
}

/// What one device saw over the run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeviceLog {
    pub staff: Option<StaffId>,
    /// A name for reports (login, device number).
    pub label: String,
    /// The cursor the device ended with.
    pub cursor: u64,
    /// Tasks this device heard about (any change).
    pub tasks: HashSet<TaskId>,
    /// Events that arrived again (seq at or below the cursor).
    pub duplicates: u64,
    /// Events that were taken twice for display (must stay 0).
    pub shown_twice: u64,
    /// Times the next seq was not cursor + 1.
    pub gaps: u64,
    /// Whether the device ended connected (or resumed) so it had to have
    /// everything.
    pub resumed: bool,
    /// A reason it could not resume, if any.
    pub failure: Option<String>,
}

/// The invariant report, part of every result.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InvariantReport {
    pub acknowledged_raises: u64,
    pub deliveries_expected: u64,
    pub deliveries_missing: u64,
    pub duplicates_on_wire: u64,
    pub shown_twice: u64,
    pub gaps: u64,
    /// Acknowledged tasks neither open in the coordinator's snapshot nor
    /// seen closed (only checked when a coordinator takes part).
    pub tasks_missing_after_restart: u64,
    /// Devices that never resumed (they could not be checked).
    pub devices_not_resumed: u64,
    /// NEWS2 sets checked for their review episode (scenarios with
    /// observations).
    pub triggering_sets: u64,
    /// Broken "one review per episode" rules: a triggering set with no
    /// review, or another task while the patient's review was open, or a
    /// patient with two open reviews.
    pub review_episodes_broken: u64,
    /// Acknowledged tasks whose escalation step never fired (`escalation`).
    pub escalations_missing: u64,
    /// Escalation steps that fired twice for one task (`escalation`).
    pub escalations_twice: u64,
    pub examples: Vec<String>,
    pub ok: bool,
}

impl InvariantReport {
    /// One line per broken invariant, empty when all hold.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.deliveries_missing > 0 {
            f.push(format!(
                "{} acknowledged deliveries missing",
                self.deliveries_missing
            ));
        }
        if self.shown_twice > 0 {
            f.push(format!("{} events shown twice", self.shown_twice));
        }
        if self.gaps > 0 {
            f.push(format!("{} sequence gaps", self.gaps));
        }
        if self.tasks_missing_after_restart > 0 {
            f.push(format!(
                "{} acknowledged tasks missing from the coordinator's snapshot",
                self.tasks_missing_after_restart
            ));
        }
        if self.review_episodes_broken > 0 {
            f.push(format!(
                "{} broken review episodes (of {} triggering sets)",
                self.review_episodes_broken, self.triggering_sets
            ));
        }
        if self.escalations_missing > 0 {
            f.push(format!(
                "{} escalations never fired",
                self.escalations_missing
            ));
        }
        if self.escalations_twice > 0 {
            f.push(format!(
                "{} escalations fired twice",
                self.escalations_twice
            ));
        }
        if self.devices_not_resumed > 0 {
            f.push(format!(
                "{} devices never resumed",
                self.devices_not_resumed
            ));
        }
        f
    }
}

impl InvariantReport {
    /// Records a broken review episode, keeping a few examples.
    pub fn review_broken(&mut self, example: String) {
        self.review_episodes_broken += 1;
        if self.examples.len() < 10 {
            self.examples.push(example);
        }
        self.ok = false;
    }
}

/// Checks deliveries, duplicates and gaps.
pub fn check(raises: &[AckedRaise], devices: &[DeviceLog]) -> InvariantReport {
    let mut by_staff: HashMap<StaffId, Vec<&DeviceLog>> = HashMap::new();
    let mut r = InvariantReport {
        acknowledged_raises: raises.len() as u64,
        ..Default::default()
    };
    for d in devices {
        r.duplicates_on_wire += d.duplicates;
        r.shown_twice += d.shown_twice;
        r.gaps += d.gaps;
        if !d.resumed {
            r.devices_not_resumed += 1;
            if r.examples.len() < 10 {
                r.examples.push(format!(
                    "a device of {:?} never resumed: {}",
                    d.staff,
                    d.failure.as_deref().unwrap_or("?")
                ));
            }
            continue;
        }
        if let Some(s) = d.staff {
            by_staff.entry(s).or_default().push(d);
        }
    }
    for raise in raises {
        for c in &raise.candidates {
            for d in by_staff.get(c).map(Vec::as_slice).unwrap_or(&[]) {
                r.deliveries_expected += 1;
                if !d.tasks.contains(&raise.task) {
                    r.deliveries_missing += 1;
                    if r.examples.len() < 10 {
                        r.examples.push(format!(
                            "task {} never reached candidate {c} ({}, cursor {}, {} tasks seen)",
                            raise.task,
                            d.label,
                            d.cursor,
                            d.tasks.len()
                        ));
                    }
                }
            }
        }
    }
    r.ok = r.failures().is_empty();
    r
}

/// Adds the coordinator check: every acknowledged task is either open in
/// the snapshot or was seen closed.
pub fn check_snapshot(
    r: &mut InvariantReport,
    raises: &[AckedRaise],
    open: &HashSet<TaskId>,
    closed: &HashSet<TaskId>,
) {
    for raise in raises {
        if !open.contains(&raise.task) && !closed.contains(&raise.task) {
            r.tasks_missing_after_restart += 1;
            if r.examples.len() < 10 {
                r.examples.push(format!(
                    "task {} is missing from the coordinator's snapshot",
                    raise.task
                ));
            }
        }
    }
    r.ok = r.failures().is_empty();
}

/// Adds the escalation check: the measured step fired for every
/// acknowledged task (`fired`), and never twice for one (`twice`).
pub fn check_escalations(
    r: &mut InvariantReport,
    raises: &[AckedRaise],
    fired: &HashSet<TaskId>,
    twice: &[TaskId],
) {
    for raise in raises {
        if !fired.contains(&raise.task) {
            r.escalations_missing += 1;
            if r.examples.len() < 10 {
                r.examples
                    .push(format!("task {} never escalated", raise.task));
            }
        }
    }
    for task in twice {
        r.escalations_twice += 1;
        if r.examples.len() < 10 {
            r.examples
                .push(format!("task {task} escalated twice at the same step"));
        }
    }
    r.ok = r.failures().is_empty();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_delivery_is_reported() {
        let doc = StaffId::new_random();
        let t1 = TaskId::new_random();
        let t2 = TaskId::new_random();
        let raises = vec![
            AckedRaise {
                task: t1,
                candidates: vec![doc],
            },
            AckedRaise {
                task: t2,
                candidates: vec![doc],
            },
        ];
        let mut dev = DeviceLog {
            staff: Some(doc),
            resumed: true,
            ..Default::default()
        };
        dev.tasks.insert(t1);
        let r = check(&raises, &[dev.clone()]);
        assert!(!r.ok);
        assert_eq!(r.deliveries_expected, 2);
        assert_eq!(r.deliveries_missing, 1);
        dev.tasks.insert(t2);
        assert!(check(&raises, &[dev]).ok);
    }

    #[test]
    fn a_task_missing_from_the_snapshot_is_reported() {
        let t = TaskId::new_random();
        let raises = vec![AckedRaise {
            task: t,
            candidates: vec![],
        }];
        let mut r = check(&raises, &[]);
        assert!(r.ok);
        check_snapshot(&mut r, &raises, &HashSet::new(), &HashSet::new());
        assert!(!r.ok);
        assert_eq!(r.tasks_missing_after_restart, 1);
    }

    #[test]
    fn an_escalation_missing_or_fired_twice_is_reported() {
        let (t1, t2) = (TaskId::new_random(), TaskId::new_random());
        let raises: Vec<AckedRaise> = [t1, t2]
            .into_iter()
            .map(|task| AckedRaise {
                task,
                candidates: vec![],
            })
            .collect();
        let mut r = check(&raises, &[]);
        check_escalations(&mut r, &raises, &HashSet::from([t1, t2]), &[]);
        assert!(r.ok);
        check_escalations(&mut r, &raises, &HashSet::from([t1]), &[t1]);
        assert!(!r.ok);
        assert_eq!((r.escalations_missing, r.escalations_twice), (1, 1));
    }
}
