//! What a cluster node's listener serves: `/readyz` always, and behind it
//! either the hub's own routes (while the node owns the database) or the
//! standby answers: `/healthz` 200 (the process is alive), `/metrics`, and
//! 503 with a JSON body and `Retry-After: 1` for everything else, logins
//! and WebSocket upgrades included, so that a load balancer with
//! `proxy_next_upstream http_503` passes the request on to the owner.
//!
//! With `[cluster] nats_url`, a node that does not own serves devices
//! instead: `/ws` is tunnelled to the owner and every other request
//! forwarded to it over NATS (`tunnel`, `forward`); only when no owner is
//! heard on the bus does it give the standby answers.
//!
//! The switch is per request: a keep-alive connection from the load
//! balancer that was answered by the hub gets the standby answers on its
//! next request once the node has stood down.

use super::bus::Bus;
use super::status::Status;
use crate::config::Config;
use crate::conn_limits::client_ip;
use crate::http::openapi::{ApiError, ApiErrorCode};
use crate::metrics::Metrics;
use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tower::ServiceExt;

/// The answer of a standing-by node to anything but health and metrics.
pub const STANDBY_MESSAGE: &str =
    "this node is standing by: another node serves the hospital (try the next one)";

pub(super) struct Front {
    status: Arc<Status>,
    current: RwLock<Router>,
    standby: Router,
}

impl Front {
    pub(super) fn new(
        config: &Config,
        status: Arc<Status>,
        metrics: Arc<Metrics>,
        bus: Option<Arc<Bus>>,
    ) -> Front {
        let standby = match bus {
            Some(bus) => forwarding_router(config.clone(), metrics, bus),
            None => standby_router(config.clone(), metrics),
        };
        Front {
            status,
            current: RwLock::new(standby.clone()),
            standby,
        }
    }

    /// The listener's router: `/readyz`, then whatever is current.
    pub(super) fn router(self: Arc<Self>) -> Router {
        let status = self.status.clone();
        let front = self;
        let switch = tower::service_fn(move |req: Request<Body>| {
            let app = front
                .current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            async move { Ok::<Response, Infallible>(app.oneshot(req).await.into_response()) }
        });
        Router::new()
            .route(
                "/readyz",
                get(move || {
                    let status = status.clone();
                    async move { readyz(&status) }
                }),
            )
            .fallback_service(switch)
    }

    /// Serves `app` (the hub's routes) from now on, as the owner at `epoch`.
    pub(super) fn serve(&self, app: Router, epoch: i64) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = app;
        self.status.set(|s| {
            s.owns = true;
            s.epoch = epoch;
            s.owner = Some(self.status.node.clone());
            s.reason.clear();
        });
    }

    /// Gives the standby answers from now on.
    pub(super) fn stand_by(&self) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = self.standby.clone();
        self.status.set(|s| {
            if s.owns {
                s.owns = false;
                s.reason = "standing down".into();
            }
        });
    }
}

/// `GET /readyz`: 200 `{node, owns: true, epoch}` while this node serves,
/// else 503 `{node, owns: false, owner, reason}`.
fn readyz(status: &Status) -> Response {
    let (ready, body) = status.readiness();
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

fn standby_answer() -> Response {
    crate::http::retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        ApiErrorCode::Unavailable,
        STANDBY_MESSAGE,
        1,
    )
}

fn standby_router(config: Config, metrics: Arc<Metrics>) -> Router {
    let config = Arc::new(config);
    with_metrics(Router::new(), config, metrics)
        .route("/healthz", get(|| async { "ok (standing by)\n" }))
        .fallback(|| async { standby_answer() })
}

/// A node that does not own, with NATS: its own health and metrics, `/ws`
/// tunnelled and the rest forwarded to the owner; the standby answers
/// while no owner is heard.
fn forwarding_router(config: Config, metrics: Arc<Metrics>, bus: Arc<Bus>) -> Router {
    let config = Arc::new(config);
    let timeout = Duration::from_secs(u64::from(config.limits.request_timeout_secs) + 2);
    let (ws_config, ws_bus) = (config.clone(), bus.clone());
    let fwd_config = config.clone();
    with_metrics(Router::new(), config, metrics)
        .route(
            "/healthz",
            get(|| async { "ok (forwarding to the owner)\n" }),
        )
        .route(
            "/ws",
            get(move |headers: HeaderMap, ws: WebSocketUpgrade| {
                let (config, bus) = (ws_config.clone(), ws_bus.clone());
                async move { tunnel_upgrade(&config, bus, &headers, ws) }
            }),
        )
        .fallback(move |req: Request<Body>| {
            let (config, bus) = (fwd_config.clone(), bus.clone());
            async move {
                if bus.owner().is_none() {
                    return standby_answer();
                }
                let trusted = &config.limits.trusted_proxies;
                match super::forward::forward(&bus, req, trusted, timeout).await {
                    Some(res) => res,
                    None => standby_answer(),
                }
            }
        })
}

/// `/ws` on a node that does not own: the same Host and Origin checks as
/// the hub's, then a tunnel to the owner.
fn tunnel_upgrade(
    config: &Config,
    bus: Arc<Bus>,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| crate::http::guard::host_allowed(config, h)) {
        return ApiError::answer(
            StatusCode::MISDIRECTED_REQUEST,
            ApiErrorCode::Forbidden,
            "this hub does not answer to that Host; see allowed_hosts",
        );
    }
    if !crate::http::origin_allowed(config, headers) {
        return ApiError::answer(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "origin not allowed",
        );
    }
    let Some(owner) = bus.owner() else {
        return standby_answer();
    };
    crate::http::limited(ws).on_upgrade(move |socket| {
        // Tracked, so that a stopping node waits for the device's goodbye.
        let tracker = bus.tunnels.clone();
        tracker.track_future(super::tunnel::relay(bus, socket, owner))
    })
}

fn with_metrics(router: Router, config: Arc<Config>, metrics: Arc<Metrics>) -> Router {
    router.route(
        "/metrics",
        get(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>, headers: HeaderMap| {
                let (config, metrics) = (config.clone(), metrics.clone());
                async move { standby_metrics(&config, &metrics, peer, &headers) }
            },
        ),
    )
}

/// `/metrics` of a standing-by node, open to the same readers as the hub's.
fn standby_metrics(
    config: &Config,
    metrics: &Metrics,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Response {
    let source = client_ip(peer.ip(), headers, &config.limits.trusted_proxies);
    if !crate::http::guard::metrics_allowed(config, source, crate::http::bearer(headers)) {
        return ApiError::answer(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "metrics are open to the configured addresses or with the metrics token",
        );
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
