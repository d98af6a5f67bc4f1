//! Every JSON example in PROTOCOL.md is a real frame: it parses as the type
//! its fence names (`json client` or `json server`) and serialises back to
//! the same JSON, field for field.

use wardpage_proto::{ClientFrame, ServerFrame};

fn examples(tag: &str) -> Vec<String> {
    let doc = include_str!("../PROTOCOL.md");
    let fence = format!("```json {tag}");
    let mut out = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if line.trim() == fence {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            out.push(body.join("\n"));
        }
    }
    out
}

#[test]
fn client_examples_round_trip() {
    let all = examples("client");
    assert!(
        all.len() >= 8,
        "expected the client examples, found {}",
        all.len()
    );
    for text in all {
        let frame = ClientFrame::parse(&text)
            .unwrap_or_else(|e| panic!("example does not parse: {e}\n{text}"));
        let original: serde_json::Value = serde_json::from_str(&text).expect("json");
        let mut again = serde_json::to_value(&frame).expect("serialise");
        // Clients may leave out defaulted fields; compare what the example gave.
        if let (Some(a), Some(o)) = (again.get_mut("cmd"), original.get("cmd")) {
            if let (Some(a), Some(o)) = (a.as_object_mut(), o.as_object()) {
                a.retain(|k, _| o.contains_key(k));
            }
        }
        assert_eq!(original, again, "round trip changed the example:\n{text}");
    }
}

#[test]
fn server_examples_round_trip() {
    let all = examples("server");
    assert!(
        all.len() >= 8,
        "expected the server examples, found {}",
        all.len()
    );
    for text in all {
        let frame: ServerFrame = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("example does not parse: {e}\n{text}"));
        let original: serde_json::Value = serde_json::from_str(&text).expect("json");
        let again = serde_json::to_value(&frame).expect("serialise");
        assert_eq!(original, again, "round trip changed the example:\n{text}");
    }
}
