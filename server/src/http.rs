//! HTTP routes: login and logout ([`login`]), the WebSocket upgrade (with
//! its Origin check and buffer limits), health, metrics, the OpenAPI
//! description ([`openapi`]), FHIR at `/fhir` ([`crate::fhir`]) and the
//! web client's files; per-route body limits and timeouts, and the checks
//! in [`guard`].

use crate::conn_limits::client_ip;
use crate::hub::{connection, Hub};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use openapi::{ApiError, ApiErrorCode};
use rust_embed::RustEmbed;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::warn;
use utoipa::OpenApi as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub(crate) mod guard;
mod login;
pub mod openapi;

/// Largest WebSocket message read at all; frames between the protocol's
/// limit and this get `too_large`, larger ones close the connection.
const WS_MAX_MESSAGE: usize = 64 * 1024;

/// The web client, embedded in release builds and read from disk in debug
/// builds (so editing it needs no rebuild).
#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../client-web"]
#[exclude = "node_modules/*"]
struct WebClient;

/// Largest login body: a JSON object with a login name (64 bytes) and a
/// password (256) fits many times over.
const LOGIN_BODY: usize = 1024;
/// Largest body of any other request (none of them reads one).
const OTHER_BODY: usize = 4096;
/// Largest FHIR body: a vital-signs Observation with display texts.
const FHIR_BODY: usize = 16 * 1024;

/// The routes the OpenAPI description covers, with their layers: each
/// handler is registered together with its `#[utoipa::path]`, so that the
/// description lists exactly what is served.
fn described_routes(timeout: Duration) -> OpenApiRouter<Arc<Hub>> {
    let mut api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(login::login).layer(RequestBodyLimitLayer::new(LOGIN_BODY)))
        .routes(routes!(login::logout))
        .routes(routes!(metrics))
        .routes(routes!(openapi::document))
        // Tokens and account details must not stay in any cache.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        // A body that trickles in (or never comes) is cut off.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    openapi::layer_answers(api.get_openapi_mut(), &openapi::TIMED_OUT);
    let mut fhir = crate::fhir::routes()
        .layer(RequestBodyLimitLayer::new(FHIR_BODY))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    openapi::layer_answers(fhir.get_openapi_mut(), &openapi::TIMED_OUT);
    let mut all = api
        .merge(OpenApiRouter::default().routes(routes!(healthz)))
        .layer(RequestBodyLimitLayer::new(OTHER_BODY))
        .merge(fhir);
    // `router` puts the Host check in front of all (and the 4 KiB limit
    // in front of `/ws` and the web client).
    openapi::layer_answers(all.get_openapi_mut(), &openapi::MISDIRECTED);
    openapi::layer_answers(all.get_openapi_mut(), &openapi::TOO_LARGE);
    all
}

/// The OpenAPI description of [`described_routes`] (served from
/// [`openapi::description`], which builds it once).
fn openapi_description() -> utoipa::openapi::OpenApi {
    described_routes(Duration::ZERO).into_openapi()
}

pub fn router(hub: Arc<Hub>) -> Router {
    let timeout = Duration::from_secs(u64::from(hub.config.limits.request_timeout_secs));
    let (described, _) = described_routes(timeout).split_for_parts();
    // The described routes carry their own body limits (FHIR's is larger).
    let app = Router::new()
        // The WebSocket speaks proto/PROTOCOL.md; the description names it.
        .route("/ws", get(websocket))
        .route("/fhir/{*rest}", axum::routing::any(crate::fhir::unknown))
        .fallback(get(static_file))
        .layer(RequestBodyLimitLayer::new(OTHER_BODY))
        .merge(described)
        .layer(axum::middleware::from_fn_with_state(
            hub.clone(),
            guard::check_host,
        ));
    let app = if hub.config.tls_cert.is_some() {
        app.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        app
    };
    app.with_state(hub)
}

