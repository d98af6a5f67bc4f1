//! Hostile and malformed frames get the right error code, and good ones parse.

use wardpage_proto::{ClientFrame, ErrorCode};

fn code(text: &str) -> ErrorCode {
    match ClientFrame::parse(text) {
        Ok(f) => panic!("expected an error for {text}, parsed {f:?}"),
        Err(e) => e.code,
    }
}

const TASK: &str = "9e7d1c2b-1111-4000-8000-000000000042";
const ID: &str = "c0ffee00-0000-4000-8000-000000000001";

#[test]
fn not_json_is_bad_json() {
    assert_eq!(code("{not json"), ErrorCode::BadJson);
    assert_eq!(code(""), ErrorCode::BadJson);
    assert_eq!(code("[1,2]"), ErrorCode::BadJson);
    assert_eq!(code("\"hello\""), ErrorCode::BadJson);
}

#[test]
fn unknown_types_and_ops() {
    assert_eq!(
        code(r#"{"type":"launch_missiles"}"#),
        ErrorCode::UnknownType
    );
    assert_eq!(code(r#"{"no_type":1}"#), ErrorCode::UnknownType);
    assert_eq!(code(r#"{"type":5}"#), ErrorCode::UnknownType);
    let frame = format!(r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"delete_everything"}}}}"#);
    let err = ClientFrame::parse(&frame).expect_err("unknown op");
    assert_eq!(err.code, ErrorCode::UnknownType);
    assert_eq!(
        err.id.map(|i| i.to_string()),
        Some(ID.to_string()),
        "the reply names the id"
    );
}

#[test]
fn missing_and_wrong_typed_fields() {
    assert_eq!(
        code(r#"{"type":"hello","version":1}"#),
        ErrorCode::InvalidField
    );
    assert_eq!(
        code(r#"{"type":"ack","seq":"twelve"}"#),
        ErrorCode::InvalidField
    );
    assert_eq!(code(r#"{"type":"ack","seq":-1}"#), ErrorCode::InvalidField);
    let no_task = format!(r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"accept"}}}}"#);
    assert_eq!(code(&no_task), ErrorCode::InvalidField);
    let bad_uuid = format!(r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"accept","task":"nope"}}}}"#);
    assert_eq!(code(&bad_uuid), ErrorCode::InvalidField);
    let bad_priority = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"set_priority","task":"{TASK}","priority":"whenever"}}}}"#
    );
    assert_eq!(code(&bad_priority), ErrorCode::InvalidField);
    assert_eq!(
        code(r#"{"type":"cmd","id":"not-a-uuid","cmd":{"op":"snapshot"}}"#),
        ErrorCode::InvalidField
    );
}

#[test]
fn field_rules_apply() {
    let long = "x".repeat(501);
    let decline = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"decline","task":"{TASK}","reason":"{long}"}}}}"#
    );
    assert_eq!(code(&decline), ErrorCode::InvalidField);
    let empty = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"cancel","task":"{TASK}","reason":"  "}}}}"#
    );
    assert_eq!(code(&empty), ErrorCode::InvalidField);
    let bad_ward = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"raise_task","ward":"Ward 7; DROP TABLE","bed":"1","patient":"p","category":"ecg","priority":"routine","requirement":{{"skill":"ecg"}},"sbar":{{"situation":"s"}}}}}}"#
    );
    assert_eq!(code(&bad_ward), ErrorCode::InvalidField);
    let control = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"cancel","task":"{TASK}","reason":"a\u0007b"}}}}"#
    );
    assert_eq!(code(&control), ErrorCode::InvalidField);
}

#[test]
fn oversized_frames_are_too_large() {
    let huge = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(20_000));
    assert_eq!(code(&huge), ErrorCode::TooLarge);
}

#[test]
fn good_frames_parse() {
    assert!(matches!(
        ClientFrame::parse(r#"{"type":"ping"}"#),
        Ok(ClientFrame::Ping {})
    ));
    let raise = format!(
        r#"{{"type":"cmd","id":"{ID}","cmd":{{"op":"raise_task","ward":"w7","bed":"12","patient":"RX1","category":"cannula","priority":"urgent","requirement":{{"skill":"cannulation"}},"sbar":{{"situation":"Tissued cannula"}}}}}}"#
    );
    assert!(ClientFrame::parse(&raise).is_ok());
}

mod properties {
    use proptest::prelude::*;
    use wardpage_proto::ClientFrame;

    proptest! {
        /// Whatever arrives, parsing answers with a frame or an error; it never panics.
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = ClientFrame::parse(&s);
        }

        #[test]
        fn arbitrary_json_objects_never_panic(t in "[a-z_]{0,12}", op in "[a-z_]{0,12}", n in any::<i64>()) {
            let text = format!(r#"{{"type":"{t}","id":"c0ffee00-0000-4000-8000-000000000001","seq":{n},"cmd":{{"op":"{op}","task":{n}}}}}"#);
            let _ = ClientFrame::parse(&text);
        }
    }
}

/// The promise in `limits`: every command within the field limits whose
/// characters take at most three bytes fits a frame, with room to spare.
#[test]
fn the_largest_valid_command_of_bmp_text_fits_a_frame() {
    use wardpage_proto::limits::*;
    use wardpage_proto::*;
    let field = |n: usize| "€".repeat(n);
    let cmd = Command::RaiseTask {
        ward: WardId("a".repeat(32)),
        bed: field(MAX_BED_CHARS),
        patient: field(MAX_PATIENT_CHARS),
        patient_id: None,
        category: Category::BloodCultures,
        priority: Priority::Emergency,
        requirement: Requirement::Role(Role::HealthcareAssistant),
        sbar: Sbar {
            situation: field(MAX_SBAR_CHARS),
            background: field(MAX_SBAR_CHARS),
            assessment: field(MAX_SBAR_CHARS),
            recommendation: field(MAX_SBAR_CHARS),
        },
    };
    assert!(cmd.validate().is_ok());
    let text = serde_json::to_string(&ClientFrame::Cmd {
        id: CommandId::new_random(),
        cmd,
        issued_at: Some(1_764_358_144_000),
    })
    .expect("serialise");
    eprintln!("largest BMP raise_task: {} bytes", text.len());
    assert!(text.len() <= MAX_FRAME_BYTES, "{} bytes", text.len());
    assert!(ClientFrame::parse(&text).is_ok());
}
