//! Searches: the query's parameters (decoded here, so that a repeated
//! parameter keeps every value), `_count`, the `_cursor` of keyset paging,
//! date windows (`ge`, `gt`, `le`, `lt`, `eq`) and the `searchset` Bundle
//! with its `self` and `next` links.

use super::{fhir_body, instant, Outcome, DEFAULT_COUNT, MAX_COUNT};
use crate::clock::now_ms;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use wardpage_proto::Millis;

/// Reads a FHIR dateTime with a time zone (or a bare date: its midnight
/// UTC) as milliseconds.
pub fn parse_time(s: &str) -> Option<Millis> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t.as_millisecond());
    }
    let d: jiff::civil::Date = s.parse().ok()?;
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_millisecond())
}

/// A date search parameter (`ge2026-12-01T20:00:00Z`, `lt...`): the window
/// `[from, to)` it allows, in milliseconds.
pub fn date_window(param: &str, values: &[String]) -> Result<(Millis, Millis), Outcome> {
    let (mut from, mut to) = (0, Millis::MAX);
    for v in values {
        let (prefix, rest) = if v.len() > 2 && v.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic)
        {
            v.split_at(2)
        } else {
            ("eq", v.as_str())
        };
        let t = parse_time(rest).ok_or_else(|| {
            Outcome::invalid(param, format!("{param}: {v:?} is not a FHIR dateTime"))
        })?;
        match prefix {
            "ge" => from = from.max(t),
            "gt" => from = from.max(t.saturating_add(1)),
            "le" => to = to.min(t.saturating_add(1)),
            "lt" => to = to.min(t),
            "eq" => {
                from = from.max(t);
                to = to.min(t.saturating_add(1));
            }
            _ => {
                return Err(Outcome::invalid(
                    param,
                    format!("{param}: use the prefixes ge, gt, le, lt or eq"),
                ))
            }
        }
    }
    Ok((from, to))
}

/// A search's query: each parameter's values, in order.
#[derive(Debug, Default)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .map(|q| {
                url_pairs(q)
                    .into_iter()
                    .filter(|(k, _)| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Query(pairs)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn one(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// Refuses parameters the search does not support: a silently ignored
    /// filter would answer more than was asked for.
    pub fn only(&self, known: &[&str]) -> Result<(), Outcome> {
        for (k, _) in &self.0 {
            if !known.contains(&k.as_str()) && !matches!(k.as_str(), "_count" | "_cursor") {
                return Err(Outcome::invalid(
                    k.clone(),
                    format!("search parameter {k:?} is not supported here (see /fhir/metadata)"),
                ));
            }
        }
        Ok(())
    }

    pub fn count(&self) -> Result<u32, Outcome> {
        match self.one("_count") {
            None => Ok(DEFAULT_COUNT),
            Some(c) => match c.parse::<u32>() {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
                _ => Err(Outcome::invalid(
                    "_count",
                    format!("_count is a whole number from 1 to {MAX_COUNT}"),
                )),
            },
        }
    }

    /// `_cursor`: `<millis>.<id>`, where the page starts.
    pub fn cursor(&self) -> Result<crate::store::SearchAfter, Outcome> {
        let Some(c) = self.one("_cursor") else {
            return Ok(None);
        };
        let bad = || Outcome::invalid("_cursor", "_cursor is the one a next link gave");
        let (t, id) = c.split_once('.').ok_or_else(bad)?;
        let t: Millis = t.parse().map_err(|_| bad())?;
        if id.is_empty() || id.len() > 64 {
            return Err(bad());
        }
        Ok(Some((t, id.to_owned())))
    }

    /// The query again with `_cursor` set to `cursor` (or left out), for
    /// the links of a page.
    pub fn with_cursor(&self, cursor: Option<&str>) -> String {
        let mut out: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| k != "_cursor")
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        if let Some(c) = cursor {
            out.push(format!("_cursor={}", encode(c)));
        }
        out.join("&")
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A `searchset` Bundle of `resources` (each under `<base>/<type>/<id>`),
/// with a `next` link when `next_cursor` says there is more.
pub fn bundle(
    path: &str,
    query: &Query,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Response {
    let here = query.one("_cursor");
    let mut links = vec![json!({
        "relation": "self",
        "url": format!("{path}?{}", query.with_cursor(here.as_deref())),
    })];
    if let Some(c) = next_cursor {
        links.push(json!({
            "relation": "next",
            "url": format!("{path}?{}", query.with_cursor(Some(&c))),
        }));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let url = format!(
                "{}/{}",
                r["resourceType"].as_str().unwrap_or_default(),
                r["id"].as_str().unwrap_or_default()
            );
            json!({"fullUrl": url, "resource": r, "search": {"mode": "match"}})
        })
        .collect();
    let b = json!({
        "resourceType": "Bundle",
        "type": "searchset",
        "meta": {"lastUpdated": instant(now_ms())},
        "link": links,
        "entry": entries,
    });
    (StatusCode::OK, fhir_body(&b)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_windows() {
        let w = date_window("date", &["ge2026-12-01T20:00:00Z".into()]).ok();
        assert_eq!(w.map(|w| w.0), parse_time("2026-12-01T20:00:00Z"));
        assert!(date_window("date", &["xx2026-12-01".into()]).is_err());
        assert!(date_window("date", &["yesterday".into()]).is_err());
    }

    #[test]
    fn queries_decode_and_encode() {
        let q = Query::parse(Some(
            "identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C999&_count=2",
        ));
        assert_eq!(
            q.one("identifier").as_deref(),
            Some("https://fhir.nhs.uk/Id/nhs-number|999")
        );
        assert!(q.with_cursor(Some("5.a")).ends_with("_cursor=5.a"));
        assert_eq!(q.count().ok(), Some(2));
        assert_eq!(
            Query::parse(Some("a=%zz%")).one("a").as_deref(),
            Some("%zz%")
        );
    }
}
