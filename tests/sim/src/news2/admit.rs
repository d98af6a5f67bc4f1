//! Setting up `news2`: a patient admitted to every bed but the raise bed of
//! each pair ward, and the layout the nurses and doctors share (each
//! patient's index, and the table of the last set sent to each).

use super::super::load::Rig;
use super::super::stats;
use super::SentTable;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use wardpage_proto::{Command, CommandResult, PatientId, WardId};
use wardpage_tests::Client;

/// Beds of a pairs ward; the raise bed (the one
/// [`super::super::link::raise_frame`] names) stays empty so a raise keeps
/// the send time it carries in `patient`.
const BEDS: u32 = 30;
const RAISE_BED: &str = "12";

/// Admits a patient to every bed but the raise bed of each pair ward, as
/// that ward's nurse in charge; returns the patient ids per ward.
pub(super) async fn admit(rig: &Rig, base: &str) -> anyhow::Result<Vec<Vec<PatientId>>> {
    let bar = stats::counter("admitting", rig.pairs.len() as u64);
    let mut out = vec![Vec::new(); rig.pairs.len()];
    for chunk in (0..rig.pairs.len()).collect::<Vec<_>>().chunks(8) {
        let mut set = tokio::task::JoinSet::new();
        for &k in chunk {
            let (ntok, _, ward) = rig.pairs[k].clone();
            let base = base.to_owned();
            set.spawn(async move {
                let mut c = Client::connect(&base, &ntok, 0).await?;
                let mut sent = Vec::new();
                for b in (1..=BEDS).map(|b| b.to_string()).filter(|b| b != RAISE_BED) {
                    let index = k * BEDS as usize + sent.len();
                    let patient = super::super::obsplan::PlannedPatient {
                        ward: ward.clone(),
                        bed: b.clone(),
                        local_number: format!("SIM{index}"),
                        nurse: 0,
                        deteriorates: false,
                    };
                    let cmd = Command::AdmitPatient {
                        ward: WardId(ward.clone()),
                        bed: b,
                        patient: patient.details(index),
                    };
                    sent.push(c.send(cmd).await?);
                }
                let mut ids = Vec::new();
                for id in sent {
                    match c.reply(id).await? {
                        Ok(CommandResult::Patient { patient }) => ids.push(patient.id),
                        other => anyhow::bail!("admit_patient on {ward} answered {other:?}"),
                    }
                }
                c.close().await;
                anyhow::Ok((k, ids))
            });
        }
        while let Some(r) = set.join_next().await {
            let (k, ids) = r??;
            out[k] = ids;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(out)
}

/// The admitted patients, numbered across wards in ward order.
pub(super) struct Layout {
    /// Each ward's first patient number.
    pub(super) firsts: Vec<usize>,
    pub(super) total_patients: usize,
    pub(super) index: Arc<HashMap<PatientId, usize>>,
    pub(super) sent_table: SentTable,
}

impl Layout {
    pub(super) fn of(wards: &[Vec<PatientId>]) -> Layout {
        let firsts: Vec<usize> = wards
            .iter()
            .scan(0, |acc, w| {
                let f = *acc;
                *acc += w.len();
                Some(f)
            })
            .collect();
        let total_patients: usize = wards.iter().map(Vec::len).sum();
        let index: Arc<HashMap<PatientId, usize>> = Arc::new(
            wards
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, id)| (*id, i))
                .collect(),
        );
        let sent_table: SentTable =
            Arc::new((0..total_patients).map(|_| AtomicU64::new(0)).collect());
        Layout {
            firsts,
            total_patients,
            index,
            sent_table,
        }
    }
}
