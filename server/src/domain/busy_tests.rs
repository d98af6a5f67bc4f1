//! The busy state in the domain alone: set on shift only, cut at the
//! shift's end, kept by a replaced shift, gone with an ended one, ended by
//! the hub only once its time has come, and told to the person and the
//! coordinators; a busy person is still a candidate.

use super::tests::{night, raise, Night, NOW};
use super::*;
use crate::domain::Subject;
use wardpage_proto::{Command, Event, Requirement, Role, StaffId};

const MIN: Millis = 60_000;
const HOUR: Millis = 60 * MIN;

fn apply(h: &mut Hospital, who: StaffId, cmd: Command, at: Millis) -> Result<Effects, DomainError> {
    h.apply(who, &cmd, Stamp::fresh(at))
}

fn busy(n: &mut Night, who: StaffId, minutes: u32, at: Millis) -> Effects {
    let cmd = Command::SetBusy {
        reason: "In resus".into(),
        minutes,
    };
    apply(&mut n.h, who, cmd, at).expect("set_busy")
}

fn until_of(n: &Night, who: StaffId) -> Option<Millis> {
    n.h.roster.shifts()[&who].busy.as_ref().map(|b| b.until)
}

/// Who heard a `shift` event about `who`.
fn told(fx: &Effects, who: StaffId) -> Vec<StaffId> {
    fx.deliveries
        .iter()
        .filter(|d| matches!(&d.event, Event::Shift { staff, .. } if staff.id == who))
        .flat_map(|d| d.recipients.iter().map(|(r, _)| *r))
        .collect()
}

#[test]
fn busy_is_told_to_the_person_and_the_coordinators_and_expires_only_when_due() {
    let mut n = night();
    let fy1 = n.fy1_a;
    let fx = busy(&mut n, fy1, 15, NOW);
    let mut heard = told(&fx, fy1);
    heard.sort();
    let mut want = vec![fy1, n.coord];
    want.sort();
    assert_eq!(heard, want);
    assert_eq!(
        fx.audit.iter().map(|a| a.action).collect::<Vec<_>>(),
        ["set_busy"]
    );
    let until = NOW + 15 * MIN;
    assert_eq!(until_of(&n, fy1), Some(until));
    assert!(n.h.deadlines().any(|d| d == (until, Subject::Busy(fy1))));
    assert!(
        n.h.escalate(Subject::Busy(fy1), until - 1).is_none(),
        "not due yet"
    );
    let fx = n.h.escalate(Subject::Busy(fy1), until).expect("due");
    assert_eq!(fx.audit[0].action, "busy_expired");
    assert_eq!(fx.audit[0].actor, None);
    assert!(told(&fx, fy1).contains(&n.coord));
    assert_eq!(until_of(&n, fy1), None);
    assert_eq!(n.h.deadline_of(Subject::Busy(fy1)), None);
    assert!(
        n.h.escalate(Subject::Busy(fy1), until + 1).is_none(),
        "once"
    );
}

#[test]
fn busy_is_cut_at_the_shift_end_kept_by_a_new_shift_and_gone_with_an_ended_one() {
    let mut n = night();
    let fy1 = n.fy1_a;
    // The night's shift ends NOW + 12 h: two hours asked 11 h in get one.
    busy(&mut n, fy1, 120, NOW + 11 * HOUR);
    assert_eq!(until_of(&n, fy1), Some(NOW + 12 * HOUR));
    // A coordinator moves the shift's end: busy stays, cut at the new end.
    let ends_at = NOW + 11 * HOUR + 30 * MIN;
    let restart = Command::StartShift {
        staff: fy1,
        role: Role::Fy1,
        wards: vec!["w1".into()],
        ends_at,
    };
    apply(&mut n.h, n.coord, restart, NOW + 11 * HOUR + MIN).expect("start_shift");
    assert_eq!(until_of(&n, fy1), Some(ends_at));
    // Ended: no shift, no busy state, no deadline.
    let end = Command::EndShift { staff: fy1 };
    apply(&mut n.h, fy1, end, NOW + 11 * HOUR + 2 * MIN).expect("end_shift");
    assert!(!n.h.roster.shifts().contains_key(&fy1));
    assert_eq!(n.h.deadline_of(Subject::Busy(fy1)), None);
}

#[test]
fn a_busy_person_is_still_offered_work_and_refusals_change_nothing() {
    let mut n = night();
    let fy1 = n.fy1_a;
    busy(&mut n, fy1, 30, NOW);
    let fx = apply(
        &mut n.h,
        n.nurse,
        raise("w1", Requirement::Role(Role::Fy1)),
        NOW + 1,
    )
    .expect("raise");
    let Some(wardpage_proto::CommandResult::Task { task }) = fx.result else {
        panic!("raise answered {:?}", fx.result)
    };
    assert!(task.offers.iter().any(|o| o.staff.id == fy1));
    // Not busy: nothing to end. Off shift: cannot be busy.
    let other = n.fy1_b;
    let e = apply(&mut n.h, other, Command::EndBusy {}, NOW + 2).expect_err("not busy");
    assert_eq!(e, DomainError::InvalidState("not busy".into()));
    let late = NOW + 13 * HOUR;
    let cmd = Command::SetBusy {
        reason: "In theatre".into(),
        minutes: 15,
    };
    let e = apply(&mut n.h, other, cmd, late).expect_err("off shift");
    assert_eq!(e, DomainError::InvalidState("not on shift".into()));
    assert_eq!(until_of(&n, other), None);
}
