//! Census import: the patients already on the wards when a hospital starts
//! using wardpage, from a CSV file (`wardpage census import FILE`, and the
//! demo hospital's `server/demo/patients.csv`).
//!
//! The import runs the same domain commands a nurse in charge would send
//! (`admit_patient`, and `record_observations` for the demo's histories) on
//! the state loaded from the store, as an admin account, and commits what
//! they wrote (patients, sets, any review tasks and pages, audit rows
//! chained on from the stored head) in one transaction: all rows or none.
//! It runs while no hub serves the database (the caller holds the claim),
//! so the hub loads the result at start; events are not written, since
//! every client reads patients afresh when it connects.
//!
//! Columns, with a header row: `ward, bed, nhs_number, local_number, name,
//! born, sex, consultant, alerts`. Lines starting with `#` are comments.
//! Every row is checked before anything is written; an error names the line.

use crate::domain::patient::Patient;
use crate::domain::{Effects, Hospital, Policies, Stamp, Targets, Write};
use crate::store::audit_chain::AuditChain;
use crate::store::{Batch, Store, StoreError};
use std::collections::HashMap;
use wardpage_proto::{
    Breathing, Command, Consciousness, Millis, ObservationSet, OxygenDevice, PatientDetails,
    PatientId, Sex, StaffId, Tenths, WardId, Whole,
};

/// The demo hospital's patients.
pub const DEMO_PATIENTS: &str = include_str!("../demo/patients.csv");

