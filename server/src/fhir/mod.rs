//! FHIR R4 (JSON) at `/fhir`, for the hospital's other systems: the
//! CapabilityStatement ([`metadata`]), `Patient` ([`patient`]),
//! `Observation` ([`observation`]: a vital-signs set posted is recorded
//! through the writer exactly as a set from the bedside, and answered with
//! its NEWS2), `Task` ([`task`], read-only) and `Communication` for pages
//! ([`communication`]); searches and their Bundles are [`search`]'s. The
//! mapping is documented in `docs/fhir.md`.
//!
//! Every request carries an API key (`crate::apikeys`) with the scope its
//! operation needs; every error is an OperationOutcome; every resource has
//! `meta.versionId`, `meta.lastUpdated` and an ETag; searches answer a
//! `searchset` Bundle paged by `_count` with a `next` link whose
//! `_cursor` is where the next page starts (keyset paging, so a page
//! costs the same however deep it is).

mod answers;
pub mod communication;
pub mod metadata;
pub mod observation;
pub mod patient;
pub mod search;
pub mod task;
mod vitals;

pub use search::{bundle, date_window, parse_time, Query};

use crate::apikeys::{self, Caller, Refusal, Scope};
use crate::clock::now_ms;
use crate::hub::Hub;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use wardpage_proto::{Command, CommandId, CommandResult, Millis, ServerFrame};

/// The media type of every FHIR answer.
pub const FHIR_JSON: &str = "application/fhir+json";
/// Our own code systems and identifier systems live under this.
pub const WARDPAGE_SYSTEM: &str = "https://wardpage.nhs.example/fhir";
/// The NHS number's identifier system.
pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
/// Search pages: the default and the largest `_count`.
pub const DEFAULT_COUNT: u32 = 50;
pub const MAX_COUNT: u32 = 500;

/// Every FHIR route, each registered with its description.
pub fn routes() -> OpenApiRouter<Arc<Hub>> {
    OpenApiRouter::default()
        .routes(routes!(metadata::metadata))
        .routes(routes!(observation::transaction))
        .routes(routes!(patient::search))
        .routes(routes!(patient::read))
        .routes(routes!(observation::search, observation::create))
        .routes(routes!(observation::read))
        .routes(routes!(task::search))
        .routes(routes!(task::read))
        .routes(routes!(communication::search))
        .routes(routes!(communication::read))
        .layer(axum::middleware::map_response(bare_answers))
}

/// A method a FHIR route does not serve, answered as an OperationOutcome
/// (axum's own 405 has no body).
async fn bare_answers(res: Response) -> Response {
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = Outcome::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "not-supported",
        "this interaction is not supported (see /fhir/metadata)",
    )
    .into_response();
    if let Some(a) = allow {
        out.headers_mut().insert(header::ALLOW, a);
    }
    out
}

/// Any other path under `/fhir`: an OperationOutcome, not the web
/// client's "not found".
pub async fn unknown() -> Response {
    Outcome::new(
        StatusCode::NOT_FOUND,
        "not-supported",
        "no such FHIR resource type or interaction here (see /fhir/metadata)",
    )
    .into_response()
}

/// A FHIR error: the HTTP status and the OperationOutcome's one issue.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: StatusCode,
    /// The issue type (`invalid`, `not-found`, `security`, ...).
    pub code: &'static str,
    pub message: String,
    /// The element at fault, as a FHIRPath expression.
    pub element: Option<String>,
}

impl Outcome {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            code,
            message: message.into(),
            element: None,
        }
    }

    pub fn invalid(element: impl Into<String>, message: impl Into<String>) -> Outcome {
        Outcome {
            element: Some(element.into()),
            ..Outcome::new(StatusCode::BAD_REQUEST, "invalid", message)
        }
    }

    pub fn not_found(what: &str) -> Outcome {
        Outcome::new(StatusCode::NOT_FOUND, "not-found", format!("no {what}"))
    }

    pub fn unavailable(message: impl Into<String>) -> Outcome {
        Outcome::new(StatusCode::SERVICE_UNAVAILABLE, "transient", message)
    }

    pub fn resource(&self) -> Value {
        let mut issue = json!({
            "severity": "error",
            "code": self.code,
            "diagnostics": self.message,
        });
        if let Some(e) = &self.element {
            issue["expression"] = json!([e]);
        }
        json!({"resourceType": "OperationOutcome", "issue": [issue]})
    }
}

impl IntoResponse for Outcome {
    fn into_response(self) -> Response {
        let mut res = (self.status, fhir_body(&self.resource())).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<crate::store::StoreError> for Outcome {
    fn from(e: crate::store::StoreError) -> Outcome {
        tracing::warn!(error = %e, "FHIR read failed");
        Outcome::unavailable("the hub could not read its store; try again")
    }
}

pub type FhirResult = Result<Response, Outcome>;

pub(crate) fn fhir_body(v: &Value) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
        v.to_string(),
    )
}

