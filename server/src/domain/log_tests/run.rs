//! The driver: a hospital fed a log input by input, with the clock, and
//! what each input did ([`Outcome`]).

mod handover;

use super::ops::{details, priority, set, task_command, ward, Op};
use super::{seeded, staff_id, NOW, ROSTER};
use crate::domain::hospital::{Effects, Hospital, Subject};
use crate::domain::{DomainError, Stamp};
use std::collections::BTreeSet;
use wardpage_proto::{
    Category, Command, CommandId, Millis, PageId, PageReply, PageTarget, PatientId, Requirement,
    Role, Sbar, Skill, StaffId, TaskId, TaskState,
};

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

    /// A task command.
    fn task_op(&self, op: &Op) -> (StaffId, Command) {
        match *op {
            Op::Raise {
                by,
                ward: w,
                bed,
                need,
                priority: p,
                for_patient,
            } => (staff_id(by), self.raise(w, bed, need, p, for_patient)),
            Op::Task {
                by,
                inside,
                task,
                what,
            } => {
                if inside {
                    if let Some(handover) = self.handover_op(task, what) {
                        return handover;
                    }
                }
                let task = self.task(task);
                let by = if inside {
                    self.inside_task(task, by)
                } else {
                    staff_id(by)
                };
                (by, task_command(task, what))
            }
            Op::Assign { by, task, to } => (
                staff_id(by),
                Command::Assign {
                    task: self.task(task),
                    staff: staff_id(to),
                },
            ),
            Op::SetPriority {
                by,
                task,
                priority: p,
            } => (
                staff_id(by),
                Command::SetPriority {
                    task: self.task(task),
                    priority: priority(p),
                },
            ),
            _ => unreachable!("not a task input: {op:?}"),
        }
    }

    /// A page command.
    fn page_op(&self, op: &Op) -> (StaffId, Command) {
        match *op {
            Op::SendPage {
                by,
                to,
                to_role,
                priority: p,
            } => (
                staff_id(by),
                Command::SendPage {
                    target: if to_role {
                        PageTarget::Role(ROSTER[to].1)
                    } else {
                        PageTarget::Staff(staff_id(to))
                    },
                    priority: priority(p),
                    callback: "x1234".into(),
                    message: "please come".into(),
                    ward: None,
                },
            ),
            Op::Page {
                by,
                inside,
                page,
                ack,
            } => {
                let page = self.page(page);
                let by = if inside {
                    self.recipient(page, by)
                } else {
                    staff_id(by)
                };
                let cmd = match ack {
                    0 => Command::PageRead { page },
                    n => Command::PageAck {
                        page,
                        reply: n
                            .checked_sub(2)
                            .and_then(|i| PageReply::ALL.get(usize::from(i)))
                            .copied(),
                    },
                };
                (by, cmd)
            }
            _ => unreachable!("not a page input: {op:?}"),
        }
    }

    /// A shift command.
    fn shift_op(&self, op: &Op) -> (StaffId, Command) {
        match *op {
            Op::StartShift {
                by,
                staff,
                role,
                both_wards,
                hours,
            } => (
                staff_id(by),
                Command::StartShift {
                    staff: staff_id(staff),
                    role: [Role::Nurse, Role::Fy1, Role::Sho, Role::Coordinator]
                        [usize::from(role % 4)],
                    wards: if both_wards {
                        vec![ward(0), ward(1)]
                    } else {
                        vec![ward(1)]
                    },
                    ends_at: self.now + Millis::from(hours) * 3_600_000,
                },
            ),
            Op::EndShift { by, holder, staff } => {
                let staff = if holder {
                    self.holder(staff)
                } else {
                    staff_id(staff)
                };
                let by = if holder && by % 2 == 0 {
                    staff
                } else {
                    staff_id(by)
                };
                (by, Command::EndShift { staff })
            }
            Op::Busy { by, end, length } => {
                let cmd = if end {
                    Command::EndBusy {}
                } else {
                    Command::SetBusy {
                        reason: "In resus".into(),
                        minutes: [5, 15, 30, 120][usize::from(length % 4)],
                    }
                };
                (staff_id(by), cmd)
            }
            _ => unreachable!("not a shift input: {op:?}"),
        }
    }

    /// A patient command, or a read.
    fn patient_op(&self, op: &Op) -> (StaffId, Command) {
        match *op {
            Op::Admit {
                by,
                ward: w,
                bed,
                person,
            } => (
                staff_id(by),
                Command::AdmitPatient {
                    ward: ward(w),
                    bed: bed.to_string(),
                    patient: details(person),
                },
            ),
            Op::Observe {
                by,
                patient,
                severity,
            } => (
                staff_id(by),
                Command::RecordObservations {
                    patient: self.patient(patient),
                    set: set(severity, self.now),
                },
            ),
            Op::Concern { by, patient } => (
                staff_id(by),
                Command::RaiseConcern {
                    patient: self.patient(patient),
                    concern: "not themselves".into(),
                },
            ),
            Op::Discharge { by, patient } => (
                staff_id(by),
                Command::DischargePatient {
                    patient: self.patient(patient),
                },
            ),
            Op::Read { by, what } => (
                staff_id(by),
                match what {
                    0 => Command::Snapshot { after: None },
                    1 => Command::History {
                        since: NOW,
                        after: None,
                    },
                    _ => Command::Directory {},
                },
            ),
            _ => unreachable!("not a patient input: {op:?}"),
        }
    }

    fn raise(&self, w: u8, bed: u8, need: u8, p: u8, for_patient: bool) -> Command {
        let (ward, bed) = (ward(w), bed.to_string());
        let in_bed = self
            .h
            .patients
            .values()
            .find(|p| p.is_admitted() && p.view.ward == ward && p.view.bed == bed)
            .map(|p| p.view.id);
        let (category, requirement) = match need % 4 {
            0 => (Category::Cannula, Requirement::Skill(Skill::Cannulation)),
            1 => (Category::Bloods, Requirement::Skill(Skill::Bloods)),
            2 => (Category::MedicalReview, Requirement::Role(Role::Fy1)),
            _ => (Category::Other, Requirement::Role(Role::Registrar)),
        };
        Command::RaiseTask {
            ward,
            bed,
            patient: "bed patient".into(),
            patient_id: in_bed.filter(|_| for_patient),
            category,
            priority: priority(p),
            requirement,
            sbar: Sbar {
                situation: "needs seeing".into(),
                ..Sbar::default()
            },
        }
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
