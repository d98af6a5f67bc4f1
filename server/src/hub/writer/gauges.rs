//! The writer's metrics: command outcomes, and tasks by state (refreshed
//! for `/metrics` once the batch staged before the request is committed).

use super::Writer;
use crate::metrics::{CommandLabels, StateLabels};
use std::collections::HashMap;
use wardpage_proto::TaskState;

impl Writer {
    pub(super) fn count(&self, op: &'static str, outcome: &'static str) {
        self.metrics
            .commands
            .get_or_create(&CommandLabels { op, outcome })
            .inc();
    }

    pub(super) fn update_task_gauges(&self) {
        let mut counts: HashMap<&'static str, i64> = HashMap::new();
        for s in [
            TaskState::Offering,
            TaskState::NoOneAccepted,
            TaskState::Assigned,
            TaskState::Accepted,
            TaskState::Started,
            TaskState::Completed,
            TaskState::Cancelled,
        ] {
            counts.insert(crate::domain::task_state_name(s), 0);
        }
        for t in self.hospital.tasks() {
            *counts
                .entry(crate::domain::task_state_name(t.state()))
                .or_insert(0) += 1;
        }
        for (state, n) in counts {
            self.metrics
                .tasks
                .get_or_create(&StateLabels { state })
                .set(n);
        }
    }
}
