//! Replays: the same log applied to two fresh hospitals gives the same
//! outcomes (effects, events, audit, ids) and the same state, and the ids
//! a change mints are unique within it, across commands, and against ids
//! already in use.

use super::{op, seeded, staff_id, Outcome, Run, NOW};
use crate::domain::hospital::Hospital;
use crate::domain::Stamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use wardpage_proto::{
    Category, Command, CommandId, CommandResult, PageView, PatientView, Priority, Requirement,
    Role, Sbar, StaffId, TaskView, WardId,
};

/// Everything a client could see of the state: every task, page and
/// patient, every stream's position, and each person's snapshot.
#[derive(Debug, PartialEq)]
struct Views {
    tasks: BTreeMap<wardpage_proto::TaskId, TaskView>,
    pages: BTreeMap<wardpage_proto::PageId, PageView>,
    patients: BTreeMap<wardpage_proto::PatientId, PatientView>,
    streams: BTreeMap<StaffId, u64>,
    snapshots: Vec<Option<CommandResult>>,
}

fn views(h: &mut Hospital, now: wardpage_proto::Millis) -> Views {
    let tasks = h
        .tasks
        .values()
        .map(|t| (t.view.id, t.view.clone()))
        .collect();
    let pages = h
        .pages
        .values()
        .map(|p| (p.view.id, p.view.clone()))
        .collect();
    let patients = h
        .patients
        .values()
        .map(|p| (p.view.id, p.view.clone()))
        .collect();
    let streams = h.streams.iter().map(|(s, n)| (*s, *n)).collect();
    let snapshots = (0..super::STAFF)
        .map(|i| {
            let at = Stamp {
                now,
                command: CommandId(uuid::Uuid::from_u128(u128::MAX - i as u128)),
            };
            let read = h.apply(staff_id(i), &Command::Snapshot { after: None }, at);
            read.ok().and_then(|fx| fx.result)
        })
        .collect();
    Views {
        tasks,
        pages,
        patients,
        streams,
        snapshots,
    }
}

