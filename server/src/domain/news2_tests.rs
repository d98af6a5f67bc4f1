//! Tests of the NEWS2 scorer: every case of the hand-written table
//! `tests/fixtures/news2-cases.json` (read through serde, so each set is
//! quantised exactly as the wire quantises it), a check that the table still
//! pins both edges of every band, exhaustive sweeps over every plausible
//! quantised value, and property tests over whole sets.

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

/// The parameters with a numeric value, for the sweeps below.
#[derive(Clone, Copy, Debug)]
enum Param {
    Respiration,
    Spo2,
    Systolic,
    Pulse,
    Temperature,
}

const PARAMS: [Param; 5] = [
    Param::Respiration,
    Param::Spo2,
    Param::Systolic,
    Param::Pulse,
    Param::Temperature,
];

impl Param {
    /// The plausible range (quantised units), from the protocol.
    fn range(self) -> (i32, i32) {
        match self {
            Param::Respiration => RESPIRATION_RANGE,
            Param::Spo2 => SPO2_RANGE,
            Param::Systolic => SYSTOLIC_RANGE,
            Param::Pulse => PULSE_RANGE,
            Param::Temperature => TEMPERATURE_RANGE,
        }
    }

    /// The band that scores 0, as the chart draws it (typed again here
    /// rather than read from the scorer).
    fn normal(self, scale: Spo2Scale, on_oxygen: bool) -> (i32, i32) {
        match (self, scale, on_oxygen) {
            (Param::Respiration, _, _) => (12, 20),
            (Param::Spo2, Spo2Scale::Scale1, _) => (96, 100),
            (Param::Spo2, Spo2Scale::Scale2, false) => (88, 100),
            (Param::Spo2, Spo2Scale::Scale2, true) => (88, 92),
            (Param::Systolic, _, _) => (111, 219),
            (Param::Pulse, _, _) => (51, 90),
            (Param::Temperature, _, _) => (361, 380),
        }
    }

    fn set(self, base: &ObservationSet, v: i32) -> ObservationSet {
        let mut s = base.clone();
        match self {
            Param::Respiration => s.respiration_rate = Some(Whole(v)),
            Param::Spo2 => s.spo2 = Some(Whole(v)),
            Param::Systolic => s.systolic = Some(Whole(v)),
            Param::Pulse => s.pulse = Some(Whole(v)),
            Param::Temperature => s.temperature = Some(Tenths(v)),
        }
        s
    }

    fn sub(self, s: &News2Score) -> Option<u8> {
        let sub = &s.sub_scores;
        match self {
            Param::Respiration => sub.respiration_rate,
            Param::Spo2 => sub.spo2,
            Param::Systolic => sub.systolic,
            Param::Pulse => sub.pulse,
            Param::Temperature => sub.temperature,
        }
    }
}

/// How far `v` lies from the normal band, and on which side (-1 below,
/// 0 inside, 1 above).
fn distance((lo, hi): (i32, i32), v: i32) -> (i32, i32) {
    if v < lo {
        (-1, lo - v)
    } else if v > hi {
        (1, v - hi)
    } else {
        (0, 0)
    }
}

const SCALES: [Spo2Scale; 2] = [Spo2Scale::Scale1, Spo2Scale::Scale2];

/// Every quantised value in the plausible range gets a sub-score of 0-3,
/// 0 inside the normal band and more outside it, never falling as the
/// value moves away from normal: on both scales, on air and on oxygen.
#[test]
fn every_plausible_value_scores_without_gaps_and_monotonically() {
    for scale in SCALES {
        for breathing in [Breathing::Air, oxygen()] {
            let on_oxygen = breathing != Breathing::Air;
            let base = ObservationSet {
                breathing: Some(breathing),
                ..normal_set()
            };
            for p in PARAMS {
                let (lo, hi) = p.range();
                let normal = p.normal(scale, on_oxygen);
                let mut previous: Option<(i32, u8)> = None;
                for v in lo..=hi {
                    let got = p.sub(&score(&p.set(&base, v), scale));
                    let ctx = format!("{p:?} {v} on {scale:?}, oxygen {on_oxygen}");
                    let points = got.unwrap_or_else(|| panic!("{ctx}: no sub-score"));
                    assert!(points <= 3, "{ctx}: {points} points");
                    let (side, _) = distance(normal, v);
                    assert_eq!(points == 0, side == 0, "{ctx}: {points} points");
                    // Walking upwards: falling below normal, rising above.
                    if let Some((prev_side, prev)) = previous {
                        match (prev_side, side) {
                            (-1, -1) => assert!(points <= prev, "{ctx}: rose toward normal"),
                            (1, 1) => assert!(points >= prev, "{ctx}: fell away from normal"),
                            _ => {}
                        }
                    }
                    previous = Some((side, points));
                }
            }
        }
    }
}

