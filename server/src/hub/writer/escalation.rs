//! The escalation timer: the writer mirrors every pending deadline from
//! committed state, waits on its clock until the earliest, and fires what
//! is due, oldest first, as one batch. Whatever the writer stages at `now`
//! is staged after every escalation due by `now` has fired (see
//! [`Writer::fire_overdue`]), so a reply never shows a task short of a
//! step that was due when the writer read it.

use super::batch::Staged;
use super::Writer;
use crate::clock::Clock;
use crate::domain::Subject;
use wardpage_proto::Millis;

/// Escalations claimed per wake-up.
// A backlog (everything overdue after a restart) fires in slices, so
// commands queued behind it wait for one slice, not the whole backlog; the
// timer wakes again at once for the rest.
const ESCALATION_BATCH: usize = 256;

impl Writer {
    pub(super) fn set_deadline(&mut self, subject: Subject, due: Option<Millis>) {
        if let Some(old) = self.due_of.remove(&subject) {
            self.deadlines.remove(&(old, subject));
        }
        if let Some(d) = due {
            self.due_of.insert(subject, d);
            self.deadlines.insert((d, subject));
        }
    }

    /// Waits until the earliest escalation is due (forever if none is).
    pub(super) async fn next_deadline(clock: &Clock, earliest: Option<Millis>) {
        match earliest {
            Some(due) => clock.until(due).await,
            None => std::future::pending::<()>().await,
        }
    }

    /// Fires what is due by `now` before a message is staged: the timer
    /// and the message may be ready at once, and the message must not be
    /// answered from a hospital in which a due step has not happened yet.
    pub(super) fn fire_overdue(&mut self, now: Millis, staged: &mut Staged) {
        if self.deadlines.first().is_some_and(|(d, _)| *d <= now) {
            self.escalate_due(now, staged);
        }
    }

    /// Fires every escalation due by `now` (at most a batch per wake-up),
    /// from the writer's mirror of the committed deadlines: with one hub per
    /// database that mirror is the whole truth, so no store read is needed
    /// on the writer (hubs sharing a database will claim rows instead).
    pub(super) fn escalate_due(&mut self, now: Millis, staged: &mut Staged) {
        let due: Vec<(Millis, Subject)> = self
            .deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .take(ESCALATION_BATCH)
            .copied()
            .collect();
        for (at, subject) in due {
            if let Some(fx) = self.hospital.escalate(subject, now) {
                self.metrics
                    .escalation_lateness
                    .observe((now - at).max(0) as f64 / 1000.0);
                self.metrics.escalations.inc();
                staged.pending.absorb(fx, &mut self.inbox, &mut self.audit);
            } else {
                // Acted on since it was stored: its new deadline (if any) is
                // written with that change. A deadline that is past yet not
                // due by the rules is dropped, so the timer cannot spin on it.
                let current = self.hospital.deadline_of(subject);
                self.set_deadline(subject, current.filter(|d| *d > now));
            }
        }
    }
}
