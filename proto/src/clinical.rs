//! Patients, bedside observations and their NEWS2 scores, as they appear on
//! the wire, with the protocol's rules for them: the NHS number's check
//! digit, the plausible range of every vital sign, how a measured value is
//! quantised before it is scored.
//!
//! Numbers are quantised where they are read, so that the hub, every client
//! and the store see the one value that was scored: a temperature to the
//! nearest 0.1 °C and every other vital sign to the nearest whole number,
//! halves rounded up (35.05 °C is 35.1; a rate of 8.5 is 9). Bands then
//! meet without gaps: every quantised value falls in exactly one band.

use crate::error::FieldError;
use crate::ids::{ObservationId, PatientId, TaskId, WardId};
use crate::model::StaffRef;
use crate::text::{free_text, identifier};
use crate::Millis;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ts_rs::TS;

/// Longest patient name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest consultant name, in characters.
pub const MAX_CONSULTANT_CHARS: usize = 100;
/// Longest alerts text (allergies, resuscitation status), in characters.
pub const MAX_ALERTS_CHARS: usize = 500;
/// Longest clinical concern or scale reason, in characters.
pub const MAX_CONCERN_CHARS: usize = 1000;
/// How far ahead of the hub's clock a set's `taken_at` may be: a handset's
/// clock a little fast is tolerated, a set from the future is not.
pub const MAX_TAKEN_AHEAD_MS: Millis = 2 * 60_000;
/// How long ago a set may have been taken: a set queued offline keeps its
/// time, but one older than this is refused (it would rewrite history).
pub const MAX_TAKEN_AGO_MS: Millis = 24 * 3_600_000;
/// How far back a chart reaches.
pub const CHART_WINDOW_MS: Millis = 72 * 3_600_000;

/// A value quantised to a whole number (breaths, beats, mmHg, %): sent as
/// any JSON number, rounded to the nearest whole, halves up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, TS)]
#[ts(export, type = "number")]
pub struct Whole(pub i32);

/// A value quantised to tenths (°C, L/min): sent as any JSON number,
/// rounded to the nearest 0.1, halves up; held as tenths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, TS)]
#[ts(export, type = "number")]
pub struct Tenths(pub i32);

/// Far outside any plausible vital sign: larger numbers are clamped here
/// before the range check refuses them, so no cast can overflow.
const CLAMP: f64 = 1.0e6;

/// Rounds half up, after a nudge that absorbs binary representation error:
/// 35.05 is stored as 35.04999…, and must count as 35.05.
fn round_half_up(x: f64, scale: f64) -> i32 {
    let x = x.clamp(-CLAMP, CLAMP) * scale;
    (x + 0.5 + 1e-7).floor() as i32
}

impl Whole {
    pub fn from_f64(x: f64) -> Whole {
        Whole(round_half_up(x, 1.0))
    }
}

impl Tenths {
    pub fn from_f64(x: f64) -> Tenths {
        Tenths(round_half_up(x, 10.0))
    }
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 10.0
    }
}

impl Serialize for Whole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.0)
    }
}
impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Whole::from_f64)
    }
}
impl Serialize for Tenths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}
impl<'de> Deserialize<'de> for Tenths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        f64::deserialize(d).map(Tenths::from_f64)
    }
}

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

/// Which SpO2 scale scores the patient's oxygen saturation. Scale 2 is for
/// hypercapnic respiratory failure only, set by a doctor with a reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[ts(export)]
pub enum Spo2Scale {
    #[default]
    #[serde(rename = "scale_1")]
    Scale1,
    #[serde(rename = "scale_2")]
    Scale2,
}

/// ACVPU: alert, new confusion, voice, pain, unresponsive. Chronic
/// confusion that is the patient's baseline is `alert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Consciousness {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

/// How oxygen is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OxygenDevice {
    NasalCannula,
    SimpleMask,
    Venturi,
    NonRebreather,
    Humidified,
    HighFlow,
    Cpap,
    Niv,
    Other,
}

/// Air, or oxygen with its device and either a flow or an FiO2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Breathing {
    Air,
    Oxygen {
        device: OxygenDevice,
        /// Litres per minute, to 0.1.
        #[serde(default)]
        #[ts(optional, type = "number | null")]
        flow_l_min: Option<Tenths>,
        /// Inspired oxygen, % (21-100).
        #[serde(default)]
        #[ts(optional, type = "number | null")]
        fio2_percent: Option<Whole>,
    },
}

