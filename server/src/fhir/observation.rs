//! `Observation`: `POST /fhir/Observation` records a vital-signs set as
//! the key's service account through the writer (the protocol's
//! `record_observations`: scored, charted, and answered with the same
//! clinical response as a set from the bedside), and answers `201` with a
//! Bundle of the stored set and its NEWS2 Observation. Read by id (a set's,
//! or its NEWS2's `<id>-news2`); search by patient, code and date over
//! every stored set of the patient.

use super::answers::{Kind, ReadAnswers, SearchAnswers};
use super::{caller, resource_answer, vitals, FhirResult, Outcome, Query, FHIR_JSON};
use crate::apikeys::Scope;
use crate::hub::Hub;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tracing::Instrument;
use wardpage_proto::{Command, CommandId, CommandResult, ObservationView, PatientId};

/// `POST /fhir/Observation`.
#[utoipa::path(
    post,
    path = "/fhir/Observation",
    operation_id = "fhir_observation_create",
    tag = "fhir",
    summary = "Record a vital-signs set (scored as NEWS2, answered like one from the bedside)",
    description = "One Observation with a component per vital sign (LOINC: 9279-1, 59408-5 \
        or 2708-6, 8480-6, 8462-4, 8867-4, 8310-5, 67775-7 with an ACVPU code, our \
        air-or-oxygen code with 3151-8 or 3150-0), `subject` a `Patient/<id>` reference or \
        an NHS number identifier, `effectiveDateTime` when it was taken. The same body \
        sent again by the same key is recorded once. Needs the scope `observations:write`.",
    request_body(content = Object, content_type = "application/fhir+json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Recorded: a `collection` Bundle of the stored Observation \
            and its NEWS2 Observation", body = Object, content_type = "application/fhir+json"),
        (status = 400, description = "Not a vital-signs Observation this hub reads (OperationOutcome)",
            body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No key, or an unknown, revoked or expired one", body = Object,
            content_type = "application/fhir+json"),
        (status = 403, description = "The key lacks `observations:write`", body = Object,
            content_type = "application/fhir+json"),
        (status = 404, description = "No such admitted patient", body = Object,
            content_type = "application/fhir+json"),
        (status = 415, description = "The body is not JSON", body = Object, content_type = "application/fhir+json"),
        (status = 422, description = "The hub refused the set (a value out of range, ...)",
            body = Object, content_type = "application/fhir+json"),
        (status = 503, description = "The hub is stopping or its store failed", body = Object,
            content_type = "application/fhir+json"),
    )
)]
pub async fn create(State(hub): State<Arc<Hub>>, headers: HeaderMap, body: Bytes) -> FhirResult {
    let who = caller(&hub, &headers, Scope::ObservationsWrite).await?;
    let span = tracing::info_span!("fhir_observation", key = %who.name);
    async move {
        let obs = json_body(&headers, &body, "Observation")?;
        let observation = record(&hub, &who, &obs, &body).await?;
        let stored = vitals::observation(&observation);
        let score = vitals::news2(&observation);
        let b = json!({
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": format!("Observation/{}", observation.id), "resource": stored},
                {"fullUrl": format!("Observation/{}", score["id"].as_str().unwrap_or_default()), "resource": score},
            ],
        });
        let mut res = resource_answer(StatusCode::CREATED, &b);
        if let Ok(loc) = HeaderValue::from_str(&location(&observation)) {
            res.headers_mut().insert(header::LOCATION, loc);
        }
        res.headers_mut()
            .insert(header::ETAG, HeaderValue::from_static("W/\"1\""));
        Ok(res)
    }
    .instrument(span)
    .await
}

fn location(o: &ObservationView) -> String {
    format!("Observation/{}/_history/1", o.id)
}

/// The body as JSON, if it is declared as JSON.
pub(super) fn json_body(headers: &HeaderMap, body: &[u8], what: &str) -> Result<Value, Outcome> {
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(FHIR_JSON) || v.starts_with("application/json"));
    if !declared {
        return Err(Outcome::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid",
            format!("send the {what} as Content-Type: application/fhir+json"),
        ));
    }
    serde_json::from_slice(body).map_err(|e| Outcome::invalid(what, format!("not JSON: {e}")))
}

