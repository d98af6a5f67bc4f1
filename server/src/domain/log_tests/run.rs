//! The driver: a hospital fed a log input by input, with the clock, and
//! what each input did ([`Outcome`]).

mod commands;
mod handover;

use super::ops::Op;
use super::{seeded, staff_id, NOW};
use crate::domain::hospital::{Effects, Hospital, Subject};
use crate::domain::{DomainError, Stamp};
use std::collections::BTreeSet;
use wardpage_proto::{Command, CommandId, Millis, PageId, PatientId, StaffId, TaskId, TaskState};

const MIN: Millis = 60_000;

/// What one input did.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Outcome {
    Command {
        actor: StaffId,
        at: Millis,
        cmd: Box<Command>,
        result: Result<Effects, DomainError>,
    },
    /// The timer asked `subject` to escalate at `at` (its deadline `due`).
    Fired {
        due: Millis,
        at: Millis,
        subject: Subject,
        fx: Option<Effects>,
    },
    Transport {
        staff: StaffId,
        seq: u64,
        fx: Effects,
    },
    Presence {
        staff: StaffId,
        connected: bool,
        changed: bool,
    },
}

/// Looks at each outcome with the state before and after it; says what
/// promise it broke, if any.
pub(super) type Watch = Box<dyn FnMut(&Hospital, &Hospital, &Outcome) -> Result<(), String>>;

/// A hospital being fed a log, and the clock.
pub(super) struct Run {
    pub h: Hospital,
    pub now: Millis,
    watch: Option<Watch>,
    /// The first promise `watch` saw broken.
    pub broken: Option<String>,
    /// Command ids are numbered in log order, the same on every replay.
    commands: u128,
    /// Deadlines asked about that did not fire: never asked again, as the
    /// hub's timer drops them.
    dropped: BTreeSet<(Millis, Subject)>,
}

/// Most firings one `Advance` makes (a repeating ladder fires again every
/// few minutes, so this is never reached in practice).
const FIRINGS_PER_ADVANCE: usize = 200;

/// The `i`th of `ids` (sorted), or `missing` when there are none, so a
/// command about something that does not exist is tried as well.
fn nth<T: Ord + Copy>(mut ids: Vec<T>, i: usize, missing: T) -> T {
    ids.sort();
    if ids.is_empty() {
        missing
    } else {
        ids[i % ids.len()]
    }
}

impl Run {
    pub fn new() -> Run {
        Run {
            h: seeded(),
            now: NOW,
            watch: None,
            broken: None,
            commands: 0,
            dropped: BTreeSet::new(),
        }
    }

    /// A run whose every outcome is shown to `watch`.
    pub fn watched(watch: Watch) -> Run {
        Run {
            watch: Some(watch),
            ..Run::new()
        }
    }

    /// The state as it is, if someone will compare it with the next.
    fn before(&self) -> Option<Hospital> {
        self.watch.as_ref().map(|_| self.h.clone())
    }

    fn seen(&mut self, before: Option<Hospital>, o: Outcome) -> Outcome {
        if let (Some(watch), Some(before)) = (self.watch.as_mut(), before) {
            if let Err(e) = watch(&before, &self.h, &o) {
                self.broken.get_or_insert(format!("{e}\nafter {o:?}"));
            }
        }
        o
    }

    fn task(&self, i: usize) -> TaskId {
        let ids = self.h.tasks.keys().copied().collect();
        nth(ids, i, TaskId(uuid::Uuid::from_u128(1)))
    }

    /// The `i`th of those a task is offered to or held by (else anyone).
    fn inside_task(&self, task: TaskId, i: usize) -> StaffId {
        let ids = self.h.tasks.get(&task).map_or_else(Vec::new, |t| {
            let offered = t
                .view
                .offers
                .iter()
                .filter(|o| o.state == wardpage_proto::OfferState::Offered)
                .map(|o| o.staff.id);
            offered
                .chain(t.view.assignee.iter().map(|a| a.id))
                .chain(t.view.handover.iter().map(|h| h.to.id))
                .collect()
        });
        nth(ids, i, staff_id(i))
    }

    /// The `i`th of a page's recipients (else anyone).
    fn recipient(&self, page: PageId, i: usize) -> StaffId {
        let ids = self.h.pages.get(&page).map_or_else(Vec::new, |p| {
            p.view.recipients.iter().map(|r| r.staff.id).collect()
        });
        nth(ids, i, staff_id(i))
    }

