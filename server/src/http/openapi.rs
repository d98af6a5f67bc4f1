//! The OpenAPI 3.1 description of the hub's HTTP routes, served at
//! `GET /api/openapi.json`. Its paths come from the `#[utoipa::path]`
//! attributes of the handlers that `http::described_routes` registers (the
//! same call registers the axum route), and its bodies from the answer types
//! below, which the handlers send: a route or an answer cannot change
//! without its description changing too. What the layers in front of the
//! handlers answer (421, 413, 408) is added by [`layer_answers`].

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, ToSchema};
use wardpage_proto::Millis;

/// The description's fixed parts; the paths are added by the router.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "wardpage hub HTTP API",
        description = "The HTTP routes of a wardpage hub. Everything else a client \
            does goes over the WebSocket at `/ws` (`GET` with an upgrade), which \
            speaks the JSON protocol of `proto/PROTOCOL.md`, not described here. \
            A client logs in with `POST /api/login`, then opens `/ws` and sends \
            the token in its `hello`. Every request's `Host` must be one the hub \
            answers to (421 otherwise); no body may exceed 4 KiB (1 KiB for the \
            login, 16 KiB for FHIR; 413 otherwise). `/api/*` and `/metrics` answers carry \
            `Cache-Control: no-store`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    components(schemas(ApiError, ApiErrorCode)),
    modifiers(&BearerScheme),
    tags(
        (name = "session", description = "Logging in and out"),
        (name = "operations", description = "Health, metrics and this description"),
        (name = "fhir", description = "FHIR R4 (JSON) for other systems, with an API key \
            (`wardpage apikey create`); errors are OperationOutcomes (see docs/fhir.md)")
    )
)]
pub struct ApiDoc;

/// The name of the bearer security scheme (the `security` of the paths
/// spells it out: the attribute takes a literal).
pub const BEARER: &str = "bearer";

/// Adds the bearer scheme (a session token, or the metrics token).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token from `POST /api/login` (for `/api/logout`), \
                         the configured `metrics_token` (for `/metrics`), or an API key \
                         `wpk_...` (for `/fhir`)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The `code` of an HTTP error answer: the protocol's error codes that
/// HTTP routes use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    /// The request is not what the route reads (body, content type).
    InvalidField,
    /// Wrong credentials, or no or an unknown token.
    Unauthorized,
    /// Not allowed from here (address, origin, Host).
    Forbidden,
    /// Too many attempts; see `Retry-After`.
    RateLimited,
    /// The hub is busy or stopping; see `Retry-After` where sent.
    Unavailable,
    /// The store failed; try again.
    Internal,
}

/// Every JSON error the HTTP routes answer.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApiError {
    pub code: ApiErrorCode,
    /// For people: what went wrong and what to do.
    pub message: String,
}

impl ApiError {
    /// The answer `status` with this error as its body.
    pub fn answer(status: StatusCode, code: ApiErrorCode, message: &str) -> Response {
        let body = ApiError {
            code,
            message: message.to_owned(),
        };
        (status, Json(body)).into_response()
    }
}

/// The body of `POST /api/login`, as `wardpage_proto::login` reads it.
/// A username over 64 bytes or a password over 256 is answered like a
/// wrong password (401), so the schema sets no length.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // described only: the hub reads the body with `parse_login_body`
pub struct LoginRequest {
    /// The account's login name (surrounding space is ignored).
    pub username: String,
    pub password: String,
}

/// A successful login.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    /// The session token: `Authorization: Bearer` for `/api/logout`, and
    /// the `token` of the WebSocket `hello`.
    pub token: String,
    /// When the session ends, in milliseconds since 1970 (UTC).
    #[schema(value_type = i64)]
    pub expires_at: Millis,
    /// Who logged in, as the protocol's `StaffView` (the `me` of the
    /// `welcome` frame in `proto/PROTOCOL.md`); `null` if the hub could
    /// not read it just then.
    #[schema(value_type = Option<Object>, required = true)]
    pub staff: Option<serde_json::Value>,
}

/// A status answered by a layer rather than a handler.
pub struct LayerAnswer {
    pub status: &'static str,
    pub description: &'static str,
    /// What its body is: none, text, or an [`ApiError`].
    pub body: LayerBody,
}

/// The body of a [`LayerAnswer`].
pub enum LayerBody {
    Empty,
    Text,
    Error,
}

/// `Host` not allowed (`guard::check_host`), on every route.
pub const MISDIRECTED: LayerAnswer = LayerAnswer {
    status: "421",
    description: "The hub does not answer to this `Host` (see `allowed_hosts`)",
    body: LayerBody::Error,
};
/// A body over the limit (the `RequestBodyLimitLayer`s), on every route.
pub const TOO_LARGE: LayerAnswer = LayerAnswer {
    status: "413",
    description:
        "The body is over the route's limit (1 KiB for the login, 16 KiB for FHIR, 4 KiB otherwise)",
    body: LayerBody::Text,
};
/// The request not received within `limits.request_timeout_secs` (the
/// `TimeoutLayer` of the `/api` routes and `/metrics`).
pub const TIMED_OUT: LayerAnswer = LayerAnswer {
    status: "408",
    description: "The request was not received within `limits.request_timeout_secs`",
    body: LayerBody::Empty,
};

/// Adds `answer` to every operation of `doc` that does not describe it.
pub fn layer_answers(doc: &mut OpenApi, answer: &LayerAnswer) {
    for item in doc.paths.paths.values_mut() {
        let ops: [&mut Option<Operation>; 4] = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
        ];
        for op in ops.into_iter().flatten() {
            let responses = &mut op.responses.responses;
            if responses.contains_key(answer.status) {
                continue;
            }
            let mut res = ResponseBuilder::new().description(answer.description);
            res = match answer.body {
                LayerBody::Empty => res,
                LayerBody::Text => res.content(
                    "text/plain",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::schema::Object::with_type(
                            utoipa::openapi::Type::String,
                        )))
                        .build(),
                ),
                LayerBody::Error => res.content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                ),
            };
            responses.insert(answer.status.to_owned(), res.build().into());
        }
    }
}

/// The description, built once from the routes.
pub fn description() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(super::openapi_description)
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    summary = "This description",
    responses(
        (status = 200, description = "The OpenAPI 3.1 description of the hub's HTTP routes",
            content_type = "application/json", body = Object),
    )
)]
pub async fn document() -> Response {
    Json(description()).into_response()
}
