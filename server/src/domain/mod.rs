//! The hub's rules, free of I/O: who may do what to a task or a page, where a
//! task is routed, who hears about each change, and the numbering of every
//! recipient's event stream.
//!
//! Architecture invariant: nothing in `domain` touches a socket, a file, a
//! database or the clock. The caller passes `now` (with the command's id,
//! from which new ids are derived: see [`ids`]); [`Hospital::apply`] either
//! refuses a command and leaves the state untouched, or changes the state and
//! returns [`Effects`] (what to store, what to audit, whom to tell) which
//! the writer commits before anyone hears of them.

pub mod escalation;
mod hospital;
pub mod ids;
pub mod news2;
mod page;
pub mod patient;
pub mod response;
mod roster;
mod task;

pub use escalation::Policies;
pub use ids::Stamp;

/// How long closed tasks and answered pages stay in the hub's working set
/// (and are loaded at start): `history` reaches back this far, the same
/// before and after a restart.
pub const CLOSED_KEPT: wardpage_proto::Millis = 24 * 3_600_000;
pub use hospital::{Delivery, Effects, Hospital, LoadedState, Subject, Write};
pub use page::Page;
pub use roster::{Roster, Shift, Staff, Ward};
pub use task::Task;

/// A task state's wire name. Kept only so the writer's call sites need no
/// edit while it is being split; new code calls `TaskState::as_str`.
pub fn task_state_name(s: wardpage_proto::TaskState) -> &'static str {
    s.as_str()
}

use wardpage_proto::{ErrorCode, Millis, Priority};

/// Why the domain refused a command. Each maps to one wire code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidState(String),
    #[error("{0}")]
    AlreadyTaken(String),
}

impl DomainError {
    /// The wire code for this refusal.
    pub fn code(&self) -> ErrorCode {
        match self {
            DomainError::NotFound(_) => ErrorCode::NotFound,
            DomainError::Forbidden(_) => ErrorCode::Forbidden,
            DomainError::InvalidState(_) => ErrorCode::InvalidState,
            DomainError::AlreadyTaken(_) => ErrorCode::AlreadyTaken,
        }
    }
}

/// Accept-by and complete-by targets for one priority, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub accept_within: Millis,
    pub complete_within: Millis,
}

/// Targets for every priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Targets {
    pub routine: Target,
    pub soon: Target,
    pub urgent: Target,
    pub emergency: Target,
}

impl Targets {
    pub fn for_priority(&self, p: Priority) -> Target {
        match p {
            Priority::Routine => self.routine,
            Priority::Soon => self.soon,
            Priority::Urgent => self.urgent,
            Priority::Emergency => self.emergency,
        }
    }
}

impl Default for Targets {
    /// UK Hospital at Night defaults: emergency accepted within 2 minutes,
    /// urgent 15, soon 60, routine 240.
    fn default() -> Self {
        const MIN: Millis = 60_000;
        Targets {
            routine: Target {
                accept_within: 240 * MIN,
                complete_within: 720 * MIN,
            },
            soon: Target {
                accept_within: 60 * MIN,
                complete_within: 240 * MIN,
            },
            urgent: Target {
                accept_within: 15 * MIN,
                complete_within: 60 * MIN,
            },
            emergency: Target {
                accept_within: 2 * MIN,
                complete_within: 30 * MIN,
            },
        }
    }
}

/// One row of the audit trail: who changed what, when, from which state to which.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: Millis,
    /// `None` when the hub itself acted (e.g. a delivery receipt).
    pub actor: Option<wardpage_proto::StaffId>,
    /// `task`, `page` or `shift`.
    pub entity: &'static str,
    pub entity_id: String,
    pub action: &'static str,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    /// A reason, outcome or other free text; empty when there is none.
    pub detail: String,
}

#[cfg(test)]
mod assignment_tests;
#[cfg(test)]
mod busy_tests;
#[cfg(test)]
mod handover_tests;
#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod patient_tests;
#[cfg(test)]
mod tests;
