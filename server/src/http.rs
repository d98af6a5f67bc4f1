//! HTTP routes: login and logout, the WebSocket upgrade (with its Origin
//! check and buffer limits), health, metrics, and the web client's files;
//! per-route body limits and timeouts, and the checks in [`guard`].

use crate::auth;
use crate::clock::now_ms;
use crate::conn_limits::client_ip;
use crate::domain::AuditRecord;
use crate::hub::registry::Kick;
use crate::hub::{connection, Hub};
use crate::login_limits::Refusal;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_embed::RustEmbed;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::{info, warn};
use wardpage_proto::login::{parse_login_body, LoginBodyError};
use wardpage_proto::StaffId;

mod guard;

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

pub fn router(hub: Arc<Hub>) -> Router {
    let timeout = Duration::from_secs(u64::from(hub.config.limits.request_timeout_secs));
    let api = Router::new()
        .route(
            "/api/login",
            post(login).layer(RequestBodyLimitLayer::new(LOGIN_BODY)),
        )
        .route("/api/logout", post(logout))
        .route("/metrics", get(metrics))
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
    let app = Router::new()
        .merge(api)
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .fallback(get(static_file))
        .layer(RequestBodyLimitLayer::new(OTHER_BODY))
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

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// `api_error` with `Retry-After: seconds`.
fn retry_later(status: StatusCode, code: &str, message: &str, seconds: u64) -> Response {
    let mut res = api_error(status, code, message);
    if let Ok(v) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

fn wrong_password() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "wrong username or password",
    )
}

async fn login(
    State(hub): State<Arc<Hub>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A cross-site form can post text/plain without asking; only a page
    // of the hub's own (or a native client) can send application/json.
    if !guard::is_json(&headers) {
        return api_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_field",
            "send the login as Content-Type: application/json",
        );
    }
    let source = client_ip(peer.ip(), &headers, &hub.config.limits.trusted_proxies);
    // One parser for the hub and the fuzz target (`wardpage_proto::login`).
    let req = match parse_login_body(&body) {
        Ok(req) => req,
        Err(e @ LoginBodyError::Malformed) => {
            return api_error(StatusCode::BAD_REQUEST, "invalid_field", &e.to_string())
        }
        Err(LoginBodyError::TooLong) => return wrong_password(),
    };
    let login = req.login().to_owned();
    let ticket = match hub.logins.admit(&login, source) {
        Ok(t) => t,
        Err(refusal) => return refused(source, refusal),
    };
    let account = match hub.store.account_by_login(&login).await {
        Ok(a) => a,
        Err(e) => {
            warn!(error = %e, "login lookup failed");
            return api_error(StatusCode::SERVICE_UNAVAILABLE, "internal", "try again");
        }
    };
    let stored = account
        .as_ref()
        .and_then(|a| a.password_hash.clone())
        .unwrap_or_else(|| auth::decoy_hash().to_owned());
    // Argon2 is slow on purpose: it runs on the checker's own threads.
    let matches = match hub
        .passwords
        .verify(req.password, stored, ticket.failing)
        .await
    {
        Ok(m) => m,
        Err(busy) => {
            warn!(%source, "login refused: password checkers full");
            return retry_later(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                &busy.to_string(),
                1,
            );
        }
    };
    let known = account.as_ref().map(|a| a.id);
    let Some(account) = account.filter(|a| matches && a.active && a.password_hash.is_some()) else {
        hub.logins.failed(&ticket, &login, known.is_some());
        drop(ticket);
        audit_login(&hub, known, source, false).await;
        return wrong_password();
    };
    drop(ticket);
    hub.logins.succeeded(&login);
    start_session(&hub, account.id, source).await
}

