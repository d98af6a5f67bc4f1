//! Which site a request is for. A deployment's sites share each node's
//! listener: `/site/<name>/...` is site `<name>`'s (the prefix is taken off
//! before the site's routes see the request, so `/site/north/api/login` is
//! north's `/api/login`, `/site/north/ws` its WebSocket and
//! `/site/north/` its web client, which calls every URL relative to its
//! folder; `/site/north` is sent to `/site/north/`), and every other path
//! is the first configured site's, so a deployment of one site keeps its
//! URLs. `/readyz` is the node's: every site's readiness (each
//! site's own is at `/site/<name>/readyz`), with `site_list_mismatch`
//! while another live node was started with other sites (`site_lists`).

use super::member::Member;
use super::site_lists::SiteLists;
use super::status::{node_readiness, Status};
use crate::http::openapi::{ApiError, ApiErrorCode};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
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
                Ok(Routed::To(app, req)) => app.oneshot(req).await.into_response(),
                Ok(Routed::Answer(res)) => res,
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

/// Where a request's path leads.
#[derive(Debug, PartialEq)]
enum Target<'a> {
    /// The first site's plain paths.
    Home,
    /// Site `name`'s path `tail` (from its `/`).
    Site { name: &'a str, tail: &'a str },
    /// `/site/<name>` without its slash: the browser is sent to the folder,
    /// so that the web client's relative URLs resolve under the prefix.
    Folder(&'a str),
}

fn target(path: &str) -> Target<'_> {
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Target::Home;
    };
    match rest.find('/') {
        Some(i) => Target::Site {
            name: &rest[..i],
            tail: &rest[i..],
        },
        None => Target::Folder(rest),
    }
}

/// What serves `req`: a site's routes and `req` as they are to see it
/// (prefix off), or an answer of its own (a redirect, or why not).
enum Routed {
    To(Router, Request<Body>),
    Answer(Response),
}

fn route(
    sites: &HashMap<String, Router>,
    home: Option<Router>,
    req: Request<Body>,
) -> Result<Routed, &'static str> {
    let (name, tail) = match target(req.uri().path()) {
        Target::Home => return home.map(|h| Routed::To(h, req)).ok_or(NO_SITE),
        Target::Folder(name) => {
            sites.get(name).ok_or(NO_SITE)?;
            // Relative, so that it holds behind a proxy that mounts the hub
            // under a path of its own.
            let to = format!("{name}/{}", query_of(req.uri()));
            return Ok(Routed::Answer(Redirect::permanent(&to).into_response()));
        }
        Target::Site { name, tail } => (name, tail),
    };
    let app = sites.get(name).ok_or(NO_SITE)?.clone();
    let uri: Uri = format!("{tail}{}", query_of(req.uri()))
        .parse()
        .map_err(|_| NO_SITE)?;
    let (mut parts, body) = req.into_parts();
    parts.uri = uri;
    Ok(Routed::To(app, Request::from_parts(parts, body)))
}

/// `?query`, or nothing.
fn query_of(uri: &Uri) -> String {
    uri.query().map(|q| format!("?{q}")).unwrap_or_default()
}

const NO_SITE: &str =
    "this deployment has no site of that name (see /site/<name>/ in the hub's documentation)";

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
    use super::{target, Target};

    #[test]
    fn a_sites_prefix_reaches_all_of_its_paths_web_client_too() {
        for (path, name, tail) in [
            ("/site/north/", "north", "/"),
            ("/site/north/index.html", "north", "/index.html"),
            ("/site/south/dashboard/", "south", "/dashboard/"),
            ("/site/south/js/session.js", "south", "/js/session.js"),
            ("/site/north/api/login", "north", "/api/login"),
            ("/site/north/ws", "north", "/ws"),
            ("/site/north/fhir/Task/1", "north", "/fhir/Task/1"),
        ] {
            assert_eq!(target(path), Target::Site { name, tail }, "{path}");
        }
        assert_eq!(target("/site/north"), Target::Folder("north"));
        assert_eq!(target("/site/"), Target::Folder(""));
        for home in [
            "/",
            "/index.html",
            "/api/login",
            "/sites/north/",
            "/dashboard/",
        ] {
            assert_eq!(target(home), Target::Home, "{home}");
        }
    }
}
