//! Shift handover, in the domain alone: handing a held task to a named
//! incoming person (who accepts or refuses), the `handover` read, and what
//! a shift's end (by `end_shift` or its end time) does with what is held.

use super::tests::{night, raise, raised, Night, NOW};
use super::*;
use crate::domain::Subject;
use wardpage_proto::{
    Command, CommandResult, Event, PageTarget, Priority, Requirement, Role, StaffId, TaskChange,
    TaskId, TaskState,
};

const HOUR: Millis = 3_600_000;

fn apply(h: &mut Hospital, who: StaffId, cmd: Command, at: Millis) -> Result<Effects, DomainError> {
    h.apply(who, &cmd, Stamp::fresh(at))
}

/// A task for an FY1 on w1 (offered to fy1 a and fy1 b), accepted by fy1 a.
fn held_by_fy1_a(n: &mut Night) -> TaskId {
    let fx = apply(
        &mut n.h,
        n.nurse,
        raise("w1", Requirement::Role(Role::Fy1)),
        NOW,
    )
    .expect("raise");
    let task = raised(&fx);
    apply(&mut n.h, n.fy1_a, Command::Accept { task }, NOW + 1).expect("accept");
    task
}

fn told(fx: &Effects, change: TaskChange) -> Vec<StaffId> {
    fx.deliveries
        .iter()
        .filter(|d| matches!(&d.event, Event::Task { change: c, .. } if *c == change))
        .flat_map(|d| d.recipients.iter().map(|(r, _)| *r))
        .collect()
}

fn actions(fx: &Effects) -> Vec<&'static str> {
    fx.audit.iter().map(|a| a.action).collect()
}

#[test]
fn a_handover_is_held_by_the_giver_until_the_named_person_accepts() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let to = n.fy1_b;
    let fx = apply(&mut n.h, n.fy1_a, Command::HandOver { task, to }, NOW + 2).expect("hand over");
    assert_eq!(actions(&fx), ["hand_over"]);
    let heard = told(&fx, TaskChange::HandoverOffered);
    for who in [n.fy1_a, n.fy1_b, n.nurse, n.coord] {
        assert!(heard.contains(&who), "{who} was not told of the handover");
    }
    let t = &n.h.tasks[&task];
    assert_eq!(t.view.assignee.as_ref().map(|a| a.id), Some(n.fy1_a));
    assert_eq!(t.view.handover.as_ref().map(|h| h.to.id), Some(n.fy1_b));
    // Nobody but the named person may take it, and the giver may still work it.
    let stolen = apply(&mut n.h, n.sho, Command::AcceptHandover { task }, NOW + 3);
    assert!(stolen.is_err(), "someone else took the handover");
    apply(&mut n.h, n.fy1_a, Command::Start { task }, NOW + 3).expect("the giver still holds it");
    let fx = apply(&mut n.h, n.fy1_b, Command::AcceptHandover { task }, NOW + 4).expect("accept");
    assert_eq!(actions(&fx), ["accept_handover"]);
    assert!(told(&fx, TaskChange::HandoverAccepted).contains(&n.fy1_a));
    let t = &n.h.tasks[&task];
    assert_eq!(t.view.assignee.as_ref().map(|a| a.id), Some(n.fy1_b));
    assert_eq!(
        t.state(),
        TaskState::Started,
        "the work in hand goes with it"
    );
    assert!(t.view.handover.is_none());
    let gone = apply(
        &mut n.h,
        n.fy1_a,
        Command::Complete {
            task,
            outcome: String::new(),
        },
        NOW + 5,
    );
    assert!(matches!(gone, Err(DomainError::Forbidden(_))), "{gone:?}");
}

#[test]
fn a_declined_handover_leaves_the_task_with_the_giver() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let to = n.fy1_b;
    apply(&mut n.h, n.fy1_a, Command::HandOver { task, to }, NOW + 2).expect("hand over");
    let reason = "in resus".to_owned();
    let fx = apply(
        &mut n.h,
        to,
        Command::DeclineHandover { task, reason },
        NOW + 3,
    )
    .expect("decline");
    assert_eq!(actions(&fx), ["decline_handover"]);
    assert!(fx.audit[0].detail.contains("in resus"));
    assert!(told(&fx, TaskChange::HandoverDeclined).contains(&n.fy1_a));
    let t = &n.h.tasks[&task];
    assert_eq!(t.view.assignee.as_ref().map(|a| a.id), Some(n.fy1_a));
    assert!(t.view.handover.is_none());
    let late = apply(&mut n.h, to, Command::AcceptHandover { task }, NOW + 4);
    assert!(late.is_err(), "a declined handover cannot be accepted");
}

#[test]
fn a_handover_goes_only_to_someone_who_could_take_the_task() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let before = n.h.tasks[&task].clone();
    // The SHO is not an FY1, the nurse neither; nobody hands to themself.
    for to in [n.sho, n.nurse, n.fy1_a, StaffId::new_random()] {
        let r = apply(&mut n.h, n.fy1_a, Command::HandOver { task, to }, NOW + 2);
        assert!(r.is_err(), "handed over to {to}");
    }
    // Only the holder hands over.
    let to = n.fy1_a;
    let r = apply(&mut n.h, n.fy1_b, Command::HandOver { task, to }, NOW + 2);
    assert!(matches!(r, Err(DomainError::Forbidden(_))), "{r:?}");
    assert_eq!(n.h.tasks[&task], before, "a refusal changed the task");
}