/// Every ACVPU level and both kinds of breathing are scored on both scales.
#[test]
fn consciousness_and_breathing_score_as_the_chart_says() {
    let levels = [
        (Consciousness::Alert, 0),
        (Consciousness::NewConfusion, 3),
        (Consciousness::Voice, 3),
        (Consciousness::Pain, 3),
        (Consciousness::Unresponsive, 3),
    ];
    for scale in SCALES {
        for (level, points) in levels {
            let set = ObservationSet {
                consciousness: Some(level),
                ..normal_set()
            };
            assert_eq!(score(&set, scale).sub_scores.consciousness, Some(points));
        }
        for (breathing, points) in [(Breathing::Air, 0), (oxygen(), 2)] {
            let set = ObservationSet {
                breathing: Some(breathing),
                ..normal_set()
            };
            assert_eq!(score(&set, scale).sub_scores.air_or_oxygen, Some(points));
        }
    }
}

fn any_scale() -> impl Strategy<Value = Spo2Scale> {
    prop_oneof![Just(Spo2Scale::Scale1), Just(Spo2Scale::Scale2)]
}

fn any_breathing() -> impl Strategy<Value = Breathing> {
    prop_oneof![
        Just(Breathing::Air),
        Just(oxygen()),
        Just(Breathing::Oxygen {
            device: OxygenDevice::Venturi,
            flow_l_min: None,
            fio2_percent: Some(Whole(28)),
        }),
    ]
}

fn any_consciousness() -> impl Strategy<Value = Consciousness> {
    prop_oneof![
        Just(Consciousness::Alert),
        Just(Consciousness::NewConfusion),
        Just(Consciousness::Voice),
        Just(Consciousness::Pain),
        Just(Consciousness::Unresponsive),
    ]
}

fn whole_in((lo, hi): (i32, i32)) -> impl Strategy<Value = Whole> {
    (lo..=hi).prop_map(Whole)
}

fn complete_set() -> impl Strategy<Value = ObservationSet> {
    (
        whole_in(RESPIRATION_RANGE),
        whole_in(SPO2_RANGE),
        any_breathing(),
        whole_in(SYSTOLIC_RANGE),
        whole_in(PULSE_RANGE),
        any_consciousness(),
        (TEMPERATURE_RANGE.0..=TEMPERATURE_RANGE.1).prop_map(Tenths),
    )
        .prop_map(|(rr, spo2, b, sys, pulse, c, t)| ObservationSet {
            respiration_rate: Some(rr),
            spo2: Some(spo2),
            breathing: Some(b),
            systolic: Some(sys),
            diastolic: None,
            pulse: Some(pulse),
            consciousness: Some(c),
            temperature: Some(t),
            taken_at: 0,
        })
}

/// A complete set with any of its parameters left out.
fn any_set() -> impl Strategy<Value = ObservationSet> {
    (complete_set(), prop::collection::vec(any::<bool>(), 7)).prop_map(|(mut s, drop)| {
        let gone = |i: usize| drop.get(i).copied().unwrap_or(false);
        if gone(0) {
            s.respiration_rate = None;
        }
        if gone(1) {
            s.spo2 = None;
        }
        if gone(2) {
            s.breathing = None;
        }
        if gone(3) {
            s.systolic = None;
        }
        if gone(4) {
            s.pulse = None;
        }
        if gone(5) {
            s.consciousness = None;
        }
        if gone(6) {
            s.temperature = None;
        }
        s
    })
}