/// A log applied twice, to two fresh hospitals, gives equal outcomes
/// step by step and equal views at the end.
#[test]
fn the_same_log_gives_the_same_hospital() {
    // (commands applied, escalations fired) over every case, to show the
    // logs did things rather than being refused from the first step.
    let done = Cell::new((0usize, 0usize));
    let mut runner = TestRunner::new(Config {
        cases: 120,
        // Run by hand, not by `proptest!`: no source file to keep cases by.
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op(), 1..70), |ops| {
        let (mut a, mut b) = (Run::new(), Run::new());
        for (i, o) in ops.iter().enumerate() {
            let (x, y) = (a.step(o), b.step(o));
            prop_assert!(x == y, "step {} ({:?}) differs:\n{:?}\n{:?}", i, o, x, y);
            let (mut applied, mut fired) = done.get();
            for o in &x {
                match o {
                    Outcome::Command { result: Ok(_), .. } => applied += 1,
                    Outcome::Fired { fx: Some(_), .. } => fired += 1,
                    _ => {}
                }
            }
            done.set((applied, fired));
        }
        prop_assert_eq!(a.now, b.now);
        prop_assert!(
            views(&mut a.h, a.now) == views(&mut b.h, b.now),
            "the views differ"
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (applied, fired) = done.get();
    assert!(
        applied > 500 && fired > 100,
        "{applied} applied, {fired} fired"
    );
}

fn raise(ward: &str) -> Command {
    Command::RaiseTask {
        ward: WardId(ward.into()),
        bed: "1".into(),
        patient: "p1".into(),
        patient_id: None,
        category: Category::Cannula,
        priority: Priority::Urgent,
        requirement: Requirement::Role(Role::Fy1),
        sbar: Sbar::default(),
    }
}

fn task_of(r: Result<crate::domain::Effects, crate::domain::DomainError>) -> TaskView {
    match r.map(|fx| fx.result) {
        Ok(Some(CommandResult::Task { task })) => task,
        other => panic!("not a task: {other:?}"),
    }
}

fn command(n: u128) -> CommandId {
    CommandId(uuid::Uuid::from_u128(n))
}

#[test]
fn ids_come_from_the_command_and_sort_by_time() {
    let nurse = staff_id(1);
    let at = |now, n| Stamp {
        now,
        command: command(n),
    };
    let (mut a, mut b) = (seeded(), seeded());
    let first = task_of(a.apply(nurse, &raise("w1"), at(NOW, 7)));
    assert_eq!(
        first.id,
        task_of(b.apply(nurse, &raise("w1"), at(NOW, 7))).id
    );
    // Another command in the same millisecond: another id.
    let other = task_of(a.apply(nurse, &raise("w1"), at(NOW, 8)));
    assert_ne!(other.id, first.id);
    // Later sorts later, whatever the command.
    let later = task_of(a.apply(nurse, &raise("w1"), at(NOW + 1, 1)));
    assert!(later.id > first.id && later.id > other.id);
    let (secs, nanos) = first.id.0.get_timestamp().expect("v7").to_unix();
    assert_eq!(
        i64::try_from(secs).expect("secs") * 1000 + i64::from(nanos / 1_000_000),
        NOW
    );
}

#[test]
fn a_command_id_used_again_never_takes_an_id_in_use() {
    // The writer answers a repeated command id from memory; should the
    // domain ever see one again, its new task still gets its own id.
    let nurse = staff_id(1);
    let at = Stamp {
        now: NOW,
        command: command(7),
    };
    let mut h = seeded();
    let first = task_of(h.apply(nurse, &raise("w1"), at));
    let again = task_of(h.apply(nurse, &raise("w1"), at));
    assert_ne!(first.id, again.id);
    assert_eq!(h.task_count(), 2);
}

#[test]
fn one_command_that_makes_many_things_gives_each_its_own_id() {
    // A NEWS2 of 9 raises an emergency review and pages each of its roles
    // (registrar, critical care outreach): one command, several new ids.
    let (nic, nurse) = (staff_id(0), staff_id(1));
    let mut h = seeded();
    let admit = Command::AdmitPatient {
        ward: WardId("w1".into()),
        bed: "2".into(),
        patient: super::ops::details(1),
    };
    let stamp = |now, n| Stamp {
        now,
        command: command(n),
    };
    let patient = match h.apply(nic, &admit, stamp(NOW, 1)).map(|fx| fx.result) {
        Ok(Some(CommandResult::Patient { patient })) => patient.id,
        other => panic!("not admitted: {other:?}"),
    };
    let observe = Command::RecordObservations {
        patient,
        set: super::ops::set(4, NOW + 1),
    };
    let fx = h
        .apply(nurse, &observe, stamp(NOW + 1, 2))
        .expect("recorded");
    let mut minted: Vec<uuid::Uuid> = Vec::new();
    for w in &fx.writes {
        match w {
            crate::domain::Write::Task(t) if t.view.version == 1 => minted.push(t.view.id.0),
            crate::domain::Write::Page(p) if p.view.version == 1 => minted.push(p.view.id.0),
            crate::domain::Write::Observation(o) => minted.push(o.id.0),
            _ => {}
        }
    }
    assert!(minted.len() >= 3, "a set, a review and pages: {minted:?}");
    let distinct: BTreeSet<_> = minted.iter().chain([&patient.0]).collect();
    assert_eq!(distinct.len(), minted.len() + 1, "{minted:?}");
}

#[test]
fn the_hubs_own_task_takes_its_id_from_the_deadline_that_fired() {
    // An admitted patient with no set: the overdue alert, then (after the
    // grace) a task for the nurse in charge, raised by the hub itself.
    let nic = staff_id(0);
    let admit = Command::AdmitPatient {
        ward: WardId("w1".into()),
        bed: "1".into(),
        patient: super::ops::details(2),
    };
    let fire_all = |h: &mut Hospital| {
        let mut raised = BTreeSet::new();
        for _ in 0..2 {
            let (due, subject) = h.deadlines().min().expect("a check is pending");
            let fx = h.escalate(subject, due).expect("due");
            raised.extend(fx.writes.into_iter().filter_map(|w| match w {
                crate::domain::Write::Task(t) => Some(t.view.id),
                _ => None,
            }));
        }
        raised
    };
    let stamp = Stamp {
        now: NOW,
        command: command(3),
    };
    let (mut a, mut b) = (seeded(), seeded());
    a.apply(nic, &admit, stamp).expect("admitted");
    b.apply(nic, &admit, stamp).expect("admitted");
    let (x, y) = (fire_all(&mut a), fire_all(&mut b));
    assert_eq!(x.len(), 1, "one task raised: {x:?}");
    assert_eq!(x, y, "the same deadline, the same task id");
    // A different admission (another command) overdue at the same time
    // gives a different task.
    let mut c = seeded();
    c.apply(
        nic,
        &admit,
        Stamp {
            command: command(4),
            ..stamp
        },
    )
    .expect("admitted");
    assert_ne!(fire_all(&mut c), x);
}
