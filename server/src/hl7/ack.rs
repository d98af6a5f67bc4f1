//! The answer to each message: an HL7 v2 ACK with MSA-1 `AA` (applied),
//! `AE` (read but not applied: the reason in MSA-3 and ERR) or `AR`
//! (refused: unreadable or not an event the feed takes).

use super::adt::Header;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    Accept,
    Error,
    Reject,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Accept => "AA",
            Code::Error => "AE",
            Code::Reject => "AR",
        }
    }
}

/// Text safe inside one HL7 field: delimiters escaped, line breaks gone.
fn field(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\E\\"),
            '|' => out.push_str("\\F\\"),
            '^' => out.push_str("\\S\\"),
            '&' => out.push_str("\\T\\"),
            '~' => out.push_str("\\R\\"),
            '\r' | '\n' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `YYYYMMDDHHMMSS` for MSH-7, in UTC.
fn timestamp(now_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(now_ms)
        .map(|t| t.strftime("%Y%m%d%H%M%S").to_string())
        .unwrap_or_default()
}

/// The ACK for the message with header `h` (as much of it as was read).
pub fn ack(h: &Header, code: Code, text: &str, now_ms: i64) -> String {
    let version = if h.version.is_empty() {
        "2.4"
    } else {
        h.version.as_str()
    };
    let trigger = field(&h.trigger);
    let mut s = format!(
        "MSH|^~\\&|{}|{}|{}|{}|{}||ACK^{trigger}^ACK|ACK{}|P|{}\rMSA|{}|{}|{}\r",
        field(if h.receiver.0.is_empty() {
            "WARDPAGE"
        } else {
            &h.receiver.0
        }),
        field(&h.receiver.1),
        field(&h.sender.0),
        field(&h.sender.1),
        timestamp(now_ms),
        field(&h.control_id),
        field(version),
        code.as_str(),
        field(&h.control_id),
        field(text),
    );
    if code != Code::Accept {
        // ERR-3 (HL7 error code) 207 "application internal error" for a
        // refusal of content, 200 "unsupported message type" for AR.
        let err = if code == Code::Reject { "200" } else { "207" };
        s.push_str(&format!("ERR|||{err}|E||||{}\r", field(text)));
    }
    s
}
