//! NEWS2 scoring (Royal College of Physicians, 2017): a sub-score per
//! parameter (Chart 1), the total, the red flag, the risk band (Chart 4) and
//! a one-line summary for people. Pure: no clock, no I/O.
//!
//! Quantisation contract: values arrive quantised. `wardpage_proto::clinical`
//! rounds every measured value where the wire is read, halves up: temperature
//! to tenths of a degree (held as [`Tenths`], 35.05 °C is 351), every other
//! vital sign to a whole number (held as [`Whole`], a rate of 8.5 is 9). This
//! module therefore compares integers only, and each parameter's bands are a
//! cascade of `<=` thresholds in which every integer falls in exactly one
//! band. Public calculators that matched unrounded floats against inclusive
//! ranges ("35.1-36.0") let 35.05 fall between two bands and score 0; here no
//! such value can exist.
//!
//! A value that was not recorded is never scored as normal: its sub-score is
//! `None`, its name is listed in `missing`, and the set has no total or band.
//!
//! The handheld carries the same rules in `client-web/js/news2.js`; both are
//! checked against one hand-written table, `tests/fixtures/news2-cases.json`.

use wardpage_proto::{
    Band, Breathing, Consciousness, News2Score, ObservationSet, Spo2Scale, SubScores, Tenths, Whole,
};

/// Breaths per minute: <=8:3, 9-11:1, 12-20:0, 21-24:2, >=25:3.
fn respiration(rate: Whole) -> u8 {
    match rate.0 {
        r if r <= 8 => 3,
        r if r <= 11 => 1,
        r if r <= 20 => 0,
        r if r <= 24 => 2,
        _ => 3,
    }
}

/// SpO2 % on Scale 1: <=91:3, 92-93:2, 94-95:1, >=96:0.
fn spo2_scale1(spo2: Whole) -> u8 {
    match spo2.0 {
        s if s <= 91 => 3,
        s if s <= 93 => 2,
        s if s <= 95 => 1,
        _ => 0,
    }
}

/// SpO2 % on Scale 2: <=83:3, 84-85:2, 86-87:1, 88-92:0; from 93 it
/// depends on the breathing: 0 on air, and on oxygen 93-94:1, 95-96:2,
/// >=97:3 (over-oxygenation of a patient who retains CO2).
///
/// `on_oxygen` is `None` when air or oxygen was not recorded. Below 93 the
/// score is the same either way, so it is given. From 93 it could be 0 or
/// up to 3: guessing "air" would be exactly the silent under-scoring the
/// chart warns about, and guessing "oxygen" would invent a score, so the
/// sub-score is `None` and `spo2` is listed as missing with `air_or_oxygen`.
fn spo2_scale2(spo2: Whole, on_oxygen: Option<bool>) -> Option<u8> {
    match spo2.0 {
        s if s <= 83 => Some(3),
        s if s <= 85 => Some(2),
        s if s <= 87 => Some(1),
        s if s <= 92 => Some(0),
        s => match on_oxygen {
            None => None,
            Some(false) => Some(0),
            Some(true) if s <= 94 => Some(1),
            Some(true) if s <= 96 => Some(2),
            Some(true) => Some(3),
        },
    }
}

/// Air 0, any oxygen 2 (on both scales).
fn air_or_oxygen(breathing: Breathing) -> u8 {
    match breathing {
        Breathing::Air => 0,
        Breathing::Oxygen { .. } => 2,
    }
}

/// Systolic mmHg: <=90:3, 91-100:2, 101-110:1, 111-219:0, >=220:3.
fn systolic(bp: Whole) -> u8 {
    match bp.0 {
        s if s <= 90 => 3,
        s if s <= 100 => 2,
        s if s <= 110 => 1,
        s if s <= 219 => 0,
        _ => 3,
    }
}

