//! `Communication` for pages ("call me now"), read-only: read, and search
//! by status and `_lastUpdated`, from the store by last change.

use super::answers::{Kind, ReadAnswers, SearchAnswers};
use super::{
    caller, instant, meta, priority, resource_answer, staff_reference, FhirResult, Outcome, Query,
};
use crate::apikeys::Scope;
use crate::hub::Hub;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use wardpage_proto::{PageState, PageView};

/// FHIR's Communication.status of a page's state.
pub fn status(s: PageState) -> &'static str {
    match s {
        PageState::Open => "in-progress",
        PageState::Acknowledged => "completed",
        PageState::Undeliverable => "not-done",
    }
}

pub fn resource(p: &PageView) -> Value {
    // A page changes as receipts come in; its last change is the latest.
    let updated = p
        .recipients
        .iter()
        .flat_map(|r| [r.delivered_at, r.read_at, r.acked_at])
        .flatten()
        .fold(p.sent_at, i64::max);
    let received = p.recipients.iter().filter_map(|r| r.delivered_at).min();
    let mut r = json!({
        "resourceType": "Communication",
        "id": p.id.to_string(),
        "meta": meta(p.version, updated),
        "status": status(p.state),
        "priority": priority(p.priority),
        "sent": instant(p.sent_at),
        "sender": staff_reference(&p.from),
        "recipient": p.recipients.iter().map(|r| staff_reference(&r.staff)).collect::<Vec<_>>(),
        "payload": [
            {"contentString": p.message},
            {"contentString": format!("Call back: {}", p.callback)},
        ],
    });
    if let Some(t) = received {
        r["received"] = json!(instant(t));
    }
    if p.state == PageState::Undeliverable {
        r["statusReason"] = json!({"text": "nobody was on shift to receive it"});
    }
    r
}

/// How the answers of `/fhir/Communication` name it.
pub struct CommunicationKind;

impl Kind for CommunicationKind {
    const READ: &'static str = "The Communication";
    const NOT_FOUND: &'static str = "No such page";
    const SEARCH: &'static str = "A searchset Bundle";
}

/// `GET /fhir/Communication/{id}`.
#[utoipa::path(
    get,
    path = "/fhir/Communication/{id}",
    operation_id = "fhir_communication_read",
    tag = "fhir",
    summary = "A page",
    params(("id" = String, Path, description = "The page's id")),
    security(("bearer" = [])),
    responses(ReadAnswers<CommunicationKind>)
)]
pub async fn read(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    if id.parse::<uuid::Uuid>().is_err() {
        return Err(Outcome::not_found("Communication with this id"));
    }
    let p = hub
        .store
        .page(&id)
        .await?
        .ok_or_else(|| Outcome::not_found("Communication with this id"))?;
    Ok(resource_answer(StatusCode::OK, &resource(&p.view)))
}

/// `GET /fhir/Communication`.
#[utoipa::path(
    get,
    path = "/fhir/Communication",
    operation_id = "fhir_communication_search",
    tag = "fhir",
    summary = "Search pages, oldest change first",
    params(
        ("status" = Option<String>, Query, description = "in-progress, completed or not-done, comma-separated"),
        ("_lastUpdated" = Option<Vec<String>>, Query, description = "With a prefix: `gt2026-12-01T20:00:00Z`"),
        ("_count" = Option<u32>, Query, description = "Pages per page (1-500, default 50)"),
        ("_cursor" = Option<String>, Query, description = "From a `next` link"),
    ),
    security(("bearer" = [])),
    responses(SearchAnswers<CommunicationKind>)
)]
pub async fn search(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    let q = Query::parse(raw.as_deref());
    q.only(&["status", "_lastUpdated"])?;
    let statuses: Vec<String> = q
        .all("status")
        .iter()
        .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    const KNOWN: [&str; 8] = [
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "completed",
        "entered-in-error",
        "unknown",
    ];
    if let Some(bad) = statuses.iter().find(|s| !KNOWN.contains(&s.as_str())) {
        return Err(Outcome::invalid(
            "status",
            format!("status: {bad:?} is not a Communication status"),
        ));
    }
    let (since, until) = super::date_window("_lastUpdated", &q.all("_lastUpdated"))?;
    let count = q.count()? as usize;
    let mut after = q.cursor()?;
    let (mut found, mut scanned, mut next) = (vec![], 0usize, None);
    'chunks: loop {
        let want = if scanned == 0 { count as u32 + 1 } else { 500 };
        let chunk = hub.store.pages_changed(since, after.clone(), want).await?;
        let last = chunk.len() < want as usize;
        for p in chunk {
            scanned += 1;
            if p.updated_at() >= until {
                break 'chunks;
            }
            after = Some((p.updated_at(), p.view.id.to_string()));
            let s = status(p.view.state);
            if statuses.is_empty() || statuses.iter().any(|w| w == s) {
                found.push(resource(&p.view));
            }
            if found.len() == count || scanned >= 20_000 {
                next = after.as_ref().map(|(t, id)| format!("{t}.{id}"));
                break 'chunks;
            }
        }
        if last {
            break;
        }
    }
    Ok(super::bundle("Communication", &q, found, next))
}