fn subs(s: &SubScores) -> [Option<u8>; 7] {
    [
        s.respiration_rate,
        s.spo2,
        s.air_or_oxygen,
        s.systolic,
        s.pulse,
        s.consciousness,
        s.temperature,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A complete set is fully scored: the total is the sum of its
    /// sub-scores, the band is that total's band, the flag is any 3.
    #[test]
    fn a_complete_sets_total_is_the_sum_of_its_sub_scores(set in complete_set(), scale in any_scale()) {
        let s = score(&set, scale);
        let points: Vec<u8> = subs(&s.sub_scores).iter().map(|p| p.expect("a complete set scores every parameter")).collect();
        prop_assert!(s.missing.is_empty());
        prop_assert_eq!(s.total, Some(points.iter().sum::<u8>()));
        prop_assert_eq!(s.red_flag, points.contains(&3));
        prop_assert_eq!(s.band, Some(band(points.iter().sum(), points.contains(&3))));
        prop_assert_eq!(s.scale, scale);
    }

    /// Whatever is left out is named in `missing`, in the chart's order,
    /// and then there is no total and no band; the flag still shows.
    #[test]
    fn an_incomplete_set_names_what_is_missing_and_has_no_total(set in any_set(), scale in any_scale()) {
        let s = score(&set, scale);
        let names = ["respiration_rate", "spo2", "air_or_oxygen", "systolic", "pulse", "consciousness", "temperature"];
        let unscored: Vec<String> = subs(&s.sub_scores).iter().zip(names)
            .filter(|(p, _)| p.is_none()).map(|(_, n)| n.to_string()).collect();
        prop_assert_eq!(&s.missing, &unscored);
        prop_assert_eq!(s.total.is_none(), !s.missing.is_empty());
        prop_assert_eq!(s.band.is_none(), !s.missing.is_empty());
        prop_assert_eq!(s.red_flag, subs(&s.sub_scores).contains(&Some(3)));
        // Only an unscorable Scale 2 SpO2 is unscored while recorded.
        let spo2_unscorable = scale == Spo2Scale::Scale2 && set.breathing.is_none()
            && set.spo2.is_some_and(|v| v.0 >= 93);
        prop_assert_eq!(s.sub_scores.spo2.is_none(), set.spo2.is_none() || spo2_unscorable);
        prop_assert_eq!(s.sub_scores.respiration_rate.is_none(), set.respiration_rate.is_none());
        prop_assert_eq!(s.sub_scores.temperature.is_none(), set.temperature.is_none());
    }

    /// Moving one value further from its normal band, on the same side,
    /// never lowers its sub-score, whatever the rest of the set holds.
    #[test]
    fn a_sub_score_never_falls_moving_away_from_normal(
        base in complete_set(),
        scale in any_scale(),
        which in 0..PARAMS.len(),
        a in 0.0f64..=1.0,
        b in 0.0f64..=1.0,
    ) {
        let p = PARAMS[which];
        let (lo, hi) = p.range();
        let pick = |x: f64| lo + ((f64::from(hi - lo)) * x).round() as i32;
        let (va, vb) = (pick(a), pick(b));
        let on_oxygen = matches!(base.breathing, Some(Breathing::Oxygen { .. }));
        let normal = p.normal(scale, on_oxygen);
        let (side_a, dist_a) = distance(normal, va);
        let (side_b, dist_b) = distance(normal, vb);
        let sa = p.sub(&score(&p.set(&base, va), scale));
        let sb = p.sub(&score(&p.set(&base, vb), scale));
        if side_a == side_b && dist_a <= dist_b {
            prop_assert!(sa <= sb, "{:?} {} scores {:?} but {} scores {:?}", p, va, sa, vb, sb);
        }
    }

    /// Unrounded numbers as a device sends them, through the wire's own
    /// parser: every value in the plausible range lands in a band.
    #[test]
    fn any_sent_number_in_range_is_scored(
        rr in 0.0f64..=80.0,
        spo2 in 40.0f64..=100.0,
        sys in 30.0f64..=300.0,
        pulse in 15.0f64..=300.0,
        temp in 25.0f64..=45.0,
        scale in any_scale(),
        on_oxygen in any::<bool>(),
    ) {
        let breathing = if on_oxygen {
            serde_json::json!({"kind": "oxygen", "device": "nasal_cannula", "flow_l_min": 2})
        } else {
            serde_json::json!({"kind": "air"})
        };
        let json = serde_json::json!({
            "respiration_rate": rr, "spo2": spo2, "breathing": breathing, "systolic": sys,
            "pulse": pulse, "consciousness": "alert", "temperature": temp, "taken_at": 0,
        });
        let set: ObservationSet = serde_json::from_value(json).expect("a well-formed set");
        let s = score(&set, scale);
        prop_assert!(s.missing.is_empty(), "{:?} left {:?} unscored", set, s.missing);
        prop_assert!(s.total.is_some_and(|t| t <= 20));
    }
}
