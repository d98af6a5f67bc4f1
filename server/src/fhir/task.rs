//! `Task`, read-only (tasks change through the protocol): read, and search
//! by status, patient, owner, priority and `_lastUpdated`, so that a
//! reporting system can poll for changes. Tasks are read from the store by
//! their last change, in (updated_at, id) order; the mapping is the table
//! in `docs/fhir.md`.

use super::answers::{Kind, ReadAnswers, SearchAnswers};
use super::{
    caller, instant, meta, priority, resource_answer, staff_reference, FhirResult, Outcome, Query,
    WARDPAGE_SYSTEM,
};
use crate::apikeys::Scope;
use crate::hub::Hub;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use wardpage_proto::{Requirement, TaskState, TaskView, UnassignedReason};

/// FHIR's Task.status of ours.
pub fn status(s: TaskState) -> &'static str {
    match s {
        // Assigned but not acknowledged: nobody has said yes yet.
        TaskState::Offering | TaskState::NoOneAccepted | TaskState::Assigned => "requested",
        TaskState::Accepted => "accepted",
        TaskState::Started => "in-progress",
        TaskState::Completed => "completed",
        TaskState::Cancelled => "cancelled",
    }
}

/// Our finer state, as `businessStatus` codes.
fn business(t: &TaskView) -> Value {
    let (code, display) = match (t.state, t.unassigned_reason) {
        (TaskState::Offering, _) => ("offered", "Offered to the candidates".to_owned()),
        (TaskState::NoOneAccepted, Some(UnassignedReason::AllDeclined)) => (
            "no-one-accepted",
            "No one accepted: every candidate declined".to_owned(),
        ),
        (TaskState::NoOneAccepted, _) => (
            "no-one-accepted",
            "No one accepted: no candidate on shift".to_owned(),
        ),
        (TaskState::Assigned, _) => (
            "assigned",
            match &t.assignee {
                Some(a) => format!("Assigned, waiting for {} to acknowledge", a.name),
                None => "Assigned, waiting for acknowledgement".to_owned(),
            },
        ),
        (s, _) => (s.as_str(), s.as_str().replace('_', " ")),
    };
    let text = if t.escalation_level > 0 {
        format!("{display}; escalated {} times", t.escalation_level)
    } else {
        display
    };
    json!({
        "coding": [{"system": format!("{WARDPAGE_SYSTEM}/CodeSystem/task-state"), "code": code}],
        "text": text,
    })
}

fn performer_type(r: &Requirement) -> Value {
    let name = serde_json::to_value(r)
        .ok()
        .map(|v| match v {
            Value::Object(m) => m
                .into_iter()
                .map(|(k, v)| format!("{k}: {}", v.to_string().trim_matches('"')))
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        })
        .unwrap_or_default();
    json!([{"text": name}])
}

pub fn resource(t: &TaskView) -> Value {
    let category = serde_json::to_value(t.category).unwrap_or_default();
    let requester = if t.raised_by.id.0.is_nil() {
        json!({"type": "Device", "display": t.raised_by.name})
    } else {
        staff_reference(&t.raised_by)
    };
    let deadline = match t.state {
        TaskState::Offering | TaskState::NoOneAccepted => t.accept_by,
        _ => t.complete_by,
    };
    let mut r = json!({
        "resourceType": "Task",
        "id": t.id.to_string(),
        "meta": meta(t.version, t.updated_at),
        "identifier": [{"system": format!("{WARDPAGE_SYSTEM}/Id/task"), "value": t.id.to_string()}],
        "status": status(t.state),
        "businessStatus": business(t),
        "intent": "order",
        "priority": priority(t.priority),
        "code": {"coding": [{"system": format!("{WARDPAGE_SYSTEM}/CodeSystem/task-category"),
                             "code": category}]},
        "description": t.sbar.situation,
        "authoredOn": instant(t.raised_at),
        "lastModified": instant(t.updated_at.max(t.raised_at)),
        "requester": requester,
        "performerType": performer_type(&t.requirement),
        "location": {"display": format!("{} bed {}", t.ward.0, t.bed)},
        "restriction": {"period": {"end": instant(deadline)}},
    });
    if let Some(p) = &t.patient_ref {
        r["for"] = json!({"reference": format!("Patient/{}", p.id), "display": p.name});
    }
    if let Some(a) = &t.assignee {
        r["owner"] = staff_reference(a);
    }
    if let Some(obs) = t.review.as_ref().and_then(|v| v.observation) {
        r["reasonReference"] = json!({"reference": format!("Observation/{obs}-news2")});
    }
    if let Some(at) = t.accepted_at {
        let mut period = json!({"start": instant(at)});
        if let Some(end) = t.closed_at {
            period["end"] = json!(instant(end.max(at)));
        }
        r["executionPeriod"] = period;
    }
    if let Some(n) = t.closing_note.as_deref().filter(|n| !n.is_empty()) {
        if t.state == TaskState::Cancelled {
            r["statusReason"] = json!({"text": n});
        } else {
            r["note"] = json!([{"text": n}]);
        }
    }
    r
}

/// How the answers of `/fhir/Task` name it.
pub struct TaskKind;

impl Kind for TaskKind {
    const READ: &'static str = "The Task";
    const NOT_FOUND: &'static str = "No such task";
    const SEARCH: &'static str = "A searchset Bundle";
}

