//! FHIR R4 at `/fhir` with API keys, against a real hub: a vital-signs
//! Observation posted with NEWS2 7 is scored and answered as a bedside set
//! (the emergency review reaches the registrar's phone over the
//! WebSocket, the hub's Task shows it, the audit names the key's account);
//! revoked, expired, out-of-scope and unknown keys are refused with an
//! OperationOutcome, and a key never opens the WebSocket; Task searches
//! page with `_count` and `next` links; the CLI creates, lists and revokes.
//! The CapabilityStatement lists exactly the search parameters served; a
//! set the hub cannot read is refused naming the element, recording nothing;
//! a transaction Bundle of one set is recorded like a posted Observation.
//! The NEWS2 story and the refusals run on SQLite and on PostgreSQL.

use serde_json::{json, Value};
use wardpage_proto::{
    Command, CommandResult, Event, PatientDetails, PatientView, Priority, Sex, TaskChange,
};
use wardpage_server::apikeys;
use wardpage_server::config::Config;
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client, TestHub};

/// A valid NHS number from the range reserved for testing (999 ...).
fn nhs(n: u32) -> String {
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

async fn admit(nic: &mut Client, bed: &str, n: u32) -> anyhow::Result<PatientView> {
    let d = PatientDetails {
        nhs_number: Some(nhs(n)),
        local_number: None,
        name: format!("Sam Fhirtest {n}"),
        born: "1950-06-01".into(),
        sex: Sex::Male,
        consultant: "Dr A Example".into(),
        alerts: String::new(),
    };
    match nic
        .ok(Command::AdmitPatient {
            ward: "w7".into(),
            bed: bed.into(),
            patient: d,
        })
        .await?
    {
        CommandResult::Patient { patient } => Ok(patient),
        other => anyhow::bail!("admit answered {other:?}"),
    }
}

fn loinc(code: &str, value: f64, unit: &str) -> Value {
    json!({"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
           "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})
}

/// NEWS2 7: respiration 25 (3), SpO2 95 (1), air (0), systolic 120 (0),
/// pulse 111 (2), alert (0), 38.5 °C (1).
fn seven(patient: &str) -> Value {
    let now = wardpage_server::fhir::instant(wardpage_server::clock::now_ms() - 1_000);
    json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85353-1"}]},
        "subject": {"reference": format!("Patient/{patient}")},
        "effectiveDateTime": now,
        "component": [
            loinc("9279-1", 25.0, "/min"),
            loinc("59408-5", 95.0, "%"),
            {"code": {"coding": [{"system": "https://wardpage.nhs.example/fhir/CodeSystem/breathing", "code": "air-or-oxygen"}]},
             "valueCodeableConcept": {"coding": [{"system": "https://wardpage.nhs.example/fhir/CodeSystem/breathing", "code": "air"}]}},
            loinc("8480-6", 120.0, "mm[Hg]"),
            loinc("8462-4", 70.0, "mm[Hg]"),
            loinc("8867-4", 111.0, "/min"),
            {"code": {"coding": [{"system": "http://loinc.org", "code": "67775-7"}]},
             "valueCodeableConcept": {"coding": [{"system": "https://wardpage.nhs.example/fhir/CodeSystem/acvpu", "code": "alert"}]}},
            loinc("8310-5", 38.5, "Cel"),
        ],
    })
}

struct Fhir {
    http: reqwest::Client,
    base: String,
}

impl Fhir {
    fn new(hub: &TestHub) -> Fhir {
        Fhir {
            http: reqwest::Client::new(),
            base: hub.base(),
        }
    }

    async fn get(&self, key: &str, path: &str) -> anyhow::Result<(u16, Value)> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/fhir/{path}", self.base)
        };
        let res = self.http.get(url).bearer_auth(key).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }

    async fn post(&self, key: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
        let res = self
            .http
            .post(format!("{}/fhir/Observation", self.base))
            .bearer_auth(key)
            .header("content-type", "application/fhir+json")
            .body(body.to_string())
            .send()
            .await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }
}

fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// A key for `name`, once the running hub has loaded its service account.
async fn key(hub: &TestHub, name: &str, s: &[&str], days: Option<u32>) -> anyhow::Result<String> {
    let key = apikeys::create(&*hub.store, name, &scopes(s), days).await?;
    if s.contains(&"fhir:read") {
        let fhir = Fhir::new(hub);
        eventually("the hub knows the key's account", || async {
            let (status, _) = fhir.get(&key, "Patient?ward=w7").await?;
            Ok((status == 200).then_some(()))
        })
        .await?;
    }
    Ok(key)
}

fn is_outcome(v: &Value) -> bool {
    v["resourceType"] == "OperationOutcome" && v["issue"][0]["severity"] == "error"
}

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
async fn task_searches_page_with_count_and_next_links() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nurse = Client::login_connect(&hub.base(), "nurse.okafor").await?;
    let mut raised = vec![];
    for _ in 0..5 {
        raised.push(raise_ok(&mut nurse, cannula_w7()).await?.id.to_string());
    }
    let key = key(&hub, "bi", &["fhir:read"], None).await?;
    let fhir = Fhir::new(&hub);
    let (mut seen, mut url, mut pages) = (vec![], "Task?_count=2&priority=asap".to_owned(), 0);
    loop {
        let (status, b) = fhir.get(&key, &url).await?;
        assert_eq!(status, 200, "{b}");
        assert_eq!(b["type"], "searchset");
        pages += 1;
        for e in b["entry"].as_array().into_iter().flatten() {
            let r = &e["resource"];
            assert!(r["meta"]["versionId"].is_string() && r["meta"]["lastUpdated"].is_string());
            seen.push(r["id"].as_str().unwrap_or_default().to_owned());
        }
        let next = b["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str())
            .map(str::to_owned);
        match next {
            Some(n) => url = n,
            None => break,
        }
        anyhow::ensure!(pages < 10, "paging never ends");
    }
    assert!(pages >= 3, "5 tasks two a page: {pages} pages");
    seen.sort();
    raised.sort();
    assert_eq!(seen, raised, "every task once, none twice");

    let (status, b) = fhir
        .get(&key, "Task?_lastUpdated=gt2999-01-01T00:00:00Z")
        .await?;
    assert_eq!(status, 200);
    assert!(b["entry"].as_array().is_some_and(|e| e.is_empty()), "{b}");
    let res = reqwest::Client::new()
        .get(format!("{}/fhir/Task/{}", hub.base(), raised[0]))
        .bearer_auth(&key)
        .send()
        .await?;
    assert!(
        res.headers().get("etag").is_some(),
        "a resource has an ETag"
    );
    let res = reqwest::Client::new()
        .delete(format!("{}/fhir/Task/{}", hub.base(), raised[0]))
        .bearer_auth(&key)
        .send()
        .await?;
    assert_eq!(res.status(), 405, "tasks change through the protocol");
    assert!(is_outcome(&res.json().await?));
    let (status, o) = fhir.get(&key, "MedicationRequest").await?;
    assert_eq!(status, 404);
    assert!(is_outcome(&o), "{o}");
    for bad in [
        "Task?status=busy",
        "Task?_count=0",
        "Task?colour=red",
        "Task?_lastUpdated=soon",
    ] {
        let (status, o) = fhir.get(&key, bad).await?;
        assert_eq!(status, 400, "{bad}: {o}");
        assert!(
            is_outcome(&o) && o["issue"][0]["expression"].is_array(),
            "{bad}: {o}"
        );
    }
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

#[tokio::test]
async fn the_capability_statement_lists_exactly_the_searches_served() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nic = Client::login_connect(&hub.base(), "nic.grant").await?;
    let p = admit(&mut nic, "5", 21).await?;
    let key = key(&hub, "bi", &["fhir:read"], None).await?;
    let fhir = Fhir::new(&hub);
    let res = reqwest::get(format!("{}/fhir/metadata", hub.base())).await?;
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/fhir+json"),
        "metadata needs no key"
    );
    let cap: Value = res.json().await?;
    assert_eq!(cap["fhirVersion"], "4.0.1");
    let value = |name: &str| -> String {
        match name {
            "identifier" => format!("https://fhir.nhs.uk/Id/nhs-number|{}", nhs(21)),
            "ward" => "w7".into(),
            "patient" => format!("Patient/{}", p.id),
            "code" => "88330-6".into(),
            "date" | "_lastUpdated" => "ge2020-01-01T00:00:00Z".into(),
            "status" => "completed".into(),
            "owner" => uuid::Uuid::now_v7().to_string(),
            "priority" => "stat".into(),
            _ => "5".into(),
        }
    };
    let mut tried = 0;
    for r in cap["rest"][0]["resource"].as_array().into_iter().flatten() {
        let ty = r["type"].as_str().unwrap_or_default();
        // Observations are searched by patient, always.
        let base = if ty == "Observation" {
            format!("{ty}?patient={}&", p.id)
        } else {
            format!("{ty}?")
        };
        for param in r["searchParam"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let (status, b) = fhir
                .get(&key, &format!("{base}{name}={}", value(name)))
                .await?;
            assert_eq!(
                (status, &b["type"]),
                (200, &json!("searchset")),
                "{ty} {name}: {b}"
            );
            tried += 1;
        }
        let (status, o) = fhir.get(&key, &format!("{base}colour=red")).await?;
        assert_eq!(status, 400, "{ty}: an unlisted parameter is refused: {o}");
    }
    assert_eq!(
        tried, 16,
        "every parameter listed was tried (12 and 4 _count)"
    );
    Ok(())
}