/// Pulse /min: <=40:3, 41-50:1, 51-90:0, 91-110:1, 111-130:2, >=131:3.
fn pulse(rate: Whole) -> u8 {
    match rate.0 {
        p if p <= 40 => 3,
        p if p <= 50 => 1,
        p if p <= 90 => 0,
        p if p <= 110 => 1,
        p if p <= 130 => 2,
        _ => 3,
    }
}

/// ACVPU: alert 0, anything else 3. Every variant is named so that a new
/// one cannot fall into a default without a decision.
fn consciousness(c: Consciousness) -> u8 {
    match c {
        Consciousness::Alert => 0,
        Consciousness::NewConfusion
        | Consciousness::Voice
        | Consciousness::Pain
        | Consciousness::Unresponsive => 3,
    }
}

/// Tenths of °C: <=35.0:3, 35.1-36.0:1, 36.1-38.0:0, 38.1-39.0:1, >=39.1:2.
fn temperature(t: Tenths) -> u8 {
    match t.0 {
        t if t <= 350 => 3,
        t if t <= 360 => 1,
        t if t <= 380 => 0,
        t if t <= 390 => 1,
        _ => 2,
    }
}

/// The parameters in the chart's order, with their wire names.
fn named(sub: &SubScores) -> [(&'static str, Option<u8>); 7] {
    [
        ("respiration_rate", sub.respiration_rate),
        ("spo2", sub.spo2),
        ("air_or_oxygen", sub.air_or_oxygen),
        ("systolic", sub.systolic),
        ("pulse", sub.pulse),
        ("consciousness", sub.consciousness),
        ("temperature", sub.temperature),
    ]
}

/// Scores a set on the patient's scale. An incomplete set has sub-scores
/// for what was recorded, the names of the rest in `missing`, no total and
/// no band; its red flag is still raised by any recorded parameter at 3.
pub fn score(set: &ObservationSet, scale: Spo2Scale) -> News2Score {
    let on_oxygen = set.breathing.map(|b| matches!(b, Breathing::Oxygen { .. }));
    let sub_scores = SubScores {
        respiration_rate: set.respiration_rate.map(respiration),
        spo2: set.spo2.and_then(|s| match scale {
            Spo2Scale::Scale1 => Some(spo2_scale1(s)),
            Spo2Scale::Scale2 => spo2_scale2(s, on_oxygen),
        }),
        air_or_oxygen: set.breathing.map(air_or_oxygen),
        systolic: set.systolic.map(systolic),
        pulse: set.pulse.map(pulse),
        consciousness: set.consciousness.map(consciousness),
        temperature: set.temperature.map(temperature),
    };
    let params = named(&sub_scores);
    let missing: Vec<String> = params
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(n, _)| (*n).to_string())
        .collect();
    let red_flag = params.iter().any(|(_, s)| *s == Some(3));
    // At most 7 x 3 = 21 points: a u8 sum cannot overflow.
    let total = missing
        .is_empty()
        .then(|| params.iter().filter_map(|(_, s)| *s).sum::<u8>());
    News2Score {
        scale,
        band: total.map(|t| band(t, red_flag)),
        sub_scores,
        missing,
        total,
        red_flag,
    }
}

/// The clinical risk band (RCP Chart 4): 0 zero; 1-4 low, or low-medium
/// with a red flag; 5-6 medium; 7 or more high. A red flag does not raise
/// a total of 5 or more further: the total decides.
///
/// A red flag with a total of 0 cannot come from [`score`] (3 points make
/// the total at least 3); should a caller pass it, the flag wins and the
/// band is low-medium, the safer of the two readings.
pub fn band(total: u8, red_flag: bool) -> Band {
    match total {
        7.. => Band::High,
        5..=6 => Band::Medium,
        _ if red_flag => Band::LowMedium,
        1..=4 => Band::Low,
        0 => Band::Zero,
    }
}

