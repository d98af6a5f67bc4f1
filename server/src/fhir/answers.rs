//! The answers every FHIR read and every FHIR search can give, described
//! once for the OpenAPI document: each resource's read and search handler
//! names [`ReadAnswers`] or [`SearchAnswers`] of its [`Kind`] instead of
//! repeating the same list of statuses (which drifted apart when each was
//! written by hand). Every body is `application/fhir+json`: the resource,
//! a Bundle, or an OperationOutcome.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::RefOr;
use utoipa::IntoResponses;

/// A resource type as its answers name it.
pub trait Kind {
    /// The 200 of a read: "The Task".
    const READ: &'static str;
    /// The 404 of a read: "No such task".
    const NOT_FOUND: &'static str;
    /// The 200 of a search: "A searchset Bundle".
    const SEARCH: &'static str;
    /// The 503 of both.
    const UNAVAILABLE: &'static str = "The store failed";
}

/// `GET /fhir/<type>/{id}`: the resource with its ETag, or why not.
pub struct ReadAnswers<K>(PhantomData<K>);

/// `GET /fhir/<type>?...`: a searchset Bundle, or why not.
pub struct SearchAnswers<K>(PhantomData<K>);

const UNAUTHORIZED: &str = "No key, or an unknown, revoked or expired one";
const FORBIDDEN: &str = "The key lacks `fhir:read`";
const BAD_PARAMETER: &str = "A parameter is wrong (OperationOutcome)";

fn fhir_json(description: &str) -> ResponseBuilder {
    let object = ObjectBuilder::new().schema_type(Type::Object);
    ResponseBuilder::new().description(description).content(
        "application/fhir+json",
        ContentBuilder::new().schema(Some(object)).build(),
    )
}

fn answers(list: Vec<(u16, Response)>) -> BTreeMap<String, RefOr<Response>> {
    list.into_iter()
        .map(|(status, r)| (status.to_string(), RefOr::T(r)))
        .collect()
}

impl<K: Kind> IntoResponses for ReadAnswers<K> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        let etag = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some("W/\"<versionId>\""))
            .build();
        answers(vec![
            (200, fhir_json(K::READ).header("ETag", etag).build()),
            (401, fhir_json(UNAUTHORIZED).build()),
            (403, fhir_json(FORBIDDEN).build()),
            (404, fhir_json(K::NOT_FOUND).build()),
            (503, fhir_json(K::UNAVAILABLE).build()),
        ])
    }
}

impl<K: Kind> IntoResponses for SearchAnswers<K> {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        answers(vec![
            (200, fhir_json(K::SEARCH).build()),
            (400, fhir_json(BAD_PARAMETER).build()),
            (401, fhir_json(UNAUTHORIZED).build()),
            (403, fhir_json(FORBIDDEN).build()),
            (503, fhir_json(K::UNAVAILABLE).build()),
        ])
    }
}
