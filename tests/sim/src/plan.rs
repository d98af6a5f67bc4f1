//! The seeded plan of a night: who raises which task when, who walks
//! through a Wi-Fi not-spot or lets their phone sleep, and how each
//! candidate reacts to each offer. The same seed gives the same plan (its
//! [`NightPlan::fingerprint`] proves it); only the race between candidates
//! who accept the same task depends on timing.
//!
//! Defaults follow published Hospital at Night figures: 100-150 tasks per
//! 1,000 beds a night, 20-40 handhelds, about 80% of tasks raised by
//! nurses, about a fifth urgent or emergency (deterioration). With
//! observations on, every bed has a patient and the night takes their
//! observation rounds ([`super::obsplan`]).

use super::hospital::Hospital;
use super::obsplan::{PlannedPatient, PlannedSet};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use wardpage_proto::{Category, Priority, Requirement, Role, Skill};

/// A 12-hour night, in milliseconds of simulated time.
pub const NIGHT_MS: f64 = 12.0 * 3_600_000.0;

#[derive(Debug, Clone, Serialize)]
pub struct NightParams {
    pub seed: u64,
    pub beds: u32,
    pub handhelds: usize,
    pub tasks_per_1000_beds: f64,
    /// How long the 12-hour night lasts in real time.
    pub night_secs: f64,
    pub urgent_share: f64,
    pub nurse_share: f64,
    pub decline_prob: f64,
    /// Not-spots walked through per handheld per simulated hour.
    pub notspots_per_hour: f64,
    /// Phone sleeps per handheld per simulated hour.
    pub sleeps_per_hour: f64,
    /// Chaos: more outages, and (if the simulator owns the hub) SIGKILLs.
    pub chaos: bool,
    pub hub_kills: usize,
    /// Admit a patient to every bed and take observation rounds.
    pub observations: bool,
    /// Share of patients whose NEWS2 rises over the night.
    pub deteriorate_share: f64,
}

impl NightParams {
    pub fn new(seed: u64) -> NightParams {
        NightParams {
            seed,
            beds: 1000,
            handhelds: 30,
            tasks_per_1000_beds: 125.0,
            night_secs: 60.0,
            urgent_share: 0.2,
            nurse_share: 0.8,
            decline_prob: 0.1,
            notspots_per_hour: 2.0,
            sleeps_per_hour: 1.0,
            chaos: false,
            hub_kills: 0,
            observations: true,
            deteriorate_share: 0.05,
        }
    }

    /// Simulated milliseconds per real millisecond.
    pub fn compression(&self) -> f64 {
        NIGHT_MS / (self.night_secs * 1000.0)
    }