#[test]
fn the_handover_read_lists_held_tasks_and_unacknowledged_pages() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let page = Command::SendPage {
        target: PageTarget::Staff(n.fy1_a),
        priority: Priority::Urgent,
        callback: "2231".into(),
        message: "bed 1".into(),
        ward: None,
    };
    apply(&mut n.h, n.nurse, page, NOW + 2).expect("page");
    match apply(&mut n.h, n.fy1_a, Command::Handover {}, NOW + 3)
        .expect("read")
        .result
    {
        Some(CommandResult::Handover { tasks, pages }) => {
            assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [task]);
            assert_eq!(pages.len(), 1);
        }
        other => panic!("not a handover: {other:?}"),
    }
    match apply(&mut n.h, n.fy1_b, Command::Handover {}, NOW + 3)
        .expect("read")
        .result
    {
        Some(CommandResult::Handover { tasks, pages }) => {
            assert!(tasks.is_empty() && pages.is_empty());
        }
        other => panic!("not a handover: {other:?}"),
    }
}

/// What a shift's end must do with a task fy1 a held: offer it again
/// (fy1 b, never fy1 a), drop the pending handover, tell and audit.
fn check_returned(n: &Night, fx: &Effects, task: TaskId) {
    let t = &n.h.tasks[&task];
    assert_eq!(t.state(), TaskState::Offering);
    assert!(t.view.assignee.is_none() && t.view.handover.is_none());
    let offered: Vec<StaffId> = t
        .view
        .offers
        .iter()
        .filter(|o| o.state == wardpage_proto::OfferState::Offered)
        .map(|o| o.staff.id)
        .collect();
    assert_eq!(offered, [n.fy1_b]);
    assert!(actions(fx).contains(&"return_at_shift_end"));
    assert!(actions(fx).contains(&"held_at_shift_end"));
    assert!(told(fx, TaskChange::ReturnedAtShiftEnd).contains(&n.fy1_b));
    let alert = fx
        .deliveries
        .iter()
        .find(|d| matches!(&d.event, Event::HeldAtShiftEnd { .. }))
        .expect("the coordinators are alerted");
    assert!(alert.recipients.iter().any(|(r, _)| *r == n.coord));
    match &alert.event {
        Event::HeldAtShiftEnd { tasks, reason, .. } => {
            assert_eq!(tasks.iter().map(|t| t.id).collect::<Vec<_>>(), [task]);
            assert!(reason.contains("fy1 a"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ending_a_shift_offers_what_is_held_again_and_alerts_the_coordinator() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let to = n.fy1_b;
    apply(&mut n.h, n.fy1_a, Command::HandOver { task, to }, NOW + 2).expect("hand over");
    let staff = n.fy1_a;
    let fx = apply(&mut n.h, staff, Command::EndShift { staff }, NOW + 3).expect("end");
    match &fx.result {
        Some(CommandResult::Shift { returned, .. }) => {
            assert_eq!(returned.iter().map(|t| t.id).collect::<Vec<_>>(), [task]);
        }
        other => panic!("not a shift: {other:?}"),
    }
    check_returned(&n, &fx, task);
}

#[test]
fn a_shift_end_time_passing_offers_what_is_held_again() {
    let mut n = night();
    let task = held_by_fy1_a(&mut n);
    let ends = n.h.roster.shifts()[&n.fy1_a].ends_at;
    let deadline = n.h.deadline_of(Subject::Task(task)).expect("a deadline");
    assert!(deadline <= ends, "the timer must wake by the shift's end");
    // A coordinator moves the shift to end an hour sooner: the held task
    // waits for the new end.
    let cmd = Command::StartShift {
        staff: n.fy1_a,
        role: Role::Fy1,
        wards: vec![wardpage_proto::WardId("w1".into())],
        ends_at: ends - HOUR,
    };
    let fx = apply(&mut n.h, n.coord, cmd, NOW + 2).expect("extend");
    assert!(fx
        .writes
        .iter()
        .any(|w| matches!(w, Write::Task(t) if t.view.id == task)));
    assert_eq!(n.h.tasks[&task].holder_shift_ends_at, Some(ends - HOUR));
    // The escalation ladder fires as usual while the holder is on shift.
    while let Some(d) =
        n.h.deadline_of(Subject::Task(task))
            .filter(|d| *d < ends - HOUR)
    {
        let fx = n.h.escalate(Subject::Task(task), d).expect("a step fires");
        assert!(!actions(&fx).contains(&"return_at_shift_end"));
    }
    assert_eq!(
        n.h.tasks[&task].view.assignee.as_ref().map(|a| a.id),
        Some(n.fy1_a)
    );
    let fx =
        n.h.escalate(Subject::Task(task), ends - HOUR)
            .expect("the end fires");
    check_returned(&n, &fx, task);
    assert!(fx.audit.iter().all(|a| a.actor.is_none()), "the hub acted");
}
