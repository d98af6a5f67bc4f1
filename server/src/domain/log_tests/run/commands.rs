//! The commands of a random log: which task, page, shift or patient
//! command each input stands for, and who sends it (anyone on the roster,
//! or someone the task concerns when the input is sent from inside).

use super::Run;
use crate::domain::log_tests::ops::{details, priority, set, task_command, ward, Op};
use crate::domain::log_tests::{staff_id, NOW, ROSTER};
use wardpage_proto::{
    Category, Command, Millis, PageReply, PageTarget, Requirement, Role, Sbar, Skill, StaffId,
};

impl Run {
    /// A task command.
    pub(super) fn task_op(&self, op: &Op) -> (StaffId, Command) {
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
    pub(super) fn page_op(&self, op: &Op) -> (StaffId, Command) {
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
    pub(super) fn shift_op(&self, op: &Op) -> (StaffId, Command) {
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
    pub(super) fn patient_op(&self, op: &Op) -> (StaffId, Command) {
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

    pub(super) fn raise(&self, w: u8, bed: u8, need: u8, p: u8, for_patient: bool) -> Command {
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
}
