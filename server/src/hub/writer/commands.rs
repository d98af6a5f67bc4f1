//! Client commands on the writer: idempotency by command id (see
//! `command_ids` for what makes a repeat the same command), applying a
//! command and recording its answer in the same batch, the answers of
//! commands from before a restart, and the `ok` and `error` frames.

use super::batch::{Release, Staged};
use super::Writer;
use crate::domain::Stamp;
use crate::hub::command_ids::{self, Seen};
use crate::store::CommandRecord;
use std::sync::Arc;
use tokio::sync::oneshot;
use tracing::{error, warn};
use wardpage_proto::{Command, CommandId, ErrorCode, Millis, ServerFrame, StaffId};

impl Writer {
    /// Applies one client command (or answers a repeat of one), recording
    /// its id with its answer in the same batch.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn stage_command(
        &mut self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        issued_at: Option<Millis>,
        reply: oneshot::Sender<String>,
        staged: &mut Staged,
        now: Millis,
    ) {
        let op = cmd.op();
        let Some(digest) = command_ids::digest(&cmd) else {
            error!(op, "could not serialise a command to fingerprint it");
            let text = error_frame(
                Some(id),
                ErrorCode::Internal,
                "the hub could not read this command; nothing changed",
            );
            staged.releases.push(Release::Reply(id, reply, text));
            return;
        };
        let remembered = self.commands.get(&id).map(|r| &**r);
        let seen = command_ids::judge(
            remembered,
            actor,
            op,
            &digest,
            issued_at,
            now,
            self.command_retention,
        );
        if let Some(text) = self.answer_again(id, &seen, cmd.is_read_only(), now).await {
            self.count(op, "repeat");
            // Answered after this batch: the first may still be committing.
            staged.releases.push(Release::Reply(id, reply, text));
            return;
        }
        if cmd.is_read_only() {
            // Remembered while the hub runs, so nobody else can take the id
            // of a read; reads are not stored (they change nothing).
            self.remember(CommandRecord {
                id,
                actor,
                op: op.to_owned(),
                digest,
                at: now,
                reply: None,
            });
            staged.releases.push(self.read(actor, id, cmd, reply, now));
            return;
        }
        let text = self.apply_command(actor, id, &cmd, &seen, staged, now);
        let rec = CommandRecord {
            id,
            actor,
            op: op.to_owned(),
            digest,
            at: now,
            reply: Some(Arc::from(text.as_str())),
        };
        self.remember(rec.clone());
        staged.pending.batch.commands.push(rec);
        staged.recorded.push(id);
        staged.releases.push(Release::Reply(id, reply, text));
    }

    /// The answer for an id already used: refused if it was used for
    /// something else, the first answer if it is a repeat (`None`: this is
    /// a command to apply, or a read to answer afresh).
    async fn answer_again(
        &self,
        id: CommandId,
        seen: &Seen,
        read_only: bool,
        now: Millis,
    ) -> Option<String> {
        let remembered = self.commands.get(&id).map(|r| &**r);
        match seen {
            Seen::Reused => Some(error_frame(
                Some(id),
                ErrorCode::IdReused,
                "this command id was already used for another command or by another user; nothing changed",
            )),
            // A read changes nothing: its repeat is answered afresh.
            Seen::Repeat if read_only => None,
            Seen::Repeat => Some(match remembered.and_then(|r| r.reply.clone()) {
                Some(text) => text.to_string(),
                None => {
                    let at = remembered.map_or(now, |r| r.at);
                    self.stored_reply(id, at).await
                }
            }),
            Seen::Expired | Seen::New => None,
        }
    }

    /// Applies a new command (or refuses one too old to vouch for) and
    /// stages what it writes; returns the frame to answer with.
    fn apply_command(
        &mut self,
        actor: StaffId,
        id: CommandId,
        cmd: &Command,
        seen: &Seen,
        staged: &mut Staged,
        now: Millis,
    ) -> String {
        let op = cmd.op();
        if *seen == Seen::Expired {
            self.count(op, "id_expired");
            return error_frame(
                Some(id),
                ErrorCode::IdExpired,
                "this command was issued longer ago than the hub remembers command ids, so it may already have been applied; nothing changed. If it is still needed, send it as a new command",
            );
        }
        // What the command makes takes its ids from the command's id, so
        // the same commands on the same state make the same ids.
        match self.hospital.apply(actor, cmd, Stamp { now, command: id }) {
            Ok(mut fx) => {
                self.count(op, "ok");
                let text = ok_frame(id, fx.result.take());
                staged.pending.absorb(fx, &mut self.inbox, &mut self.audit);
                text
            }
            Err(e) => {
                self.count(op, e.code().as_str());
                error_frame(Some(id), e.code(), &e.to_string())
            }
        }
    }

    fn remember(&mut self, rec: CommandRecord) {
        self.command_order.push_back((rec.at, rec.id));
        self.commands.insert(rec.id, Box::new(rec));
    }

    /// Forgets the ids recorded before `horizon`.
    pub(super) fn forget_commands(&mut self, horizon: Millis) {
        // Oldest first, so forgetting costs what is forgotten, not a walk
        // over every id remembered (a day of ids at full load is millions).
        while let Some((at, id)) = self.command_order.front().copied() {
            if at >= horizon {
                break;
            }
            self.command_order.pop_front();
            if self.commands.get(&id).is_some_and(|c| c.at == at) {
                self.commands.remove(&id);
            }
        }
    }

    /// The answer to a command recorded before this hub started.
    async fn stored_reply(&self, id: CommandId, at: Millis) -> String {
        match self.store.command_reply(id, at).await {
            Ok(Some(text)) if !text.is_empty() => text,
            Ok(_) => error_frame(
                Some(id),
                ErrorCode::Internal,
                "the first answer to this command is missing; check the task before retrying",
            ),
            Err(e) => {
                warn!(error = %e, "could not read a remembered answer");
                error_frame(
                    Some(id),
                    ErrorCode::Internal,
                    "could not read the first answer to this command; retry with the same id",
                )
            }
        }
    }
}

/// The `ok` frame for a command's result. Every command the domain accepts
/// has a result; one without is a hub defect, answered `internal` (never an
/// empty frame) and logged.
pub(super) fn ok_frame(id: CommandId, result: Option<wardpage_proto::CommandResult>) -> String {
    match result {
        Some(result) => ServerFrame::Ok { id, result }.to_text(),
        None => {
            error!(%id, "a command was applied without a result to answer with");
            error_frame(
                Some(id),
                ErrorCode::Internal,
                "the hub applied this command but could not say how; check before retrying",
            )
        }
    }
}

/// An `error` frame.
pub fn error_frame(id: Option<CommandId>, code: ErrorCode, message: &str) -> String {
    ServerFrame::Error {
        id,
        code,
        message: message.to_owned(),
    }
    .to_text()
}
