//! FHIR R4 at `/fhir` with API keys, against a real hub: a vital-signs
//! Observation posted with NEWS2 7 is scored and answered as a bedside set
//! (the emergency review reaches the registrar's phone over the
//! WebSocket, the hub's Task shows it, the audit names the key's account);
//! revoked, expired, out-of-scope and unknown keys are refused with an
//! OperationOutcome, and a key never opens the WebSocket; the CLI creates,
//! lists and revokes. The NEWS2 story and the refusals run on SQLite and on
//! PostgreSQL. Searches, the CapabilityStatement, refused sets and
//! transaction Bundles are in `fhir_resources.rs`.

use serde_json::json;
use wardpage_proto::{Event, Priority, TaskChange};
use wardpage_server::apikeys;
use wardpage_server::config::Config;
use wardpage_tests::fhir_client::*;
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::{eventually, Client, TestHub};

#[tokio::test]
async fn an_observation_posted_over_fhir_with_news2_seven_gives_the_emergency_response(
) -> anyhow::Result<()> {
    emergency_over_fhir(TestHub::start().await?).await
}

#[tokio::test]
async fn an_observation_posted_over_fhir_gives_the_emergency_response_on_postgres(
) -> anyhow::Result<()> {
    on_fresh_postgres("fhir_emergency_on_postgres", |url| async move {
        emergency_over_fhir(TestHub::start_with(|c: &mut Config| c.database = url.into()).await?)
            .await
    })
    .await
}

