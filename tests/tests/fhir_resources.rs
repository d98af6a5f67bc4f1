//! FHIR R4 resources at `/fhir`, against a real hub: Task searches page
//! with `_count` and `next` links; the CapabilityStatement lists exactly the
//! search parameters served; a set the hub cannot read is refused naming
//! the element, recording nothing; a transaction Bundle of one set is
//! recorded like a posted Observation.

use serde_json::{json, Value};
use wardpage_tests::fhir_client::*;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

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
