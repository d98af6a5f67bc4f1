//! Property tests over random command logs: a seeded roster (the same
//! staff ids every run), a generator of logs mixing every kind of input
//! the hub feeds the domain (task and page commands, shifts, presence,
//! transport acks, patients and their sets, reads, and time passing, which
//! fires due escalations in due order as the hub's timer does), and a
//! driver that applies a log and records every outcome.
//!
//! `replay` checks that a log applied to two fresh hospitals gives equal
//! outcomes, ids included; `promises` checks what pages, shifts,
//! escalations and transport acks promise along the way.

mod promises;
mod replay;

use super::hospital::{Effects, Hospital, Subject};
use super::roster::{Shift, Staff, Ward};
use super::{DomainError, Policies, Stamp, Targets};
use proptest::prelude::*;
use std::collections::BTreeSet;
use wardpage_proto::{
    Breathing, Category, Command, CommandId, Consciousness, Millis, ObservationSet, PageId,
    PageTarget, PatientDetails, PatientId, Priority, Requirement, Role, Sbar, Sex, Skill, StaffId,
    TaskId, TaskState, Tenths, WardId, Whole,
};

pub(super) const NOW: Millis = 1_764_358_144_000;
const MIN: Millis = 60_000;

/// The night's staff: (name, grade, wards, skills). Their ids are fixed
/// (`staff_id`), so two hospitals built from this are the same hospital.
const ROSTER: [(&str, Role, &[&str], &[Skill]); 8] = [
    ("nic", Role::NurseInCharge, &["w1", "w2"], &[]),
    ("nurse", Role::Nurse, &["w1"], &[]),
    ("fy1 a", Role::Fy1, &["w1"], &[Skill::Cannulation]),
    (
        "fy1 b",
        Role::Fy1,
        &["w1", "w2"],
        &[Skill::Cannulation, Skill::Bloods],
    ),
    ("sho", Role::Sho, &["w1", "w2"], &[Skill::Bloods]),
    ("reg", Role::Registrar, &["w1", "w2"], &[]),
    ("coord", Role::Coordinator, &["w1", "w2"], &[]),
    ("ccot", Role::CriticalCareOutreach, &["w1", "w2"], &[]),
];
const STAFF: usize = ROSTER.len();

pub(super) fn staff_id(i: usize) -> StaffId {
    StaffId(uuid::Uuid::from_u128(0x5eed_0000 + i as u128))
}

/// A fresh hospital with the seeded roster, everyone on shift for 12 hours.
pub(super) fn seeded() -> Hospital {
    let mut h = Hospital::new(Targets::default(), Policies::default());
    for w in ["w1", "w2"] {
        h.roster.wards.insert(
            WardId(w.into()),
            Ward {
                id: WardId(w.into()),
                name: w.to_uppercase(),
                beds: vec!["1".into(), "2".into(), "3".into()],
            },
        );
    }
    for (i, (name, role, wards, skills)) in ROSTER.iter().enumerate() {
        let id = staff_id(i);
        h.roster.staff.insert(
            id,
            Staff {
                id,
                login: name.replace(' ', "_"),
                name: (*name).into(),
                role: *role,
                skills: skills.to_vec(),
                active: true,
            },
        );
        let shift = Shift {
            role: *role,
            wards: wards.iter().map(|w| WardId((*w).into())).collect(),
            starts_at: NOW - 1000,
            ends_at: NOW + 12 * 3_600_000,
        };
        h.roster.set_shift(id, Some(shift));
    }
    h
}

/// What a task command does.
#[derive(Debug, Clone, Copy)]
pub(super) enum Move {
    Accept,
    Decline,
    Start,
    Complete,
    HandBack,
    Cancel,
    EscalateNow,
}

/// One input of a random log. Indexes pick among the staff, the tasks,
/// pages and admitted patients there are when it runs (sorted by id), so
/// a log means the same thing to any hospital it is applied to.
#[derive(Debug, Clone)]
pub(super) enum Op {
    Raise {
        by: usize,
        ward: u8,
        bed: u8,
        need: u8,
        priority: u8,
        for_patient: bool,
    },
    /// `inside`: sent by someone the task is offered to or held by.
    Task {
        by: usize,
        inside: bool,
        task: usize,
        what: Move,
    },
    Assign {
        by: usize,
        task: usize,
        to: usize,
    },
    SetPriority {
        by: usize,
        task: usize,
        priority: u8,
    },
    SendPage {
        by: usize,
        to: usize,
        to_role: bool,
        priority: u8,
    },
    /// `inside`: by one of the page's recipients.
    Page {
        by: usize,
        inside: bool,
        page: usize,
        ack: bool,
    },
    StartShift {
        by: usize,
        staff: usize,
        role: u8,
        both_wards: bool,
        hours: u8,
    },
    /// `holder`: the shift of someone holding a task ends (theirs
    /// chosen by `staff`; ended by themselves when `by` is even).
    EndShift {
        by: usize,
        holder: bool,
        staff: usize,
    },
    Presence {
        staff: usize,
        connected: bool,
    },
    /// A device acks its stream: `back` events short of the newest, or
    /// (`beyond`) past it, a position never sent.
    TransportAck {
        staff: usize,
        back: u8,
        beyond: bool,
    },
    Admit {
        by: usize,
        ward: u8,
        bed: u8,
        person: u8,
    },
    Observe {
        by: usize,
        patient: usize,
        severity: u8,
    },
    Concern {
        by: usize,
        patient: usize,
    },
    Discharge {
        by: usize,
        patient: usize,
    },
    Read {
        by: usize,
        what: u8,
    },
    /// Time passes; due escalations fire in due order, each at its due
    /// time, or (`late`) all at the end, as a hub that woke late does.
    Advance {
        minutes: u8,
        late: bool,
    },
}

