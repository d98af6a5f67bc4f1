//! FHIR throughput, a measurement rather than a check (ignored by
//! default; debug builds give meaningless figures, so run it in release):
//!
//! ```sh
//! cargo test --release -p wardpage-tests --test fhir_bench -- --ignored --nocapture
//! ```
//!
//! 1. Vital-signs sets posted over FHIR per second, each answered with
//!    its NEWS2 once committed (a NEWS2 of 7, so every set raises or
//!    rescores a review), from 32 concurrent posters over 24 patients.
//! 2. `GET /fhir/Task` searches per second on a store of 100,000 tasks,
//!    from 16 concurrent readers, for three searches a reporting system
//!    makes (a page of the newest changes, a status filter, a priority
//!    filter that matches one task in four).
//!
//! The 100,000 tasks are written straight into the store (copies of one
//! raised task with fresh ids and change times, committed in batches of
//! 5,000): the searches read the store, not the writer's memory.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wardpage_proto::{Command, CommandResult, PatientDetails, Priority, Sex};
use wardpage_server::store::Batch;
use wardpage_tests::patients::nhs;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

const SECS: u64 = 10;

fn q(code: &str, value: f64, unit: &str) -> Value {
    json!({"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
           "valueQuantity": {"value": value, "unit": unit}})
}

/// A NEWS2 7 set taken `ago_ms` before now (each post a different time,
/// so a different body and command).
fn seven(patient: &str, ago_ms: i64) -> Value {
    let at = wardpage_server::fhir::instant(wardpage_server::clock::now_ms() - ago_ms);
    let ours = "https://wardpage.nhs.example/fhir/CodeSystem/";
    json!({
        "resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85353-1"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": at,
        "component": [
            q("9279-1", 25.0, "/min"), q("59408-5", 95.0, "%"),
            {"code": {"coding": [{"system": format!("{ours}breathing"), "code": "air-or-oxygen"}]},
             "valueCodeableConcept": {"coding": [{"system": format!("{ours}breathing"), "code": "air"}]}},
            q("8480-6", 120.0, "mm[Hg]"), q("8867-4", 111.0, "/min"),
            {"code": {"coding": [{"system": "http://loinc.org", "code": "67775-7"}]},
             "valueCodeableConcept": {"coding": [{"system": format!("{ours}acvpu"), "code": "alert"}]}},
            q("8310-5", 38.5, "Cel"),
        ],
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Runs `workers` loops of `one` for [`SECS`]; prints the rate and latency.
async fn measure<F, Fut>(what: &str, workers: usize, one: F) -> anyhow::Result<()>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let one = Arc::new(one);
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let mut handles = vec![];
    for _ in 0..workers {
        let (one, stop, counter) = (one.clone(), stop.clone(), counter.clone());
        handles.push(tokio::spawn(async move {
            let mut times = vec![];
            while !stop.load(Ordering::Relaxed) {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                one(n).await?;
                times.push(t.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(SECS)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = vec![];
    for h in handles {
        all.extend(h.await??);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    println!(
        "{what}: {:.0}/s ({} in {secs:.1} s), p50 {:?}, p99 {:?}",
        all.len() as f64 / secs,
        all.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.99)
    );
    Ok(())
}

#[tokio::test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
async fn fhir_observations_and_task_searches_per_second() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut patients = vec![];
    for bed in 1..=24u32 {
        let d = PatientDetails {
            nhs_number: Some(nhs(bed)),
            local_number: None,
            name: format!("Bench Patient {bed}"),
            born: "1950-01-01".into(),
            sex: Sex::Female,
            consultant: String::new(),
            alerts: String::new(),
        };
        let cmd = Command::AdmitPatient {
            ward: "w7".into(),
            bed: bed.to_string(),
            patient: d,
        };
        if let CommandResult::Patient { patient } = nic.ok(cmd).await? {
            patients.push(patient.id.to_string());
        }
    }
    let key = wardpage_server::apikeys::create(
        &*hub.store,
        "bench",
        &["fhir:read".into(), "observations:write".into()],
        None,
    )
    .await?;
    let http = reqwest::Client::new();
    let patients = Arc::new(patients);
    {
        let (http, key, base, patients) =
            (http.clone(), key.clone(), base.clone(), patients.clone());
        measure(
            "FHIR Observation posts with the NEWS2 answer",
            32,
            move |n| {
                let (http, key, base, patients) =
                    (http.clone(), key.clone(), base.clone(), patients.clone());
                async move {
                    let p = &patients[n as usize % patients.len()];
                    // Older each time, so every body differs; within the day.
                    let body = seven(p, (n % 80_000_000) as i64);
                    let res = http
                        .post(format!("{base}/fhir/Observation"))
                        .bearer_auth(&key)
                        .header("content-type", "application/fhir+json")
                        .body(body.to_string())
                        .send()
                        .await?;
                    anyhow::ensure!(res.status() == 201, "{}", res.text().await?);
                    Ok(())
                }
            },
        )
        .await?;
    }

    // 100,000 tasks in the store, copies of one raised task.
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    raise_ok(&mut nurse, cannula_w7()).await?;
    let one = hub
        .store
        .tasks_changed(0, None, 1)
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("no task"))?;
    let t0 = wardpage_server::clock::now_ms() - 100_000 * 10;
    for chunk in 0..20 {
        let mut batch = Batch::default();
        for i in 0..5_000i64 {
            let mut t = one.clone();
            let n = chunk * 5_000 + i;
            t.view.id = serde_json::from_value(json!(uuid::Uuid::now_v7()))?;
            t.view.updated_at = t0 + n * 10;
            t.view.raised_at = t.view.updated_at;
            t.view.priority = [
                Priority::Routine,
                Priority::Soon,
                Priority::Urgent,
                Priority::Emergency,
            ][n as usize % 4];
            batch.tasks.push(t);
        }
        hub.store.commit(&batch).await?;
    }
    let mid = wardpage_server::fhir::instant(t0 + 50_000 * 10);
    for (what, query) in [
        (
            "FHIR Task search, newest changes (_lastUpdated=gt, 50)",
            format!("_lastUpdated=gt{mid}&_count=50"),
        ),
        (
            "FHIR Task search, status=requested (50)",
            "status=requested&_count=50".to_owned(),
        ),
        (
            "FHIR Task search, priority=stat (50)",
            "priority=stat&_count=50".to_owned(),
        ),
    ] {
        let (http, key, base) = (http.clone(), key.clone(), base.clone());
        measure(what, 16, move |_| {
            let (http, key, url) = (
                http.clone(),
                key.clone(),
                format!("{base}/fhir/Task?{query}"),
            );
            async move {
                let res = http.get(url).bearer_auth(&key).send().await?;
                anyhow::ensure!(res.status() == 200, "{}", res.text().await?);
                let b: Value = res.json().await?;
                anyhow::ensure!(b["entry"].as_array().is_some_and(|e| e.len() == 50));
                Ok(())
            }
        })
        .await?;
    }
    Ok(())
}