fn api_error(status: StatusCode, code: ApiErrorCode, message: &str) -> Response {
    ApiError::answer(status, code, message)
}

/// `api_error` with `Retry-After: seconds`.
pub(crate) fn retry_later(
    status: StatusCode,
    code: ApiErrorCode,
    message: &str,
    seconds: u64,
) -> Response {
    let mut res = api_error(status, code, message);
    if let Ok(v) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Whether a browser page from `origin` may open the socket: the hub's own
/// host, or one of the configured origins. Native clients send no Origin.
pub(crate) fn origin_allowed(config: &crate::config::Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

static CONN_IDS: AtomicU64 = AtomicU64::new(1);

/// A new connection's id, for its log span (a tunnel's too).
pub(crate) fn next_conn_id() -> u64 {
    CONN_IDS.fetch_add(1, Ordering::Relaxed)
}

/// The upgrade with the hub's limits on messages and buffers.
pub(crate) fn limited(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        // Small buffers: idle phones are the common case; tungstenite's
        // defaults cost over 128 KiB per connection.
        .read_buffer_size(1024)
        .write_buffer_size(0)
}

async fn websocket(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&hub.config, &headers) {
        warn!(origin = ?headers.get(header::ORIGIN), "WebSocket refused: origin not allowed");
        return api_error(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "origin not allowed",
        );
    }
    if *hub.shutdown.borrow() {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorCode::Unavailable,
            "the hub is shutting down",
        );
    }
    let id = next_conn_id();
    limited(ws).on_upgrade(move |socket| {
        // Tracked, so that shutdown waits for the connection's goodbye.
        let tracker = hub.connections.clone();
        tracker.track_future(connection::serve(hub, socket, id))
    })
}

/// `GET /healthz`.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Whether the hub can reach its store",
    responses(
        (status = 200, description = "`ok`", body = String, content_type = "text/plain"),
        (status = 503, description = "Why not: `writer stopped`, or `store unavailable: ...`",
            body = String, content_type = "text/plain"),
    )
)]
async fn healthz(State(hub): State<Arc<Hub>>) -> Response {
    if hub.writer.is_closed() {
        return (StatusCode::SERVICE_UNAVAILABLE, "writer stopped\n").into_response();
    }
    match hub.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        )
            .into_response(),
    }
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Open to the addresses in `metrics_allow_from` (loopback by default), \
        or to any with the configured `metrics_token` as a bearer token.",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The metrics in OpenMetrics text format", body = String,
            content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 403, description = "Neither an allowed address nor the metrics token",
            body = ApiError),
    )
)]
async fn metrics(
    State(hub): State<Arc<Hub>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let source = client_ip(peer.ip(), &headers, &hub.config.limits.trusted_proxies);
    if !guard::metrics_allowed(&hub.config, source, bearer(&headers)) {
        return api_error(
            StatusCode::FORBIDDEN,
            ApiErrorCode::Forbidden,
            "metrics are open to the configured addresses or with the metrics token",
        );
    }
    hub.writer.refresh_stats().await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        hub.metrics.render(),
    )
        .into_response()
}

async fn static_file(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = if path.is_empty() || path.ends_with('/') {
        format!("{path}index.html")
    } else {
        path.to_owned()
    };
    let Some(file) = WebClient::get(&path) else {
        // `/dashboard` means the folder: send the browser to `/dashboard/`
        // so the page's relative links resolve. Relative (`dashboard/`), as
        // a site's prefix (`/site/<name>/`) is off the path seen here.
        if WebClient::get(&format!("{path}/index.html")).is_some() {
            let last = path.rsplit('/').next().unwrap_or(&path);
            return axum::response::Redirect::permanent(&format!("{last}/")).into_response();
        }
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let mut res = file.data.into_owned().into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // The service worker keeps the shell for offline use; the network copy
    // must always be checked so that updates arrive.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; \
             style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    res
}