/// Records a posted vital-signs Observation through the writer as the
/// key's account and returns the stored set. `raw` is what was posted: the
/// same body from the same key is the same set, so a retry after a lost
/// answer is recorded once (the writer keeps command ids).
async fn record(
    hub: &Hub,
    who: &crate::apikeys::Caller,
    obs: &Value,
    raw: &[u8],
) -> Result<ObservationView, Outcome> {
    let set = vitals::read_set(obs)?;
    let patient = subject(hub, who, obs).await?;
    let cmd = Command::RecordObservations { patient, set };
    cmd.validate_at(crate::clock::now_ms()).map_err(|e| {
        let element = if e.field.contains("taken_at") {
            "Observation.effectiveDateTime"
        } else {
            "Observation.component"
        };
        Outcome::invalid(element, format!("{}: {}", e.field, e.problem))
    })?;
    let digest = Sha256::digest([who.key_id.as_bytes(), b"\0", raw].concat());
    let mut id = [0u8; 16];
    id.copy_from_slice(&digest[..16]);
    let id = CommandId(uuid::Builder::from_random_bytes(id).into_uuid());
    let CommandResult::Observation { observation, .. } = super::submit(hub, who, id, cmd).await?
    else {
        return Err(Outcome::unavailable("the hub gave no observation"));
    };
    tracing::info!(observation = %observation.id, total = ?observation.score.total, "FHIR set recorded");
    Ok(observation)
}

/// `POST /fhir`.
#[utoipa::path(
    post,
    path = "/fhir",
    operation_id = "fhir_transaction",
    tag = "fhir",
    summary = "A transaction Bundle of one vital-signs set (as `POST /fhir/Observation`)",
    description = "A Bundle of type `transaction` whose one entry is a vital-signs Observation \
        with `request` `POST Observation`; recorded exactly as `POST /fhir/Observation`. \
        Needs the scope `observations:write`.",
    request_body(content = Object, content_type = "application/fhir+json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A `transaction-response` Bundle: the stored set (`201 Created`) \
            and its NEWS2", body = Object, content_type = "application/fhir+json"),
        (status = 400, description = "Not a transaction of one vital-signs set (OperationOutcome)",
            body = Object, content_type = "application/fhir+json"),
        (status = 401, description = "No key, or an unknown, revoked or expired one", body = Object,
            content_type = "application/fhir+json"),
        (status = 403, description = "The key lacks `observations:write`", body = Object,
            content_type = "application/fhir+json"),
        (status = 404, description = "No such admitted patient", body = Object,
            content_type = "application/fhir+json"),
        (status = 415, description = "The body is not JSON", body = Object, content_type = "application/fhir+json"),
        (status = 422, description = "The hub refused the set", body = Object,
            content_type = "application/fhir+json"),
        (status = 503, description = "The hub is stopping or its store failed", body = Object,
            content_type = "application/fhir+json"),
    )
)]
pub async fn transaction(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    body: Bytes,
) -> FhirResult {
    let who = caller(&hub, &headers, Scope::ObservationsWrite).await?;
    let span = tracing::info_span!("fhir_transaction", key = %who.name);
    async move {
        let b = json_body(&headers, &body, "Bundle")?;
        if b["resourceType"] != "Bundle" || b["type"] != "transaction" {
            return Err(Outcome::invalid("Bundle.type", "post a Bundle of type transaction"));
        }
        let entries = b["entry"].as_array().map(Vec::as_slice).unwrap_or_default();
        let [entry] = entries else {
            return Err(Outcome::invalid("Bundle.entry", "a transaction holds one vital-signs set"));
        };
        let request = &entry["request"];
        if request["method"] != "POST" || request["url"] != "Observation" {
            return Err(Outcome::invalid(
                "Bundle.entry[0].request",
                "the entry's request is POST Observation",
            ));
        }
        let observation = record(&hub, &who, &entry["resource"], &body).await?;
        let score = vitals::news2(&observation);
        let answer = json!({
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {"fullUrl": format!("Observation/{}", observation.id),
                 "resource": vitals::observation(&observation),
                 "response": {"status": "201 Created", "location": location(&observation), "etag": "W/\"1\""}},
                {"fullUrl": format!("Observation/{}", score["id"].as_str().unwrap_or_default()),
                 "resource": score,
                 "response": {"status": "200 OK", "etag": "W/\"1\""}},
            ],
        });
        Ok(resource_answer(StatusCode::OK, &answer))
    }
    .instrument(span)
    .await
}

