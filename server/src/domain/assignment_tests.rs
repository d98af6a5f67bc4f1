//! A coordinator's assignment in the domain alone: `assigned` (not
//! accepted) until the assignee acknowledges it, acknowledged by their
//! `accept` (its own audit action), handed back by their `decline`, and
//! escalated to the coordinators once when nobody acknowledges it within
//! the priority's accept target.

use super::tests::{night, raise, raised, Night, NOW};
use super::*;
use crate::domain::Subject;
use wardpage_proto::{
    Command, Event, OfferState, Requirement, Role, StaffId, TaskChange, TaskId, TaskState,
};

const MIN: Millis = 60_000;

fn apply(h: &mut Hospital, who: StaffId, cmd: Command, at: Millis) -> Result<Effects, DomainError> {
    h.apply(who, &cmd, Stamp::fresh(at))
}

/// An urgent FY1 task on w1 (accept within 15 min), assigned by the
/// coordinator to fy1 a at `NOW + 1`.
fn assigned_to_fy1_a(n: &mut Night) -> TaskId {
    let fx = apply(
        &mut n.h,
        n.nurse,
        raise("w1", Requirement::Role(Role::Fy1)),
        NOW,
    )
    .expect("raise");
    let task = raised(&fx);
    let staff = n.fy1_a;
    apply(&mut n.h, n.coord, Command::Assign { task, staff }, NOW + 1).expect("assign");
    task
}

fn actions(fx: &Effects) -> Vec<&'static str> {
    fx.audit.iter().map(|a| a.action).collect()
}

fn changes(fx: &Effects) -> Vec<TaskChange> {
    fx.deliveries
        .iter()
        .filter_map(|d| match &d.event {
            Event::Task { change, .. } => Some(*change),
            _ => None,
        })
        .collect()
}

#[test]
fn an_assignment_waits_for_the_assignees_acknowledgement() {
    let mut n = night();
    let task = assigned_to_fy1_a(&mut n);
    let v = &n.h.tasks[&task].view;
    assert_eq!(v.state, TaskState::Assigned);
    assert_eq!(v.assignee.as_ref().map(|a| a.id), Some(n.fy1_a));
    assert_eq!(v.assigned_by.as_ref().map(|a| a.id), Some(n.coord));
    assert_eq!(v.assigned_at, Some(NOW + 1));
    assert_eq!(v.accepted_at, None, "an assignment is not an accept");
    assert_eq!(v.next_escalation_at, Some(NOW + 1 + 15 * MIN));
    // Someone else cannot take it; the assignee cannot start it unacknowledged.
    let other = apply(&mut n.h, n.fy1_b, Command::Accept { task }, NOW + 2);
    assert_eq!(
        other.map(|_| ()).map_err(|e| e.code()),
        Err(wardpage_proto::ErrorCode::AlreadyTaken)
    );
    let start = apply(&mut n.h, n.fy1_a, Command::Start { task }, NOW + 2);
    assert!(start.is_err(), "started an unacknowledged assignment");
    let fx = apply(&mut n.h, n.fy1_a, Command::Accept { task }, NOW + 3 * MIN).expect("ack");
    assert_eq!(actions(&fx), ["acknowledge"]);
    assert_eq!(fx.audit[0].from_state.as_deref(), Some("assigned"));
    assert_eq!(changes(&fx), [TaskChange::Acknowledged]);
    let v = &n.h.tasks[&task].view;
    assert_eq!(v.state, TaskState::Accepted);
    assert_eq!(
        v.accepted_at,
        Some(NOW + 3 * MIN),
        "accepted when acknowledged"
    );
    assert_eq!(v.assigned_by.as_ref().map(|a| a.id), Some(n.coord));
    // Now on the complete ladder, not the acknowledgement's.
    assert_eq!(v.next_escalation_at, Some(v.complete_by));
    apply(&mut n.h, n.fy1_a, Command::Start { task }, NOW + 4 * MIN).expect("start");
}

#[test]
fn declining_an_assignment_hands_it_back_with_the_reason() {
    let mut n = night();
    let task = assigned_to_fy1_a(&mut n);
    let cmd = Command::Decline {
        task,
        reason: "in resus".into(),
    };
    let fx = apply(&mut n.h, n.fy1_a, cmd, NOW + 2).expect("decline");
    assert_eq!(actions(&fx), ["decline_assignment"]);
    assert_eq!(fx.audit[0].detail, "in resus");
    assert_eq!(changes(&fx), [TaskChange::HandedBack]);
    let v = &n.h.tasks[&task].view;
    assert_eq!(v.state, TaskState::Offering);
    assert!(v.assignee.is_none() && v.assigned_by.is_none() && v.assigned_at.is_none());
    let offers: Vec<(StaffId, OfferState, Option<&str>)> = v
        .offers
        .iter()
        .map(|o| (o.staff.id, o.state, o.reason.as_deref()))
        .collect();
    assert_eq!(
        offers,
        [
            (n.fy1_b, OfferState::Offered, None),
            (n.fy1_a, OfferState::Declined, Some("in resus"))
        ],
        "offered again, not to the one who declined, whose reason stands"
    );
}

#[test]
fn an_unacknowledged_assignment_escalates_to_the_coordinator_once() {
    let mut n = night();
    let task = assigned_to_fy1_a(&mut n);
    let due = NOW + 1 + 15 * MIN;
    assert!(n.h.deadlines().any(|d| d == (due, Subject::Task(task))));
    assert!(
        n.h.escalate(Subject::Task(task), due - 1).is_none(),
        "not due yet"
    );
    let fx = n.h.escalate(Subject::Task(task), due).expect("due");
    assert_eq!(actions(&fx), ["escalate"]);
    let (reason, alerted) = fx
        .deliveries
        .iter()
        .find_map(|d| match &d.event {
            Event::TaskEscalated {
                reason, alerted, ..
            } => Some((reason.clone(), alerted.clone())),
            _ => None,
        })
        .expect("an escalation event");
    assert!(
        reason.starts_with("not acknowledged 15 min after coord assigned it to fy1 a"),
        "{reason}"
    );
    let alerted: Vec<StaffId> = alerted.iter().map(|a| a.id).collect();
    assert!(
        alerted.contains(&n.coord) && alerted.contains(&n.fy1_a),
        "{alerted:?}"
    );
    let v = &n.h.tasks[&task].view;
    assert_eq!((v.state, v.escalation_level), (TaskState::Assigned, 1));
    assert!(
        v.offers
            .iter()
            .all(|o| o.state != wardpage_proto::OfferState::Offered),
        "not widened"
    );
    let next = v.next_escalation_at;
    // Once: the same moment again fires nothing; the next is the repeat.
    assert!(
        n.h.escalate(Subject::Task(task), due).is_none(),
        "fired twice"
    );
    assert!(next.is_some_and(|at| at > due), "{next:?}");
}
