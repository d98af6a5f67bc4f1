//! Reading an ADT message into what it asks of the census. Parsing is
//! `hl7-net`'s; this module picks the fields wardpage uses:
//! MSH-9 (event), MSH-10 (control id), PID-3 (identifiers: the NHS number
//! by assigning authority `NHS` or identifier type `NH`), PID-5 (name),
//! PID-7 (birth date), PID-8 (sex) and PV1-3 (ward^room^bed).

use super::config::Hl7Config;
use wardpage_proto::{PatientDetails, Sex, WardId};

/// The ADT events the feed takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Admit,
    Transfer,
    Discharge,
    Update,
    CancelAdmit,
}

impl Event {
    fn from_code(code: &str) -> Option<Event> {
        Some(match code {
            "A01" => Event::Admit,
            "A02" => Event::Transfer,
            "A03" => Event::Discharge,
            "A08" => Event::Update,
            "A11" => Event::CancelAdmit,
            _ => return None,
        })
    }
}

/// An ADT message as wardpage reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adt {
    pub event: Event,
    pub details: PatientDetails,
    /// From PV1-3 through `[hl7.wards]`: `None` when PV1-3 is empty.
    pub location: Option<(WardId, String)>,
}

/// Why a message was refused: `Reject` (AR) when it cannot be read or is
/// not one the feed takes; `Error` (AE) when it was read but cannot apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdtError {
    #[error("{0}")]
    Reject(String),
    #[error("{0}")]
    Error(String),
}

/// MSH's fields that the ACK needs, read even when the rest is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub control_id: String,
    /// MSH-9.2 as sent (e.g. `A01`).
    pub trigger: String,
    /// MSH-3 and MSH-4: who sent it; the ACK goes back to them.
    pub sender: (String, String),
    /// MSH-5 and MSH-6: who it was for; the ACK comes from them.
    pub receiver: (String, String),
    pub version: String,
}

fn get(m: &hl7_net::Message, path: &str) -> String {
    m.get_value(path).unwrap_or_default().trim().to_owned()
}

/// Parses `text`. A panic in the parser (input it did not expect) is a
/// refusal, never a dead listener.
pub fn parse(text: &str) -> Result<(hl7_net::Message, Header), AdtError> {
    let owned = text.to_owned();
    let parsed = std::panic::catch_unwind(move || hl7_net::Message::parse_str(owned, false));
    let m = match parsed {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            return Err(AdtError::Reject(format!(
                "not an HL7 v2 message: {}",
                e.message
            )))
        }
        Err(_) => return Err(AdtError::Reject("not an HL7 v2 message".into())),
    };
    let header = Header {
        control_id: get(&m, "MSH.10"),
        trigger: get(&m, "MSH.9.2"),
        sender: (get(&m, "MSH.3"), get(&m, "MSH.4")),
        receiver: (get(&m, "MSH.5"), get(&m, "MSH.6")),
        version: get(&m, "MSH.12"),
    };
    if header.control_id.is_empty() {
        return Err(AdtError::Reject(
            "MSH-10 (message control id) is empty".into(),
        ));
    }
    Ok((m, header))
}

/// The identifiers in PID-3's repetitions: (NHS number, first other).
fn identifiers(m: &hl7_net::Message) -> (Option<String>, Option<String>) {
    let Some(pid) = m.default_segment("PID") else {
        return (None, None);
    };
    let Ok(field) = pid.field(3) else {
        return (None, None);
    };
    let enc = &m.encoding;
    let reps: Vec<&hl7_net::Field> = if field.has_repetitions {
        field.repetitions.iter().collect()
    } else {
        vec![field]
    };
    let part = |f: &hl7_net::Field, i: usize| -> String {
        let v = if f.is_componentized {
            f.component(i).ok().and_then(|c| c.value(enc))
        } else if i == 1 {
            f.value(enc)
        } else {
            None
        };
        enc.decode(v.as_deref().unwrap_or("")).trim().to_owned()
    };
    let (mut nhs, mut local) = (None, None);
    for f in reps {
        let id = part(f, 1);
        if id.is_empty() {
            continue;
        }
        let is_nhs = part(f, 4).eq_ignore_ascii_case("NHS") || part(f, 5) == "NH";
        if is_nhs && nhs.is_none() {
            nhs = Some(id);
        } else if !is_nhs && local.is_none() {
            local = Some(id);
        }
    }
    (nhs, local)
}

