//! Tests of the NEWS2 scorer: every case of the hand-written table
//! `tests/fixtures/news2-cases.json` (read through serde, so each set is
//! quantised exactly as the wire quantises it), a check that the table still
//! pins both edges of every band, and the summary's words. The exhaustive
//! sweeps over every plausible quantised value and the property tests over
//! whole sets are in `news2_tests/sweeps.rs`.

use super::*;
use proptest::prelude::*;
use serde::Deserialize;
use std::collections::BTreeSet;
use wardpage_proto::{
    OxygenDevice, PULSE_RANGE, RESPIRATION_RANGE, SPO2_RANGE, SYSTOLIC_RANGE, TEMPERATURE_RANGE,
};

const TABLE: &str = include_str!("../../../tests/fixtures/news2-cases.json");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    scale: Spo2Scale,
    set: ObservationSet,
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    sub_scores: SubScores,
    total: Option<u8>,
    red_flag: bool,
    band: Option<Band>,
    missing: Vec<String>,
}

fn cases() -> Vec<Case> {
    serde_json::from_str(TABLE).expect("tests/fixtures/news2-cases.json is a table of cases")
}

/// The fields an `ObservationSet` reads. It ignores unknown ones, so a
/// misspelt key in the table would silently become "not recorded".
const SET_FIELDS: [&str; 9] = [
    "respiration_rate",
    "spo2",
    "breathing",
    "systolic",
    "diastolic",
    "pulse",
    "consciousness",
    "temperature",
    "taken_at",
];

#[test]
fn the_table_spells_every_field_of_every_set() {
    let raw: Vec<serde_json::Value> = serde_json::from_str(TABLE).expect("table");
    for case in &raw {
        let set = case["set"].as_object().expect("each case has a set object");
        for key in set.keys() {
            assert!(
                SET_FIELDS.contains(&key.as_str()),
                "{}: unknown set field {key}",
                case["name"]
            );
        }
    }
}