#[derive(Debug, thiserror::Error)]
pub enum CensusError {
    #[error("line {line}: {problem}")]
    Row { line: u64, problem: String },
    #[error("census file: {0}")]
    Csv(#[from] csv::Error),
    #[error("a census import acts as an admin or coordinator account: add one first (`wardpage user add`)")]
    NoAdmin,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One patient of the census.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CensusRow {
    pub line: u64,
    pub ward: WardId,
    pub bed: String,
    pub details: PatientDetails,
}

#[derive(serde::Deserialize)]
struct RawRow {
    ward: String,
    bed: String,
    #[serde(default)]
    nhs_number: String,
    #[serde(default)]
    local_number: String,
    name: String,
    born: String,
    sex: String,
    #[serde(default)]
    consultant: String,
    #[serde(default)]
    alerts: String,
}

fn sex(s: &str) -> Option<Sex> {
    match s.trim().to_ascii_lowercase().as_str() {
        "female" | "f" => Some(Sex::Female),
        "male" | "m" => Some(Sex::Male),
        "other" => Some(Sex::Other),
        "unknown" | "" => Some(Sex::Unknown),
        _ => None,
    }
}

/// Reads and checks every row (the protocol's field rules, as for
/// `admit_patient`).
pub fn parse(text: &str) -> Result<Vec<CensusRow>, CensusError> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let raw: RawRow = record
            .deserialize(Some(&headers))
            .map_err(|e| CensusError::Row {
                line,
                problem: e.to_string(),
            })?;
        let opt = |s: String| (!s.is_empty()).then_some(s);
        let details = PatientDetails {
            nhs_number: opt(raw.nhs_number),
            local_number: opt(raw.local_number),
            name: raw.name,
            born: raw.born,
            sex: sex(&raw.sex).ok_or_else(|| CensusError::Row {
                line,
                problem: format!("sex `{}`: use female, male, other or unknown", raw.sex),
            })?,
            consultant: raw.consultant,
            alerts: raw.alerts,
        };
        let row = CensusRow {
            line,
            ward: WardId(raw.ward),
            bed: raw.bed,
            details,
        };
        admit(&row).validate().map_err(|e| CensusError::Row {
            line,
            problem: e.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

fn admit(row: &CensusRow) -> Command {
    Command::AdmitPatient {
        ward: row.ward.clone(),
        bed: row.bed.clone(),
        patient: row.details.clone(),
    }
}

/// What an import wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CensusSummary {
    pub admitted: usize,
    pub observations: usize,
    pub tasks: usize,
}

/// Admits every row (as of `admitted_at`), then records `sets` (by index
/// into `rows`, each at its own `taken_at`, oldest first), and commits it
/// all at once.
#[allow(clippy::too_many_arguments)]
pub async fn import(
    store: &dyn Store,
    targets: Targets,
    policies: Policies,
    rows: &[CensusRow],
    sets: &[(usize, ObservationSet)],
    admitted_at: Millis,
    now: Millis,
) -> Result<CensusSummary, CensusError> {
    let mut loaded = store.load(now - crate::domain::CLOSED_KEPT, now).await?;
    let mut h = Hospital::new(targets, policies);
    h.load(loaded.take_state(), now);
    let admin = h
        .roster()
        .staff
        .values()
        .filter(|s| s.active && s.role.oversees_all())
        .map(|s| s.id)
        .min()
        .ok_or(CensusError::NoAdmin)?;
    let mut effects = Vec::new();
    let mut ids: Vec<PatientId> = Vec::new();
    for row in rows {
        let fx = apply(&mut h, admin, &admit(row), admitted_at, row.line)?;
        if let Some(wardpage_proto::CommandResult::Patient { patient }) = &fx.result {
            ids.push(patient.id);
        }
        effects.push(fx);
    }
    let mut ordered: Vec<&(usize, ObservationSet)> = sets.iter().collect();
    ordered.sort_by_key(|(_, s)| s.taken_at);
    for (i, set) in ordered {
        let (Some(patient), Some(row)) = (ids.get(*i), rows.get(*i)) else {
            continue;
        };
        let cmd = Command::RecordObservations {
            patient: *patient,
            set: set.clone(),
        };
        effects.push(apply(&mut h, admin, &cmd, set.taken_at.min(now), row.line)?);
    }
    let summary = CensusSummary {
        admitted: ids.len(),
        observations: effects
            .iter()
            .flat_map(|f| &f.writes)
            .filter(|w| matches!(w, Write::Observation(_)))
            .count(),
        tasks: 0,
    };
    let batch = into_batch(effects, loaded.audit_head.as_deref());
    let summary = CensusSummary {
        tasks: batch.tasks.len(),
        ..summary
    };
    store.commit(&batch).await?;
    Ok(summary)
}

fn apply(
    h: &mut Hospital,
    admin: StaffId,
    cmd: &Command,
    at: Millis,
    line: u64,
) -> Result<Effects, CensusError> {
    // An import row is no client's command: each is its own cause, with a
    // random id, so importing a file again never reuses a patient's id.
    let at = Stamp {
        now: at,
        command: wardpage_proto::CommandId::new_random(),
    };
    h.apply(admin, cmd, at).map_err(|e| CensusError::Row {
        line,
        problem: e.to_string(),
    })
}

/// The rows every effect wrote, each task, page and patient once as it
/// ended up, with the audit chained on from the store's head.
fn into_batch(effects: Vec<Effects>, head: Option<&str>) -> Batch {
    let mut chain = AuditChain::after(head);
    let mut batch = Batch::default();
    let mut patients: HashMap<PatientId, Patient> = HashMap::new();
    let mut tasks = HashMap::new();
    let mut pages = HashMap::new();
    for fx in effects {
        for w in fx.writes {
            match w {
                Write::Patient(p) => {
                    patients.insert(p.view.id, *p);
                }
                Write::Observation(o) => batch.observations.push(o),
                Write::Task(t) => {
                    tasks.insert(t.view.id, *t);
                }
                Write::Page(p) => {
                    pages.insert(p.view.id, *p);
                }
                Write::Shift(staff, shift) => batch.shifts.push((staff, shift)),
            }
        }
        batch
            .audit
            .extend(fx.audit.into_iter().map(|a| chain.chain(a)));
    }
    batch.patients = patients.into_values().collect();
    batch.tasks = tasks.into_values().collect();
    batch.pages = pages.into_values().collect();
    batch
}

/// The demo hospital's observation histories: most patients had a normal
/// set a few hours ago; some score low; a few are deteriorating (an urgent
/// review open), one scores 10 minutes ago (an emergency review, paged),
/// and one is overdue.
pub fn demo_sets(rows: &[CensusRow], now: Millis) -> Vec<(usize, ObservationSet)> {
    const MIN: Millis = 60_000;
    let set = |ago: Millis, v: [i32; 6], oxygen: bool, temp: i32| ObservationSet {
        respiration_rate: Some(Whole(v[0])),
        spo2: Some(Whole(v[1])),
        breathing: Some(if oxygen {
            Breathing::Oxygen {
                device: OxygenDevice::NasalCannula,
                flow_l_min: Some(Tenths(20)),
                fio2_percent: None,
            }
        } else {
            Breathing::Air
        }),
        systolic: Some(Whole(v[2])),
        diastolic: Some(Whole(v[3])),
        pulse: Some(Whole(v[4])),
        consciousness: Some(if v[5] == 0 {
            Consciousness::Alert
        } else {
            Consciousness::NewConfusion
        }),
        temperature: Some(Tenths(temp)),
        taken_at: now - ago,
    };
    let normal = [16, 97, 124, 78, 76, 0];
    let mut sets = Vec::new();
    for i in 0..rows.len() {
        let jitter = (i as Millis * 7) % 50;
        match i {
            // Overdue: the last set was 13 hours ago (a 12-hour frequency).
            2 => sets.push((i, set(13 * 60 * MIN, normal, false, 368))),
            // Emergency: NEWS2 10 three minutes ago, after a 5 an hour before.
            9 => {
                sets.push((i, set(5 * 60 * MIN, normal, false, 371)));
                sets.push((i, set(65 * MIN, [22, 94, 108, 70, 104, 0], false, 382)));
                sets.push((i, set(3 * MIN, [26, 91, 98, 60, 118, 0], true, 385)));
            }
            _ if i % 11 == 5 => {
                sets.push((
                    i,
                    set(
                        4 * 60 * MIN + jitter * MIN,
                        [18, 96, 118, 74, 92, 0],
                        false,
                        372,
                    ),
                ));
                sets.push((i, set(2 * 60 * MIN, [21, 95, 112, 70, 98, 0], false, 379)));
                sets.push((i, set(8 * MIN, [22, 94, 109, 68, 105, 0], false, 383)));
            }
            _ if i % 7 == 3 => sets.push((
                i,
                set(
                    2 * 60 * MIN + jitter * MIN,
                    [16, 97, 124, 78, 95, 0],
                    false,
                    382,
                ),
            )),
            _ => sets.push((i, set(3 * 60 * MIN + jitter * MIN, normal, false, 368))),
        }
    }
    sets
}
