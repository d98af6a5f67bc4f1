//! Patients in the end-to-end suites: valid NHS numbers from the range
//! reserved for testing, a patient's details, admitting one, recording a
//! set of observations, and who a review task is offered to.

use crate::Client;
use wardpage_proto::{
    Command, CommandResult, ObservationSet, PatientDetails, PatientId, PatientView, Sex, TaskView,
};

/// A minute, in milliseconds.
pub const MIN: i64 = 60_000;

/// A valid NHS number from the range reserved for testing (999 ...),
/// different for each `n`.
pub fn nhs(n: u32) -> String {
    (0..)
        .map(|k: u32| {
            let body = format!("999{:06}", (n * 97 + k) % 1_000_000);
            let sum: u32 = body
                .bytes()
                .zip((2..=10).rev())
                .map(|(b, w)| u32::from(b - b'0') * w)
                .sum();
            (body, 11 - sum % 11)
        })
        .find(|(_, c)| *c != 10)
        .map(|(body, c)| format!("{body}{}", if c == 11 { 0 } else { c }))
        .unwrap_or_default()
}

/// Details of a patient with a valid NHS number (`nhs(n)`) and `name`.
pub fn details(n: u32, name: &str) -> PatientDetails {
    PatientDetails {
        nhs_number: Some(nhs(n)),
        local_number: None,
        name: name.into(),
        born: "1948-03-14".into(),
        sex: Sex::Female,
        consultant: "Dr A Example".into(),
        alerts: "Penicillin allergy".into(),
    }
}

/// Admits `d` to `ward`, `bed`; the patient as admitted.
pub async fn admit(
    nic: &mut Client,
    ward: &str,
    bed: &str,
    d: PatientDetails,
) -> anyhow::Result<PatientView> {
    match nic
        .ok(Command::AdmitPatient {
            ward: ward.into(),
            bed: bed.into(),
            patient: d,
        })
        .await?
    {
        CommandResult::Patient { patient } => Ok(patient),
        other => anyhow::bail!("admit answered {other:?}"),
    }
}

/// The hub's clock.
pub fn now() -> i64 {
    wardpage_server::clock::now_ms()
}

/// Records `set` for `patient`: the set as scored, the patient after it,
/// and the review task it raised or changed, if any.
pub async fn observe(
    nurse: &mut Client,
    patient: PatientId,
    set: ObservationSet,
) -> anyhow::Result<(
    wardpage_proto::ObservationView,
    PatientView,
    Option<TaskView>,
)> {
    match nurse
        .ok(Command::RecordObservations { patient, set })
        .await?
    {
        CommandResult::Observation {
            observation,
            patient,
            review,
        } => Ok((observation, patient, review)),
        other => anyhow::bail!("record_observations answered {other:?}"),
    }
}

/// Who a task is offered to, by name.
pub fn offered_to(t: &TaskView) -> Vec<String> {
    t.offers.iter().map(|o| o.staff.name.clone()).collect()
}
