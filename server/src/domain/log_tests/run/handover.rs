//! The handover moves of a random log: sent by those they concern (the
//! giver hands over, the person named answers), so that handovers are
//! offered, refused and taken often enough to be tested.

use super::{nth, Run};
use crate::domain::log_tests::ops::{task_command, Move};
use crate::domain::log_tests::staff_id;
use wardpage_proto::{Command, StaffId, TaskId};

impl Run {
    /// A handover move sent from inside (`None`: not a handover move, or
    /// nobody to send it).
    pub(super) fn handover_op(&self, task: usize, what: Move) -> Option<(StaffId, Command)> {
        match what {
            Move::HandOver(i) => {
                let task = self.task(task);
                let giver = self.h.tasks.get(&task)?.view.assignee.as_ref()?.id;
                Some((giver, self.hand_over(task, giver, usize::from(i))))
            }
            Move::AcceptHandover | Move::DeclineHandover => {
                let task = self.handed(task);
                let to = self.h.tasks.get(&task)?.view.handover.as_ref()?.to.id;
                Some((to, task_command(task, what)))
            }
            _ => None,
        }
    }

    /// The `i`th of the tasks with a handover pending (else any task).
    fn handed(&self, i: usize) -> TaskId {
        let ids: Vec<TaskId> = self
            .h
            .tasks
            .values()
            .filter(|t| t.view.handover.is_some())
            .map(|t| t.view.id)
            .collect();
        nth(ids, i, self.task(i))
    }

    /// A handover to the `i`th of those who could take the task from `by`.
    fn hand_over(&self, task: TaskId, by: StaffId, i: usize) -> Command {
        let could = self.h.tasks.get(&task).map_or_else(Vec::new, |t| {
            let (ward, need) = (&t.view.ward, t.view.requirement);
            self.h.roster.candidates(ward, need, by, self.now)
        });
        let to = nth(could, i, staff_id(i));
        Command::HandOver { task, to }
    }
}