/// A new session for a login that succeeded: its token, expiry and staff.
async fn start_session(hub: &Hub, staff: StaffId, source: std::net::IpAddr) -> Response {
    let token = auth::new_token();
    let now = now_ms();
    let expires = now + i64::from(hub.config.session_hours) * 3_600_000;
    if let Err(e) = hub
        .store
        .create_session(&auth::token_hash(&token), staff, now, expires)
        .await
    {
        warn!(error = %e, "could not store session");
        return api_error(StatusCode::SERVICE_UNAVAILABLE, "internal", "try again");
    }
    let view = match hub.writer.whois(staff).await {
        Ok(Some((view, _))) => serde_json::to_value(view).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    audit_login(hub, Some(staff), source, true).await;
    Json(json!({ "token": token, "expires_at": expires, "staff": view })).into_response()
}

/// The answer to an attempt refused before its password was checked.
fn refused(source: std::net::IpAddr, refusal: Refusal) -> Response {
    match refusal {
        Refusal::LoginThrottled { retry_after } => {
            info!(%source, "login refused: this login failed too often from failing sources");
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("too many failed logins for this account; try again in {retry_after} s"),
                retry_after,
            )
        }
        Refusal::SourceThrottled { retry_after } => {
            info!(%source, "login refused: too many attempts from a failing source");
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("too many failed logins from this address; try again in {retry_after} s"),
                retry_after,
            )
        }
        Refusal::SourceBusy => retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many logins under way from this address; try again shortly",
            1,
        ),
    }
}

/// Logs a login and records it in the audit trail. What the user typed is
/// never written: a login name that names no account may be a password
/// typed into the wrong box.
async fn audit_login(hub: &Hub, staff: Option<StaffId>, source: std::net::IpAddr, ok: bool) {
    match (staff, ok) {
        (Some(s), true) => info!(staff = %s, %source, "logged in"),
        (Some(s), false) => {
            info!(staff = %s, %source, "login refused: wrong password or disabled account")
        }
        (None, _) => info!(%source, "login refused: unknown login"),
    }
    let record = AuditRecord {
        at: now_ms(),
        actor: staff,
        entity: "login",
        entity_id: staff.map_or_else(|| "unknown".to_owned(), |s| s.to_string()),
        action: if ok { "logged_in" } else { "login_failed" },
        from_state: None,
        to_state: None,
        detail: format!("from {source}"),
    };
    if hub.writer.audit(record).await.is_err() {
        warn!("login not audited: the writer has stopped");
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn logout(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send Authorization: Bearer <token>",
        );
    };
    let hash = auth::token_hash(token);
    match hub.store.delete_session(&hash).await {
        Ok(true) => {
            hub.registry.kick_session(
                &hash,
                Kick {
                    code: 1008,
                    reason: "logged out",
                },
            );
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(false) => api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "token unknown or already revoked",
        ),
        Err(e) => {
            warn!(error = %e, "logout failed");
            api_error(StatusCode::SERVICE_UNAVAILABLE, "internal", "try again")
        }
    }
}

/// Whether a browser page from `origin` may open the socket: the hub's own
/// host, or one of the configured origins. Native clients send no Origin.
fn origin_allowed(hub: &Hub, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if hub.config.allowed_origins.iter().any(|o| o == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

static CONN_IDS: AtomicU64 = AtomicU64::new(1);

async fn websocket(
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&hub, &headers) {
        warn!(origin = ?headers.get(header::ORIGIN), "WebSocket refused: origin not allowed");
        return api_error(StatusCode::FORBIDDEN, "forbidden", "origin not allowed");
    }
    if *hub.shutdown.borrow() {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the hub is shutting down",
        );
    }
    let id = CONN_IDS.fetch_add(1, Ordering::Relaxed);
    ws.max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        // Small buffers: idle phones are the common case; tungstenite's
        // defaults cost over 128 KiB per connection.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            // Tracked, so that shutdown waits for the connection's goodbye.
            let tracker = hub.connections.clone();
            tracker.track_future(connection::serve(hub, socket, id))
        })
}

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

async fn metrics(
    State(hub): State<Arc<Hub>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let source = client_ip(peer.ip(), &headers, &hub.config.limits.trusted_proxies);
    if !guard::metrics_allowed(&hub.config, source, bearer(&headers)) {
        return api_error(
            StatusCode::FORBIDDEN,
            "forbidden",
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
        // so the page's relative links resolve.
        if WebClient::get(&format!("{path}/index.html")).is_some() {
            return axum::response::Redirect::permanent(&format!("/{path}/")).into_response();
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
