//! Where the ids the domain mints come from. A change made by a command
//! takes its ids from that command's id; a change the hub makes itself (an
//! overdue check firing) from the deadline that fired. Each id is
//! time-ordered (UUIDv7: the time from `now`), its other bits the SHA-256
//! of that cause and a counter within the change, so the same inputs
//! applied to the same state give the same ids, and a replay of a command
//! log rebuilds the same hospital.

use super::Subject;
use sha2::{Digest, Sha256};
use wardpage_proto::{CommandId, Millis};

/// What a command is applied with: when, and which command it is (the
/// cause its new ids are derived from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub now: Millis,
    pub command: CommandId,
}

#[cfg(test)]
impl Stamp {
    /// `now`, with a new random command id: for tests that never replay.
    pub fn fresh(now: Millis) -> Stamp {
        Stamp {
            now,
            command: CommandId::new_random(),
        }
    }
}

/// The source of one change's new ids: a seed from its cause, and how many
/// ids it has given so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    seed: [u8; 32],
    given: u64,
}

impl Ids {
    /// The ids of the change a command makes.
    pub fn for_command(command: CommandId) -> Ids {
        let mut h = Sha256::new();
        // A label per kind of cause, so no command and deadline share a seed.
        h.update(b"wardpage ids: command\0");
        h.update(command.0.as_bytes());
        Ids::seeded(h)
    }

    /// The ids of the change a due deadline makes: the subject, when it
    /// was due, the step it fired and the subject's version, which every
    /// change bumps, so a later deadline that happens to fall due at the
    /// same time at the same step still has ids of its own.
    pub fn for_deadline(subject: Subject, due: Millis, step: u64, version: u32) -> Ids {
        let (kind, id) = match subject {
            Subject::Task(t) => (b't', t.0),
            Subject::Page(p) => (b'p', p.0),
            Subject::Patient(p) => (b'o', p.0),
            Subject::Busy(s) => (b'b', s.0),
        };
        let mut h = Sha256::new();
        h.update(b"wardpage ids: deadline\0");
        h.update([kind]);
        h.update(id.as_bytes());
        h.update(due.to_be_bytes());
        h.update(step.to_be_bytes());
        h.update(version.to_be_bytes());
        Ids::seeded(h)
    }

    fn seeded(h: Sha256) -> Ids {
        Ids {
            seed: h.finalize().into(),
            given: 0,
        }
    }

    /// The bits of the next id (the v7 layout keeps 74 of them).
    pub fn next_bits(&mut self) -> [u8; 10] {
        let mut h = Sha256::new();
        h.update(self.seed);
        h.update(self.given.to_be_bytes());
        self.given += 1;
        let digest = h.finalize();
        let mut bits = [0u8; 10];
        bits.copy_from_slice(&digest[..10]);
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use wardpage_proto::{PatientId, TaskId};

    const NOW: Millis = 1_764_358_144_000;

    fn command(n: u128) -> CommandId {
        CommandId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn one_command_gives_the_same_ids_each_time_and_never_the_same_twice() {
        let take = |n: usize| -> Vec<TaskId> {
            let mut ids = Ids::for_command(command(1));
            (0..n)
                .map(|_| TaskId::ordered_from(NOW, ids.next_bits()))
                .collect()
        };
        let (a, b) = (take(50), take(50));
        assert_eq!(a, b, "same command, same ids");
        assert_eq!(a.iter().collect::<BTreeSet<_>>().len(), 50, "{a:?}");
    }

    #[test]
    fn different_commands_and_deadlines_give_different_ids() {
        let mut seen = BTreeSet::new();
        for n in 0..2_000u128 {
            let mut ids = Ids::for_command(command(n));
            for _ in 0..3 {
                assert!(seen.insert(TaskId::ordered_from(NOW, ids.next_bits())));
            }
        }
        let patient = PatientId(uuid::Uuid::from_u128(1));
        let mut deadline = |due: Millis, step: u64, version: u32| {
            let mut ids = Ids::for_deadline(Subject::Patient(patient), due, step, version);
            seen.insert(TaskId::ordered_from(NOW, ids.next_bits()))
        };
        assert!(deadline(NOW, 1, 3));
        assert!(deadline(NOW + 1, 1, 3), "another due time");
        assert!(deadline(NOW, 2, 3), "another step");
        assert!(deadline(NOW, 1, 4), "another version");
        assert!(!deadline(NOW, 1, 3), "the same deadline again: the same id");
        // The same uuid as a task or as a patient is another subject.
        let as_task = Ids::for_deadline(Subject::Task(TaskId(patient.0)), NOW, 1, 3);
        let as_patient = Ids::for_deadline(Subject::Patient(patient), NOW, 1, 3);
        assert_ne!(as_task, as_patient);
    }
}
