//! `POST /api/login` and `POST /api/logout`: checking a password (behind
//! the login throttles of [`crate::login_limits`]), starting a session,
//! auditing the attempt, and revoking a token with its live connections.
//! Their `#[utoipa::path]` attributes list every answer each can give.

use super::openapi::{ApiError, ApiErrorCode, LoginAnswer, LoginRequest};
use super::{bearer, guard, retry_later};
use crate::auth;
use crate::clock::now_ms;
use crate::conn_limits::client_ip;
use crate::domain::AuditRecord;
use crate::hub::registry::Kick;
use crate::hub::Hub;
use crate::login_limits::Refusal;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::net::SocketAddr;
use std::sync::Arc;
use tracing::{info, warn};
use wardpage_proto::login::{parse_login_body, LoginBodyError};
use wardpage_proto::StaffId;

fn api_error(status: StatusCode, code: ApiErrorCode, message: &str) -> Response {
    ApiError::answer(status, code, message)
}

fn wrong_password() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        ApiErrorCode::Unauthorized,
        "wrong username or password",
    )
}

/// `POST /api/login`.
#[utoipa::path(
    post,
    path = "/api/login",
    tag = "session",
    summary = "Log in: a session token for the WebSocket",
    request_body(content = LoginRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Logged in", body = LoginAnswer),
        (status = 400, description = "The body is not `{\"username\": string, \"password\": string}`",
            body = ApiError),
        (status = 401, description = "Wrong password, unknown or inactive login, or a username \
            over 64 bytes or a password over 256 (the same answer for all)", body = ApiError),
        (status = 415, description = "The body is not declared as `application/json`",
            body = ApiError),
        (status = 429, description = "Too many failed logins for this account or from this \
            address, or too many under way from it", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait before trying again"))),
        (status = 503, description = "The hub has too many logins to check (`unavailable`, \
            with `Retry-After`), or its store failed (`internal`)", body = ApiError,
            headers(("Retry-After" = u64, description = "Seconds to wait (sent with `unavailable`)"))),
    )
)]
pub(super) async fn login(
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
            ApiErrorCode::InvalidField,
            "send the login as Content-Type: application/json",
        );
    }
    let source = client_ip(peer.ip(), &headers, &hub.config.limits.trusted_proxies);
    // One parser for the hub and the fuzz target (`wardpage_proto::login`).
    let req = match parse_login_body(&body) {
        Ok(req) => req,
        Err(e @ LoginBodyError::Malformed) => {
            return api_error(
                StatusCode::BAD_REQUEST,
                ApiErrorCode::InvalidField,
                &e.to_string(),
            )
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
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ApiErrorCode::Internal,
                "try again",
            );
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
                ApiErrorCode::Unavailable,
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
        return api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorCode::Internal,
            "try again",
        );
    }
    let view = match hub.writer.whois(staff).await {
        Ok(Some((view, _))) => serde_json::to_value(view).ok(),
        _ => None,
    };
    audit_login(hub, Some(staff), source, true).await;
    Json(LoginAnswer {
        token,
        expires_at: expires,
        staff: view,
    })
    .into_response()
}

/// The answer to an attempt refused before its password was checked.
fn refused(source: std::net::IpAddr, refusal: Refusal) -> Response {
    match refusal {
        Refusal::LoginThrottled { retry_after } => {
            info!(%source, "login refused: this login failed too often from failing sources");
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::RateLimited,
                &format!("too many failed logins for this account; try again in {retry_after} s"),
                retry_after,
            )
        }
        Refusal::SourceThrottled { retry_after } => {
            info!(%source, "login refused: too many attempts from a failing source");
            retry_later(
                StatusCode::TOO_MANY_REQUESTS,
                ApiErrorCode::RateLimited,
                &format!("too many failed logins from this address; try again in {retry_after} s"),
                retry_after,
            )
        }
        Refusal::SourceBusy => retry_later(
            StatusCode::TOO_MANY_REQUESTS,
            ApiErrorCode::RateLimited,
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

/// `POST /api/logout`.
#[utoipa::path(
    post,
    path = "/api/logout",
    tag = "session",
    summary = "Log out: revoke the token and close its connections",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked; its live connections are closed (1008 `logged out`)"),
        (status = 401, description = "No bearer token, or one unknown or already revoked",
            body = ApiError),
        (status = 503, description = "The store failed (`internal`)", body = ApiError),
    )
)]
pub(super) async fn logout(State(hub): State<Arc<Hub>>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            ApiErrorCode::Unauthorized,
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
            ApiErrorCode::Unauthorized,
            "token unknown or already revoked",
        ),
        Err(e) => {
            warn!(error = %e, "logout failed");
            api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ApiErrorCode::Internal,
                "try again",
            )
        }
    }
}
