//! The body of `POST /api/login`: `{"username": "...", "password": "..."}`.
//!
//! A pure function of the request's bytes, so that the hub and the fuzzer
//! read it the same way. The hub answers [`LoginBodyError::Malformed`] with
//! `400 invalid_field` and [`LoginBodyError::TooLong`] with
//! `401 unauthorized` (a login that long cannot exist; saying so would tell
//! a guesser nothing, and the password is never hashed).

use serde::Deserialize;

/// Longest username read, in bytes.
pub const MAX_USERNAME_BYTES: usize = 64;
/// Longest password read, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// A login request as read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LoginBody {
    /// The username as sent (`login` is the account name to look up).
    pub username: String,
    pub password: String,
}

/// Why a login body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginBodyError {
    #[error("expected {{\"username\": string, \"password\": string}}")]
    Malformed,
    #[error("username or password too long")]
    TooLong,
}

impl LoginBody {
    /// The account name to look up: the username without surrounding space.
    pub fn login(&self) -> &str {
        self.username.trim()
    }
}

/// Reads a login body.
pub fn parse_login_body(body: &[u8]) -> Result<LoginBody, LoginBodyError> {
    let req: LoginBody = serde_json::from_slice(body).map_err(|_| LoginBodyError::Malformed)?;
    if req.username.len() > MAX_USERNAME_BYTES || req.password.len() > MAX_PASSWORD_BYTES {
        return Err(LoginBodyError::TooLong);
    }
    Ok(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_bodies_are_read_or_refused() {
        let ok = parse_login_body(br#"{"username": " fy1.patel ", "password": "night-shift"}"#)
            .expect("valid");
        assert_eq!(ok.login(), "fy1.patel");
        assert_eq!(
            parse_login_body(br#"{"username": "fy1.patel"}"#),
            Err(LoginBodyError::Malformed)
        );
        assert_eq!(
            parse_login_body(b"not json"),
            Err(LoginBodyError::Malformed)
        );
        let long = format!(r#"{{"username": "{}", "password": "x"}}"#, "a".repeat(65));
        assert_eq!(
            parse_login_body(long.as_bytes()),
            Err(LoginBodyError::TooLong)
        );
    }
}
