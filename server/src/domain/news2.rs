//! NEWS2 scoring (Royal College of Physicians, 2017): a sub-score per
//! parameter, the total, the red flag and the risk band. Pure: no clock, no
//! I/O. Values arrive quantised (`wardpage_proto::clinical`).

use wardpage_proto::{News2Score, ObservationSet, Spo2Scale};

/// Scores a set on the patient's scale. An incomplete set has sub-scores
/// for what was recorded and no total or band.
pub fn score(_set: &ObservationSet, scale: Spo2Scale) -> News2Score {
    // Placeholder until the scorer lands: everything missing, no total.
    News2Score {
        scale,
        ..News2Score::default()
    }
}

/// A short text for people, e.g. "NEWS2 7: respiration 26 (3), SpO2 91 (3)".
pub fn summary(score: &News2Score, _set: &ObservationSet) -> String {
    match score.total {
        Some(t) => format!("NEWS2 {t}"),
        None => "NEWS2 incomplete".into(),
    }
}