#[tokio::test]
async fn a_set_the_hub_cannot_read_is_refused_naming_the_element() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut nic = Client::login_connect(&hub.base(), "nic.grant").await?;
    let p = admit(&mut nic, "6", 31).await?;
    let key = key(&hub, "obs", &["fhir:read", "observations:write"], None).await?;
    let fhir = Fhir::new(&hub);
    let good = seven(&p.id.to_string());
    let mut implausible = good.clone();
    implausible["component"][0]["valueQuantity"]["value"] = json!(300);
    let mut unknown = good.clone();
    unknown["component"][2] = loinc("29463-7", 70.0, "kg");
    let mut ahead = good.clone();
    ahead["effectiveDateTime"] = json!("2999-01-01T00:00:00Z");
    let mut no_subject = good.clone();
    no_subject["subject"] = json!({"display": "someone"});
    for (what, body, element) in [
        (
            "a respiration rate of 300",
            implausible,
            "Observation.component",
        ),
        ("a body weight", unknown, "Observation.component[2].code"),
        (
            "a set taken in the future",
            ahead,
            "Observation.effectiveDateTime",
        ),
        ("no patient", no_subject, "Observation.subject"),
    ] {
        let (status, o) = fhir.post(&key, &body).await?;
        assert_eq!(status, 400, "{what}: {o}");
        assert_eq!(o["issue"][0]["expression"][0], element, "{what}: {o}");
    }
    let (_, sets) = fhir
        .get(&key, &format!("Observation?patient={}", p.id))
        .await?;
    assert_eq!(
        sets["entry"].as_array().map(Vec::len),
        Some(0),
        "nothing recorded"
    );

    // The same set as a transaction Bundle of one entry.
    let tx = json!({"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": good, "request": {"method": "POST", "url": "Observation"}}]});
    let res = reqwest::Client::new()
        .post(format!("{}/fhir", hub.base()))
        .bearer_auth(&key)
        .header("content-type", "application/fhir+json")
        .body(tx.to_string())
        .send()
        .await?;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await?;
    assert_eq!(answer["type"], "transaction-response");
    assert_eq!(answer["entry"][0]["response"]["status"], "201 Created");
    assert_eq!(answer["entry"][1]["resource"]["valueInteger"], 7);
    let two = json!({"resourceType": "Bundle", "type": "transaction", "entry": [tx["entry"][0], tx["entry"][0]]});
    let res = reqwest::Client::new()
        .post(format!("{}/fhir", hub.base()))
        .bearer_auth(&key)
        .header("content-type", "application/fhir+json")
        .body(two.to_string())
        .send()
        .await?;
    assert_eq!(res.status(), 400, "one set a transaction");
    let (_, sets) = fhir
        .get(&key, &format!("Observation?patient={}", p.id))
        .await?;
    assert_eq!(
        sets["entry"].as_array().map(Vec::len),
        Some(2),
        "one set and its NEWS2"
    );
    Ok(())
}