async fn emergency_over_fhir(hub: TestHub) -> anyhow::Result<()> {
    let base = hub.base();
    let mut nic = Client::login_connect(&base, "nic.grant").await?;
    let mut reg = Client::login_connect(&base, "reg.evans").await?;
    let p = admit(&mut nic, "4", 11).await?;
    let key = key(&hub, "epr", &["fhir:read", "observations:write"], None).await?;
    let fhir = Fhir::new(&hub);

    let (status, found) = fhir
        .get(
            &key,
            &format!(
                "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{}",
                nhs(11)
            ),
        )
        .await?;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["entry"][0]["resource"]["id"], p.id.to_string());

    let body = seven(&p.id.to_string());
    let (status, answer) = fhir.post(&key, &body).await?;
    assert_eq!(status, 201, "{answer}");
    let stored = &answer["entry"][0]["resource"];
    let news2 = &answer["entry"][1]["resource"];
    assert_eq!(stored["resourceType"], "Observation");
    assert_eq!(news2["valueInteger"], 7, "{news2}");
    let codes: Vec<&str> = news2["code"]["coding"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(codes, ["1104051000000101", "88330-6"]);
    let subs: i64 = news2["component"]
        .as_array()
        .map(|c| c.iter().filter_map(|c| c["valueInteger"].as_i64()).sum())
        .unwrap_or_default();
    assert_eq!(subs, 7, "the sub-scores add up to the total");

    // The same clinical response as a bedside set: an emergency review
    // offered to the registrar, over the WebSocket.
    let raised = reg
        .wait_for(|e| {
            matches!(e, Event::Task { change: TaskChange::Raised, task, .. }
            if task.patient_ref.as_ref().map(|r| r.id) == Some(p.id))
        })
        .await?;
    let Event::Task { task, .. } = raised else {
        unreachable!()
    };
    assert_eq!(task.priority, Priority::Emergency);

    // The hub's Task, over FHIR, points at the NEWS2 Observation.
    let (status, tasks) = fhir
        .get(&key, &format!("Task?patient=Patient/{}", p.id))
        .await?;
    assert_eq!(status, 200, "{tasks}");
    let t = &tasks["entry"][0]["resource"];
    assert_eq!(t["id"], task.id.to_string());
    assert_eq!(t["priority"], "stat");
    assert_eq!(t["status"], "requested");
    assert_eq!(t["requester"]["type"], "Device");
    assert_eq!(
        t["reasonReference"]["reference"],
        format!("Observation/{}", news2["id"].as_str().unwrap_or_default())
    );
    let (status, again) = fhir
        .get(
            &key,
            &format!("Observation/{}", news2["id"].as_str().unwrap_or_default()),
        )
        .await?;
    assert_eq!((status, &again["valueInteger"]), (200, &json!(7)));

    // Written as the key's service account: the audit names it.
    let account = hub
        .store
        .staff_by_login(&apikeys::account_login("epr"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no service account"))?;
    assert_eq!(account.name, "epr (API key)");
    let trail = hub.store.audit_for(&p.id.to_string()).await?;
    let observed = trail
        .iter()
        .find(|r| r.action == "observe")
        .ok_or_else(|| anyhow::anyhow!("no observe audit row: {trail:?}"))?;
    assert_eq!(
        observed.actor.as_deref(),
        Some(account.id.to_string().as_str())
    );

    // A retry of the same body records nothing more.
    let (status, retried) = fhir.post(&key, &body).await?;
    assert_eq!(status, 201);
    assert_eq!(retried["entry"][0]["resource"]["id"], stored["id"]);
    let (_, sets) = fhir
        .get(&key, &format!("Observation?patient={}", p.id))
        .await?;
    let entries = sets["entry"].as_array().map(Vec::len);
    assert_eq!(entries, Some(2), "one set and its NEWS2: {sets}");
    // What the account is told (the review its set raised) is acknowledged
    // at once: it has no phone to read its stream, and unacknowledged
    // events are never pruned.
    eventually("the account's stream is acknowledged", || async {
        let (_, _, acked) = hub.store.load(0, 0).await.map(|l| {
            l.streams
                .into_iter()
                .find(|s| s.0 == account.id)
                .unwrap_or((account.id, 0, 0))
        })?;
        Ok((acked > 0).then_some(()))
    })
    .await?;
    Ok(())
}

#[tokio::test]
async fn revoked_expired_out_of_scope_and_unknown_keys_are_refused() -> anyhow::Result<()> {
    refusals(TestHub::start().await?).await
}

#[tokio::test]
async fn keys_are_refused_alike_on_postgres() -> anyhow::Result<()> {
    on_fresh_postgres("fhir_keys_on_postgres", |url| async move {
        refusals(TestHub::start_with(|c: &mut Config| c.database = url.into()).await?).await
    })
    .await
}

async fn refusals(hub: TestHub) -> anyhow::Result<()> {
    let fhir = Fhir::new(&hub);
    let reader = key(&hub, "reporting", &["fhir:read"], None).await?;
    let body = seven(&uuid::Uuid::now_v7().to_string());

    let (status, o) = fhir.post(&reader, &body).await?;
    assert_eq!(status, 403, "{o}");
    assert!(is_outcome(&o), "{o}");
    assert!(o["issue"][0]["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .contains("observations:write"));

    let expired = apikeys::create(&*hub.store, "old", &scopes(&["fhir:read"]), Some(0)).await?;
    let (status, o) = fhir.get(&expired, "Task").await?;
    assert_eq!(status, 401, "{o}");
    assert!(o["issue"][0]["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .contains("expired"));

    let (status, o) = fhir.get("wpk_000000000000_nonsense", "Task").await?;
    assert_eq!(status, 401, "{o}");
    assert!(is_outcome(&o));
    let (status, o) = fhir.get("", "Task").await?;
    assert_eq!(status, 401, "{o}");

    // The key worked until revoked.
    assert_eq!(fhir.get(&reader, "Task").await?.0, 200);
    assert!(
        hub.store
            .revoke_api_key("reporting", wardpage_server::clock::now_ms())
            .await?
    );
    let (status, o) = fhir.get(&reader, "Task").await?;
    assert_eq!(status, 401, "{o}");
    assert!(o["issue"][0]["diagnostics"]
        .as_str()
        .unwrap_or_default()
        .contains("revoked"));

    // Every use is counted, refusals too.
    let id = apikeys::split(&reader)
        .map(|(id, _)| id.to_owned())
        .unwrap_or_default();
    let uses = hub.store.api_key_uses(&id).await?;
    let count = |kind: &str| -> i64 { uses.iter().filter(|u| u.1 == kind).map(|u| u.2).sum() };
    assert!(count("read") >= 2, "{uses:?}");
    assert_eq!(count("refused"), 2, "{uses:?}");

    // A key never opens the WebSocket, even a valid one.
    let live = key(&hub, "live", &["fhir:read"], None).await?;
    let refused = Client::connect(&hub.base(), &live, 0).await;
    let e = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(e.contains("API key"), "the socket must refuse a key: {e:?}");
    Ok(())
}

#[tokio::test]
async fn the_cli_creates_lists_and_revokes_keys() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let db = hub.config.database.clone();
    let args = [
        "apikey",
        "create",
        "--name",
        "epr",
        "--scopes",
        "fhir:read",
        "--expires-in-days",
        "30",
    ];
    let created = wardpage_cli(&db, &args, "")?;
    let key = created.trim();
    assert!(apikeys::split(key).is_some(), "{created:?}");
    let stored = hub.store.api_keys().await?;
    assert!(!stored[0].secret_hash.contains(key) && stored[0].secret_hash.len() == 64);
    let list = wardpage_cli(&db, &["apikey", "list"], "")?;
    assert!(list.contains("epr") && list.contains("fhir:read"), "{list}");
    assert!(!list.contains(key), "the list never shows a key");
    assert!(wardpage_cli(&db, &args, "").is_err(), "a name is used once");
    wardpage_cli(&db, &["apikey", "revoke", "epr"], "")?;
    let (status, _) = Fhir::new(&hub).get(key, "Task").await?;
    assert_eq!(status, 401);
    Ok(())
}
