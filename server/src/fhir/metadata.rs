//! `GET /fhir/metadata`: the CapabilityStatement, listing exactly the
//! interactions and search parameters the handlers serve (each handler's
//! `only` list of parameters is the same as the one here: the FHIR test
//! checks every one listed is accepted).

use super::instant;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

/// (resource, interactions, search parameters with their types).
type Entry = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// What each resource supports.
pub const SUPPORTED: [Entry; 4] = [
    (
        "Patient",
        &["read", "search-type"],
        &[("identifier", "token"), ("ward", "token")],
    ),
    (
        "Observation",
        &["read", "search-type", "create"],
        &[
            ("patient", "reference"),
            ("code", "token"),
            ("date", "date"),
        ],
    ),
    (
        "Task",
        &["read", "search-type"],
        &[
            ("status", "token"),
            ("patient", "reference"),
            ("owner", "reference"),
            ("priority", "token"),
            ("_lastUpdated", "date"),
        ],
    ),
    (
        "Communication",
        &["read", "search-type"],
        &[("status", "token"), ("_lastUpdated", "date")],
    ),
];

pub fn capability_statement() -> Value {
    let resources: Vec<Value> = SUPPORTED
        .iter()
        .map(|(ty, ops, params)| {
            json!({
                "type": ty,
                "interaction": ops.iter().map(|o| json!({"code": o})).collect::<Vec<_>>(),
                "versioning": "versioned",
                "readHistory": false,
                "searchParam": params.iter().chain([("_count", "number")].iter())
                    .map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "resourceType": "CapabilityStatement",
        "meta": super::meta(env!("CARGO_PKG_VERSION"), crate::clock::now_ms()),
        "status": "active",
        "date": instant(crate::clock::now_ms()),
        "kind": "instance",
        "software": {"name": "wardpage", "version": env!("CARGO_PKG_VERSION")},
        "implementation": {"description": "wardpage hub: tasks, pages, patients and bedside observations"},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "security": {
                "description": "Authorization: Bearer wpk_... (an API key from `wardpage apikey create`); \
                    scopes fhir:read for reads and searches, observations:write to post sets",
            },
            "resource": resources,
            "interaction": [{"code": "transaction", "documentation": "a Bundle of one vital-signs set"}],
        }],
    })
}

/// `GET /fhir/metadata`.
#[utoipa::path(
    get,
    path = "/fhir/metadata",
    operation_id = "fhir_capabilities",
    tag = "fhir",
    summary = "The CapabilityStatement: what this FHIR R4 endpoint supports",
    description = "Open without a key, as FHIR clients expect.",
    responses(
        (status = 200, description = "The CapabilityStatement", body = Object,
            content_type = "application/fhir+json"),
    )
)]
pub async fn metadata() -> Response {
    super::resource_answer(StatusCode::OK, &capability_statement())
}