/// What people read for a parameter's value.
fn value_text(name: &str, set: &ObservationSet, scale: Spo2Scale) -> String {
    let whole = |v: Option<Whole>| v.map_or_else(String::new, |w| w.0.to_string());
    match name {
        "respiration_rate" => format!("respiration {}", whole(set.respiration_rate)),
        "spo2" => match scale {
            Spo2Scale::Scale1 => format!("SpO2 {}", whole(set.spo2)),
            Spo2Scale::Scale2 => format!("SpO2 {} on Scale 2", whole(set.spo2)),
        },
        "air_or_oxygen" => match set.breathing {
            Some(Breathing::Oxygen {
                flow_l_min: Some(f),
                ..
            }) => format!("oxygen {} L/min", f.as_f64()),
            Some(Breathing::Oxygen {
                fio2_percent: Some(f),
                ..
            }) => format!("oxygen {}%", f.0),
            Some(Breathing::Oxygen { .. }) => "oxygen".to_string(),
            _ => "air".to_string(),
        },
        "systolic" => format!("systolic {}", whole(set.systolic)),
        "pulse" => format!("pulse {}", whole(set.pulse)),
        "consciousness" => match set.consciousness {
            Some(Consciousness::Alert) | None => "alert".to_string(),
            Some(Consciousness::NewConfusion) => "new confusion".to_string(),
            Some(Consciousness::Voice) => "responds to voice".to_string(),
            Some(Consciousness::Pain) => "responds to pain".to_string(),
            Some(Consciousness::Unresponsive) => "unresponsive".to_string(),
        },
        _ => set
            .temperature
            .map_or_else(String::new, |t| format!("temperature {:.1}", t.as_f64())),
    }
}

/// What people read for a missing parameter.
fn missing_text(name: &str, set: &ObservationSet) -> &'static str {
    match name {
        "respiration_rate" => "respiration",
        // Recorded but not scorable: Scale 2 needs air or oxygen from 93%.
        "spo2" if set.spo2.is_some() => "SpO2 score (Scale 2 needs air or oxygen)",
        "spo2" => "SpO2",
        "air_or_oxygen" => "air or oxygen",
        "systolic" => "systolic",
        "pulse" => "pulse",
        "consciousness" => "consciousness",
        _ => "temperature",
    }
}

/// A short text for people, listing the parameters that scored:
/// "NEWS2 7: respiration 26 (3), SpO2 91 (3), new confusion (3)", or for an
/// incomplete set "NEWS2 incomplete: missing pulse, temperature; red flag:
/// SpO2 84 (3)" (then any other scoring parameter after "also").
pub fn summary(score: &News2Score, set: &ObservationSet) -> String {
    let scored = |keep: &dyn Fn(u8) -> bool| -> Vec<String> {
        named(&score.sub_scores)
            .iter()
            .filter_map(|(n, s)| s.filter(|p| keep(*p)).map(|p| (n, p)))
            .map(|(n, p)| format!("{} ({p})", value_text(n, set, score.scale)))
            .collect()
    };
    match score.total {
        Some(total) => {
            let items = scored(&|p| p > 0);
            if items.is_empty() {
                format!("NEWS2 {total}: every parameter in its normal range")
            } else {
                format!("NEWS2 {total}: {}", items.join(", "))
            }
        }
        None => {
            let missing: Vec<&str> = score.missing.iter().map(|n| missing_text(n, set)).collect();
            let mut text = format!("NEWS2 incomplete: missing {}", missing.join(", "));
            let flags = scored(&|p| p == 3);
            if !flags.is_empty() {
                text.push_str(&format!("; red flag: {}", flags.join(", ")));
            }
            let others = scored(&|p| p == 1 || p == 2);
            if !others.is_empty() {
                let lead = if flags.is_empty() { "scoring" } else { "also" };
                text.push_str(&format!("; {lead}: {}", others.join(", ")));
            }
            text
        }
    }
}

#[cfg(test)]
#[path = "news2_tests.rs"]
mod tests;