fn moves() -> impl Strategy<Value = Move> {
    prop_oneof![
        3 => Just(Move::Accept),
        1 => Just(Move::Decline),
        2 => Just(Move::Start),
        2 => Just(Move::Complete),
        1 => Just(Move::HandBack),
        1 => Just(Move::Cancel),
        1 => Just(Move::EscalateNow),
    ]
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let who = 0..STAFF;
    let pick = 0usize..16;
    prop_oneof![
        3 => (who.clone(), 0u8..2, 1u8..4, 0u8..4, 0u8..4, any::<bool>()).prop_map(
            |(by, ward, bed, need, priority, for_patient)| Op::Raise { by, ward, bed, need, priority, for_patient }
        ),
        6 => (who.clone(), prop::bool::weighted(0.7), pick.clone(), moves()).prop_map(
            |(by, inside, task, what)| Op::Task { by, inside, task, what }
        ),
        1 => (who.clone(), pick.clone(), who.clone()).prop_map(|(by, task, to)| Op::Assign { by, task, to }),
        1 => (who.clone(), pick.clone(), 0u8..4).prop_map(|(by, task, priority)| Op::SetPriority { by, task, priority }),
        2 => (who.clone(), who.clone(), any::<bool>(), 0u8..4).prop_map(
            |(by, to, to_role, priority)| Op::SendPage { by, to, to_role, priority }
        ),
        3 => (who.clone(), prop::bool::weighted(0.8), pick.clone(), any::<bool>()).prop_map(
            |(by, inside, page, ack)| Op::Page { by, inside, page, ack }
        ),
        1 => (who.clone(), who.clone(), 0u8..4, any::<bool>(), 1u8..13).prop_map(
            |(by, staff, role, both_wards, hours)| Op::StartShift { by, staff, role, both_wards, hours }
        ),
        1 => (who.clone(), any::<bool>(), who.clone()).prop_map(
            |(by, holder, staff)| Op::EndShift { by, holder, staff }
        ),
        1 => (who.clone(), any::<bool>()).prop_map(|(staff, connected)| Op::Presence { staff, connected }),
        3 => (who.clone(), 0u8..4, prop::bool::weighted(0.2)).prop_map(
            |(staff, back, beyond)| Op::TransportAck { staff, back, beyond }
        ),
        1 => (who.clone(), 0u8..2, 1u8..4, 0u8..6).prop_map(|(by, ward, bed, person)| Op::Admit { by, ward, bed, person }),
        2 => (who.clone(), pick.clone(), 0u8..5).prop_map(|(by, patient, severity)| Op::Observe { by, patient, severity }),
        1 => (who.clone(), pick.clone()).prop_map(|(by, patient)| Op::Concern { by, patient }),
        1 => (who.clone(), pick.clone()).prop_map(|(by, patient)| Op::Discharge { by, patient }),
        1 => (who, 0u8..3).prop_map(|(by, what)| Op::Read { by, what }),
        4 => (0u8..20, any::<bool>()).prop_map(|(minutes, late)| Op::Advance { minutes, late }),
    ]
}

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

fn priority(i: u8) -> Priority {
    [
        Priority::Routine,
        Priority::Soon,
        Priority::Urgent,
        Priority::Emergency,
    ][usize::from(i % 4)]
}

fn ward(i: u8) -> WardId {
    WardId(format!("w{}", i % 2 + 1))
}

/// A set scored 0, 3, 3 with a red flag, 5 and 9 (NEWS2, Scale 1).
fn set(severity: u8, taken_at: Millis) -> ObservationSet {
    let (resp, spo2, pulse) = match severity {
        0 => (16, 97, 70),
        1 => (22, 97, 95),
        2 => (25, 97, 70),
        3 => (22, 94, 115),
        _ => (26, 90, 135),
    };
    ObservationSet {
        respiration_rate: Some(Whole(resp)),
        spo2: Some(Whole(spo2)),
        breathing: Some(Breathing::Air),
        systolic: Some(Whole(120)),
        diastolic: Some(Whole(70)),
        pulse: Some(Whole(pulse)),
        consciousness: Some(Consciousness::Alert),
        temperature: Some(Tenths(370)),
        taken_at,
    }
}

fn details(person: u8) -> PatientDetails {
    PatientDetails {
        nhs_number: None,
        local_number: Some(format!("RX{person}")),
        name: format!("Patient {person}"),
        born: "1950-01-01".into(),
        sex: Sex::Unknown,
        consultant: String::new(),
        alerts: String::new(),
    }
}

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
            .filter(|t| matches!(t.state(), TaskState::Accepted | TaskState::Started))
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

    /// The command an input stands for (with its sender's index), or what
    /// an input that is no command did.
    fn command(
        &mut self,
        op: &Op,
        before: &mut Option<Hospital>,
    ) -> Result<(StaffId, Command), Vec<Outcome>> {
        Ok(match *op {
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
                let cmd = if ack {
                    Command::PageAck { page }
                } else {
                    Command::PageRead { page }
                };
                (by, cmd)
            }
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

fn task_command(task: TaskId, what: Move) -> Command {
    match what {
        Move::Accept => Command::Accept { task },
        Move::Decline => Command::Decline {
            task,
            reason: "busy".into(),
        },
        Move::Start => Command::Start { task },
        Move::Complete => Command::Complete {
            task,
            outcome: "done".into(),
        },
        Move::HandBack => Command::HandBack {
            task,
            reason: "called away".into(),
        },
        Move::Cancel => Command::Cancel {
            task,
            reason: "not needed".into(),
        },
        Move::EscalateNow => Command::EscalateNow { task },
    }
}
