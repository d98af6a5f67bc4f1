//! Escalation lateness benchmark: how long after its due time each
//! escalation fires, with many live tasks on staggered deadlines, and
//! optionally a SIGKILL and restart of the hub in the middle of the firing
//! window. Traffic goes to a hub it starts itself on loopback.
//!
//! `wardpage-escalation-bench [--tasks 10000] [--after-secs 30]
//! [--spread-secs 20] [--restart]` (the hub binary comes from WARDPAGE_BIN,
//! or beside this one).

use anyhow::Context;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use wardpage_proto::{Event, Role, TaskId};
use wardpage_server::clock::now_ms;
use wardpage_tests::story::needs_role;
use wardpage_tests::{Client, HubProcess};

struct Args {
    tasks: usize,
    after_secs: u64,
    spread_secs: u64,
    restart: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        tasks: 10_000,
        after_secs: 30,
        spread_secs: 20,
        restart: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut num =
            || -> anyhow::Result<u64> { Ok(it.next().context("missing value")?.parse()?) };
        match k.as_str() {
            "--tasks" => a.tasks = num()? as usize,
            "--after-secs" => a.after_secs = num()?,
            "--spread-secs" => a.spread_secs = num()?,
            "--restart" => a.restart = true,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let config = dir.path().join("wardpage.toml");
    std::fs::write(
        &config,
        format!(
            "[[escalation.task]]\nname = \"bench\"\naccept = {{ steps = [{{ action = \"realert\", after_secs = {} }}, {{ action = \"coordinator\", after_secs = 3600 }}] }}\ncomplete = {{ steps = [{{ action = \"coordinator\", after_secs = 3600 }}] }}\n",
            a.after_secs
        ),
    )?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    let mut hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let addr = hub.addr;
    let base = hub.base();
    let coord_token =
        wardpage_tests::client::login(&base, "coord.hale", wardpage_tests::DEMO_PASSWORD).await?;
    let mut coord = Client::connect(&base, &coord_token, 0).await?;

    // Raise on staggered deadlines: evenly over the spread.
    // Spread over many connections: each stays well inside the hub's
    // per-connection rate limit even when the pacing catches up after a stall.
    let raisers = [
        "nurse.okafor",
        "nurse.lee",
        "hca.brown",
        "nic.grant",
        "coord.hale",
        "fy1.ruiz",
        "sho.khan",
        "reg.evans",
        "np.murphy",
        "phleb.ali",
    ];
    let per = a.tasks.div_ceil(raisers.len());
    let pace = Duration::from_secs_f64(a.spread_secs as f64 / per.max(1) as f64);
    let mut handles = Vec::new();
    for login in raisers {
        let base = base.clone();
        handles.push(tokio::spawn(async move {
            let mut c = Client::login_connect(&base, login).await?;
            let start = Instant::now();
            // Read as we go: a client that stops reading is disconnected
            // as a slow consumer (and would resume, but not in this loop).
            let mut ids = Vec::with_capacity(per);
            for i in 0..per {
                tokio::time::sleep_until((start + pace * i as u32).into()).await;
                if let Ok(wardpage_proto::CommandResult::Task { task }) =
                    c.command(needs_role("w7", Role::Fy1)).await?
                {
                    ids.push(task.id);
                }
                while c.next_event_within(Duration::ZERO).await?.is_some() {}
            }
            anyhow::Ok(ids)
        }));
    }
    let started = Instant::now();
    let mut due: HashMap<TaskId, i64> = HashMap::new();
    let mut hub_late: Vec<i64> = Vec::new();
    let mut seen_late: Vec<i64> = Vec::new();
    let after_ms = a.after_secs as i64 * 1000;
    let mut restarted = !a.restart;
    let deadline = started + Duration::from_secs(a.after_secs + a.spread_secs + 120);
    let mut expected = a.tasks;
    let mut raisers_done = false;
    while hub_late.len() < expected && Instant::now() < deadline {
        if !raisers_done && handles.iter().all(|h| h.is_finished()) {
            let mut n = 0;
            for h in handles.drain(..) {
                n += h.await??.len();
            }
            expected = n;
            raisers_done = true;
            eprintln!(
                "raised {n} tasks in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        if !restarted && started.elapsed() >= Duration::from_secs(a.after_secs + a.spread_secs / 2)
        {
            restarted = true;
            let cursor = coord.cursor;
            hub.kill9().await?;
            let t = Instant::now();
            hub = HubProcess::start(&db, addr, &env).await?;
            coord = Client::connect(&base, &coord_token, cursor).await?;
            eprintln!(
                "SIGKILL and restart: serving again after {} ms",
                t.elapsed().as_millis()
            );
        }
        let Some((_, e)) = coord.next_event_within(Duration::from_millis(200)).await? else {
            continue;
        };
        match e {
            Event::Task { task, .. } => {
                due.entry(task.id).or_insert(task.raised_at + after_ms);
            }
            Event::TaskEscalated { task, level: 1, .. } => {
                let d = task.raised_at + after_ms;
                hub_late.push(task.updated_at - d);
                seen_late.push(now_ms() - d);
            }
            _ => {}
        }
        if hub_late.len().is_multiple_of(1000) && !hub_late.is_empty() {
            coord.ack().await?;
        }
    }
    hub.terminate().await?;
    hub_late.sort_unstable();
    seen_late.sort_unstable();
    let missing = expected.saturating_sub(hub_late.len());
    println!(
        "escalations {} of {expected} (missing {missing}); restart: {}\n  fired after due (hub clock): p50 {} ms, p99 {} ms, max {} ms, min {} ms\n  seen by the coordinator:     p50 {} ms, p99 {} ms, max {} ms",
        hub_late.len(),
        a.restart,
        percentile(&hub_late, 0.5),
        percentile(&hub_late, 0.99),
        hub_late.last().copied().unwrap_or(0),
        hub_late.first().copied().unwrap_or(0),
        percentile(&seen_late, 0.5),
        percentile(&seen_late, 0.99),
        seen_late.last().copied().unwrap_or(0),
    );
    anyhow::ensure!(missing == 0, "{missing} escalations never fired");
    Ok(())
}