/// `GET /fhir/Task/{id}`.
#[utoipa::path(
    get,
    path = "/fhir/Task/{id}",
    operation_id = "fhir_task_read",
    tag = "fhir",
    summary = "A task (read-only)",
    params(("id" = String, Path, description = "The task's id")),
    security(("bearer" = [])),
    responses(ReadAnswers<TaskKind>)
)]
pub async fn read(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    if id.parse::<uuid::Uuid>().is_err() {
        return Err(Outcome::not_found("Task with this id"));
    }
    let t = hub
        .store
        .task(&id)
        .await?
        .ok_or_else(|| Outcome::not_found("Task with this id"))?;
    Ok(resource_answer(StatusCode::OK, &resource(&t.view)))
}

/// A search's filters on one task.
struct Filters {
    status: Vec<String>,
    patient: Vec<String>,
    owner: Vec<String>,
    priority: Vec<String>,
}

impl Filters {
    fn read(q: &Query) -> Result<Filters, Outcome> {
        let list = |name: &str, known: Option<&[&str]>| -> Result<Vec<String>, Outcome> {
            let vals: Vec<String> = q
                .all(name)
                .iter()
                .flat_map(|v| v.split(',').map(str::to_owned).collect::<Vec<_>>())
                .collect();
            if let Some(k) = known {
                if let Some(bad) = vals.iter().find(|v| !k.contains(&v.as_str())) {
                    return Err(Outcome::invalid(
                        name,
                        format!("{name}: {bad:?} is not one of {}", k.join(", ")),
                    ));
                }
            }
            Ok(vals)
        };
        let strip = |v: Vec<String>, prefix: &str| {
            v.into_iter()
                .map(|s| s.strip_prefix(prefix).unwrap_or(&s).to_owned())
                .collect()
        };
        Ok(Filters {
            status: list("status", Some(&STATUSES))?,
            patient: strip(list("patient", None)?, "Patient/"),
            owner: strip(list("owner", None)?, "Practitioner/"),
            priority: list("priority", Some(&["routine", "urgent", "asap", "stat"]))?,
        })
    }

    fn keep(&self, t: &TaskView) -> bool {
        let any = |want: &[String], have: Option<String>| {
            want.is_empty() || have.is_some_and(|h| want.contains(&h))
        };
        any(&self.status, Some(status(t.state).to_owned()))
            && any(&self.priority, Some(priority(t.priority).to_owned()))
            && any(
                &self.patient,
                t.patient_ref.as_ref().map(|p| p.id.to_string()),
            )
            && any(&self.owner, t.assignee.as_ref().map(|a| a.id.to_string()))
    }
}

/// Task.status codes (R4): a search for one we never use finds nothing.
const STATUSES: [&str; 12] = [
    "draft",
    "requested",
    "received",
    "accepted",
    "rejected",
    "ready",
    "cancelled",
    "in-progress",
    "on-hold",
    "failed",
    "completed",
    "entered-in-error",
];

/// How many rows one search reads at most before answering a short page
/// with a `next` link: a filter that matches little never scans all.
const SCAN_LIMIT: usize = 20_000;

/// `GET /fhir/Task`.
#[utoipa::path(
    get,
    path = "/fhir/Task",
    operation_id = "fhir_task_search",
    tag = "fhir",
    summary = "Search tasks, oldest change first (poll with `_lastUpdated=gt...`)",
    params(
        ("status" = Option<String>, Query, description = "Task.status codes, comma-separated"),
        ("patient" = Option<String>, Query, description = "`Patient/<id>`"),
        ("owner" = Option<String>, Query, description = "A member of staff's id"),
        ("priority" = Option<String>, Query, description = "routine, urgent, asap or stat"),
        ("_lastUpdated" = Option<Vec<String>>, Query, description = "With a prefix: `gt2026-12-01T20:00:00Z`"),
        ("_count" = Option<u32>, Query, description = "Tasks per page (1-500, default 50)"),
        ("_cursor" = Option<String>, Query, description = "From a `next` link"),
    ),
    security(("bearer" = [])),
    responses(SearchAnswers<TaskKind>)
)]
pub async fn search(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> FhirResult {
    caller(&hub, &headers, Scope::FhirRead).await?;
    let q = Query::parse(raw.as_deref());
    q.only(&["status", "patient", "owner", "priority", "_lastUpdated"])?;
    let filters = Filters::read(&q)?;
    let (since, until) = super::date_window("_lastUpdated", &q.all("_lastUpdated"))?;
    let count = q.count()? as usize;
    let mut after = q.cursor()?;
    let (mut found, mut scanned, mut next) = (vec![], 0, None);
    loop {
        // A page's worth and a little more at first: most polls filter
        // little, and every row read is parsed.
        let want = if found.is_empty() && scanned == 0 {
            count as u32 + 1
        } else {
            500
        };
        let chunk = hub.store.tasks_changed(since, after.clone(), want).await?;
        let last = chunk.len() < want as usize;
        for t in chunk {
            scanned += 1;
            if t.view.updated_at >= until {
                return Ok(super::bundle("Task", &q, found, None));
            }
            after = Some((t.view.updated_at, t.view.id.to_string()));
            if filters.keep(&t.view) {
                found.push(resource(&t.view));
            }
            if found.len() == count || scanned >= SCAN_LIMIT {
                next = after.as_ref().map(|(t, id)| format!("{t}.{id}"));
                break;
            }
        }
        if next.is_some() || last {
            break;
        }
    }
    Ok(super::bundle("Task", &q, found, next))
}
