//! HTTP requests forwarded over NATS: a node that does not own the site
//! sends each request (method, path and query, headers, body, and the
//! client's address as it resolved it) as a NATS request on
//! `wardpage.site.<site>.http`; the owner runs it through its own router
//! and replies with status, headers and body.
//!
//! The client's address travels resolved (`conn_limits::client_ip` on the
//! receiving node, which knows its own proxies) and the owner hands it to
//! its router as the peer, with the proxy headers removed: login rate
//! limits and `/metrics`' allow-list see the device, not the node.
//!
//! Wire format, both ways: a 4-byte big-endian length, that many bytes of
//! JSON head, then the raw body.

use super::bus::Bus;
use crate::conn_limits::client_ip;
use crate::metrics::KindLabels;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use tracing::{debug, info_span, warn, Instrument};

/// Largest request body forwarded: above every route's own limit (FHIR's
/// 16 KiB is the largest), so the owner's limits answer as they would.
const REQUEST_BODY: usize = 64 * 1024;
/// Largest response body sent back (the web client's files are smaller);
/// NATS' own default limit per message is 1 MiB.
const RESPONSE_BODY: usize = 900 * 1024;
/// Headers that name the client's address: the owner takes it from the
/// head instead, so a device cannot claim another's through them.
const PROXY_HEADERS: [&str; 3] = ["x-forwarded-for", "forwarded", "x-real-ip"];

/// Why a forwarded exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("malformed forwarded message: {0}")]
    Malformed(String),
    #[error("the owner's answer could not be read: {0}")]
    Body(String),
}

#[derive(Serialize, Deserialize)]
struct RequestHead {
    method: String,
    uri: String,
    headers: Vec<(String, String)>,
    ip: IpAddr,
}

#[derive(Serialize, Deserialize)]
struct ResponseHead {
    status: u16,
    headers: Vec<(String, String)>,
}

fn pack(head: &impl Serialize, body: &[u8]) -> Result<Bytes, ForwardError> {
    let head = serde_json::to_vec(head).map_err(|e| ForwardError::Malformed(e.to_string()))?;
    let len = u32::try_from(head.len()).map_err(|e| ForwardError::Malformed(e.to_string()))?;
    let mut out = Vec::with_capacity(4 + head.len() + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(body);
    Ok(out.into())
}

fn unpack<T: for<'de> Deserialize<'de>>(bytes: &Bytes) -> Result<(T, Bytes), ForwardError> {
    let bad = |m: &str| ForwardError::Malformed(m.to_owned());
    let len: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("short"))?;
    let end = 4 + u32::from_be_bytes(len) as usize;
    let head = bytes.get(4..end).ok_or_else(|| bad("head past the end"))?;
    let head = serde_json::from_slice(head).map_err(|e| ForwardError::Malformed(e.to_string()))?;
    Ok((head, bytes.slice(end..)))
}

fn header_pairs(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

/// On a node that does not own: sends `req` to the owner and returns its
/// answer, or `None` when no owner answers (the caller gives the standby
/// 503, so that a load balancer moves on).
pub async fn forward(
    bus: &Bus,
    req: Request,
    trusted: &[IpAddr],
    timeout: Duration,
) -> Option<Response> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let ip = client_ip(
        peer.unwrap_or(IpAddr::from([0, 0, 0, 0])),
        req.headers(),
        trusted,
    );
    let (parts, body) = req.into_parts();
    // A body that trickles in is cut off here as the owner's routes would.
    let body = match tokio::time::timeout(timeout, axum::body::to_bytes(body, REQUEST_BODY)).await {
        Ok(Ok(b)) => b,
        // As the hub's own body limit answers.
        Ok(Err(_)) => {
            return Some((StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response())
        }
        Err(_) => return Some(StatusCode::REQUEST_TIMEOUT.into_response()),
    };
    let head = RequestHead {
        method: parts.method.as_str().to_owned(),
        uri: parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned(),
        headers: header_pairs(&parts.headers),
        ip,
    };
    let payload = pack(&head, &body).ok()?;
    let request = async_nats::Request::new()
        .payload(payload)
        .timeout(Some(timeout));
    let answer = match bus.client.send_request(bus.subject("http"), request).await {
        Ok(m) => m,
        Err(e) => {
            debug!(error = %e, uri = head.uri, "forwarding failed");
            return None;
        }
    };
    bus.metrics
        .cluster_forwarded
        .get_or_create(&KindLabels { kind: "http" })
        .inc();
    match unpack::<ResponseHead>(&answer.payload) {
        Ok((head, body)) => Some(build_response(head, body)),
        Err(e) => {
            warn!(error = %e, "the owner's answer is malformed");
            None
        }
    }
}

fn build_response(head: ResponseHead, body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = StatusCode::from_u16(head.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let h = res.headers_mut();
    for (k, v) in head.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            h.append(k, v);
        }
    }
    res
}

/// On the owner: answers forwarded requests with `app` until aborted.
/// Subscribes before it returns (as `tunnel::accept`).
pub async fn serve(bus: Arc<Bus>, app: Router) -> tokio::task::JoinHandle<()> {
    let sub = bus.client.subscribe(bus.subject("http")).await;
    tokio::spawn(async move {
        let mut sub = match sub {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot subscribe to forwarded requests");
                return;
            }
        };
        while let Some(msg) = sub.next().await {
            let Some(reply) = msg.reply.clone() else {
                continue;
            };
            let (bus, app) = (bus.clone(), app.clone());
            tokio::spawn(
                async move {
                    let answer = match answer(app, &msg.payload).await {
                        Ok(a) => a,
                        Err(e) => {
                            warn!(error = %e, "a forwarded request could not be answered");
                            // At once, rather than the forwarder's timeout.
                            let head = ResponseHead {
                                status: StatusCode::BAD_GATEWAY.as_u16(),
                                headers: vec![("content-type".into(), "text/plain".into())],
                            };
                            match pack(&head, format!("{e}\n").as_bytes()) {
                                Ok(a) => a,
                                Err(_) => return,
                            }
                        }
                    };
                    let _ = bus.client.publish(reply, answer).await;
                }
                .instrument(info_span!("forwarded")),
            );
        }
    })
}

/// Runs one forwarded request through `app`: the packed answer.
async fn answer(app: Router, payload: &Bytes) -> Result<Bytes, ForwardError> {
    let (head, body) = unpack::<RequestHead>(payload)?;
    let method = Method::from_bytes(head.method.as_bytes())
        .map_err(|e| ForwardError::Malformed(e.to_string()))?;
    let mut req = Request::builder()
        .method(method)
        .uri(&head.uri)
        .body(Body::from(body))
        .map_err(|e| ForwardError::Malformed(e.to_string()))?;
    for (k, v) in head.headers {
        if PROXY_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
            continue;
        }
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            req.headers_mut().append(k, v);
        }
    }
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(head.ip, 0)));
    let res = match app.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = res.into_parts();
    let body = axum::body::to_bytes(body, RESPONSE_BODY)
        .await
        .map_err(|e| ForwardError::Body(e.to_string()))?;
    let head = ResponseHead {
        status: parts.status.as_u16(),
        headers: header_pairs(&parts.headers),
    };
    pack(&head, &body)
}
