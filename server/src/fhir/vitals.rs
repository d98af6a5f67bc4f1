//! A vital-signs set in FHIR: one Observation with a component per vital
//! sign (the vital-signs profile's LOINC codes), read into the protocol's
//! `ObservationSet` and written back from a stored set, with the NEWS2
//! Observation (SNOMED CT 1104051000000101, LOINC 88330-6) and its
//! sub-scores as components. The values go through the protocol's own
//! types, so a number posted here is quantised and range-checked exactly as
//! one typed at the bedside.

use super::{instant, meta, Outcome, WARDPAGE_SYSTEM};
use serde_json::{json, Map, Value};
use wardpage_proto::{Breathing, Consciousness, ObservationSet, ObservationView, OxygenDevice};

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
const UCUM: &str = "http://unitsofmeasure.org";
/// The vital-signs panel: the code of the set as a whole.
pub const PANEL: &str = "85353-1";
pub const NEWS2_SNOMED: &str = "1104051000000101";
pub const NEWS2_LOINC: &str = "88330-6";
/// ACVPU answers (LOINC 67775-7 names the question; we code the answer).
pub fn acvpu_system() -> String {
    format!("{WARDPAGE_SYSTEM}/CodeSystem/acvpu")
}
/// Air, or the oxygen device (clinical.md names no code: ours).
pub fn breathing_system() -> String {
    format!("{WARDPAGE_SYSTEM}/CodeSystem/breathing")
}
/// Our code for the "air or oxygen" component.
pub const BREATHING_CODE: &str = "air-or-oxygen";

/// (LOINC code, field of `ObservationSet`, UCUM unit, display).
const QUANTITIES: [(&str, &str, &str, &str); 8] = [
    ("9279-1", "respiration_rate", "/min", "Respiratory rate"),
    (
        "59408-5",
        "spo2",
        "%",
        "Oxygen saturation by pulse oximetry",
    ),
    ("2708-6", "spo2", "%", "Oxygen saturation in arterial blood"),
    ("8480-6", "systolic", "mm[Hg]", "Systolic blood pressure"),
    ("8462-4", "diastolic", "mm[Hg]", "Diastolic blood pressure"),
    ("8867-4", "pulse", "/min", "Heart rate"),
    ("8310-5", "temperature", "Cel", "Body temperature"),
    ("3151-8", "flow_l_min", "L/min", "Inhaled oxygen flow rate"),
];
const FIO2: (&str, &str) = ("3150-0", "Inhaled oxygen concentration");
const CONSCIOUSNESS: &str = "67775-7";

const DEVICES: [(OxygenDevice, &str); 9] = [
    (OxygenDevice::NasalCannula, "nasal_cannula"),
    (OxygenDevice::SimpleMask, "simple_mask"),
    (OxygenDevice::Venturi, "venturi"),
    (OxygenDevice::NonRebreather, "non_rebreather"),
    (OxygenDevice::Humidified, "humidified"),
    (OxygenDevice::HighFlow, "high_flow"),
    (OxygenDevice::Cpap, "cpap"),
    (OxygenDevice::Niv, "niv"),
    (OxygenDevice::Other, "other"),
];

const LEVELS: [(Consciousness, &str, &str); 5] = [
    (Consciousness::Alert, "alert", "Alert"),
    (
        Consciousness::NewConfusion,
        "new_confusion",
        "New confusion",
    ),
    (Consciousness::Voice, "voice", "Responds to voice"),
    (Consciousness::Pain, "pain", "Responds to pain"),
    (Consciousness::Unresponsive, "unresponsive", "Unresponsive"),
];