#[test]
fn every_case_of_the_hand_written_table_scores_as_the_chart_says() {
    let cases = cases();
    assert!(cases.len() >= 80, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let got = score(&case.set, case.scale);
        let want = &case.expect;
        let mut wrong = Vec::new();
        if got.scale != case.scale {
            wrong.push(format!("scale {:?}", got.scale));
        }
        if got.sub_scores != want.sub_scores {
            wrong.push(format!(
                "sub-scores {:?}, expected {:?}",
                got.sub_scores, want.sub_scores
            ));
        }
        if got.total != want.total {
            wrong.push(format!("total {:?}, expected {:?}", got.total, want.total));
        }
        if got.red_flag != want.red_flag {
            wrong.push(format!(
                "red flag {}, expected {}",
                got.red_flag, want.red_flag
            ));
        }
        if got.band != want.band {
            wrong.push(format!("band {:?}, expected {:?}", got.band, want.band));
        }
        if got.missing != want.missing {
            wrong.push(format!(
                "missing {:?}, expected {:?}",
                got.missing, want.missing
            ));
        }
        if !wrong.is_empty() {
            failures.push(format!("{}: {}", case.name, wrong.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases wrong:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Guards the table itself: trimming a case that pins a band edge fails.
#[test]
fn the_table_pins_both_edges_of_every_band() {
    let cases = cases();
    let mut seen: BTreeSet<(&str, i32)> = BTreeSet::new();
    for c in &cases {
        let s = &c.set;
        let oxygen = matches!(s.breathing, Some(Breathing::Oxygen { .. }));
        let spo2_key = match (c.scale, s.breathing.is_some(), oxygen) {
            (Spo2Scale::Scale1, _, _) => "spo2 scale 1",
            (Spo2Scale::Scale2, true, false) => "spo2 scale 2 air",
            (Spo2Scale::Scale2, true, true) => "spo2 scale 2 oxygen",
            (Spo2Scale::Scale2, false, _) => "spo2 scale 2 unknown",
        };
        let values = [
            ("respiration", s.respiration_rate.map(|v| v.0)),
            (spo2_key, s.spo2.map(|v| v.0)),
            ("systolic", s.systolic.map(|v| v.0)),
            ("pulse", s.pulse.map(|v| v.0)),
            ("temperature", s.temperature.map(|v| v.0)),
        ];
        seen.extend(values.iter().filter_map(|(k, v)| v.map(|v| (*k, v))));
        if let Some(level) = s.consciousness {
            seen.insert(("consciousness", level as i32));
        }
    }
    let spo2_s2 = [83, 84, 85, 86, 87, 88, 92, 93];
    let required: Vec<(&str, Vec<i32>)> = vec![
        ("respiration", vec![8, 9, 11, 12, 20, 21, 24, 25]),
        ("spo2 scale 1", vec![91, 92, 93, 94, 95, 96]),
        ("spo2 scale 2 air", spo2_s2.to_vec()),
        (
            "spo2 scale 2 oxygen",
            [&spo2_s2[..], &[94, 95, 96, 97]].concat(),
        ),
        ("systolic", vec![90, 91, 100, 101, 110, 111, 219, 220]),
        ("pulse", vec![40, 41, 50, 51, 90, 91, 110, 111, 130, 131]),
        ("temperature", vec![350, 351, 360, 361, 380, 381, 390, 391]),
        ("consciousness", (0..5).collect()),
    ];
    let mut absent = Vec::new();
    for (key, values) in &required {
        for v in values {
            if !seen.contains(&(*key, *v)) {
                absent.push(format!("{key} {v}"));
            }
        }
    }
    assert!(absent.is_empty(), "no case for: {}", absent.join(", "));

    // The halves that public calculators let fall between bands, as the
    // nurse's device sends them (before quantising).
    let raw: Vec<serde_json::Value> = serde_json::from_str(TABLE).expect("table");
    let sent = |field: &str, x: f64| raw.iter().any(|c| c["set"][field].as_f64() == Some(x));
    for t in [
        35.0, 35.05, 35.1, 36.0, 36.05, 36.1, 38.0, 38.05, 38.1, 39.0, 39.05, 39.1,
    ] {
        assert!(sent("temperature", t), "no case sends a temperature of {t}");
    }
    assert!(sent("respiration_rate", 8.5), "no case sends a rate of 8.5");
}

#[test]
fn band_follows_chart_4() {
    let want = [
        (0, false, Band::Zero),
        (1, false, Band::Low),
        (4, false, Band::Low),
        (3, true, Band::LowMedium),
        (4, true, Band::LowMedium),
        (5, false, Band::Medium),
        (5, true, Band::Medium),
        (6, true, Band::Medium),
        (7, false, Band::High),
        (7, true, Band::High),
        (20, true, Band::High),
        (u8::MAX, false, Band::High),
        // Not producible by `score`; the flag is not dropped.
        (0, true, Band::LowMedium),
    ];
    for (total, flag, band_) in want {
        assert_eq!(band(total, flag), band_, "total {total}, red flag {flag}");
    }
}

fn normal_set() -> ObservationSet {
    ObservationSet {
        respiration_rate: Some(Whole(16)),
        spo2: Some(Whole(97)),
        breathing: Some(Breathing::Air),
        systolic: Some(Whole(120)),
        diastolic: None,
        pulse: Some(Whole(70)),
        consciousness: Some(Consciousness::Alert),
        temperature: Some(Tenths(370)),
        taken_at: 0,
    }
}

fn oxygen() -> Breathing {
    Breathing::Oxygen {
        device: OxygenDevice::NasalCannula,
        flow_l_min: Some(Tenths(20)),
        fio2_percent: None,
    }
}

#[test]
fn summary_lists_what_scored() {
    let set = ObservationSet {
        respiration_rate: Some(Whole(26)),
        spo2: Some(Whole(91)),
        consciousness: Some(Consciousness::NewConfusion),
        ..normal_set()
    };
    let s = score(&set, Spo2Scale::Scale1);
    assert_eq!(s.total, Some(9));
    assert_eq!(
        summary(&s, &set),
        "NEWS2 9: respiration 26 (3), SpO2 91 (3), new confusion (3)"
    );

    let calm = normal_set();
    assert_eq!(
        summary(&score(&calm, Spo2Scale::Scale1), &calm),
        "NEWS2 0: every parameter in its normal range"
    );

    let on_o2 = ObservationSet {
        spo2: Some(Whole(95)),
        breathing: Some(oxygen()),
        temperature: Some(Tenths(385)),
        ..normal_set()
    };
    assert_eq!(
        summary(&score(&on_o2, Spo2Scale::Scale2), &on_o2),
        "NEWS2 5: SpO2 95 on Scale 2 (2), oxygen 2 L/min (2), temperature 38.5 (1)"
    );
}

#[test]
fn summary_of_an_incomplete_set_names_what_is_missing_and_any_red_flag() {
    let set = ObservationSet {
        spo2: Some(Whole(84)),
        pulse: None,
        temperature: None,
        ..normal_set()
    };
    let s = score(&set, Spo2Scale::Scale1);
    assert_eq!(
        summary(&s, &set),
        "NEWS2 incomplete: missing pulse, temperature; red flag: SpO2 84 (3)"
    );

    let set = ObservationSet {
        respiration_rate: Some(Whole(22)),
        spo2: Some(Whole(95)),
        breathing: None,
        consciousness: Some(Consciousness::Voice),
        ..normal_set()
    };
    let s = score(&set, Spo2Scale::Scale2);
    assert_eq!(
        summary(&s, &set),
        "NEWS2 incomplete: missing SpO2 score (Scale 2 needs air or oxygen), air or oxygen; \
         red flag: responds to voice (3); also: respiration 22 (2)"
    );

    let set = ObservationSet {
        respiration_rate: None,
        pulse: Some(Whole(95)),
        ..normal_set()
    };
    assert_eq!(
        summary(&score(&set, Spo2Scale::Scale1), &set),
        "NEWS2 incomplete: missing respiration; scoring: pulse 95 (1)"
    );
}

// A file loaded by `#[path]` finds its modules beside it, not in a folder
// of its own name, hence the path.
#[path = "news2_tests/sweeps.rs"]
mod sweeps;
