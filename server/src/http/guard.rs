//! Checks in front of the routes: the `Host` allow-list (DNS rebinding),
//! who may read `/metrics`, and the login's content type.

use super::openapi::{ApiError, ApiErrorCode};
use crate::config::Config;
use crate::hub::Hub;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::sync::Arc;

/// Refuses a request whose `Host` the hub does not answer to (421): a page
/// on `evil.example` that re-points its name at the hub would otherwise be
/// "same origin" with it.
pub async fn check_host(State(hub): State<Arc<Hub>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    match host {
        Some(h) if host_allowed(&hub.config, h) => next.run(req).await,
        _ => {
            tracing::info!(host = ?host, "request refused: Host not allowed");
            ApiError::answer(
                StatusCode::MISDIRECTED_REQUEST,
                ApiErrorCode::Forbidden,
                "this hub does not answer to that Host; see allowed_hosts",
            )
        }
    }
}

/// `host[:port]` without the port (IPv6 literals keep their brackets).
fn host_part(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_inclusive(']').next().unwrap_or(host);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

/// Whether the hub answers to `host`: an entry of `allowed_hosts` (with
/// or without the port); or, when that is empty, an IP address (no DNS
/// name can be re-pointed), `localhost`, or the host of an allowed origin.
pub fn host_allowed(config: &Config, host: &str) -> bool {
    let name = host_part(host);
    if !config.allowed_hosts.is_empty() {
        return config.allowed_hosts.iter().any(|a| {
            a.eq_ignore_ascii_case(host) || (!a.contains(':') && a.eq_ignore_ascii_case(name))
        });
    }
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    config.allowed_origins.iter().any(|o| {
        let o = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .unwrap_or(o);
        host_part(o).eq_ignore_ascii_case(name)
    })
}

/// Whether `source` may read `/metrics`, by address or token.
pub fn metrics_allowed(config: &Config, source: IpAddr, bearer: Option<&str>) -> bool {
    if config.metrics_allow_from.contains(&source) {
        return true;
    }
    // Compared as digests, so the comparison's time says nothing useful.
    match (&config.metrics_token, bearer) {
        (Some(want), Some(got)) => {
            Sha256::digest(want.as_bytes()) == Sha256::digest(got.as_bytes())
        }
        _ => false,
    }
}

/// Whether the body is declared as JSON (`application/json`, any params).
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_default_to_addresses_localhost_and_allowed_origins() {
        let mut c = Config {
            allowed_origins: vec!["https://wardpage.trust.example".into()],
            ..Config::default()
        };
        for ok in [
            "127.0.0.1:8080",
            "localhost:8080",
            "[::1]:8080",
            "10.2.3.4",
            "wardpage.trust.example",
        ] {
            assert!(host_allowed(&c, ok), "{ok}");
        }
        assert!(!host_allowed(&c, "evil.example:8080"));
        c.allowed_hosts = vec!["pager.trust.example".into()];
        assert!(host_allowed(&c, "pager.trust.example:443"));
        assert!(
            !host_allowed(&c, "127.0.0.1:8080"),
            "an explicit list is exact"
        );
    }

    #[test]
    fn metrics_need_an_allowed_address_or_the_token() {
        let c = Config {
            metrics_token: Some("a-long-metrics-token".into()),
            ..Config::default()
        };
        assert!(metrics_allowed(&c, [127, 0, 0, 1].into(), None));
        assert!(!metrics_allowed(&c, [10, 0, 0, 9].into(), None));
        assert!(!metrics_allowed(&c, [10, 0, 0, 9].into(), Some("guess")));
        assert!(metrics_allowed(
            &c,
            [10, 0, 0, 9].into(),
            Some("a-long-metrics-token")
        ));
    }
}
