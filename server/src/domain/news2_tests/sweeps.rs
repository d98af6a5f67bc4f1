//! Exhaustive sweeps over every plausible quantised value of each
//! parameter, on both SpO2 scales, on air and on oxygen, and property tests
//! over whole sets (complete or with parameters left out).

use super::*;

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
