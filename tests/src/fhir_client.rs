//! FHIR at a test hub's `/fhir`: a client with a bearer key, API keys made
//! for a service account, a patient admitted to w7, and a vital-signs
//! Observation scoring NEWS2 7.

pub use crate::patients::nhs;
use crate::{eventually, Client, TestHub};
use serde_json::{json, Value};
use wardpage_proto::{Command, CommandResult, PatientDetails, PatientView, Sex};
use wardpage_server::apikeys;

/// Admits patient `n` (a valid NHS number, `nhs(n)`) to `bed` on w7.
pub async fn admit(nic: &mut Client, bed: &str, n: u32) -> anyhow::Result<PatientView> {
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

/// One LOINC-coded component with a UCUM quantity.
pub fn loinc(code: &str, value: f64, unit: &str) -> Value {
    json!({"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
           "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}})
}

/// NEWS2 7: respiration 25 (3), SpO2 95 (1), air (0), systolic 120 (0),
/// pulse 111 (2), alert (0), 38.5 °C (1).
pub fn seven(patient: &str) -> Value {
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

/// HTTP to the hub's `/fhir` with a bearer key.
pub struct Fhir {
    pub http: reqwest::Client,
    pub base: String,
}

impl Fhir {
    pub fn new(hub: &TestHub) -> Fhir {
        Fhir {
            http: reqwest::Client::new(),
            base: hub.base(),
        }
    }

    /// GET `path` (under `/fhir`, or a whole URL): status and body.
    pub async fn get(&self, key: &str, path: &str) -> anyhow::Result<(u16, Value)> {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}/fhir/{path}", self.base)
        };
        let res = self.http.get(url).bearer_auth(key).send().await?;
        let status = res.status().as_u16();
        Ok((status, res.json().await?))
    }

    /// POST `body` to `/fhir/Observation`: status and body.
    pub async fn post(&self, key: &str, body: &Value) -> anyhow::Result<(u16, Value)> {
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

/// Scopes as `apikeys::create` takes them.
pub fn scopes(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

/// A key for `name`, once the running hub has loaded its service account.
pub async fn key(
    hub: &TestHub,
    name: &str,
    s: &[&str],
    days: Option<u32>,
) -> anyhow::Result<String> {
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

/// Whether `v` is an OperationOutcome with an error.
pub fn is_outcome(v: &Value) -> bool {
    v["resourceType"] == "OperationOutcome" && v["issue"][0]["severity"] == "error"
}
