//! A night handheld's own timetable: the agenda of planned raises, outages,
//! sets and the decisions its offers call for, and the loop that runs it
//! between reading events until the night (and its grace for completing)
//! is over.

use super::{Action, Actor, ActorResult, GRACE, RECONNECT_FOR};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

impl Actor {
    pub(super) fn schedule(&mut self, at: Instant, a: Action) {
        self.agenda.push((at, a));
    }

    fn next_due(&self) -> Option<usize> {
        self.agenda
            .iter()
            .enumerate()
            .min_by_key(|(_, (t, _))| *t)
            .map(|(i, _)| i)
    }

    pub(super) async fn run(
        mut self,
        end: Instant,
        barrier: Arc<tokio::sync::Barrier>,
    ) -> ActorResult {
        if let Err(e) = self.ensure_connected().await {
            self.res.log.failure = Some(e.to_string());
        }
        loop {
            let now = Instant::now();
            match self.next_due() {
                Some(i) if self.agenda[i].0 <= now => {
                    let (_, a) = self.agenda.swap_remove(i);
                    // Nothing new starts after the night ends.
                    if now < end || matches!(a, Action::Complete(_)) && now < end + GRACE {
                        self.act(a).await;
                    } else if let Action::Raise(i) = a {
                        // Due while this handheld was offline at the very end.
                        let patient = &self.sh.plan.raises[i].patient;
                        self.res
                            .raise_problems
                            .push(format!("raise {patient} skipped: due as the night ended"));
                    }
                    continue;
                }
                _ => {}
            }
            if now >= end
                && self
                    .agenda
                    .iter()
                    .all(|(t, a)| *t >= end + GRACE || !matches!(a, Action::Complete(_)))
            {
                break;
            }
            let due = self
                .next_due()
                .map(|i| self.agenda[i].0)
                .unwrap_or(end)
                .min(end.max(now));
            let wait = due
                .saturating_duration_since(now)
                .max(Duration::from_millis(1));
            if self.ensure_connected().await.is_err() {
                tokio::time::sleep(wait).await;
                continue;
            }
            let Some(c) = self.client.as_mut() else {
                continue;
            };
            match c.next_event_within(wait).await {
                Ok(Some((seq, e))) => self.handle(seq, e),
                Ok(None) => {}
                Err(e) => self.transport_failed(&e),
            }
        }
        // Everyone stops acting before anyone checks, so no raise is
        // acknowledged after the coordinator's snapshot.
        let _ = tokio::time::timeout(RECONNECT_FOR * 2, barrier.wait()).await;
        self.finish().await;
        self.res
    }
}