/// The codes of a CodeableConcept at `at`: (system, code) pairs.
fn codings(v: &Value) -> Vec<(&str, &str)> {
    v["coding"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| Some((c["system"].as_str()?, c["code"].as_str()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a posted vital-signs Observation into a set (taken at its
/// `effectiveDateTime`).
pub fn read_set(obs: &Value) -> Result<ObservationSet, Outcome> {
    if obs["resourceType"] != "Observation" {
        return Err(Outcome::invalid(
            "Observation.resourceType",
            "post an Observation",
        ));
    }
    if obs["status"] != "final" && obs["status"] != "amended" && obs["status"] != "preliminary" {
        return Err(Outcome::invalid(
            "Observation.status",
            "status must be final (or preliminary, amended)",
        ));
    }
    let taken = obs["effectiveDateTime"].as_str().ok_or_else(|| {
        Outcome::invalid(
            "Observation.effectiveDateTime",
            "effectiveDateTime (when the set was taken) is required",
        )
    })?;
    let taken_at = super::parse_time(taken).ok_or_else(|| {
        Outcome::invalid(
            "Observation.effectiveDateTime",
            "effectiveDateTime must be a dateTime with a time zone",
        )
    })?;
    let components = obs["component"].as_array().ok_or_else(|| {
        Outcome::invalid(
            "Observation.component",
            "the vital signs go in component, one per sign",
        )
    })?;
    let mut fields = Map::new();
    let mut oxygen: Option<Map<String, Value>> = None;
    let mut extra = Map::new();
    for (i, c) in components.iter().enumerate() {
        let at = format!("Observation.component[{i}]");
        read_component(c, &at, &mut fields, &mut oxygen, &mut extra)?;
    }
    if let Some(mut o) = oxygen {
        o.extend(extra);
        fields.insert("breathing".into(), Value::Object(o));
    } else if !extra.is_empty() {
        return Err(Outcome::invalid(
            "Observation.component",
            "an oxygen flow or FiO2 needs the air-or-oxygen component saying which device",
        ));
    }
    fields.insert("taken_at".into(), json!(taken_at));
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| Outcome::invalid("Observation.component", format!("a value: {e}")))
}

fn read_component(
    c: &Value,
    at: &str,
    fields: &mut Map<String, Value>,
    oxygen: &mut Option<Map<String, Value>>,
    extra: &mut Map<String, Value>,
) -> Result<(), Outcome> {
    let codes = codings(&c["code"]);
    let loinc = codes.iter().find(|(s, _)| *s == LOINC).map(|(_, c)| *c);
    let number = || {
        c["valueQuantity"]["value"].as_f64().ok_or_else(|| {
            Outcome::invalid(format!("{at}.valueQuantity.value"), "a number is required")
        })
    };
    if let Some(&(_, field, _, _)) = QUANTITIES.iter().find(|q| Some(q.0) == loinc) {
        let target = if field == "flow_l_min" {
            &mut *extra
        } else {
            &mut *fields
        };
        if target.insert(field.into(), json!(number()?)).is_some() {
            return Err(Outcome::invalid(
                format!("{at}.code"),
                "this vital sign is given twice",
            ));
        }
        return Ok(());
    }
    if loinc == Some(FIO2.0) {
        extra.insert("fio2_percent".into(), json!(number()?));
        return Ok(());
    }
    if loinc == Some(CONSCIOUSNESS) {
        let answer = codings(&c["valueCodeableConcept"]);
        let level = LEVELS
            .iter()
            .find(|(_, code, _)| answer.contains(&(acvpu_system().as_str(), code)))
            .ok_or_else(|| {
                Outcome::invalid(
                    format!("{at}.valueCodeableConcept"),
                    format!(
                        "consciousness is coded in {} (alert, new_confusion, voice, pain, unresponsive)",
                        acvpu_system()
                    ),
                )
            })?;
        fields.insert("consciousness".into(), json!(level.0));
        return Ok(());
    }
    let ours = breathing_system();
    if codes.contains(&(ours.as_str(), BREATHING_CODE)) {
        let answer = codings(&c["valueCodeableConcept"]);
        let code = answer
            .iter()
            .find(|(s, _)| *s == ours)
            .map(|(_, c)| *c)
            .unwrap_or_default();
        if code == "air" {
            fields.insert("breathing".into(), json!({"kind": "air"}));
        } else if let Some((d, _)) = DEVICES.iter().find(|(_, n)| *n == code) {
            *oxygen = Some(Map::from_iter([
                ("kind".into(), json!("oxygen")),
                ("device".into(), json!(d)),
            ]));
        } else {
            return Err(Outcome::invalid(
                format!("{at}.valueCodeableConcept"),
                format!("air or an oxygen device, coded in {ours}"),
            ));
        }
        return Ok(());
    }
    Err(Outcome::invalid(
        format!("{at}.code"),
        "not a vital sign this hub scores (see /fhir/metadata and docs/fhir.md)",
    ))
}

fn quantity(code: &str, display: &str, value: f64, unit: &str) -> Value {
    json!({
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    })
}

fn patient_ref(o: &ObservationView) -> Value {
    json!({"reference": format!("Patient/{}", o.patient)})
}

/// The stored set as a vital-signs Observation.
pub fn observation(o: &ObservationView) -> Value {
    let set = serde_json::to_value(&o.set).unwrap_or_default();
    let mut comps = vec![];
    for (code, field, unit, display) in QUANTITIES {
        // 2708-6 is read, never written: the hub does not know the method.
        if code == "2708-6" || field == "flow_l_min" {
            continue;
        }
        if let Some(v) = set[field].as_f64() {
            comps.push(quantity(code, display, v, unit));
        }
    }
    if let Some(c) = o.set.consciousness {
        if let Some((_, code, display)) = LEVELS.iter().find(|l| l.0 == c) {
            comps.push(json!({
                "code": {"coding": [{"system": LOINC, "code": CONSCIOUSNESS, "display": "Level of responsiveness"}]},
                "valueCodeableConcept": {"coding": [{"system": acvpu_system(), "code": code, "display": display}]},
            }));
        }
    }
    match o.set.breathing {
        Some(Breathing::Air) => comps.push(breathing("air")),
        Some(Breathing::Oxygen {
            device,
            flow_l_min,
            fio2_percent,
        }) => {
            let name = DEVICES
                .iter()
                .find(|d| d.0 == device)
                .map(|d| d.1)
                .unwrap_or("other");
            comps.push(breathing(name));
            if let Some(f) = flow_l_min.and_then(|f| serde_json::to_value(f).ok()?.as_f64()) {
                comps.push(quantity("3151-8", "Inhaled oxygen flow rate", f, "L/min"));
            }
            if let Some(f) = fio2_percent.and_then(|f| serde_json::to_value(f).ok()?.as_f64()) {
                comps.push(quantity(FIO2.0, FIO2.1, f, "%"));
            }
        }
        None => {}
    }
    json!({
        "resourceType": "Observation",
        "id": o.id.to_string(),
        "meta": meta(1, o.recorded_at),
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": PANEL, "display": "Vital signs panel"}],
                 "text": "Vital signs"},
        "subject": patient_ref(o),
        "effectiveDateTime": instant(o.set.taken_at),
        "issued": instant(o.recorded_at),
        "performer": [super::staff_reference(&o.recorded_by)],
        "component": comps,
    })
}

fn breathing(code: &str) -> Value {
    json!({
        "code": {"coding": [{"system": breathing_system(), "code": BREATHING_CODE, "display": "Air or oxygen"}]},
        "valueCodeableConcept": {"coding": [{"system": breathing_system(), "code": code}]},
    })
}

/// The NEWS2 Observation's id for a set's.
pub fn news2_id(set_id: &str) -> String {
    format!("{set_id}-news2")
}

/// The set's NEWS2 score as an Observation: the total (absent for an
/// incomplete set, with `dataAbsentReason`) and the sub-scores.
pub fn news2(o: &ObservationView) -> Value {
    let s = &o.score.sub_scores;
    let parts = [
        ("respiration_rate", s.respiration_rate),
        ("spo2", s.spo2),
        ("air_or_oxygen", s.air_or_oxygen),
        ("systolic", s.systolic),
        ("pulse", s.pulse),
        ("consciousness", s.consciousness),
        ("temperature", s.temperature),
    ];
    let comps: Vec<Value> = parts
        .iter()
        .filter_map(|(name, v)| {
            Some(json!({
                "code": {"coding": [{"system": format!("{WARDPAGE_SYSTEM}/CodeSystem/news2-parameter"), "code": name}],
                         "text": format!("NEWS2 {name} score")},
                "valueInteger": v.map(i64::from)?,
            }))
        })
        .collect();
    let mut r = json!({
        "resourceType": "Observation",
        "id": news2_id(&o.id.to_string()),
        "meta": meta(1, o.recorded_at),
        "status": "final",
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey", "display": "Survey"}]}],
        "code": {"coding": [
            {"system": SNOMED, "code": NEWS2_SNOMED, "display": "Royal College of Physicians NEWS2 (National Early Warning Score 2) total score"},
            {"system": LOINC, "code": NEWS2_LOINC, "display": "National Early Warning Score [NEWS]"}],
            "text": "NEWS2"},
        "subject": patient_ref(o),
        "effectiveDateTime": instant(o.set.taken_at),
        "issued": instant(o.recorded_at),
        "derivedFrom": [{"reference": format!("Observation/{}", o.id)}],
        "component": comps,
    });
    match o.score.total {
        Some(t) => r["valueInteger"] = json!(t),
        None => {
            r["dataAbsentReason"] = json!({
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/data-absent-reason", "code": "not-performed"}],
                "text": format!("incomplete set: {} not recorded", o.score.missing.join(", ")),
            })
        }
    }
    if let Some(b) = o.score.band {
        r["interpretation"] = json!([{"coding": [{"system": format!("{WARDPAGE_SYSTEM}/CodeSystem/news2-band"), "code": b.as_str()}]}]);
    }
    r
}

/// Whether a stored set matches a `code` search value (`system|code` or
/// `code`): the panel, the NEWS2 codes, or one of its components.
pub fn matches_code(o: &ObservationView, wanted: &str) -> bool {
    let code = wanted.rsplit('|').next().unwrap_or(wanted);
    [PANEL, NEWS2_LOINC, NEWS2_SNOMED].contains(&code)
        || observation(o)["component"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| codings(&c["code"]).iter().any(|(_, k)| *k == code))
        })
}
