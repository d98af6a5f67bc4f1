//! The observation rounds of a simulated night: one patient in every bed,
//! each with a named nurse who takes their sets, at the frequency the last
//! score's band asks for (RCP Chart 4: 12 h for 0, 4 h for 1-4, hourly for
//! 5-6, every 15 min for 7 or more), compressed like the rest of the night.
//! A seeded share of patients deteriorate: from an onset their scores rise
//! over successive sets into 5-6 and often 7 or more, hold, then fall as
//! treatment works; the others stay low. Everything is drawn from the seed,
//! so the same night takes the same sets.
//!
//! [`set_for`] turns a planned total into plausible vital signs on air,
//! Scale 1, with no single parameter at 3 below a total of 7 (so 5-6 is an
//! urgent review by its total, not a red flag).

use super::hospital::Hospital;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use wardpage_proto::{
    Breathing, Consciousness, Millis, ObservationSet, PatientDetails, Sex, Tenths, Whole,
};

/// The night in simulated minutes.
const NIGHT_MIN: f64 = 12.0 * 60.0;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedPatient {
    pub ward: String,
    pub bed: String,
    /// "SIM<index>": the local hospital number, unique in the run.
    pub local_number: String,
    /// Index into the hospital's staff: the nurse who takes every set (one
    /// recorder per patient keeps the sets in the order they were taken).
    pub nurse: usize,
    pub deteriorates: bool,
}

