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
use super::tunnel_open::Held;
use crate::config::Config;
use crate::conn_limits::client_ip;
use crate::http::openapi::{ApiError, ApiErrorCode};
use crate::metrics::Metrics;
use axum::body::Body;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::FromRequestParts;
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
    current: Current,
    standby: Router,
}

/// The routes serving now: the hub's while this node owns, else the
/// standby's (shared with the forwarding routes, which pass a held `/ws`
/// on to the hub's when this node takes over meanwhile).
type Current = Arc<RwLock<Router>>;

impl Front {
    pub(super) fn new(
        config: &Config,
        status: Arc<Status>,
        metrics: Arc<Metrics>,
        bus: Option<Arc<Bus>>,
    ) -> Front {
        let current: Current = Arc::new(RwLock::new(Router::new()));
        let standby = match bus {
            Some(bus) => {
                let here = Here {
                    current: current.clone(),
                    status: status.clone(),
                };
                forwarding_router(config.clone(), metrics, bus, here)
            }
            None => standby_router(config.clone(), metrics),
        };
        *current.write().unwrap_or_else(|p| p.into_inner()) = standby.clone();
        Front {
            status,
            current,
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
fn forwarding_router(config: Config, metrics: Arc<Metrics>, bus: Arc<Bus>, here: Here) -> Router {
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
            get(move |req: Request<Body>| {
                let (config, bus, here) = (ws_config.clone(), ws_bus.clone(), here.clone());
                async move { tunnel_upgrade(&config, bus, here, req).await }
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

/// This node's own routes, for a held `/ws` that finds this node the
/// owner when it is let go.
#[derive(Clone)]
struct Here {
    current: Current,
    status: Arc<Status>,
}

/// `/ws` on a node that does not own: the same Host, Origin and upgrade
/// checks as the hub's, then a tunnel to the owner, opened before the
/// upgrade is answered (held while a takeover is under way:
/// `tunnel_open`); the hub's own `/ws` if this node took over meanwhile;
/// the standby answer if no owner accepts in time.
async fn tunnel_upgrade(
    config: &Config,
    bus: Arc<Bus>,
    here: Here,
    req: Request<Body>,
) -> Response {
    let headers = req.headers();
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
    if let Err(refused) = check_upgrade(probe_of(&req)).await {
        return refused;
    }
    let opened = match super::tunnel_open::open_held(&bus).await {
        Held::Opened(o) => o,
        // Set before this node's first heartbeat as owner is heard.
        Held::OwnedHere if here.status.get().owns => {
            let app = here
                .current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            return app.oneshot(req).await.into_response();
        }
        Held::OwnedHere | Held::NoOwner => return standby_answer(),
    };
    let (mut parts, _) = req.into_parts();
    let ws = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(ws) => ws,
        Err(refused) => {
            tokio::spawn(super::tunnel::abandon(bus, opened.id));
            return refused.into_response();
        }
    };
    let (failed_bus, failed_id) = (bus.clone(), opened.id.clone());
    crate::http::limited(ws)
        .on_failed_upgrade(move |_| {
            tokio::spawn(super::tunnel::abandon(failed_bus, failed_id));
        })
        .on_upgrade(move |socket| {
            // Tracked, so that a stopping node waits for the device's goodbye.
            let tracker = bus.tunnels.clone();
            tracker.track_future(super::tunnel::relay(bus, socket, opened))
        })
}

/// `req` without its body and extensions (the connection).
fn probe_of(req: &Request<Body>) -> axum::http::request::Parts {
    let mut probe = Request::new(());
    *probe.method_mut() = req.method().clone();
    *probe.uri_mut() = req.uri().clone();
    *probe.version_mut() = req.version();
    *probe.headers_mut() = req.headers().clone();
    probe.into_parts().0
}

/// The upgrade extractor's own checks (method, headers, version), on a
/// copy without the connection, so that `req` can still be passed on
/// whole: a request that is no WebSocket upgrade is refused before it is
/// held.
async fn check_upgrade(mut parts: axum::http::request::Parts) -> Result<(), Response> {
    match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        // The copy has no connection to take: the one check left for the
        // real request.
        Ok(_) | Err(WebSocketUpgradeRejection::ConnectionNotUpgradable(_)) => Ok(()),
        Err(refused) => Err(refused.into_response()),
    }
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
