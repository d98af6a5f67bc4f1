//! What each command is called on the wire, whether it only reads, and
//! the protocol's field rules for it ([`Command::validate`], and
//! [`Command::validate_at`] for the rules that need the hub's clock).

use super::Command;
use crate::clinical::{Spo2Scale, MAX_CONCERN_CHARS};
use crate::error::FieldError;
use crate::ids::WardId;
use crate::limits::*;
use crate::paging::Resume;
use crate::text::{free_text as text, identifier};
use crate::Millis;

impl Command {
    /// The command's name on the wire (its `op`).
    pub fn op(&self) -> &'static str {
        match self {
            Command::RaiseTask { .. } => "raise_task",
            Command::Accept { .. } => "accept",
            Command::Decline { .. } => "decline",
            Command::Start { .. } => "start",
            Command::Complete { .. } => "complete",
            Command::CompleteOffline { .. } => "complete_offline",
            Command::HandBack { .. } => "hand_back",
            Command::Cancel { .. } => "cancel",
            Command::Assign { .. } => "assign",
            Command::SetPriority { .. } => "set_priority",
            Command::SendPage { .. } => "send_page",
            Command::PageRead { .. } => "page_read",
            Command::PageAck { .. } => "page_ack",
            Command::StartShift { .. } => "start_shift",
            Command::EndShift { .. } => "end_shift",
            Command::EscalateNow { .. } => "escalate_now",
            Command::SetBusy { .. } => "set_busy",
            Command::EndBusy {} => "end_busy",
            Command::HandOver { .. } => "hand_over",
            Command::AcceptHandover { .. } => "accept_handover",
            Command::DeclineHandover { .. } => "decline_handover",
            Command::Handover {} => "handover",
            Command::History { .. } => "history",
            Command::Timeline { .. } => "timeline",
            Command::Snapshot { .. } => "snapshot",
            Command::Directory {} => "directory",
            Command::SetHandoverNote { .. } => "set_handover_note",
            Command::AdmitPatient { .. } => "admit_patient",
            Command::UpdatePatient { .. } => "update_patient",
            Command::TransferPatient { .. } => "transfer_patient",
            Command::DischargePatient { .. } => "discharge_patient",
            Command::SetSpo2Scale { .. } => "set_spo2_scale",
            Command::RecordObservations { .. } => "record_observations",
            Command::RaiseConcern { .. } => "raise_concern",
            Command::Patients { .. } => "patients",
            Command::Chart { .. } => "chart",
        }
    }

    /// Whether the command only reads (it changes nothing and needs no commit).
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            Command::Snapshot { .. }
                | Command::Directory {}
                | Command::History { .. }
                | Command::Timeline { .. }
                | Command::Patients { .. }
                | Command::Chart { .. }
                | Command::Handover {}
        )
    }

    /// Checks the protocol's field rules: lengths, which characters a text
    /// field may hold (`crate::text`), ward code shape, paging tokens. It
    /// knows nothing of which wards or staff exist, nor of the time: see
    /// [`Command::validate_at`].
    pub fn validate(&self) -> Result<(), FieldError> {
        match self {
            Command::RaiseTask {
                ward,
                bed,
                patient,
                sbar,
                ..
            } => {
                ward_ok("ward", ward)?;
                identifier("bed", bed, 1, MAX_BED_CHARS)?;
                identifier("patient", patient, 0, MAX_PATIENT_CHARS)?;
                text("sbar.situation", &sbar.situation, 1, MAX_SBAR_CHARS)?;
                text("sbar.background", &sbar.background, 0, MAX_SBAR_CHARS)?;
                text("sbar.assessment", &sbar.assessment, 0, MAX_SBAR_CHARS)?;
                text(
                    "sbar.recommendation",
                    &sbar.recommendation,
                    0,
                    MAX_SBAR_CHARS,
                )
            }
            Command::Decline { reason, .. }
            | Command::HandBack { reason, .. }
            | Command::DeclineHandover { reason, .. }
            | Command::Cancel { reason, .. } => text("reason", reason, 1, MAX_REASON_CHARS),
            Command::Complete { outcome, .. } | Command::CompleteOffline { outcome, .. } => {
                text("outcome", outcome, 0, MAX_REASON_CHARS)
            }
            Command::SendPage {
                callback,
                message,
                ward,
                ..
            } => {
                identifier("callback", callback, 1, MAX_CALLBACK_CHARS)?;
                crate::page_extras::callback_ok(callback)?;
                if let Some(w) = ward {
                    ward_ok("ward", w)?;
                }
                text("message", message, 0, MAX_MESSAGE_CHARS)
            }
            Command::StartShift { wards, .. } => {
                if wards.is_empty() || wards.len() > MAX_WARDS_PER_SHIFT {
                    return Err(FieldError::new(
                        "wards",
                        format!("must list 1 to {MAX_WARDS_PER_SHIFT} wards"),
                    ));
                }
                wards.iter().try_for_each(|w| ward_ok("wards", w))
            }
            Command::Snapshot { after } | Command::History { after, .. } => {
                Resume::from_after(after.as_deref()).map(|_| ())
            }
            Command::AdmitPatient { ward, bed, patient } => {
                crate::clinical::ward_bed_ok(ward, bed)?;
                patient.validate()
            }
            Command::UpdatePatient { details, .. } => details.validate(),
            Command::TransferPatient { ward, bed, .. } => crate::clinical::ward_bed_ok(ward, bed),
            Command::SetSpo2Scale {
                scale,
                reason,
                target_low,
                target_high,
                ..
            } => {
                let min = usize::from(*scale == Spo2Scale::Scale2);
                text("reason", reason, min, MAX_CONCERN_CHARS)?;
                let (lo, hi) = (target_low.unwrap_or(88), target_high.unwrap_or(92));
                if !(70..=100).contains(&lo) || !(70..=100).contains(&hi) || lo >= hi {
                    return Err(FieldError::new(
                        "target_low",
                        "the target range must be two values from 70 to 100, low below high",
                    ));
                }
                Ok(())
            }
            Command::RecordObservations { set, .. } => set.validate(),
            Command::RaiseConcern { concern, .. } => text("concern", concern, 1, MAX_CONCERN_CHARS),
            Command::SetHandoverNote { note, .. } => note.validate(),
            Command::SetBusy { reason, minutes } => {
                identifier("reason", reason, 1, MAX_BUSY_REASON_CHARS)?;
                if !(MIN_BUSY_MINUTES..=MAX_BUSY_MINUTES).contains(minutes) {
                    return Err(FieldError::new(
                        "minutes",
                        format!("must be {MIN_BUSY_MINUTES} to {MAX_BUSY_MINUTES} minutes"),
                    ));
                }
                Ok(())
            }
            Command::Patients { ward, after } => {
                if let Some(w) = ward {
                    ward_ok("ward", w)?;
                }
                Resume::from_after(after.as_deref()).map(|_| ())
            }
            Command::Accept { .. }
            | Command::Start { .. }
            | Command::Assign { .. }
            | Command::SetPriority { .. }
            | Command::PageRead { .. }
            | Command::PageAck { .. }
            | Command::EndShift { .. }
            | Command::EscalateNow { .. }
            | Command::EndBusy {}
            | Command::HandOver { .. }
            | Command::AcceptHandover { .. }
            | Command::Handover {}
            | Command::Timeline { .. }
            | Command::Directory {}
            | Command::DischargePatient { .. }
            | Command::Chart { .. } => Ok(()),
        }
    }

    /// [`Command::validate`], and the rules that need the time: a shift
    /// must end within [`MAX_SHIFT_MS`] of `now` (a shift ending in the year
    /// 2500 would keep someone a candidate forever).
    pub fn validate_at(&self, now: Millis) -> Result<(), FieldError> {
        self.validate()?;
        if let Command::RecordObservations { set, .. } = self {
            set.validate_at(now)?;
        }
        if let Command::StartShift { ends_at, .. } = self {
            if *ends_at > now.saturating_add(MAX_SHIFT_MS) {
                return Err(FieldError::new(
                    "ends_at",
                    format!(
                        "a shift must end within {} hours of now",
                        MAX_SHIFT_MS / 3_600_000
                    ),
                ));
            }
        }
        Ok(())
    }
}

fn ward_ok(field: &'static str, ward: &WardId) -> Result<(), FieldError> {
    if ward.is_well_formed() {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "ward codes are 1 to 32 lower-case letters, digits or '-'",
        ))
    }
}