    /// The `i`th of those holding a task (else anyone).
    fn holder(&self, i: usize) -> StaffId {
        let ids = self
            .h
            .tasks
            .values()
            .filter(|t| {
                matches!(
                    t.state(),
                    TaskState::Assigned | TaskState::Accepted | TaskState::Started
                )
            })
            .filter_map(|t| t.view.assignee.as_ref().map(|a| a.id))
            .collect();
        nth(ids, i, staff_id(i))
    }

    fn page(&self, i: usize) -> PageId {
        let ids = self.h.pages.keys().copied().collect();
        nth(ids, i, PageId(uuid::Uuid::from_u128(1)))
    }

    fn patient(&self, i: usize) -> PatientId {
        let ids = self
            .h
            .patients
            .values()
            .filter(|p| p.is_admitted())
            .map(|p| p.view.id)
            .collect();
        nth(ids, i, PatientId(uuid::Uuid::from_u128(1)))
    }

    /// Applies one input; returns what it did (an `Advance` may fire many
    /// escalations, or none).
    pub fn step(&mut self, op: &Op) -> Vec<Outcome> {
        self.now += 1000;
        let mut before = self.before();
        let (by, cmd) = match self.command(op, &mut before) {
            Ok(c) => c,
            Err(other) => return other,
        };
        self.commands += 1;
        let at = Stamp {
            now: self.now,
            command: CommandId(uuid::Uuid::from_u128(self.commands)),
        };
        let actor = by;
        let result = self.h.apply(actor, &cmd, at);
        let o = Outcome::Command {
            actor,
            at: self.now,
            cmd: Box::new(cmd),
            result,
        };
        vec![self.seen(before, o)]
    }

    /// The command an input stands for (with its sender), or what an
    /// input that is no command did.
    fn command(
        &mut self,
        op: &Op,
        before: &mut Option<Hospital>,
    ) -> Result<(StaffId, Command), Vec<Outcome>> {
        Ok(match *op {
            Op::Raise { .. } | Op::Task { .. } | Op::Assign { .. } | Op::SetPriority { .. } => {
                self.task_op(op)
            }
            Op::SendPage { .. } | Op::Page { .. } => self.page_op(op),
            Op::StartShift { .. } | Op::EndShift { .. } | Op::Busy { .. } => self.shift_op(op),
            Op::Admit { .. }
            | Op::Observe { .. }
            | Op::Concern { .. }
            | Op::Discharge { .. }
            | Op::Read { .. } => self.patient_op(op),
            Op::Presence { staff, connected } => {
                let staff = staff_id(staff);
                let changed = self.h.set_presence(staff, connected, self.now);
                let o = Outcome::Presence {
                    staff,
                    connected,
                    changed,
                };
                return Err(vec![self.seen(before.take(), o)]);
            }
            Op::TransportAck {
                staff,
                back,
                beyond,
            } => {
                let staff = staff_id(staff);
                let top = self.h.cursor(staff);
                let seq = if beyond {
                    top + 1 + u64::from(back)
                } else {
                    top.saturating_sub(u64::from(back))
                };
                let fx = self.h.acknowledge_transport(staff, seq, self.now);
                let o = Outcome::Transport { staff, seq, fx };
                return Err(vec![self.seen(before.take(), o)]);
            }
            Op::Advance { minutes, late } => {
                return Err(self.advance(Millis::from(minutes) * MIN, late));
            }
        })
    }

    /// Moves the clock on by `by`, firing due deadlines earliest first
    /// (ties by subject), as the hub's timer does.
    fn advance(&mut self, by: Millis, late: bool) -> Vec<Outcome> {
        let until = self.now + by;
        let mut out = Vec::new();
        for _ in 0..FIRINGS_PER_ADVANCE {
            let next = self
                .h
                .deadlines()
                .filter(|(d, s)| *d <= until && !self.dropped.contains(&(*d, *s)))
                .min();
            let Some((due, subject)) = next else {
                break;
            };
            let at = if late { until } else { due.max(self.now) };
            self.now = at;
            let before = self.before();
            let fx = self.h.escalate(subject, at);
            if fx.is_none() {
                self.dropped.insert((due, subject));
            }
            let o = Outcome::Fired {
                due,
                at,
                subject,
                fx,
            };
            out.push(self.seen(before, o));
        }
        self.now = until;
        out
    }
}
