//! Answers the writer gives without changing anything: read-only commands
//! (from the state as staged), `whois` for a connection's hello, and task
//! timelines, read from the store on a task of their own once the batch
//! they wait for is committed.

use super::batch::{Release, Staged};
use super::commands::{error_frame, ok_frame};
use super::Writer;
use crate::domain::Stamp;
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use tokio::sync::oneshot;
use tracing::warn;
use wardpage_proto::{Command, CommandId, ErrorCode, Millis, ServerFrame, StaffId, StaffView};

impl Writer {
    /// Answers a read-only command from the state as it is now (including
    /// batches not yet committed, which is why the answer waits for them).
    pub(super) fn read(
        &mut self,
        actor: StaffId,
        id: CommandId,
        cmd: Command,
        reply: oneshot::Sender<String>,
        now: Millis,
    ) -> Release {
        let text = match self.hospital.apply(actor, &cmd, Stamp { now, command: id }) {
            Ok(_) if matches!(cmd, Command::Timeline { .. }) => {
                let Command::Timeline { task } = cmd else {
                    unreachable!("matched above")
                };
                self.count("timeline", "ok");
                return Release::Timeline(id, task, reply);
            }
            Ok(fx) => {
                self.count(cmd.op(), "ok");
                ok_frame(id, fx.result)
            }
            Err(e) => {
                self.count(cmd.op(), e.code().as_str());
                error_frame(Some(id), e.code(), &e.to_string())
            }
        };
        Release::Reply(id, reply, text)
    }

    pub(super) async fn whois(
        &mut self,
        staff: StaffId,
        now: Millis,
        staged: &Staged,
    ) -> Option<(StaffView, u64)> {
        if !self.hospital.roster().staff.contains_key(&staff) {
            // Added since the last roster check (e.g. `wardpage user add`).
            if let Ok(roster) = self.store.load_roster().await {
                self.replace_roster(roster, staged);
            }
        }
        self.hospital
            .roster()
            .staff
            .get(&staff)
            .filter(|s| s.active)
            .and_then(|_| self.hospital.roster().staff_view(staff, now))
            .map(|v| (v, self.hospital.cursor(staff)))
    }

    /// Sends a task's timeline once the batch it waited for is committed.
    pub(super) fn send_timeline(
        &self,
        id: CommandId,
        task: wardpage_proto::TaskId,
        reply: oneshot::Sender<String>,
    ) {
        // Read off the writer: the rows it needs are committed.
        let store = self.store.clone();
        let names = self.hospital.roster().staff_refs();
        tokio::spawn(async move {
            let text = match timeline(&*store, &names, task).await {
                Ok(result) => ServerFrame::Ok { id, result }.to_text(),
                Err(e) => {
                    warn!(error = %e, "timeline read failed");
                    error_frame(
                        Some(id),
                        ErrorCode::Internal,
                        "could not read the audit trail; retry",
                    )
                }
            };
            let _ = reply.send(text);
        });
    }
}

/// A task's audit trail as the `timeline` result, named from `names`.
async fn timeline(
    store: &dyn Store,
    names: &HashMap<StaffId, wardpage_proto::StaffRef>,
    task: wardpage_proto::TaskId,
) -> Result<wardpage_proto::CommandResult, StoreError> {
    let rows = store.audit_for(&task.to_string()).await?;
    let entries = rows
        .into_iter()
        .map(|r| wardpage_proto::TimelineEntry {
            at: r.at,
            actor: r.actor.and_then(|a| a.parse::<StaffId>().ok()).map(|a| {
                names.get(&a).cloned().unwrap_or(wardpage_proto::StaffRef {
                    id: a,
                    name: "(unknown)".into(),
                })
            }),
            action: r.action,
            from_state: r.from_state,
            to_state: r.to_state,
            detail: r.detail,
        })
        .collect();
    Ok(wardpage_proto::CommandResult::Timeline { task, entries })
}
