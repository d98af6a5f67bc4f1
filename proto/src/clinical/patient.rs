//! A patient on the wire: who they are ([`PatientDetails`], with the NHS
//! number's check digit and real dates of birth), where they lie
//! ([`PatientView`]), how a task names them, and what a patient's event
//! reports.

use super::{
    LatestScore, Scale2Order, Spo2Scale, MAX_ALERTS_CHARS, MAX_CONSULTANT_CHARS, MAX_NAME_CHARS,
};
use crate::error::FieldError;
use crate::ids::{PatientId, TaskId, WardId};
use crate::text::{free_text, identifier};
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Sex as recorded by the hospital.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

/// Who the patient is. An NHS number (10 digits, spaces allowed, with a
/// valid modulus 11 check digit) or a local hospital number is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PatientDetails {
    #[serde(default)]
    #[ts(optional, type = "string | null")]
    pub nhs_number: Option<String>,
    #[serde(default)]
    #[ts(optional, type = "string | null")]
    pub local_number: Option<String>,
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub born: String,
    pub sex: Sex,
    #[serde(default)]
    pub consultant: String,
    /// Free text: allergies, resuscitation status.
    #[serde(default)]
    pub alerts: String,
}

/// Whether `s` (spaces allowed) is a 10-digit NHS number with a valid
/// modulus 11 check digit; the digits alone if so.
pub fn nhs_number_digits(s: &str) -> Result<String, String> {
    let digits: String = s.chars().filter(|c| *c != ' ').collect();
    if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("an NHS number is 10 digits".into());
    }
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(x, w)| x * w).sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return Err("is not a valid NHS number (no number has this check digit)".into()),
        c => c,
    };
    if check != d[9] {
        return Err(format!(
            "is not a valid NHS number: its check digit should be {check}, not {}",
            d[9]
        ));
    }
    Ok(digits)
}

fn date_ok(field: &'static str, s: &str) -> Result<(), FieldError> {
    let bad = || FieldError::new(field, "must be a date, YYYY-MM-DD");
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (u32, u32, u32) = match (y.parse(), m.parse(), d.parse()) {
        (Ok(y), Ok(m), Ok(d)) => (y, m, d),
        _ => return Err(bad()),
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad()),
    };
    if !(1900..=2200).contains(&y) || d == 0 || d > days {
        return Err(bad());
    }
    Ok(())
}

impl PatientDetails {
    pub fn validate(&self) -> Result<(), FieldError> {
        if let Some(n) = &self.nhs_number {
            nhs_number_digits(n).map_err(|p| FieldError::new("patient.nhs_number", p))?;
        }
        if let Some(l) = &self.local_number {
            identifier(
                "patient.local_number",
                l,
                1,
                crate::limits::MAX_PATIENT_CHARS,
            )?;
        }
        if self.nhs_number.is_none() && self.local_number.is_none() {
            return Err(FieldError::new(
                "patient.nhs_number",
                "an NHS number or a local hospital number is required",
            ));
        }
        identifier("patient.name", &self.name, 1, MAX_NAME_CHARS)?;
        date_ok("patient.born", &self.born)?;
        free_text(
            "patient.consultant",
            &self.consultant,
            0,
            MAX_CONSULTANT_CHARS,
        )?;
        free_text("patient.alerts", &self.alerts, 0, MAX_ALERTS_CHARS)
    }

    /// The NHS number as digits alone (it was validated).
    pub fn canonical(mut self) -> PatientDetails {
        if let Some(n) = &self.nhs_number {
            if let Ok(d) = nhs_number_digits(n) {
                self.nhs_number = Some(d);
            }
        }
        self
    }
}

/// A patient in a bed (or discharged: `discharged_at` set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PatientView {
    pub id: PatientId,
    pub version: u32,
    pub ward: WardId,
    pub bed: String,
    pub details: PatientDetails,
    #[ts(type = "number")]
    pub admitted_at: Millis,
    #[ts(type = "number | null")]
    pub discharged_at: Option<Millis>,
    pub scale: Spo2Scale,
    /// Set while the patient is on Scale 2.
    pub scale2: Option<Scale2Order>,
    /// The newest set (complete or not).
    pub latest: Option<LatestScore>,
    /// When the next set is due, from the last complete score's frequency
    /// (`null` once discharged).
    #[ts(type = "number | null")]
    pub obs_due_at: Option<Millis>,
    /// The hub has found the next set overdue and told the ward.
    pub obs_overdue: bool,
    /// The open review task of the current episode (NEWS2 or concern).
    pub review: Option<TaskId>,
    /// The current shift handover note (`set_handover_note`), kept from
    /// shift to shift until replaced; absent if none was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub handover_note: Option<crate::HandoverNote>,
    #[ts(type = "number")]
    pub updated_at: Millis,
}

/// A patient as a task names them: enough to check the wristband.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PatientRef {
    pub id: PatientId,
    pub name: String,
    pub nhs_number: Option<String>,
    pub local_number: Option<String>,
    pub born: String,
}

/// What a patient's event reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PatientChange {
    Admitted,
    Updated,
    Transferred,
    Discharged,
    ScaleChanged,
    Observed,
    /// The next set is overdue: the ward's nurses should take it now.
    ObservationsOverdue,
    /// A new shift handover note (`set_handover_note`).
    HandoverNote,
}

/// Whether a ward code, bed and details are well formed (the parts a
/// patient command shares).
pub fn ward_bed_ok(ward: &WardId, bed: &str) -> Result<(), FieldError> {
    if !ward.is_well_formed() {
        return Err(FieldError::new(
            "ward",
            "ward codes are 1 to 32 lower-case letters, digits or '-'",
        ));
    }
    identifier("bed", bed, 1, crate::limits::MAX_BED_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_need_their_check_digit() {
        assert_eq!(
            nhs_number_digits("943 476 5919").as_deref(),
            Ok("9434765919")
        );
        assert!(nhs_number_digits("9434765918")
            .expect_err("refused")
            .contains("should be 9"));
        assert!(nhs_number_digits("943476591").is_err());
        assert!(nhs_number_digits("94347659a9").is_err());
    }

    #[test]
    fn dates_are_real_days() {
        assert!(date_ok("b", "1950-02-28").is_ok());
        assert!(date_ok("b", "2000-02-29").is_ok());
        assert!(date_ok("b", "1900-02-29").is_err());
        assert!(date_ok("b", "1950-13-01").is_err());
        assert!(date_ok("b", "50-01-01").is_err());
    }
}
