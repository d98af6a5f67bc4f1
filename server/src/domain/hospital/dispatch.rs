//! The dispatch tables behind [`Hospital::apply`]: one handler per command,
//! with the patient commands and the read commands in tables of their own.

use super::pages::PageDraft;
use super::queries::resume;
use super::tasks::NewTask;
use super::{Effects, Hospital};
use crate::domain::ids::Ids;
use crate::domain::DomainError;
use wardpage_proto::{Command, Millis, StaffId};

impl Hospital {
    /// The dispatch table: one handler per command (reads and patient
    /// commands in tables of their own).
    pub(super) fn apply_command(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        if !self.roster.staff.get(&actor).is_some_and(|s| s.active) {
            return Err(DomainError::Forbidden("account is not active".into()));
        }
        match cmd {
            Command::RaiseTask {
                ward,
                bed,
                patient,
                patient_id,
                category,
                priority,
                requirement,
                sbar,
            } => {
                let new = NewTask {
                    ward,
                    bed,
                    patient,
                    patient_id: *patient_id,
                    category: *category,
                    priority: *priority,
                    requirement: *requirement,
                    sbar,
                };
                self.raise_task(actor, new, now, ids)
            }
            Command::Accept { task } => self.accept(actor, *task, now),
            Command::Decline { task, reason } => self.decline(actor, *task, reason, now),
            Command::Start { task } => self.start(actor, *task, now),
            Command::Complete { task, outcome } => self.complete(actor, *task, outcome, now),
            Command::CompleteOffline {
                task,
                outcome,
                done_at,
            } => self.complete_offline(actor, *task, outcome, *done_at, now),
            Command::HandBack { task, reason } => self.hand_back(actor, *task, reason, now),
            Command::Cancel { task, reason } => self.cancel(actor, *task, reason, now),
            Command::Assign { task, staff } => self.assign(actor, *task, *staff, now),
            Command::SetPriority { task, priority } => {
                self.set_priority(actor, *task, *priority, now)
            }
            Command::SendPage {
                target,
                priority,
                callback,
                message,
                ward,
            } => {
                let draft = PageDraft {
                    target: *target,
                    priority: *priority,
                    callback,
                    message,
                    ward: ward.as_ref(),
                };
                self.send_page(actor, draft, now, ids)
            }
            Command::PageRead { page } => self.page_read(actor, *page, now),
            Command::PageAck { page, reply } => self.page_ack(actor, *page, *reply, now),
            Command::StartShift {
                staff,
                role,
                wards,
                ends_at,
            } => self.start_shift(actor, *staff, *role, wards, *ends_at, now),
            Command::EndShift { staff } => self.end_shift(actor, *staff, now),
            Command::EscalateNow { task } => self.escalate_now(actor, *task, now),
            Command::SetBusy { reason, minutes } => self.set_busy(actor, reason, *minutes, now),
            Command::EndBusy {} => self.end_busy(actor, now),
            Command::HandOver { task, to } => self.hand_over(actor, *task, *to, now),
            Command::AcceptHandover { task } => self.accept_handover(actor, *task, now),
            Command::DeclineHandover { task, reason } => {
                self.decline_handover(actor, *task, reason, now)
            }
            Command::AdmitPatient { .. }
            | Command::UpdatePatient { .. }
            | Command::TransferPatient { .. }
            | Command::DischargePatient { .. }
            | Command::SetSpo2Scale { .. }
            | Command::RecordObservations { .. }
            | Command::RaiseConcern { .. }
            | Command::SetHandoverNote { .. } => self.apply_patient_command(actor, cmd, now, ids),
            Command::History { .. }
            | Command::Timeline { .. }
            | Command::Snapshot { .. }
            | Command::Directory {}
            | Command::Patients { .. }
            | Command::Chart { .. }
            | Command::Handover {} => self.answer_read(actor, cmd, now),
        }
    }

    /// The patient commands' dispatch table.
    pub(super) fn apply_patient_command(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        match cmd {
            Command::AdmitPatient { ward, bed, patient } => {
                self.admit_patient(actor, ward, bed, patient, now, ids)
            }
            Command::UpdatePatient { patient, details } => {
                self.update_patient(actor, *patient, details, now)
            }
            Command::TransferPatient { patient, ward, bed } => {
                self.transfer_patient(actor, *patient, ward, bed, now)
            }
            Command::DischargePatient { patient } => self.discharge_patient(actor, *patient, now),
            Command::SetSpo2Scale {
                patient,
                scale,
                reason,
                target_low,
                target_high,
            } => {
                let target = (target_low.unwrap_or(88), target_high.unwrap_or(92));
                self.set_spo2_scale(actor, *patient, *scale, reason, target, now)
            }
            Command::RecordObservations { patient, set } => {
                self.record_observations(actor, *patient, set, now, ids)
            }
            Command::RaiseConcern { patient, concern } => {
                self.raise_concern(actor, *patient, concern, now, ids)
            }
            Command::SetHandoverNote { patient, note } => {
                self.set_handover_note(actor, *patient, note, now)
            }
            other => Err(unhandled(other)),
        }
    }

    /// The read commands' table: they change nothing (and mint nothing).
    pub(super) fn answer_read(
        &mut self,
        actor: StaffId,
        cmd: &Command,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        let result = match cmd {
            Command::History { since, after } => {
                self.history(actor, *since, resume(after)?, now)?
            }
            Command::Timeline { task } => return self.timeline(actor, *task, now),
            Command::Snapshot { after } => self.snapshot(actor, resume(after)?, now),
            Command::Directory {} => self.directory(now),
            Command::Patients { ward, after } => {
                self.patients(actor, ward.as_ref(), resume(after)?, now)?
            }
            Command::Chart { patient } => self.chart(actor, *patient, now)?,
            Command::Handover {} => self.handover_read(actor),
            other => return Err(unhandled(other)),
        };
        Ok(Effects {
            result: Some(result),
            ..Effects::default()
        })
    }
}

/// A command sent to a table that has no row for it: `apply_command`
/// sends each command to the table that has, so this is a hub defect,
/// refused rather than a panic.
fn unhandled(cmd: &Command) -> DomainError {
    DomainError::InvalidState(format!("the hub cannot carry out `{}` here", cmd.op()))
}