/// `YYYYMMDD[...]` to `YYYY-MM-DD`.
fn birth_date(s: &str) -> Result<String, AdtError> {
    let d: String = s.chars().take(8).collect();
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AdtError::Error(format!(
            "PID-7 (date of birth) {s:?} is not YYYYMMDD"
        )));
    }
    Ok(format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]))
}

fn sex(code: &str) -> Sex {
    match code {
        "F" => Sex::Female,
        "M" => Sex::Male,
        "O" | "A" | "N" => Sex::Other,
        _ => Sex::Unknown,
    }
}

/// Reads the message's event, patient and location.
pub fn read(m: &hl7_net::Message, h: &Header, config: &Hl7Config) -> Result<Adt, AdtError> {
    let kind = get(m, "MSH.9.1");
    let event = match Event::from_code(&h.trigger) {
        Some(e) if kind == "ADT" => e,
        _ => {
            return Err(AdtError::Reject(format!(
                "message type {kind}^{} is not taken here (ADT A01, A02, A03, A08, A11)",
                h.trigger
            )))
        }
    };
    if m.default_segment("PID").is_none() {
        return Err(AdtError::Reject("no PID segment".into()));
    }
    let (nhs_number, local_number) = identifiers(m);
    if nhs_number.is_none() && local_number.is_none() {
        return Err(AdtError::Error(
            "PID-3 carries no patient identifier".into(),
        ));
    }
    let family = get(m, "PID.5.1");
    let given = get(m, "PID.5.2");
    let name = match (given.is_empty(), family.is_empty()) {
        (_, true) => return Err(AdtError::Error("PID-5 (patient name) is empty".into())),
        (true, false) => family,
        (false, false) => format!("{given} {family}"),
    };
    let details = PatientDetails {
        nhs_number,
        local_number,
        name,
        born: birth_date(&get(m, "PID.7"))?,
        sex: sex(&get(m, "PID.8")),
        consultant: String::new(),
        alerts: String::new(),
    };
    let code = get(m, "PV1.3.1");
    let location = if code.is_empty() {
        None
    } else {
        let ward = config.wards.get(&code).ok_or_else(|| {
            AdtError::Error(format!(
                "PV1-3 ward {code:?} is not mapped to a wardpage ward ([hl7.wards])"
            ))
        })?;
        let bed = get(m, "PV1.3.3");
        if bed.is_empty() {
            return Err(AdtError::Error("PV1-3.3 (bed) is empty".into()));
        }
        Some((WardId(ward.clone()), bed))
    };
    Ok(Adt {
        event,
        details,
        location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> Hl7Config {
        Hl7Config {
            wards: [("WD7".to_owned(), "w7".to_owned())].into_iter().collect(),
            ..Hl7Config::default()
        }
    }

    #[test]
    fn an_admission_reads_identifiers_name_birth_sex_and_bed() {
        let text = "MSH|^~\\&|PAS|RXH|WP|RXH|20261202||ADT^A01|C1|P|2.4\r\
                    PID|1||RX9^^^RXH^MR~9990000018^^^NHS^NH||Doe^Jane||19480314|F\r\
                    PV1|1|I|WD7^^3\r";
        let (m, h) = parse(text).expect("parses");
        assert_eq!((h.control_id.as_str(), h.trigger.as_str()), ("C1", "A01"));
        let a = read(&m, &h, &config()).expect("reads");
        assert_eq!(a.event, Event::Admit);
        assert_eq!(a.details.nhs_number.as_deref(), Some("9990000018"));
        assert_eq!(a.details.local_number.as_deref(), Some("RX9"));
        assert_eq!(a.details.name, "Jane Doe");
        assert_eq!(a.details.born, "1948-03-14");
        assert_eq!(a.details.sex, Sex::Female);
        assert_eq!(a.location, Some((WardId("w7".into()), "3".into())));
    }

    proptest! {
        /// Whatever arrives, reading it ends in an answer, never a panic
        /// out of the listener.
        #[test]
        fn any_text_is_read_or_refused(body in "(MSH\\|\\^~\\\\&\\|)?[A-Z0-9|^~&\\\\\r ]{0,200}") {
            if let Ok((m, h)) = parse(&body) {
                let _ = read(&m, &h, &config());
            }
        }
    }
}