/// A resource's answer with its ETag (`W/"<versionId>"`).
pub fn resource_answer(status: StatusCode, resource: &Value) -> Response {
    let mut res = (status, fhir_body(resource)).into_response();
    if let Some(v) = resource["meta"]["versionId"].as_str() {
        if let Ok(tag) = HeaderValue::from_str(&format!("W/\"{v}\"")) {
            res.headers_mut().insert(header::ETAG, tag);
        }
    }
    res
}

/// The key's check for `scope`: a refusal as its OperationOutcome.
pub async fn caller(hub: &Hub, headers: &HeaderMap, scope: Scope) -> Result<Caller, Outcome> {
    let kind = match scope {
        Scope::FhirRead => "read",
        Scope::ObservationsWrite => "write",
    };
    let bearer = crate::http::bearer(headers);
    apikeys::authorize(
        &*hub.store,
        &hub.api_keys.uses,
        bearer,
        scope,
        kind,
        now_ms(),
    )
    .await
    .map_err(|r| {
        let status = match r {
            Refusal::OutOfScope(_) => StatusCode::FORBIDDEN,
            Refusal::Store => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        let code = match r {
            Refusal::OutOfScope(_) => "forbidden",
            Refusal::Store => "transient",
            _ => "login",
        };
        Outcome::new(status, code, r.to_string())
    })
}

/// FHIR `instant` of a time in milliseconds.
pub fn instant(t: Millis) -> String {
    jiff::Timestamp::from_millisecond(t)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// `meta` with the version and last change.
pub fn meta(version: impl std::fmt::Display, updated: Millis) -> Value {
    json!({"versionId": version.to_string(), "lastUpdated": instant(updated)})
}

/// Sends `cmd` through the writer as the key's service account and waits
/// for its committed answer: the same path as a command from a phone.
pub async fn submit(
    hub: &Hub,
    caller: &Caller,
    id: CommandId,
    cmd: Command,
) -> Result<CommandResult, Outcome> {
    let gone = || Outcome::unavailable("the hub is shutting down; send again");
    let writes = !cmd.is_read_only();
    // The writer learns of a new account with its next roster reload;
    // asking for it first loads it now (the roster's own path for an
    // account added beside a running hub). Once known, it stays known.
    let known = &hub.api_keys.known_accounts;
    if !known.lock().is_ok_and(|k| k.contains(&caller.staff)) {
        if let Ok(Some(_)) = hub.writer.whois(caller.staff).await {
            if let Ok(mut k) = known.lock() {
                k.insert(caller.staff);
            }
        }
    }
    let rx = hub
        .writer
        .submit(caller.staff, id, cmd, None)
        .await
        .map_err(|_| gone())?;
    let frame = rx.await.map_err(|_| gone())?;
    if writes {
        settle_stream(hub, caller).await;
    }
    match serde_json::from_str::<ServerFrame>(&frame) {
        Ok(ServerFrame::Ok { result, .. }) => Ok(result),
        Ok(ServerFrame::Error { code, message, .. }) => {
            let status = match code {
                wardpage_proto::ErrorCode::NotFound => StatusCode::NOT_FOUND,
                wardpage_proto::ErrorCode::Forbidden => StatusCode::FORBIDDEN,
                wardpage_proto::ErrorCode::Internal | wardpage_proto::ErrorCode::Unavailable => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let issue = if status == StatusCode::NOT_FOUND {
                "not-found"
            } else {
                "processing"
            };
            Err(Outcome::new(status, issue, format!("{code}: {message}")))
        }
        _ => Err(Outcome::unavailable("the hub gave no answer")),
    }
}

/// Acknowledges the service account's stream up to its end. The domain
/// tells an actor of what their command started (the review raised for a
/// set); an account with no phone never reads those events, and events
/// nobody acknowledges are never pruned.
async fn settle_stream(hub: &Hub, caller: &Caller) {
    if let Ok(Some((_, last))) = hub.writer.whois(caller.staff).await {
        if last > 0 {
            hub.writer.acked(caller.staff, last);
        }
    }
}

/// A fresh id for a read, which changes nothing.
pub fn read_id() -> CommandId {
    CommandId(uuid::Uuid::new_v4())
}

/// A `Reference` to a member of staff (we serve no Practitioner: the
/// identifier names them).
pub fn staff_reference(s: &wardpage_proto::StaffRef) -> Value {
    json!({
        "type": "Practitioner",
        "identifier": {"system": format!("{WARDPAGE_SYSTEM}/Id/staff"), "value": s.id.to_string()},
        "display": s.name,
    })
}

/// FHIR's request priority of ours (lowest first: routine, urgent, asap, stat).
pub fn priority(p: wardpage_proto::Priority) -> &'static str {
    use wardpage_proto::Priority as P;
    match p {
        P::Routine => "routine",
        P::Soon => "urgent",
        P::Urgent => "asap",
        P::Emergency => "stat",
    }
}
