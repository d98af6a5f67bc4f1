//! Which site a request is for. A deployment's sites share each node's
//! listener: `/site/<name>/...` is site `<name>`'s (the prefix is taken off
//! before the site's routes see the request, so `/site/north/api/login` is
//! north's `/api/login` and `/site/north/ws` its WebSocket), and every
//! other path is the first configured site's, so a deployment of one site
//! keeps its URLs. `/readyz` is the node's: every site's readiness (each
//! site's own is at `/site/<name>/readyz`), with `site_list_mismatch`
//! while another live node was started with other sites (`site_lists`).

use super::member::Member;
use super::site_lists::SiteLists;
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
pub(super) fn router(node: &str, members: &[Arc<Member>], lists: Arc<SiteLists>) -> Router {
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
                Ok((app, req)) => app.oneshot(req).await.into_response(),
                Err(why) => not_here(why),
            };
            Ok::<Response, Infallible>(res)
        }
    });
    let node = node.to_owned();
    Router::new()
        .route(
            "/readyz",
            get(move || {
                let (node, statuses, lists) = (node.clone(), statuses.clone(), lists.clone());
                async move { readyz(&node, &statuses, &lists) }
            }),
        )
        .fallback_service(dispatch)
}

/// The site's routes for `req`, and `req` as they are to see it; or why
/// there are none.
fn route(
    sites: &HashMap<String, Router>,
    home: Option<Router>,
    req: Request<Body>,
) -> Result<(Router, Request<Body>), &'static str> {
    let Some(rest) = req.uri().path().strip_prefix(PREFIX) else {
        return home.map(|h| (h, req)).ok_or(NO_SITE);
    };
    let (name, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let app = sites.get(name).ok_or(NO_SITE)?.clone();
    if !api_path(tail) {
        return Err(NO_WEB_CLIENT);
    }
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let uri: Uri = format!("{tail}{query}").parse().map_err(|_| NO_SITE)?;
    let (mut parts, body) = req.into_parts();
    parts.uri = uri;
    Ok((app, Request::from_parts(parts, body)))
}

const NO_SITE: &str =
    "this deployment has no site of that name (see /site/<name>/ in the hub's documentation)";
const NO_WEB_CLIENT: &str = "under /site/<name>/ the hub serves its API only: the web client \
     is at the plain URLs, for the first site";

/// Whether `path` is one of the hub's API routes, which a site's prefix
/// reaches. The web client is not among them: its pages call `/api/login`
/// and `/ws` at the root, so one loaded under another site's prefix would
/// log into the first site while looking like the other.
fn api_path(path: &str) -> bool {
    matches!(path, "/ws" | "/healthz" | "/readyz" | "/metrics" | "/fhir")
        || path.starts_with("/api/")
        || path.starts_with("/fhir/")
}

fn not_here(why: &str) -> Response {
    ApiError::answer(StatusCode::NOT_FOUND, ApiErrorCode::InvalidField, why)
}

/// `GET /readyz` of the node: 200 while it serves every site. A site
/// list that differs from another node's is named but does not make the
/// node unready: see `site_lists`.
fn readyz(node: &str, statuses: &[Arc<Status>], lists: &SiteLists) -> Response {
    let (ready, mut body) = node_readiness(node, statuses);
    if let Some(mismatch) = lists.mismatch() {
        body["site_list_mismatch"] = mismatch;
    }
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::api_path;

    #[test]
    fn a_sites_prefix_reaches_the_api_and_not_the_web_client() {
        for api in [
            "/ws",
            "/api/login",
            "/api/openapi.json",
            "/fhir",
            "/fhir/Task/1",
        ] {
            assert!(api_path(api), "{api}");
        }
        for page in ["/", "/index.html", "/js/session.js", "/fhirish", "/wsx"] {
            assert!(!api_path(page), "{page}");
        }
    }
}
