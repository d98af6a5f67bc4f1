//! The `restart` scenario: fill a spawned hub with open tasks, SIGKILL and
//! restart it a few times (timed to listening and to the first welcome),
//! then replay every doctor's whole stream and find every acknowledged task.

use super::super::hubctl::HubChoice;
use super::super::ledger::{self, AckedRaise, DeviceLog};
use super::super::link;
use super::super::report::RunReport;
use super::super::stats::Live;
use super::{drive, receiver, LoadParams, Rig};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// `restart`: fill the hub with `tasks` open tasks, SIGKILL it, and time
/// `restarts` restarts (spawn to listening line, spawn to first welcome);
/// then every doctor replays its whole stream from 0 and must find every
/// acknowledged task.
pub async fn restart(
    tasks: u64,
    pairs: usize,
    restarts: usize,
    password: &str,
) -> anyhow::Result<RunReport> {
    let p = LoadParams {
        pairs,
        secs: 3600.0,
        warmup_secs: 0.0,
        window: 64,
        rate: None,
        max_per_raiser: Some(tasks.div_ceil(pairs as u64)),
    };
    let mut report = RunReport::new(
        "restart",
        0,
        serde_json::json!({ "tasks": tasks, "pairs": pairs, "restarts": restarts }),
    );
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("restart.db");
    let mut rig = Rig::start(&HubChoice::Spawn, pairs, password, Some(&db)).await?;
    let fill_phase = drive(&rig, &p, false, "filling").await?;
    let acked: Vec<AckedRaise> = fill_phase
        .raisers
        .iter()
        .flat_map(|r| r.acked.clone())
        .collect();
    let per_pair: Vec<u64> = fill_phase
        .raisers
        .iter()
        .map(|r| r.acked.len() as u64)
        .collect();
    report.figures.insert(
        "fill rate (raises/s)".into(),
        acked.len() as f64 / fill_phase.elapsed.as_secs_f64(),
    );
    report.raises_acked = acked.len() as u64;
    time_restarts(&mut rig, restarts, &mut report).await?;
    if let Some(h) = rig.hub.proc() {
        report.figures.insert(
            "hub RSS after restart (MiB)".into(),
            h.rss_kib().unwrap_or(0) as f64 / 1024.0,
        );
    }
    let t = Instant::now();
    let logs = replay_every_stream(&rig, &per_pair).await?;
    report.figures.insert(
        "replay of every stream after restart (s)".into(),
        t.elapsed().as_secs_f64(),
    );
    report.invariants = ledger::check(&acked, &logs);
    report.duration_s = fill_phase.elapsed.as_secs_f64();
    rig.hub.stop().await?;
    Ok(report)
}

/// SIGKILLs and restarts the hub `restarts` times, noting each restart's
/// spawn to listening line and spawn to first welcome.
async fn time_restarts(
    rig: &mut Rig,
    restarts: usize,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let (ntok, _, _) = rig.pairs[0].clone();
    for i in 0..restarts {
        let listening = rig.hub.kill9_and_restart().await?;
        // The hub is serving once a handheld is welcomed.
        let spawned = Instant::now() - listening;
        let mut welcomed = None;
        for _ in 0..600 {
            if let Ok((mut ws, _)) = link::connect(rig.addr, None, &ntok, u64::MAX / 2).await {
                welcomed = Some(spawned.elapsed());
                let _ = ws.close(None).await;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        report.figures.insert(
            format!("restart {} spawn to listening (s)", i + 1),
            listening.as_secs_f64(),
        );
        report.figures.insert(
            format!("restart {} spawn to first welcome (s)", i + 1),
            welcomed.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN),
        );
    }
    Ok(())
}

/// Replay check: every doctor reads its stream from cursor 0 and must
/// reach the `per_pair` events its pair raised.
async fn replay_every_stream(rig: &Rig, per_pair: &[u64]) -> anyhow::Result<Vec<DeviceLog>> {
    let live = Arc::new(Live::default());
    let done = Arc::new(AtomicBool::new(true));
    let epoch = Instant::now();
    let mut hs = Vec::new();
    for (k, (_, dtok, _)) in rig.pairs.iter().enumerate() {
        hs.push(tokio::spawn(receiver(
            rig.addr,
            k,
            dtok.clone(),
            0,
            epoch,
            epoch + Duration::from_secs(3600),
            done.clone(),
            Arc::new(AtomicU64::new(per_pair[k])),
            live.clone(),
        )));
    }
    let mut logs = Vec::new();
    for h in hs {
        logs.push(h.await??.log);
    }
    Ok(logs)
}
