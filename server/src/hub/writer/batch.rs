//! What a group commit gathers while the one before it runs: the rows to
//! write (`Pending`), what may leave once they are stored (`Release`), the
//! batch being staged (`Staged`) and the one committing (`InFlight`).

use crate::domain::{Effects, Write};
use crate::hub::inbox::InboxTail;
use crate::store::audit_chain::AuditChain;
use crate::store::{Batch, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::oneshot;
use tracing::error;
use wardpage_proto::{CommandId, Millis, StaffId, StaffView};

/// An event committed in this batch, to publish once the commit returns.
pub(super) struct Publication {
    pub(super) at: Millis,
    pub(super) body: Arc<str>,
    pub(super) recipients: Vec<(StaffId, u64)>,
}

/// What one group commit is gathering: the rows to write, the events to
/// publish after it, and where each task and page already sits in it.
#[derive(Default)]
pub(super) struct Pending {
    pub(super) batch: Batch,
    pub(super) publish: Vec<Publication>,
    tasks: HashMap<wardpage_proto::TaskId, usize>,
    pages: HashMap<wardpage_proto::PageId, usize>,
    patients: HashMap<wardpage_proto::PatientId, usize>,
    /// Set when an event could not be serialised: the batch is then refused
    /// like a failed commit (everyone in it hears `internal`, the state is
    /// reloaded), never sent with a broken body.
    pub(super) poisoned: Option<String>,
}

impl Pending {
    /// Folds a command's effects into the batch, numbering event rows.
    pub(super) fn absorb(&mut self, fx: Effects, inbox: &mut InboxTail, audit: &mut AuditChain) {
        let Pending {
            batch,
            publish,
            tasks,
            pages,
            patients,
            poisoned,
        } = self;
        for w in fx.writes {
            match w {
                // A task changed twice in one batch is written once, as it ends up.
                Write::Task(t) => match tasks.get(&t.view.id) {
                    Some(i) => batch.tasks[*i] = *t,
                    None => {
                        tasks.insert(t.view.id, batch.tasks.len());
                        batch.tasks.push(*t);
                    }
                },
                Write::Page(p) => match pages.get(&p.view.id) {
                    Some(i) => batch.pages[*i] = *p,
                    None => {
                        pages.insert(p.view.id, batch.pages.len());
                        batch.pages.push(*p);
                    }
                },
                Write::Patient(p) => match patients.get(&p.view.id) {
                    Some(i) => batch.patients[*i] = *p,
                    None => {
                        patients.insert(p.view.id, batch.patients.len());
                        batch.patients.push(*p);
                    }
                },
                Write::Observation(o) => batch.observations.push(o),
                Write::Shift(staff, shift) => batch.shifts.push((staff, shift)),
            }
        }
        batch
            .audit
            .extend(fx.audit.into_iter().map(|a| audit.chain(a)));
        for d in fx.deliveries {
            let body: Arc<str> = match serde_json::to_string(&d.event) {
                Ok(text) => Arc::from(text),
                Err(e) => {
                    error!(error = %e, "could not serialise an event; refusing its batch");
                    *poisoned = Some(format!("could not serialise an event: {e}"));
                    continue;
                }
            };
            batch
                .events
                .push(inbox.event(d.at, body.clone(), &d.recipients));
            publish.push(Publication {
                at: d.at,
                body,
                recipients: d.recipients,
            });
        }
    }
}

/// Something that may leave the writer only once the batch it was staged
/// with is committed: it may show state that batch (or an earlier one) made.
pub(super) enum Release {
    /// A command's `ok`/`error` frame, or a read's answer computed when it
    /// arrived.
    Reply(CommandId, oneshot::Sender<String>, String),
    Whois(
        oneshot::Sender<Option<(StaffView, u64)>>,
        Option<(StaffView, u64)>,
    ),
    /// A task's audit trail, read from the store after the commit so that
    /// it holds every change made before the request.
    Timeline(CommandId, wardpage_proto::TaskId, oneshot::Sender<String>),
    Stats(oneshot::Sender<()>),
}

/// The batch being gathered: applied to the in-memory state already, and
/// committed as soon as the store is free.
#[derive(Default)]
pub(super) struct Staged {
    pub(super) pending: Pending,
    pub(super) releases: Vec<Release>,
    /// Command ids this batch recorded (forgotten again if it fails).
    pub(super) recorded: Vec<CommandId>,
    pub(super) commands: usize,
}

impl Staged {
    pub(super) fn is_empty(&self) -> bool {
        self.pending.batch.is_empty() && self.releases.is_empty()
    }
}

/// A batch whose commit is running on the store's own thread while the
/// writer applies the next one.
pub(super) struct InFlight {
    pub(super) commit: tokio::task::JoinHandle<(Batch, Result<(), StoreError>)>,
    pub(super) publish: Vec<Publication>,
    pub(super) releases: Vec<Release>,
    pub(super) recorded: Vec<CommandId>,
    pub(super) commands: usize,
    pub(super) started: Instant,
}
