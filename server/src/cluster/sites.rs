//! Which site a request is for. A deployment's sites share each node's
//! listener: `/site/<name>/...` is site `<name>`'s (the prefix is taken off
//! before the site's routes see the request, so `/site/north/api/login` is
//! north's `/api/login` and `/site/north/ws` its WebSocket), and every
//! other path is the first configured site's, so a deployment of one site
//! keeps its URLs. `/readyz` is the node's: every site's readiness (each
//! site's own is at `/site/<name>/readyz`).

use super::member::Member;
use super::status::{node_readiness, Status};
use crate::http::openapi::{ApiError, ApiErrorCode};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use tower::ServiceExt;

/// The path prefix of a site's routes.
const PREFIX: &str = "/site/";

/// The node's router over `members` (at least one: the first is the
/// site of the plain paths).
pub(super) fn router(node: &str, members: &[Arc<Member>]) -> Router {
    let statuses: Arc<Vec<Arc<Status>>> =
        Arc::new(members.iter().map(|m| m.status.clone()).collect());
    let sites: Arc<HashMap<String, Router>> = Arc::new(
        members
            .iter()
            .map(|m| (m.site.clone(), m.front.clone().router()))
            .collect(),
    );
    let home = members.first().map(|m| m.front.clone().router());
    let dispatch = tower::service_fn(move |req: Request<Body>| {
        let (sites, home) = (sites.clone(), home.clone());
        async move {
            let res = match route(&sites, home, req) {
                Some((app, req)) => app.oneshot(req).await.into_response(),
                None => no_site(),
            };
            Ok::<Response, Infallible>(res)
        }
    });
    let node = node.to_owned();
    Router::new()
        .route(
            "/readyz",
            get(move || {
                let (node, statuses) = (node.clone(), statuses.clone());
                async move { readyz(&node, &statuses) }
            }),
        )
        .fallback_service(dispatch)
}

/// The site's routes for `req`, and `req` as they are to see it; `None`
/// for a site the deployment does not have.
fn route(
    sites: &HashMap<String, Router>,
    home: Option<Router>,
    req: Request<Body>,
) -> Option<(Router, Request<Body>)> {
    let Some(rest) = req.uri().path().strip_prefix(PREFIX) else {
        return home.map(|h| (h, req));
    };
    let (name, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let app = sites.get(name)?.clone();
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let uri: Uri = format!("{tail}{query}").parse().ok()?;
    let (mut parts, body) = req.into_parts();
    parts.uri = uri;
    Some((app, Request::from_parts(parts, body)))
}

fn no_site() -> Response {
    ApiError::answer(
        StatusCode::NOT_FOUND,
        ApiErrorCode::InvalidField,
        "this deployment has no site of that name (see /site/<name>/ in the hub's documentation)",
    )
}

/// `GET /readyz` of the node: 200 while it serves every site.
fn readyz(node: &str, statuses: &[Arc<Status>]) -> Response {
    let (ready, body) = node_readiness(node, statuses);
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
