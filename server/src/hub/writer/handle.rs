//! How the rest of the hub talks to the writer: the messages it takes and
//! the cheap, clonable handle that sends them. Replies come back on a
//! oneshot channel carried in the message.

use tokio::sync::{mpsc, oneshot};
use wardpage_proto::{Command, CommandId, Millis, StaffId, StaffView};

pub enum WriterMsg {
    /// A client command; the reply is the whole `ok` or `error` frame.
    Command {
        actor: StaffId,
        id: CommandId,
        /// Boxed: commands are the largest message, and the rest are small.
        cmd: Box<Command>,
        /// When the client says it first made the command (`issued_at`).
        issued_at: Option<Millis>,
        reply: oneshot::Sender<String>,
    },
    /// Who is this, and where does their stream stand?
    Whois {
        staff: StaffId,
        reply: oneshot::Sender<Option<(StaffView, u64)>>,
    },
    /// A device has every event up to `seq`.
    Acked { staff: StaffId, seq: u64 },
    /// Tasks by state, for `/metrics`.
    Stats { reply: oneshot::Sender<()> },
    /// Finish what is queued, commit it, and stop.
    Shutdown,
    /// Internal: the earliest escalation deadline has passed.
    EscalateDue,
    /// The roster's version in the store moved (see `watch_roster`).
    RosterChanged { version: i64 },
    /// Someone's device count went from or to zero.
    /// (The writer reads who is connected from the registry itself, so
    /// hints that arrive out of order cannot leave it wrong.)
    Presence { staff: StaffId },
    /// An audit row from outside the domain (a login), chained and
    /// committed with the next batch.
    Audit(crate::domain::AuditRecord),
}

/// A cheap, clonable way to talk to the writer.
#[derive(Clone)]
pub struct WriterHandle {
    pub(super) tx: mpsc::Sender<WriterMsg>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriterGone {
    #[error("the hub is shutting down")]
    Closed,
}

impl WriterHandle {
    /// Queues a command and returns the receiver for its reply, so a
    /// connection can keep reading while the command commits.
    pub async fn submit(
        &self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        issued_at: Option<Millis>,
    ) -> Result<oneshot::Receiver<String>, WriterGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterMsg::Command {
                actor,
                id,
                cmd: Box::new(cmd),
                issued_at,
                reply,
            })
            .await
            .map_err(|_| WriterGone::Closed)?;
        Ok(rx)
    }

    pub async fn whois(&self, staff: StaffId) -> Result<Option<(StaffView, u64)>, WriterGone> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(WriterMsg::Whois { staff, reply })
            .await
            .map_err(|_| WriterGone::Closed)?;
        rx.await.map_err(|_| WriterGone::Closed)
    }

    /// Whether the writer has stopped (nothing can change any more).
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Best effort: acks are cumulative, a lost one is repaired by the next.
    pub fn acked(&self, staff: StaffId, seq: u64) {
        let _ = self.tx.try_send(WriterMsg::Acked { staff, seq });
    }

    /// Best effort: a hint that someone's devices changed. A hint lost to a
    /// full queue is made good by the writer's own check every tick.
    pub fn presence(&self, staff: StaffId) {
        let _ = self.tx.try_send(WriterMsg::Presence { staff });
    }

    /// Queues an audit row (waits for room in the writer's queue, not for
    /// the commit).
    pub async fn audit(&self, record: crate::domain::AuditRecord) -> Result<(), WriterGone> {
        self.tx
            .send(WriterMsg::Audit(record))
            .await
            .map_err(|_| WriterGone::Closed)
    }

    pub async fn refresh_stats(&self) {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(WriterMsg::Stats { reply }).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub async fn shutdown(&self) {
        let _ = self.tx.send(WriterMsg::Shutdown).await;
    }
}
