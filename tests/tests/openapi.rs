//! The OpenAPI description at `/api/openapi.json`, read from a real hub:
//! OpenAPI 3.1, exactly the routes the hub serves, every `$ref` resolving,
//! and the hub's real answers shaped as it says. (schemathesis checks the
//! rest against a live hub: tests/openapi/run-schemathesis.sh.)

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use wardpage_tests::{TestHub, DEMO_PASSWORD};

async fn description(hub: &TestHub) -> anyhow::Result<Value> {
    let res = reqwest::get(format!("{}/api/openapi.json", hub.base())).await?;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(
        header("cache-control").as_deref(),
        Some("no-store"),
        "like every /api answer"
    );
    Ok(res.json().await?)
}

/// Every `$ref` value in `v`, with where it was found.
fn refs<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        out.push((at.clone(), r));
                    }
                } else {
                    refs(child, format!("{at}/{k}"), out);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The schema `schema` names, following one local `$ref`.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).unwrap_or(&Value::Null),
        None => schema,
    }
}

/// The property names of the JSON schema of `path`'s `method` answer `status`.
fn answer_properties(doc: &Value, path: &str, method: &str, status: &str) -> BTreeSet<String> {
    let schema =
        &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    let schema = resolve(doc, schema);
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_description_is_openapi_3_1_of_exactly_the_routes_served() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let doc = description(&hub).await?;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    let about = doc["info"]["description"].as_str().unwrap_or_default();
    assert!(
        about.contains("/ws") && about.contains("proto/PROTOCOL.md"),
        "the description names the WebSocket and its protocol: {about}"
    );

    let mut routes = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        routes.insert(path.as_str(), keys(item));
    }
    let one = |m: &str| BTreeSet::from([m.to_owned()]);
    let want = BTreeMap::from([
        ("/api/login", one("post")),
        ("/api/logout", one("post")),
        ("/api/openapi.json", one("get")),
        ("/healthz", one("get")),
        ("/metrics", one("get")),
        ("/fhir", one("post")),
        ("/fhir/metadata", one("get")),
        ("/fhir/Patient", one("get")),
        ("/fhir/Patient/{id}", one("get")),
        (
            "/fhir/Observation",
            BTreeSet::from(["get".to_owned(), "post".to_owned()]),
        ),
        ("/fhir/Observation/{id}", one("get")),
        ("/fhir/Task", one("get")),
        ("/fhir/Task/{id}", one("get")),
        ("/fhir/Communication", one("get")),
        ("/fhir/Communication/{id}", one("get")),
    ]);
    assert_eq!(routes, want);

    // Every operation: an id, and answers that each have a description,
    // among them the Host check's 421 that stands in front of every route.
    let mut ids = BTreeSet::new();
    for (path, methods) in &want {
        for method in methods {
            let op = &doc["paths"][path][method.as_str()];
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty() && ids.insert(id.to_owned()), "{path}: {id}");
            let answers = op["responses"].as_object();
            assert!(answers.is_some_and(|a| a.contains_key("421")), "{path}");
            for (status, answer) in answers.into_iter().flatten() {
                assert!(
                    status.len() == 3 && status.parse::<u16>().is_ok(),
                    "{path} {status}"
                );
                assert!(answer["description"].is_string(), "{path} {status}");
            }
        }
    }
    let login = &doc["paths"]["/api/login"]["post"]["responses"];
    for status in ["200", "400", "401", "408", "413", "415", "429", "503"] {
        assert!(login[status].is_object(), "login documents {status}");
    }
    assert!(login["429"]["headers"]["Retry-After"].is_object());
    assert!(login["503"]["headers"]["Retry-After"].is_object());
    let scheme = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&scheme["type"], &scheme["scheme"]),
        (&"http".into(), &"bearer".into())
    );

    // Every `$ref` names a part of the document.
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() >= 10, "the answers share their schemas");
    for (at, r) in found {
        let pointer = r.strip_prefix('#');
        assert!(
            pointer.is_some_and(|p| doc.pointer(p).is_some()),
            "{at}: {r} does not resolve"
        );
    }
    hub.stop().await
}

#[tokio::test]
async fn the_hubs_answers_have_the_described_fields() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let doc = description(&hub).await?;
    let http = reqwest::Client::new();
    let login = |body: String| {
        http.post(format!("{}/api/login", hub.base()))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let res = login(format!(
        r#"{{"username":"fy1.patel","password":"{DEMO_PASSWORD}"}}"#
    ))
    .await?;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await?;
    assert_eq!(
        keys(&answer),
        answer_properties(&doc, "/api/login", "post", "200")
    );
    assert_eq!(answer["staff"]["login"], "fy1.patel");

    let res = login(r#"{"username":"fy1.patel"}"#.to_owned()).await?;
    assert_eq!(res.status(), 400);
    let error: Value = res.json().await?;
    assert_eq!(
        keys(&error),
        answer_properties(&doc, "/api/login", "post", "400")
    );
    let codes = &resolve(
        &doc,
        &doc["components"]["schemas"]["ApiError"]["properties"]["code"],
    )["enum"];
    assert!(
        codes.as_array().is_some_and(|c| c.contains(&error["code"])),
        "{} is among {codes}",
        error["code"]
    );

    // The description's own example of a request: the login body schema's
    // required fields are what the hub reads.
    let body_schema = resolve(
        &doc,
        &doc["paths"]["/api/login"]["post"]["requestBody"]["content"]["application/json"]["schema"],
    );
    let required: BTreeSet<String> = body_schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        required,
        BTreeSet::from(["password".to_owned(), "username".to_owned()])
    );

    let token = answer["token"].as_str().unwrap_or_default();
    let res = http
        .post(format!("{}/api/logout", hub.base()))
        .bearer_auth(token)
        .send()
        .await?;
    assert_eq!(res.status(), 204);
    assert!(doc["paths"]["/api/logout"]["post"]["responses"]["204"].is_object());
    let res = http.get(format!("{}/healthz", hub.base())).send().await?;
    assert_eq!(res.status(), 200);
    let res = http.get(format!("{}/metrics", hub.base())).send().await?;
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(metrics.get(ct.as_str()).is_some(), "{ct} is described");
    hub.stop().await
}