    /// Real milliseconds for `sim_min` simulated minutes.
    pub fn real_ms(&self, sim_min: f64) -> u64 {
        (sim_min * 60_000.0 / self.compression()).round() as u64
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlannedRaise {
    /// Real milliseconds after the night starts.
    pub at_ms: u64,
    /// Index into the hospital's staff.
    pub by: usize,
    pub ward: String,
    pub bed: String,
    /// "N<index>": ties events back to the plan (and to the decision draw).
    pub patient: String,
    pub category: Category,
    pub priority: Priority,
    pub requirement: Requirement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum OutageKind {
    /// Walking through a Wi-Fi not-spot: the socket just dies.
    NotSpot,
    /// The phone sleeps: the socket is closed, the app resumes on wake.
    Sleep,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Outage {
    pub staff: usize,
    pub at_ms: u64,
    pub dur_ms: u64,
    pub kind: OutageKind,
}

/// How one candidate reacts to one offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub accept: bool,
    /// Real milliseconds after the offer arrives.
    pub after_ms: u64,
    /// Real milliseconds from accepting to completing.
    pub work_ms: u64,
}

#[derive(Debug, Clone)]
pub struct NightPlan {
    pub params: NightParams,
    pub hospital: Hospital,
    pub raises: Vec<PlannedRaise>,
    pub outages: Vec<Outage>,
    /// Real milliseconds after the start at which to SIGKILL the hub.
    pub kills: Vec<u64>,
    /// One patient per bed (empty without observations).
    pub patients: Vec<PlannedPatient>,
    /// Every observation set of the night, in time order.
    pub sets: Vec<PlannedSet>,
}

/// exp(mu + sigma * z): a log-normal draw with the given median.
fn lognormal(rng: &mut ChaCha8Rng, median: f64, sigma: f64) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (sigma * z).exp()
}

fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    -mean * u.ln()
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

fn requirement_for(category: Category, priority: Priority) -> Requirement {
    match category {
        Category::Cannula => Requirement::Skill(Skill::Cannulation),
        Category::Bloods => Requirement::Skill(Skill::Bloods),
        Category::BloodCultures => Requirement::Skill(Skill::BloodCultures),
        Category::Ecg => Requirement::Skill(Skill::Ecg),
        Category::DrugChart | Category::Fluids => Requirement::Skill(Skill::Prescribing),
        Category::Catheter => Requirement::Skill(Skill::Catheterisation),
        Category::IvDrugs => Requirement::Skill(Skill::IvDrugs),
        Category::Observations => Requirement::Role(Role::NurseInCharge),
        // Deterioration goes up the grades with the urgency.
        Category::MedicalReview | Category::Other => Requirement::Role(match priority {
            Priority::Emergency => Role::Registrar,
            Priority::Urgent => Role::Sho,
            _ => Role::Fy1,
        }),
    }
}

/// What a nurse raises when it is not urgent (urgent ones are medical
/// reviews), weighted by repetition.
const NURSE_CATEGORIES: [Category; 13] = [
    Category::Cannula,
    Category::Cannula,
    Category::Cannula,
    Category::Bloods,
    Category::Bloods,
    Category::MedicalReview,
    Category::MedicalReview,
    Category::DrugChart,
    Category::Fluids,
    Category::Ecg,
    Category::Catheter,
    Category::BloodCultures,
    Category::IvDrugs,
];

/// What a doctor asks someone else to do.
const DOCTOR_CATEGORIES: [Category; 4] = [
    Category::Bloods,
    Category::BloodCultures,
    Category::Ecg,
    Category::Cannula,
];

/// Who raises: the ward-based staff (nurses) and the doctors who hand work
/// on, as indexes into the hospital's staff.
struct Raisers {
    nurses: Vec<usize>,
    doctors: Vec<usize>,
}

impl Raisers {
    fn of(hospital: &Hospital) -> Raisers {
        let staff = &hospital.staff;
        Raisers {
            nurses: (0..staff.len())
                .filter(|&i| staff[i].role.is_ward_based())
                .collect(),
            doctors: (0..staff.len())
                .filter(|&i| {
                    matches!(
                        staff[i].role,
                        Role::Fy1 | Role::Sho | Role::Registrar | Role::NursePractitioner
                    )
                })
                .collect(),
        }
    }

    /// Who raises the next task and what it is.
    fn draw(&self, rng: &mut ChaCha8Rng, nurse_share: f64, urgent: bool) -> (usize, Category) {
        let by_nurse =
            self.nurses.is_empty() || self.doctors.is_empty() || rng.gen_bool(nurse_share);
        if by_nurse {
            let c = if urgent {
                Category::MedicalReview
            } else {
                *pick(rng, &NURSE_CATEGORIES)
            };
            (*pick(rng, &self.nurses), c)
        } else {
            let c = *pick(rng, &DOCTOR_CATEGORIES);
            (*pick(rng, &self.doctors), c)
        }
    }
}

/// A priority: a fifth or so urgent (a quarter of those emergencies), and
/// of the rest about a third soon. Returns whether it is urgent too.
fn draw_priority(rng: &mut ChaCha8Rng, urgent_share: f64) -> (bool, Priority) {
    let urgent = rng.gen_bool(urgent_share);
    let priority = if urgent {
        if rng.gen_bool(0.25) {
            Priority::Emergency
        } else {
            Priority::Urgent
        }
    } else if rng.gen_bool(0.35) {
        Priority::Soon
    } else {
        Priority::Routine
    };
    (urgent, priority)
}

/// Raises: a Poisson process, busier in the evening (thinning of a rate
/// falling from 1.4x to 0.6x the mean across the night).
fn plan_raises(
    params: &NightParams,
    hospital: &Hospital,
    rng: &mut ChaCha8Rng,
) -> Vec<PlannedRaise> {
    let night_real_ms = params.night_secs * 1000.0;
    let raisers = Raisers::of(hospital);
    let expected = params.tasks_per_1000_beds * f64::from(hospital.total_beds()) / 1000.0;
    let peak = 1.4 * expected / night_real_ms;
    let mut raises = Vec::new();
    let mut t = 0.0;
    loop {
        t += exponential(rng, 1.0 / peak);
        if t >= night_real_ms {
            break;
        }
        let keep: f64 = rng.gen();
        if keep > (1.4 - 0.8 * t / night_real_ms) / 1.4 {
            continue;
        }
        let (urgent, priority) = draw_priority(rng, params.urgent_share);
        let (by, category) = raisers.draw(rng, params.nurse_share, urgent);
        let ward = pick(rng, &hospital.staff[by].wards).clone();
        let bed = rng.gen_range(1..=25u32).to_string();
        raises.push(PlannedRaise {
            at_ms: t as u64,
            by,
            ward,
            bed,
            patient: format!("N{}", raises.len()),
            category,
            priority,
            requirement: requirement_for(category, priority),
        });
    }
    raises
}

/// Outages per handheld, never overlapping, in real time: a not-spot lasts
/// a compressed few seconds, a phone sleep a little longer.
fn plan_outages(params: &NightParams, staff: usize, rng: &mut ChaCha8Rng) -> Vec<Outage> {
    let night_real_ms = params.night_secs * 1000.0;
    let hours_per_ms = 12.0 / night_real_ms;
    let factor = if params.chaos { 5.0 } else { 1.0 };
    let rate = (params.notspots_per_hour + params.sleeps_per_hour) * factor * hours_per_ms;
    let mut outages = Vec::new();
    if rate <= 0.0 {
        return outages;
    }
    let share_notspot =
        params.notspots_per_hour / (params.notspots_per_hour + params.sleeps_per_hour);
    for staff in 0..staff {
        let mut t = exponential(rng, 1.0 / rate);
        // No outage starts in the last 3 s (the longest outage), so every
        // handheld is back before the night ends and no raise is skipped.
        while t < night_real_ms - 3000.0 {
            let kind = if rng.gen_bool(share_notspot) {
                OutageKind::NotSpot
            } else {
                OutageKind::Sleep
            };
            // Medians of 100 and 300 ms real are about 1 and 4 simulated
            // minutes at the default compression: long on the ward, yet
            // short enough that a handheld is online most of the night.
            let dur = match kind {
                OutageKind::NotSpot => lognormal(rng, 100.0, 0.6),
                OutageKind::Sleep => lognormal(rng, 300.0, 0.5),
            }
            .clamp(20.0, 3000.0);
            outages.push(Outage {
                staff,
                at_ms: t as u64,
                dur_ms: dur as u64,
                kind,
            });
            t += dur + exponential(rng, 1.0 / rate);
        }
    }
    outages
}

/// Chaos kills the hub at evenly spaced times through the night.
fn plan_kills(params: &NightParams) -> Vec<u64> {
    if !params.chaos {
        return Vec::new();
    }
    let night_real_ms = params.night_secs * 1000.0;
    (1..=params.hub_kills)
        .map(|k| (night_real_ms * k as f64 / (params.hub_kills + 1) as f64) as u64)
        .collect()
}

impl NightPlan {
    pub fn new(params: NightParams) -> NightPlan {
        let hospital = Hospital::night(params.beds, params.handhelds);
        // One stream for raises and then outages, in that order: the same
        // seed draws the same night.
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let raises = plan_raises(&params, &hospital, &mut rng);
        let outages = plan_outages(&params, hospital.staff.len(), &mut rng);
        let kills = plan_kills(&params);
        let (patients, sets) = if params.observations {
            super::obsplan::plan(&hospital, params.seed, params.deteriorate_share, |m| {
                params.real_ms(m)
            })
        } else {
            (Vec::new(), Vec::new())
        };
        NightPlan {
            params,
            hospital,
            raises,
            outages,
            kills,
            patients,
            sets,
        }
    }

    /// How candidate `staff` reacts to the offer of raise `raise`: its own
    /// random stream, so the answer does not depend on arrival order.
    pub fn decision(&self, raise: usize, staff: usize, priority: Priority) -> Decision {
        let mix = self.params.seed
            ^ (raise as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (staff as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        let mut rng = ChaCha8Rng::seed_from_u64(mix);
        let accept = !rng.gen_bool(self.params.decline_prob);
        let median_min = match priority {
            Priority::Emergency => 1.0,
            Priority::Urgent => 3.0,
            Priority::Soon => 10.0,
            Priority::Routine => 20.0,
        };
        let delay = lognormal(&mut rng, median_min, 0.7);
        let work = lognormal(&mut rng, 15.0, 0.5);
        Decision {
            accept,
            after_ms: self
                .params
                .real_ms(if accept { delay } else { delay / 2.0 }),
            work_ms: self.params.real_ms(work),
        }
    }

    /// FNV-1a over the whole plan: equal seeds and parameters give equal
    /// fingerprints.
    pub fn fingerprint(&self) -> u64 {
        let text = format!(
            "{:?}{:?}{:?}{:?}{:?}{:?}",
            self.hospital, self.raises, self.outages, self.kills, self.patients, self.sets
        );
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_night() {
        let a = NightPlan::new(NightParams::new(7));
        let b = NightPlan::new(NightParams::new(7));
        let c = NightPlan::new(NightParams::new(8));
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_ne!(a.fingerprint(), c.fingerprint());
        assert_eq!(
            a.decision(3, 4, Priority::Urgent),
            b.decision(3, 4, Priority::Urgent)
        );
    }

    #[test]
    fn a_night_looks_like_the_published_figures() {
        let mut shares = (0usize, 0usize, 0usize);
        for seed in 0..20 {
            let p = NightPlan::new(NightParams::new(seed));
            shares.0 += p.raises.len();
            shares.1 += p
                .raises
                .iter()
                .filter(|r| p.hospital.staff[r.by].role.is_ward_based())
                .count();
            shares.2 += p
                .raises
                .iter()
                .filter(|r| r.priority >= Priority::Urgent)
                .count();
        }
        let per_night = shares.0 as f64 / 20.0;
        assert!(
            (100.0..=150.0).contains(&per_night),
            "{per_night} tasks a night"
        );
        let nurse = shares.1 as f64 / shares.0 as f64;
        let urgent = shares.2 as f64 / shares.0 as f64;
        assert!((0.7..0.9).contains(&nurse), "nurse share {nurse}");
        assert!((0.14..0.26).contains(&urgent), "urgent share {urgent}");
    }
}