impl PlannedPatient {
    pub fn details(&self, index: usize) -> PatientDetails {
        PatientDetails {
            nhs_number: None,
            local_number: Some(self.local_number.clone()),
            name: format!("Sim Patient {index}"),
            born: "1950-06-15".into(),
            sex: if index.is_multiple_of(2) {
                Sex::Female
            } else {
                Sex::Male
            },
            consultant: "Dr Sim Ulated".into(),
            alerts: String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlannedSet {
    /// Real milliseconds after the night starts.
    pub at_ms: u64,
    pub patient: usize,
    /// The NEWS2 total the vital signs score.
    pub total: u8,
}

/// Minutes until the next set after a set scoring `total` (no red flags
/// below 7, so the total decides the band).
pub fn every_min(total: u8) -> f64 {
    match total {
        0 => 12.0 * 60.0,
        1..=4 => 4.0 * 60.0,
        5 | 6 => 60.0,
        _ => 15.0,
    }
}

/// Totals of a deteriorating patient from the onset: rising by 1-2 a set
/// from 3 or 5 to a peak (5-6 for two in five, else 7-10), held for up to
/// two more sets, then falling back to 2.
fn trajectory(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let peak: u8 = if rng.gen_bool(0.4) {
        rng.gen_range(5..=6)
    } else {
        rng.gen_range(7..=10)
    };
    let mut v = Vec::new();
    let mut s: u8 = if rng.gen_bool(0.5) { 3 } else { 5 };
    while s < peak {
        v.push(s);
        s += rng.gen_range(1..=2);
    }
    v.push(peak);
    for _ in 0..rng.gen_range(0..=2) {
        v.push(peak);
    }
    let mut s = peak;
    while s > 2 {
        s = s.saturating_sub(rng.gen_range(1..=2)).max(2);
        v.push(s);
    }
    v
}

/// The patients (one per bed of every ward) and every set of the night, in
/// time order. `real_ms` turns simulated minutes into real milliseconds.
pub fn plan(
    hospital: &Hospital,
    seed: u64,
    deteriorate_share: f64,
    real_ms: impl Fn(f64) -> u64,
) -> (Vec<PlannedPatient>, Vec<PlannedSet>) {
    let mut patients = Vec::new();
    let mut sets = Vec::new();
    for w in &hospital.wards {
        let nurses: Vec<usize> = (0..hospital.staff.len())
            .filter(|&i| {
                hospital.staff[i].role.is_ward_based() && hospital.staff[i].wards.contains(&w.id)
            })
            .collect();
        // A ward nobody nurses tonight has no one to take its sets.
        if nurses.is_empty() {
            continue;
        }
        for b in 1..=w.beds {
            let index = patients.len();
            // Its own stream: the plan of one patient does not move when
            // another ward is added.
            let mut rng = ChaCha8Rng::seed_from_u64(
                seed ^ 0x5EED_0B5E ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            let deteriorates = rng.gen_bool(deteriorate_share.clamp(0.0, 1.0));
            patients.push(PlannedPatient {
                ward: w.id.clone(),
                bed: b.to_string(),
                local_number: format!("SIM{index}"),
                nurse: nurses[index % nurses.len()],
                deteriorates,
            });
            let onset = deteriorates.then(|| rng.gen_range(60.0..480.0));
            let mut course = if deteriorates {
                trajectory(&mut rng)
            } else {
                Vec::new()
            };
            course.reverse();
            // The first round reaches every bed within four hours.
            let mut t: f64 = rng.gen_range(0.0..240.0);
            while t < NIGHT_MIN {
                let total = match onset {
                    Some(o) if t >= o && !course.is_empty() => course.pop().unwrap_or(2),
                    // Someone already unwell scores 1-2 at baseline.
                    _ if deteriorates => rng.gen_range(1..=2),
                    // Most stable patients score 0-2.
                    _ => *[0u8, 0, 1, 1, 1, 2].get(rng.gen_range(0..6)).unwrap_or(&1),
                };
                sets.push(PlannedSet {
                    at_ms: real_ms(t),
                    patient: index,
                    total,
                });
                t += every_min(total);
            }
        }
    }
    sets.sort_by_key(|s| (s.at_ms, s.patient));
    (patients, sets)
}

/// Points to add, one parameter at a time, in this order: respiration,
/// pulse, temperature, SpO2, systolic.
const ORDER: [usize; 5] = [0, 1, 2, 3, 4];

/// Vital signs on air scoring `total` (0-13) on Scale 1, taken at
/// `taken_at`. Below 7 no parameter scores 3.
pub fn set_for(total: u8, taken_at: Millis) -> ObservationSet {
    let caps: [u8; 5] = if total >= 7 {
        [3, 3, 2, 3, 3]
    } else {
        [2, 2, 2, 2, 2]
    };
    let mut points = [0u8; 5];
    let mut left = total;
    while left > 0 && points.iter().zip(caps).any(|(p, c)| *p < c) {
        for &i in &ORDER {
            if left > 0 && points[i] < caps[i] {
                points[i] += 1;
                left -= 1;
            }
        }
    }
    let pick = |table: &[i32], p: u8| table[usize::from(p).min(table.len() - 1)];
    ObservationSet {
        respiration_rate: Some(Whole(pick(&[16, 10, 22, 26], points[0]))),
        pulse: Some(Whole(pick(&[76, 95, 115, 135], points[1]))),
        temperature: Some(Tenths(pick(&[368, 383, 392], points[2]))),
        spo2: Some(Whole(pick(&[97, 95, 93, 91], points[3]))),
        systolic: Some(Whole(pick(&[124, 105, 95, 88], points[4]))),
        diastolic: Some(Whole(60)),
        breathing: Some(Breathing::Air),
        consciousness: Some(Consciousness::Alert),
        taken_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardpage_proto::{Band, Spo2Scale};
    use wardpage_server::domain::news2;

    #[test]
    fn planned_totals_score_what_they_say_on_the_hubs_own_scorer() {
        for total in 0..=13u8 {
            let set = set_for(total, 0);
            assert!(set.validate().is_ok(), "{total}: {:?}", set.validate());
            let s = news2::score(&set, Spo2Scale::Scale1);
            assert_eq!(s.total, Some(total), "{set:?}");
            if total < 7 {
                assert!(!s.red_flag, "no red flag below 7: {set:?}");
            }
            let want = match total {
                0 => Band::Zero,
                1..=4 => Band::Low,
                5 | 6 => Band::Medium,
                _ => Band::High,
            };
            assert_eq!(s.band, Some(want), "{total}");
        }
    }

    #[test]
    fn some_patients_deteriorate_into_both_bands_and_the_rest_stay_low() {
        let h = Hospital::night(300, 12);
        let (patients, sets) = plan(&h, 42, 0.1, |min| (min * 1000.0) as u64);
        assert_eq!(patients.len(), 300);
        let worse: Vec<usize> = (0..patients.len())
            .filter(|&i| patients[i].deteriorates)
            .collect();
        assert!((15..=50).contains(&worse.len()), "{}", worse.len());
        let max_of = |p: usize| {
            sets.iter()
                .filter(|s| s.patient == p)
                .map(|s| s.total)
                .max()
        };
        assert!(worse.iter().any(|&p| max_of(p) >= Some(7)));
        assert!(worse.iter().any(|&p| matches!(max_of(p), Some(5 | 6))));
        assert!((0..patients.len())
            .filter(|p| !patients[*p].deteriorates)
            .all(|p| max_of(p) <= Some(2)));
        // Sets of a 7+ come every 15 minutes.
        let p = *worse.iter().find(|&&p| max_of(p) >= Some(7)).unwrap_or(&0);
        let mine: Vec<&PlannedSet> = sets.iter().filter(|s| s.patient == p).collect();
        for w in mine.windows(2) {
            let gap = (w[1].at_ms - w[0].at_ms) as f64;
            assert!((gap - every_min(w[0].total) * 1000.0).abs() <= 1.0, "{w:?}");
        }
        let again = plan(&h, 42, 0.1, |min| (min * 1000.0) as u64);
        assert_eq!(again, (patients, sets), "the same seed takes the same sets");
    }
}