/// One set of bedside observations as the nurse enters it. Any vital sign
/// may be left out (`null` or absent): the set is then stored and shown as
/// incomplete, with no total.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ObservationSet {
    /// Breaths per minute.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub respiration_rate: Option<Whole>,
    /// Oxygen saturation, %.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub spo2: Option<Whole>,
    #[serde(default)]
    #[ts(optional)]
    pub breathing: Option<Breathing>,
    /// mmHg.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub systolic: Option<Whole>,
    /// mmHg (recorded, not scored).
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub diastolic: Option<Whole>,
    /// Beats per minute.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub pulse: Option<Whole>,
    #[serde(default)]
    #[ts(optional)]
    pub consciousness: Option<Consciousness>,
    /// °C, to 0.1.
    #[serde(default)]
    #[ts(optional, type = "number | null")]
    pub temperature: Option<Tenths>,
    /// When the set was taken, by the device's clock, kept as given: it
    /// must lie within 24 h before and 2 min after the hub's clock.
    #[ts(type = "number")]
    pub taken_at: Millis,
}

/// The accepted range of a whole-number vital sign (inclusive): outside it
/// a value is implausible (a typing slip), inside it extreme but possible.
pub const RESPIRATION_RANGE: (i32, i32) = (0, 80);
pub const SPO2_RANGE: (i32, i32) = (40, 100);
pub const SYSTOLIC_RANGE: (i32, i32) = (30, 300);
pub const DIASTOLIC_RANGE: (i32, i32) = (10, 200);
pub const PULSE_RANGE: (i32, i32) = (15, 300);
pub const FIO2_RANGE: (i32, i32) = (21, 100);
/// Tenths of °C: 25.0 to 45.0.
pub const TEMPERATURE_RANGE: (i32, i32) = (250, 450);
/// Tenths of L/min: 0.1 to 70.
pub const FLOW_RANGE: (i32, i32) = (1, 700);

fn whole_in(
    field: &'static str,
    v: Option<Whole>,
    (lo, hi): (i32, i32),
    unit: &str,
) -> Result<(), FieldError> {
    match v {
        Some(Whole(x)) if x < lo || x > hi => Err(FieldError::new(
            field,
            format!("{x} is not a plausible value: the accepted range is {lo} to {hi} {unit}"),
        )),
        _ => Ok(()),
    }
}

fn tenths_in(
    field: &'static str,
    v: Option<Tenths>,
    (lo, hi): (i32, i32),
    unit: &str,
) -> Result<(), FieldError> {
    match v {
        Some(t) if t.0 < lo || t.0 > hi => Err(FieldError::new(
            field,
            format!(
                "{} is not a plausible value: the accepted range is {} to {} {unit}",
                t.as_f64(),
                Tenths(lo).as_f64(),
                Tenths(hi).as_f64()
            ),
        )),
        _ => Ok(()),
    }
}

impl ObservationSet {
    /// The protocol's range rules; `taken_at` is checked against the hub's
    /// clock by [`ObservationSet::validate_at`].
    pub fn validate(&self) -> Result<(), FieldError> {
        whole_in(
            "set.respiration_rate",
            self.respiration_rate,
            RESPIRATION_RANGE,
            "/min",
        )?;
        whole_in("set.spo2", self.spo2, SPO2_RANGE, "%")?;
        whole_in("set.systolic", self.systolic, SYSTOLIC_RANGE, "mmHg")?;
        whole_in("set.diastolic", self.diastolic, DIASTOLIC_RANGE, "mmHg")?;
        whole_in("set.pulse", self.pulse, PULSE_RANGE, "/min")?;
        tenths_in("set.temperature", self.temperature, TEMPERATURE_RANGE, "°C")?;
        if let (Some(s), Some(d)) = (self.systolic, self.diastolic) {
            if d.0 >= s.0 {
                return Err(FieldError::new(
                    "set.diastolic",
                    format!("{} must be below the systolic pressure ({})", d.0, s.0),
                ));
            }
        }
        if let Some(Breathing::Oxygen {
            flow_l_min,
            fio2_percent,
            ..
        }) = self.breathing
        {
            tenths_in("set.breathing.flow_l_min", flow_l_min, FLOW_RANGE, "L/min")?;
            whole_in("set.breathing.fio2_percent", fio2_percent, FIO2_RANGE, "%")?;
        }
        if self.is_empty() {
            return Err(FieldError::new("set", "must hold at least one vital sign"));
        }
        Ok(())
    }

    /// [`ObservationSet::validate`] and `taken_at` against the hub's clock.
    pub fn validate_at(&self, now: Millis) -> Result<(), FieldError> {
        self.validate()?;
        if self.taken_at > now.saturating_add(MAX_TAKEN_AHEAD_MS) {
            return Err(FieldError::new(
                "set.taken_at",
                "is in the future by the hub's clock (more than 2 minutes ahead): check the device's clock",
            ));
        }
        if self.taken_at < now.saturating_sub(MAX_TAKEN_AGO_MS) {
            return Err(FieldError::new(
                "set.taken_at",
                "is more than 24 hours ago: enter it in the paper record",
            ));
        }
        Ok(())
    }

