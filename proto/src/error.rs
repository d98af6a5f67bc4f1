//! Error codes on the wire. Every `error` frame names one; the message is
//! for people, the code is for programs.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Why the hub refused a frame or a command. A refused command changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, TS, thiserror::Error)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The frame is not valid JSON (or not text).
    #[error("bad_json")]
    BadJson,
    /// The frame's `type`, or the command's `op`, is missing or unknown.
    #[error("unknown_type")]
    UnknownType,
    /// A field is missing, has the wrong type, or breaks a rule (length, shape).
    #[error("invalid_field")]
    InvalidField,
    /// The frame is larger than the protocol allows.
    #[error("too_large")]
    TooLarge,
    /// The hello named a protocol version this hub does not speak.
    #[error("unsupported_version")]
    UnsupportedVersion,
    /// The first frame must be a hello; or a hello came twice.
    #[error("hello_required")]
    HelloRequired,
    /// The token is unknown, expired or revoked. Log in again.
    #[error("unauthorized")]
    Unauthorized,
    /// The user's role or relation to the task does not allow this.
    #[error("forbidden")]
    Forbidden,
    /// The task, page, ward or member of staff does not exist.
    #[error("not_found")]
    NotFound,
    /// The task or page is not in a state that allows this.
    #[error("invalid_state")]
    InvalidState,
    /// Someone else accepted (or was assigned) the task first.
    #[error("already_taken")]
    AlreadyTaken,
    /// The same command id was already used by another user, or for another command.
    #[error("id_reused")]
    IdReused,
    /// The command was issued (`issued_at`) longer ago than the hub
    /// remembers command ids: it may already have been applied, so it is
    /// not applied now. Show the user it was not sent; mint a new id if the
    /// intention still stands.
    #[error("id_expired")]
    IdExpired,
    /// Too many frames too fast; the connection is being closed.
    #[error("rate_limited")]
    RateLimited,
    /// The hub is shutting down; reconnect shortly.
    #[error("unavailable")]
    Unavailable,
    /// The hub failed (e.g. storage). The command may or may not have been
    /// stored: retry with the same id, which applies it at most once.
    #[error("internal")]
    Internal,
}

impl ErrorCode {
    /// The snake_case code as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "bad_json",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::UnsupportedVersion => "unsupported_version",
            ErrorCode::HelloRequired => "hello_required",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidState => "invalid_state",
            ErrorCode::AlreadyTaken => "already_taken",
            ErrorCode::IdReused => "id_reused",
            ErrorCode::IdExpired => "id_expired",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// A field that breaks a protocol rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: &'static str,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        FieldError {
            field,
            problem: problem.into(),
        }
    }
}
