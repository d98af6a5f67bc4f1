//! The commit pipeline: a staged batch is launched on the store's own
//! thread, and when its commit returns everything it held back leaves (or,
//! if it failed, is refused and the state reloaded). Also the last commit
//! at shutdown.

use super::batch::{InFlight, Pending, Release, Staged};
use super::commands::error_frame;
use super::Writer;
use crate::domain::Subject;
use crate::hub::registry::Kick;
use crate::store::{Batch, StoreError};
use std::collections::BTreeSet;
use std::time::Instant;
use tracing::{debug, error, info, warn};
use wardpage_proto::{ErrorCode, StaffId};

impl Writer {
    /// Starts committing a staged batch on its own task.
    pub(super) fn launch(&mut self, staged: Staged) -> InFlight {
        let Staged {
            pending,
            releases,
            recorded,
            commands,
        } = staged;
        let Pending {
            mut batch,
            publish,
            poisoned,
            ..
        } = pending;
        let now = Instant::now();
        if self.inbox.due(now) {
            self.inbox.write_part(&mut batch, now);
        }
        self.committing_shifts.clone_from(&batch.shifts);
        let store = self.store.clone();
        let commit = self.committer.spawn(async move {
            let result = if let Some(why) = poisoned {
                Err(StoreError::Corrupt(why))
            } else if batch.is_empty() {
                Ok(())
            } else {
                store.commit(&batch).await
            };
            (batch, result)
        });
        InFlight {
            commit,
            publish,
            releases,
            recorded,
            commands,
            started: Instant::now(),
        }
    }

    /// A commit returned: on success, everything it held back leaves now;
    /// on failure, it and the batch applied on top of it are refused and
    /// the state is reloaded from the store.
    pub(super) async fn finish(
        &mut self,
        f: InFlight,
        done: Result<(Batch, Result<(), StoreError>), tokio::task::JoinError>,
        staged: &mut Staged,
    ) -> Result<(), StoreError> {
        // Committed (or refused, and then reloaded): the store has the truth.
        self.committing_shifts.clear();
        let (batch, failure) = match done {
            Ok((batch, Ok(()))) => (Some(batch), None),
            Ok((_, Err(e))) => (None, Some(e.to_string())),
            Err(e) => (None, Some(format!("commit task failed: {e}"))),
        };
        if f.commands > 0 || batch.as_ref().is_some_and(|b| !b.is_empty()) {
            self.metrics
                .commit_seconds
                .observe(f.started.elapsed().as_secs_f64());
            self.metrics.batch_size.observe(f.commands as f64);
            debug!(
                commands = f.commands,
                inbox = batch.as_ref().map_or(0, |b| b.inbox.len()),
                ms = f.started.elapsed().as_secs_f64() * 1000.0,
                "group commit"
            );
        }
        match batch {
            Some(batch) => {
                self.release(f, &batch);
                Ok(())
            }
            None => self.refuse_failed(f, failure, staged).await,
        }
    }

    /// The failed-commit path: the failed batch and the one staged on top
    /// of it are answered `internal`, everyone their events were for is
    /// closed (1012) to resume from the store, and the state is reloaded.
    async fn refuse_failed(
        &mut self,
        f: InFlight,
        failure: Option<String>,
        staged: &mut Staged,
    ) -> Result<(), StoreError> {
        error!(
            error = failure.as_deref().unwrap_or("unknown"),
            commands = f.commands + staged.commands,
            "group commit failed; answering internal and reloading state"
        );
        // The staged batch was applied on top of the failed one: it goes too.
        let later = std::mem::take(staged);
        // A commit that failed may still have landed: its events would
        // then be in the store, never sent, and the next live event would
        // leave a hole. Everyone they were for resumes from the store.
        let told: BTreeSet<StaffId> = f
            .publish
            .iter()
            .chain(&later.pending.publish)
            .flat_map(|p| p.recipients.iter().map(|(s, _)| *s))
            .collect();
        for (releases, recorded) in [(f.releases, f.recorded), (later.releases, later.recorded)] {
            for id in recorded {
                self.commands.remove(&id);
            }
            for r in releases {
                refuse(r);
            }
        }
        // After the answers, so that each is on its way before the close.
        self.registry.kick_staff(
            &told,
            Kick {
                code: 1012,
                reason: "the hub could not confirm a write: resume from your cursor",
            },
        );
        self.reload().await?;
        Ok(())
    }

    /// A commit succeeded: the deadline mirror takes what it stored, then
    /// replies, events and read answers leave, in that order.
    fn release(&mut self, f: InFlight, batch: &Batch) {
        for t in &batch.tasks {
            self.set_deadline(Subject::Task(t.view.id), t.deadline());
        }
        for p in &batch.pages {
            self.set_deadline(Subject::Page(p.view.id), p.view.next_escalation_at);
        }
        for p in &batch.patients {
            self.set_deadline(Subject::Patient(p.view.id), p.next_check_at);
        }
        for (staff, shift) in &batch.shifts {
            let until = shift
                .as_ref()
                .and_then(|s| s.busy.as_ref())
                .map(|b| b.until);
            self.set_deadline(Subject::Busy(*staff), until);
        }
        // Replies first: a client hears `ok` no later than the events it caused.
        let mut later = Vec::new();
        for r in f.releases {
            match r {
                Release::Reply(_, reply, text) => {
                    let _ = reply.send(text);
                }
                other => later.push(other),
            }
        }
        for p in &f.publish {
            let n = self.registry.publish(p.at, &p.body, &p.recipients);
            self.metrics.events_sent.inc_by(n);
        }
        for r in later {
            match r {
                Release::Reply(..) => {}
                Release::Whois(reply, answer) => {
                    let _ = reply.send(answer);
                }
                Release::Timeline(id, task, reply) => self.send_timeline(id, task, reply),
                Release::Stats(reply) => {
                    self.update_task_gauges();
                    let _ = reply.send(());
                }
            }
        }
    }

    /// At shutdown, once nothing is staged or committing: the transport
    /// acks and inbox rows still owed, in one last commit.
    pub(super) async fn last_commit(&mut self) {
        // Neither is needed for a correct restart (the inbox rows
        // are rebuilt from the events), only for a quicker one.
        let mut batch = Batch {
            acks: self.dirty_acks.drain().collect(),
            ..Batch::default()
        };
        self.inbox.write_all(&mut batch);
        let stored = if batch.is_empty() {
            Ok(())
        } else {
            self.store.commit(&batch).await
        };
        if let Err(e) = stored {
            warn!(error = %e, "could not store transport acks and inbox rows");
        }
        info!(audit_head = %self.audit.head(), "writer stopped after its last commit");
    }
}

/// Tells whoever waits on a release that its batch was not stored.
fn refuse(r: Release) {
    // Not "nothing changed": a commit that failed may still have landed.
    const NOT_STORED: &str =
        "the hub could not confirm this was stored (it may or may not have been applied); retry with the same id, which applies it at most once";
    match r {
        Release::Reply(id, reply, _) | Release::Timeline(id, _, reply) => {
            let _ = reply.send(error_frame(Some(id), ErrorCode::Internal, NOT_STORED));
        }
        // Dropping the sender tells a hello that the hub cannot answer now.
        Release::Whois(..) | Release::Stats(..) => {}
    }
}