/// The patient a posted set is for: `Patient/<id>`, or an NHS number.
async fn subject(
    hub: &Hub,
    who: &crate::apikeys::Caller,
    obs: &Value,
) -> Result<PatientId, Outcome> {
    let s = &obs["subject"];
    if let Some(r) = s["reference"].as_str() {
        return r
            .strip_prefix("Patient/")
            .and_then(|id| id.parse().ok())
            .ok_or_else(|| {
                Outcome::invalid(
                    "Observation.subject.reference",
                    "a reference is Patient/<id>",
                )
            });
    }
    let system = s["identifier"]["system"].as_str();
    let value = s["identifier"]["value"].as_str();
    match (system, value) {
        (Some(super::NHS_NUMBER), Some(n)) => super::patient::by_nhs_number(hub, who, n)
            .await?
            .map(|p| p.id)
            .ok_or_else(|| Outcome::not_found("admitted patient with this NHS number")),
        _ => Err(Outcome::invalid(
            "Observation.subject",
            "subject is a Patient/<id> reference or an NHS number identifier",
        )),
    }
}

/// How the answers of `/fhir/Observation` name it.
pub struct ObservationKind;

impl Kind for ObservationKind {
    const READ: &'static str = "The Observation";
    const NOT_FOUND: &'static str = "No such Observation";
    const SEARCH: &'static str = "A searchset Bundle: each set and its NEWS2";
}

/// `GET /fhir/Observation/{id}`.
#[utoipa::path(
    get,
    path = "/fhir/Observation/{id}",
    operation_id = "fhir_observation_read",
    tag = "fhir",
    summary = "A stored vital-signs set, or its NEWS2 (`<id>-news2`)",
    params(("id" = String, Path, description = "The set's id, or `<id>-news2`")),
    security(("bearer" = [])),
    responses(ReadAnswers<ObservationKind>)
)]
pub async fn read(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    let (set_id, news2) = match id.strip_suffix("-news2") {
        Some(s) => (s, true),
        None => (id.as_str(), false),
    };
    if set_id.parse::<uuid::Uuid>().is_err() {
        return Err(Outcome::not_found("Observation with this id"));
    }
    let o = hub
        .store
        .observation(set_id)
        .await?
        .ok_or_else(|| Outcome::not_found("Observation with this id"))?;
    let r = if news2 {
        vitals::news2(&o)
    } else {
        vitals::observation(&o)
    };
    Ok(resource_answer(StatusCode::OK, &r))
}

/// `GET /fhir/Observation`.
#[utoipa::path(
    get,
    path = "/fhir/Observation",
    operation_id = "fhir_observation_search",
    tag = "fhir",
    summary = "Search a patient's vital-signs sets (with their NEWS2)",
    params(
        ("patient" = String, Query, description = "`Patient/<id>` or `<id>` (required)"),
        ("code" = Option<String>, Query, description = "`[system|]code`: 85353-1, 88330-6, 1104051000000101 or a component's LOINC code"),
        ("date" = Option<Vec<String>>, Query, description = "When taken, with a prefix: `ge2026-12-01T20:00:00Z`"),
        ("_count" = Option<u32>, Query, description = "Sets per page (1-500, default 50)"),
        ("_cursor" = Option<String>, Query, description = "From a `next` link"),
    ),
    security(("bearer" = [])),
    responses(SearchAnswers<ObservationKind>)
)]
pub async fn search(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    let q = Query::parse(raw.as_deref());
    q.only(&["patient", "code", "date"])?;
    let patient = q
        .one("patient")
        .ok_or_else(|| Outcome::invalid("patient", "search Observations by patient"))?;
    let patient: PatientId = patient
        .strip_prefix("Patient/")
        .unwrap_or(&patient)
        .parse()
        .map_err(|_| Outcome::invalid("patient", "patient is Patient/<id>"))?;
    let window = super::date_window("date", &q.all("date"))?;
    let codes = q.all("code");
    let count = q.count()?;
    let mut after = q.cursor()?;
    let mut found = vec![];
    let mut next = None;
    // Read in chunks until the page is full, filtering on the code.
    'chunks: loop {
        let chunk = hub
            .store
            .observations_of(patient, window, after.clone(), count.max(100))
            .await?;
        let last_chunk = chunk.len() < count.max(100) as usize;
        for o in chunk {
            after = Some((o.set.taken_at, o.id.to_string()));
            if codes.iter().all(|c| vitals::matches_code(&o, c)) {
                found.push(o);
                if found.len() == count as usize {
                    next = after.clone().map(|(t, id)| format!("{t}.{id}"));
                    break 'chunks;
                }
            }
        }
        if last_chunk {
            break;
        }
    }
    let mut resources = vec![];
    for o in &found {
        resources.push(vitals::observation(o));
        resources.push(vitals::news2(o));
    }
    Ok(super::bundle("Observation", &q, resources, next).into_response())
}