    fn is_empty(&self) -> bool {
        self.respiration_rate.is_none()
            && self.spo2.is_none()
            && self.breathing.is_none()
            && self.systolic.is_none()
            && self.diastolic.is_none()
            && self.pulse.is_none()
            && self.consciousness.is_none()
            && self.temperature.is_none()
    }
}

/// Clinical risk from a NEWS2 score, lowest first (RCP Chart 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Band {
    /// Total 0.
    Zero,
    /// Total 1-4.
    Low,
    /// 3 in a single parameter, total 4 or less.
    LowMedium,
    /// Total 5-6: urgent response.
    Medium,
    /// Total 7 or more: emergency response.
    High,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Zero => "zero",
            Band::Low => "low",
            Band::LowMedium => "low_medium",
            Band::Medium => "medium",
            Band::High => "high",
        }
    }
}

/// Each parameter's points (`null`: not recorded).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SubScores {
    pub respiration_rate: Option<u8>,
    pub spo2: Option<u8>,
    pub air_or_oxygen: Option<u8>,
    pub systolic: Option<u8>,
    pub pulse: Option<u8>,
    pub consciousness: Option<u8>,
    pub temperature: Option<u8>,
}

/// A set's NEWS2 score. An incomplete set has sub-scores for what was
/// recorded and no total or band: it is never scored as if the missing
/// values were normal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct News2Score {
    pub scale: Spo2Scale,
    pub sub_scores: SubScores,
    /// The parameters not recorded (`respiration_rate`, `spo2`,
    /// `air_or_oxygen`, `systolic`, `pulse`, `consciousness`, `temperature`).
    pub missing: Vec<String>,
    /// `null` when the set is incomplete.
    pub total: Option<u8>,
    /// 3 points in any one parameter (also shown on an incomplete set).
    pub red_flag: bool,
    /// `null` when the set is incomplete.
    pub band: Option<Band>,
}

/// Which way a patient's score moved since their last complete set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Trend {
    /// No earlier complete set.
    First,
    Rising,
    Same,
    Falling,
}

/// A stored set of observations with its score.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ObservationView {
    pub id: ObservationId,
    pub patient: PatientId,
    pub set: ObservationSet,
    pub score: News2Score,
    /// Since the patient's complete set before this one.
    pub trend: Trend,
    #[ts(type = "number")]
    pub recorded_at: Millis,
    pub recorded_by: StaffRef,
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

/// A doctor's Scale 2 prescription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Scale2Order {
    pub by: StaffRef,
    pub reason: String,
    /// The prescribed SpO2 target range, % (usually 88-92).
    pub target_low: u8,
    pub target_high: u8,
    #[ts(type = "number")]
    pub at: Millis,
}

/// The patient's latest score, as lists and alerts show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LatestScore {
    pub observation: ObservationId,
    #[ts(type = "number")]
    pub taken_at: Millis,
    pub score: News2Score,
    pub trend: Trend,
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

/// Why the hub raised (or last changed) a review task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ReviewTrigger {
    /// The set that caused it (`null` for a nurse's clinical concern).
    pub observation: Option<ObservationId>,
    pub total: Option<u8>,
    pub band: Option<Band>,
    pub red_flag: bool,
    pub trend: Trend,
    pub scale: Spo2Scale,
    /// For people: "NEWS2 7 (was 5): respiration 26 (3), SpO2 91 (3)".
    pub summary: String,
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
    fn quantising_rounds_halves_up_despite_binary_fractions() {
        assert_eq!(Tenths::from_f64(35.05), Tenths(351));
        assert_eq!(Tenths::from_f64(38.05), Tenths(381));
        assert_eq!(Tenths::from_f64(35.04), Tenths(350));
        assert_eq!(Tenths::from_f64(36.0), Tenths(360));
        assert_eq!(Whole::from_f64(8.5), Whole(9));
        assert_eq!(Whole::from_f64(8.49), Whole(8));
        assert_eq!(Whole::from_f64(1e300), Whole(1_000_000));
    }

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

    #[test]
    fn implausible_values_name_the_field_and_the_range() {
        let set = ObservationSet {
            pulse: Some(Whole(400)),
            taken_at: 0,
            ..ObservationSet::default()
        };
        let e = set.validate().expect_err("refused");
        assert_eq!(e.field, "set.pulse");
        assert!(e.problem.contains("15 to 300"), "{}", e.problem);
        let empty = ObservationSet::default();
        assert_eq!(empty.validate().expect_err("refused").field, "set");
    }
}
