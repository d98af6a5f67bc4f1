//! Before the night: the coordinator admits a patient to every planned bed,
//! over a few sockets paced under the hub's per-connection frame limit.

use super::super::plan::NightPlan;
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{Command, CommandResult, PatientId, WardId};
use wardpage_tests::Client;

/// Admissions in flight at once on one socket, before the night.
const ADMIT_WINDOW: usize = 32;
/// Admissions per coordinator socket, and the pace past the first burst.
const ADMIT_PER_SOCKET: usize = 250;
const ADMIT_BURST: usize = 300;
const ADMIT_RATE: f64 = 150.0;

/// Admits the plan's patients, one per bed, as the coordinator; returns
/// their ids in plan order. A few sockets share the work, each with a few
/// commands in flight and under the hub's per-connection frame rate (200/s
/// after a burst of 400), which a whole site's admissions would trip.
pub(super) async fn admit_all(
    base: &str,
    token: &str,
    plan: &NightPlan,
) -> anyhow::Result<Vec<PatientId>> {
    let mut set = tokio::task::JoinSet::new();
    for (part, chunk) in plan.patients.chunks(ADMIT_PER_SOCKET).enumerate() {
        let (base, token) = (base.to_owned(), token.to_owned());
        let chunk: Vec<(usize, super::super::obsplan::PlannedPatient)> = chunk
            .iter()
            .cloned()
            .enumerate()
            .map(|(k, p)| (part * ADMIT_PER_SOCKET + k, p))
            .collect();
        set.spawn(async move {
            let mut c = Client::connect(&base, &token, 0).await?;
            let started = Instant::now();
            let mut ids = Vec::with_capacity(chunk.len());
            for window in chunk.chunks(ADMIT_WINDOW) {
                // Past the burst, no faster than ADMIT_RATE frames a second.
                let over = ids.len().saturating_sub(ADMIT_BURST) as f64;
                tokio::time::sleep_until(started + Duration::from_secs_f64(over / ADMIT_RATE))
                    .await;
                let mut sent = Vec::new();
                for (i, p) in window {
                    let cmd = Command::AdmitPatient {
                        ward: WardId(p.ward.clone()),
                        bed: p.bed.clone(),
                        patient: p.details(*i),
                    };
                    sent.push((*i, c.send(cmd).await?));
                }
                for (i, id) in sent {
                    match c.reply(id).await? {
                        Ok(CommandResult::Patient { patient }) => ids.push((i, patient.id)),
                        Ok(other) => anyhow::bail!("admit_patient answered {other:?}"),
                        Err(e) => anyhow::bail!("admit_patient refused: {e}"),
                    }
                }
            }
            c.close().await;
            anyhow::Ok(ids)
        });
    }
    let mut all = Vec::with_capacity(plan.patients.len());
    while let Some(r) = set.join_next().await {
        all.extend(r??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, id)| id).collect())
}
