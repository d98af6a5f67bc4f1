//! `Patient`: read, and search by NHS number (`identifier`) or by ward,
//! over the admitted patients, asked of the writer as the protocol's
//! `patients` read (the key's service account oversees every ward).

use super::answers::{Kind, ReadAnswers, SearchAnswers};
use super::{
    caller, meta, resource_answer, FhirResult, Outcome, Query, NHS_NUMBER, WARDPAGE_SYSTEM,
};
use crate::apikeys::{Caller, Scope};
use crate::hub::Hub;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use wardpage_proto::{Command, CommandResult, PatientView, Sex, WardId};

/// Every admitted patient (on `ward`, if given), in admission order.
pub async fn admitted(
    hub: &Hub,
    who: &Caller,
    ward: Option<WardId>,
) -> Result<Vec<PatientView>, Outcome> {
    let mut all = vec![];
    let mut after = None;
    loop {
        let read = Command::Patients {
            ward: ward.clone(),
            after,
        };
        let CommandResult::Patients { patients, next } =
            super::submit(hub, who, super::read_id(), read).await?
        else {
            return Err(Outcome::unavailable("the hub gave no patient list"));
        };
        all.extend(patients);
        match next {
            Some(n) => after = Some(n),
            None => return Ok(all),
        }
    }
}

/// The admitted patient with this NHS number (spaces allowed).
pub async fn by_nhs_number(
    hub: &Hub,
    who: &Caller,
    number: &str,
) -> Result<Option<PatientView>, Outcome> {
    let Ok(want) = wardpage_proto::nhs_number_digits(number) else {
        return Err(Outcome::invalid("identifier", "not a valid NHS number"));
    };
    Ok(admitted(hub, who, None).await?.into_iter().find(|p| {
        p.details
            .nhs_number
            .as_deref()
            .and_then(|n| wardpage_proto::nhs_number_digits(n).ok())
            .as_deref()
            == Some(want.as_str())
    }))
}

pub fn resource(p: &PatientView) -> Value {
    let mut ids = vec![];
    if let Some(n) = &p.details.nhs_number {
        let digits = wardpage_proto::nhs_number_digits(n).unwrap_or_else(|_| n.clone());
        ids.push(json!({"system": NHS_NUMBER, "value": digits}));
    }
    if let Some(l) = &p.details.local_number {
        ids.push(json!({"system": format!("{WARDPAGE_SYSTEM}/Id/local-number"), "value": l}));
    }
    let gender = match p.details.sex {
        Sex::Female => "female",
        Sex::Male => "male",
        Sex::Other => "other",
        Sex::Unknown => "unknown",
    };
    let mut r = json!({
        "resourceType": "Patient",
        "id": p.id.to_string(),
        "meta": meta(p.version, p.updated_at),
        "identifier": ids,
        "active": p.discharged_at.is_none(),
        "name": [{"text": p.details.name}],
        "gender": gender,
        "birthDate": p.details.born,
    });
    if !p.details.consultant.is_empty() {
        r["generalPractitioner"] = json!([{"display": p.details.consultant}]);
    }
    r
}

/// How the answers of `/fhir/Patient` name it.
pub struct PatientKind;

impl Kind for PatientKind {
    const READ: &'static str = "The Patient";
    const NOT_FOUND: &'static str = "No admitted patient with this id";
    const SEARCH: &'static str = "A searchset Bundle";
    const UNAVAILABLE: &'static str = "The hub is stopping";
}

/// `GET /fhir/Patient/{id}`.
#[utoipa::path(
    get,
    path = "/fhir/Patient/{id}",
    operation_id = "fhir_patient_read",
    tag = "fhir",
    summary = "An admitted patient",
    params(("id" = String, Path, description = "The patient's id")),
    security(("bearer" = [])),
    responses(ReadAnswers<PatientKind>)
)]
pub async fn read(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> FhirResult {
    let who = caller(&hub, &headers, Scope::FhirRead).await?;
    let p = admitted(&hub, &who, None)
        .await?
        .into_iter()
        .find(|p| p.id.to_string() == id)
        .ok_or_else(|| Outcome::not_found("admitted Patient with this id"))?;
    Ok(resource_answer(StatusCode::OK, &resource(&p)))
}

/// `GET /fhir/Patient`.
#[utoipa::path(
    get,
    path = "/fhir/Patient",
    operation_id = "fhir_patient_search",
    tag = "fhir",
    summary = "Search admitted patients by NHS number or ward",
    params(
        ("identifier" = Option<String>, Query, description = "`https://fhir.nhs.uk/Id/nhs-number|<10 digits>`"),
        ("ward" = Option<String>, Query, description = "A ward code, e.g. `W7`"),
        ("_count" = Option<u32>, Query, description = "Patients per page (1-500, default 50)"),
        ("_cursor" = Option<String>, Query, description = "From a `next` link"),
    ),
    security(("bearer" = [])),
    responses(SearchAnswers<PatientKind>)
)]
pub async fn search(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> FhirResult {
    let who = caller(&hub, &headers, Scope::FhirRead).await?;
    let q = Query::parse(raw.as_deref());
    q.only(&["identifier", "ward"])?;
    let count = q.count()? as usize;
    let ward = match q.one("ward") {
        Some(w) => {
            let w = WardId(w);
            wardpage_proto::clinical::ward_bed_ok(&w, "1")
                .map_err(|e| Outcome::invalid("ward", e.problem))?;
            Some(w)
        }
        None => None,
    };
    let mut patients = admitted(&hub, &who, ward).await?;
    if let Some(ident) = q.one("identifier") {
        let (system, value) = ident.rsplit_once('|').unwrap_or(("", ident.as_str()));
        if !system.is_empty() && system != NHS_NUMBER {
            return Err(Outcome::invalid(
                "identifier",
                format!("search by {NHS_NUMBER}|<NHS number>"),
            ));
        }
        let want = wardpage_proto::nhs_number_digits(value)
            .map_err(|e| Outcome::invalid("identifier", e))?;
        patients.retain(|p| {
            p.details
                .nhs_number
                .as_deref()
                .and_then(|n| wardpage_proto::nhs_number_digits(n).ok())
                .as_deref()
                == Some(want.as_str())
        });
    }
    // Keyset paging on (admitted_at, id).
    patients.sort_by_key(|p| (p.admitted_at, p.id.to_string()));
    if let Some((t, id)) = q.cursor()? {
        patients.retain(|p| (p.admitted_at, p.id.to_string()) > (t, id.clone()));
    }
    let next = (patients.len() > count)
        .then(|| patients.get(count - 1))
        .flatten()
        .map(|p| format!("{}.{}", p.admitted_at, p.id));
    let page: Vec<Value> = patients.iter().take(count).map(resource).collect();
    Ok(super::bundle("Patient", &q, page, next))
}
