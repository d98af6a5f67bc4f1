//! A NEWS2 score on the wire: its band, sub-scores and trend, the scored
//! observation as a chart shows it, a doctor's Scale 2 order, and why the
//! hub raised a review task.

use super::{ObservationSet, Spo2Scale};
use crate::ids::{ObservationId, PatientId};
use crate::model::StaffRef;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

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
