//! Passwords and session tokens. Passwords are stored as argon2id PHC
//! strings; tokens are 256 random bits handed to the client once and stored
//! only as their SHA-256.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes a password with argon2id (the crate's default parameters:
/// 19 MiB, 2 passes, the OWASP baseline).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the stored PHC string. A malformed stored
/// hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checks passwords on a few dedicated threads. Argon2id allocates 19 MiB
/// per hash; on the runtime's blocking pool every one of dozens of threads
/// would keep such an arena after a burst of logins (hundreds of MiB).
pub struct PasswordChecker {
    jobs: std::sync::mpsc::Sender<CheckJob>,
}

type CheckJob = (String, String, tokio::sync::oneshot::Sender<bool>);

impl PasswordChecker {
    /// Starts `threads` checker threads; they end when the checker is dropped.
    pub fn new(threads: usize) -> PasswordChecker {
        let (jobs, rx) = std::sync::mpsc::channel::<CheckJob>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("wardpage-passwords-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    let Ok((password, stored, reply)) = job else {
                        return;
                    };
                    let _ = reply.send(verify_password(&password, &stored));
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        PasswordChecker { jobs }
    }

    /// Whether `password` matches `stored` (false if no thread could check it).
    pub async fn verify(&self, password: String, stored: String) -> bool {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.jobs.send((password, stored, reply)).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

/// A fresh session token: 32 random bytes, base64url without padding.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What the store keeps of a token.
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash to verify against when the login does not exist, so that a
/// missing account takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password").unwrap_or_default())
}

/// Slows password guessing per account. After `FREE_FAILURES` failed
/// logins within `WINDOW`, that login may try only once every `PAUSE`.
/// Throttling rather than locking out: an attacker must not be able to lock
/// a doctor out of their account in the middle of a night.
#[derive(Default)]
pub struct LoginThrottle {
    failures: std::sync::Mutex<std::collections::HashMap<String, Failures>>,
}

struct Failures {
    count: u32,
    first: std::time::Instant,
    next_allowed: std::time::Instant,
}

impl LoginThrottle {
    pub const FREE_FAILURES: u32 = 5;
    pub const WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
    pub const PAUSE: std::time::Duration = std::time::Duration::from_secs(30);
    /// Logins tracked at once; beyond it, expired entries are swept.
    const MAX_TRACKED: usize = 10_000;

    /// `Err(seconds to wait)` if this login must wait before trying again.
    pub fn check(&self, login: &str) -> Result<(), u64> {
        let now = std::time::Instant::now();
        let Ok(map) = self.failures.lock() else {
            return Ok(());
        };
        match map.get(login) {
            Some(f) if f.next_allowed > now => Err((f.next_allowed - now).as_secs() + 1),
            _ => Ok(()),
        }
    }

    pub fn failed(&self, login: &str) {
        let now = std::time::Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return;
        };
        if map.len() >= Self::MAX_TRACKED {
            map.retain(|_, f| now.duration_since(f.first) < Self::WINDOW);
        }
        let f = map.entry(login.to_owned()).or_insert(Failures {
            count: 0,
            first: now,
            next_allowed: now,
        });
        if now.duration_since(f.first) >= Self::WINDOW {
            *f = Failures {
                count: 0,
                first: now,
                next_allowed: now,
            };
        }
        f.count += 1;
        if f.count >= Self::FREE_FAILURES {
            f.next_allowed = now + Self::PAUSE;
        }
    }

    pub fn succeeded(&self, login: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(login);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_when_right() {
        let h = hash_password("night-shift").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("night-shift", &h));
        assert!(!verify_password("Night-shift", &h));
        assert!(!verify_password("night-shift", "not a hash"));
    }

    #[test]
    fn repeated_failures_slow_down_one_login_only() {
        let t = LoginThrottle::default();
        for _ in 0..LoginThrottle::FREE_FAILURES - 1 {
            t.failed("fy1.patel");
            assert!(t.check("fy1.patel").is_ok());
        }
        t.failed("fy1.patel");
        let wait = t.check("fy1.patel").expect_err("throttled");
        assert!(wait > 0 && wait <= LoginThrottle::PAUSE.as_secs() + 1);
        assert!(t.check("sho.khan").is_ok(), "other accounts are unaffected");
        t.succeeded("fy1.patel");
        assert!(t.check("fy1.patel").is_ok());
    }

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
