//! The inputs of a random log ([`Op`]), their generator, and the pieces
//! of the commands they stand for.

use super::STAFF;
use proptest::prelude::*;
use wardpage_proto::{
    Breathing, Command, Consciousness, Millis, ObservationSet, PatientDetails, Priority, Sex,
    TaskId, Tenths, WardId, Whole,
};

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
    /// Hand a held task over to the `n`th member of staff.
    HandOver(u8),
    AcceptHandover,
    DeclineHandover,
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
    /// `inside`: by one of the page's recipients. `ack` 0: a read; 1: an
    /// acknowledgement; 2 to 4: one with the reply `PageReply::ALL[ack - 2]`.
    Page {
        by: usize,
        inside: bool,
        page: usize,
        ack: u8,
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
    /// `set_busy` for `length` (5, 15, 30 or 120 minutes), or `end_busy`.
    Busy {
        by: usize,
        end: bool,
        length: u8,
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
        4 => (0..STAFF as u8).prop_map(Move::HandOver),
        4 => Just(Move::AcceptHandover),
        1 => Just(Move::DeclineHandover),
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
        3 => (who.clone(), prop::bool::weighted(0.8), pick.clone(), 0u8..5).prop_map(
            |(by, inside, page, ack)| Op::Page { by, inside, page, ack }
        ),
        1 => (who.clone(), who.clone(), 0u8..4, any::<bool>(), 1u8..13).prop_map(
            |(by, staff, role, both_wards, hours)| Op::StartShift { by, staff, role, both_wards, hours }
        ),
        1 => (who.clone(), any::<bool>(), who.clone()).prop_map(
            |(by, holder, staff)| Op::EndShift { by, holder, staff }
        ),
        1 => (who.clone(), prop::bool::weighted(0.3), 0u8..4).prop_map(|(by, end, length)| Op::Busy { by, end, length }),
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

pub(super) fn priority(i: u8) -> Priority {
    [
        Priority::Routine,
        Priority::Soon,
        Priority::Urgent,
        Priority::Emergency,
    ][usize::from(i % 4)]
}

pub(super) fn ward(i: u8) -> WardId {
    WardId(format!("w{}", i % 2 + 1))
}

/// A set scored 0, 3, 3 with a red flag, 5 and 9 (NEWS2, Scale 1).
pub(super) fn set(severity: u8, taken_at: Millis) -> ObservationSet {
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

pub(super) fn details(person: u8) -> PatientDetails {
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

pub(super) fn task_command(task: TaskId, what: Move) -> Command {
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
        Move::HandOver(to) => Command::HandOver {
            task,
            to: super::staff_id(usize::from(to)),
        },
        Move::AcceptHandover => Command::AcceptHandover { task },
        Move::DeclineHandover => Command::DeclineHandover {
            task,
            reason: "in resus".into(),
        },
    }
}
