//! What makes a page answerable at 3 a.m.: the number to call back on,
//! the ward it was sent from, and the recipient's one-tap replies.
//!
//! **The callback number rule.** A page's `callback` must hold a number
//! that can be dialled: an extension (`4412`), a bleep (`bleep 1234`) or a
//! phone number (`020 7946 0000`, `+44 20 7946 0000`). A number is a run of
//! digits, optionally after a `+`, in which single spaces or hyphens may
//! separate groups of digits; it must have [`MIN_CALLBACK_DIGITS`] to
//! [`MAX_CALLBACK_DIGITS`] digits. The first such number in the callback is
//! the one a phone dials (`PageView.callback_number`), so "Ward 7 bay 2"
//! (two one-digit runs: a place, not a number) is refused, and
//! "ext 4471, Ward 7 desk" dials 4471. Three digits is the shortest
//! internal extension hospitals hand out; fifteen is the longest E.164
//! number. The rule is in the protocol, not in one client, because a page
//! without a number is a page nobody can answer by phone.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Fewest digits in a callback number (a short internal extension).
pub const MIN_CALLBACK_DIGITS: usize = 3;
/// Most digits in a callback number (the longest E.164 number).
pub const MAX_CALLBACK_DIGITS: usize = 15;

/// A recipient's one-tap answer to a page. Sent with `page_ack`, it
/// acknowledges the page too; the sender sees it beside the recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PageReply {
    /// "5 min": I will call or come within five minutes.
    FiveMin,
    /// "Call me": ring me now on my phone.
    CallMe,
    /// "On my way": I am coming.
    OnMyWay,
}

impl PageReply {
    /// Every reply, in the order clients show them.
    pub const ALL: [PageReply; 3] = [PageReply::FiveMin, PageReply::CallMe, PageReply::OnMyWay];

    /// The snake_case name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            PageReply::FiveMin => "five_min",
            PageReply::CallMe => "call_me",
            PageReply::OnMyWay => "on_my_way",
        }
    }

    /// The words people see ("On my way"), also the audit row's detail.
    pub fn label(self) -> &'static str {
        match self {
            PageReply::FiveMin => "5 min",
            PageReply::CallMe => "Call me",
            PageReply::OnMyWay => "On my way",
        }
    }
}

/// A ward as the hospital names it: the code and the name people read
/// ("Ward 7 (Medicine)").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct WardRef {
    pub id: crate::ids::WardId,
    pub name: String,
}

/// The number a phone dials for `callback`: its first number of
/// [`MIN_CALLBACK_DIGITS`] to [`MAX_CALLBACK_DIGITS`] digits, as digits
/// (with a leading `+` when it had one); `None` when it has none.
pub fn callback_number(callback: &str) -> Option<String> {
    let chars: Vec<char> = callback.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let plus = i > 0 && chars[i - 1] == '+';
        let (digits, end) = number_at(&chars, i);
        if (MIN_CALLBACK_DIGITS..=MAX_CALLBACK_DIGITS).contains(&digits.len()) {
            return Some(if plus { format!("+{digits}") } else { digits });
        }
        i = end;
    }
    None
}

/// The digits of the number starting at `start` (a digit), and where it
/// ends: groups of digits joined by one space or hyphen.
fn number_at(chars: &[char], start: usize) -> (String, usize) {
    let mut digits = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            digits.push(c);
            i += 1;
        } else if (c == ' ' || c == '-') && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()) {
            i += 1;
        } else {
            break;
        }
    }
    (digits, i)
}

/// Checks that `callback` holds a number to call (see the module's rule).
pub fn callback_ok(callback: &str) -> Result<(), FieldError> {
    if callback_number(callback).is_some() {
        return Ok(());
    }
    Err(FieldError::new(
        "callback",
        format!(
            "must include a number to call back on ({MIN_CALLBACK_DIGITS} to \
             {MAX_CALLBACK_DIGITS} digits: an extension such as 4412, a bleep or a phone number)"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases shared with the web client (`client-web/js/format.js`).
    #[test]
    fn the_shared_cases() {
        let text = include_str!("../../tests/fixtures/callback-numbers.json");
        let cases: Vec<(String, Option<String>)> =
            serde_json::from_str(text).unwrap_or_else(|e| panic!("fixture: {e}"));
        assert!(cases.len() >= 10);
        for (callback, want) in cases {
            assert_eq!(callback_number(&callback), want, "{callback:?}");
            assert_eq!(
                callback_ok(&callback).is_ok(),
                want.is_some(),
                "{callback:?}"
            );
        }
    }

    #[test]
    fn replies_name_themselves() {
        for r in PageReply::ALL {
            let wire = serde_json::to_value(r).unwrap_or_default();
            assert_eq!(wire, serde_json::Value::from(r.as_str()));
            assert!(!r.label().is_empty());
        }
    }
}
