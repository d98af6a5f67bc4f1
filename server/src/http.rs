//! HTTP routes: login and logout, the WebSocket upgrade (with its Origin
//! check and buffer limits), health, metrics, and the web client's files.

use crate::auth;
use crate::clock::now_ms;
use crate::hub::registry::Kick;
use crate::hub::{connection, Hub};
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use rust_embed::RustEmbed;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tracing::{info, warn};
use wardpage_proto::login::{parse_login_body, LoginBodyError};

/// Largest WebSocket message read at all; frames between the protocol's
/// limit and this get `too_large`, larger ones close the connection.
const WS_MAX_MESSAGE: usize = 64 * 1024;

/// The web client, embedded in release builds and read from disk in debug
/// builds (so editing it needs no rebuild).
#[derive(RustEmbed)]
#[folder = "$CARGO_MANIFEST_DIR/../client-web"]
#[exclude = "node_modules/*"]
struct WebClient;

pub fn router(hub: Arc<Hub>) -> Router {
    Router::new()
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/ws", get(websocket))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback(get(static_file))
        .with_state(hub)
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

async fn login(State(hub): State<Arc<Hub>>, body: Bytes) -> Response {
    let req = match parse_login_body(&body) {
        Ok(req) => req,
        Err(e @ LoginBodyError::Malformed) => {
            return api_error(StatusCode::BAD_REQUEST, "invalid_field", &e.to_string())
        }
        Err(LoginBodyError::TooLong) => {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "wrong username or password",
            )
        }
    };
    let login = req.login().to_owned();
    if let Err(wait) = hub.logins.check(&login) {
        return api_error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            &format!("too many failed logins for this account; try again in {wait} s"),
        );
    }
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
    let matches = hub.passwords.verify(req.password, stored).await;
    let Some(account) = account.filter(|a| matches && a.active && a.password_hash.is_some()) else {
        info!(login = %req.username, "login refused");
        hub.logins.failed(&login);
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "wrong username or password",
        );
    };
    hub.logins.succeeded(&login);
    let token = auth::new_token();
    let now = now_ms();
    let expires = now + i64::from(hub.config.session_hours) * 3_600_000;
    if let Err(e) = hub
        .store
        .create_session(&auth::token_hash(&token), account.id, now, expires)
        .await
    {
        warn!(error = %e, "could not store session");
        return api_error(StatusCode::SERVICE_UNAVAILABLE, "internal", "try again");
    }
    let staff = match hub.writer.whois(account.id).await {
        Ok(Some((view, _))) => serde_json::to_value(view).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    info!(login = %req.username, "logged in");
    Json(json!({ "token": token, "expires_at": expires, "staff": staff })).into_response()
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
    if hub.shutdown.is_cancelled() {
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the hub is shutting down",
        );
    }
    let id = CONN_IDS.fetch_add(1, Ordering::Relaxed);
    // Tracked, so that shutdown waits for the connection to say goodbye.
    let tracker = hub.connections.clone();
    ws.max_message_size(WS_MAX_MESSAGE)
        .max_frame_size(WS_MAX_MESSAGE)
        // Small buffers: idle phones are the common case; tungstenite's
        // defaults cost over 128 KiB per connection.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| tracker.track_future(connection::serve(hub, socket, id)))
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

async fn metrics(State(hub): State<Arc<Hub>>) -> Response {
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
