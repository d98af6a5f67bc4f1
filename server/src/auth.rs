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
///
/// The queue in front of them is bounded: a flood of logins is answered
/// "busy" at once instead of making every login wait behind it. It has two
/// lanes: attempts from sources that have been failing may fill only half
/// of the room, and wait behind every attempt from a clean source, so a
/// flood of made-up logins neither takes a real user's place nor delays it.
pub struct PasswordChecker {
    shared: std::sync::Arc<Shared>,
    capacity: usize,
}

type CheckJob = (String, String, tokio::sync::oneshot::Sender<bool>);

#[derive(Default)]
struct Lanes {
    clean: std::collections::VecDeque<CheckJob>,
    failing: std::collections::VecDeque<CheckJob>,
    /// Checks queued or running, per lane.
    clean_pending: usize,
    failing_pending: usize,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    lanes: std::sync::Mutex<Lanes>,
    ready: std::sync::Condvar,
}

/// The password checkers are all busy and their queue is full.
#[derive(Debug, thiserror::Error)]
#[error("too many logins at once; try again shortly")]
pub struct CheckersBusy;

impl Shared {
    /// The next job, clean lane first; `None` once the checker is dropped.
    fn next(&self) -> Option<(CheckJob, bool)> {
        let mut lanes = self.lanes.lock().ok()?;
        loop {
            if lanes.closed {
                return None;
            }
            if let Some(job) = lanes.clean.pop_front() {
                return Some((job, false));
            }
            if let Some(job) = lanes.failing.pop_front() {
                return Some((job, true));
            }
            lanes = self.ready.wait(lanes).ok()?;
        }
    }

    fn done(&self, failing: bool) {
        if let Ok(mut lanes) = self.lanes.lock() {
            if failing {
                lanes.failing_pending = lanes.failing_pending.saturating_sub(1);
            } else {
                lanes.clean_pending = lanes.clean_pending.saturating_sub(1);
            }
        }
    }
}

impl PasswordChecker {
    /// Starts `threads` checker threads with room for `capacity` checks
    /// waiting or running; the threads end when the checker is dropped.
    pub fn new(threads: usize, capacity: usize) -> PasswordChecker {
        let shared = std::sync::Arc::new(Shared::default());
        for i in 0..threads.max(1) {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("wardpage-passwords-{i}"))
                .spawn(move || {
                    while let Some(((password, stored, reply), failing)) = shared.next() {
                        let _ = reply.send(verify_password(&password, &stored));
                        shared.done(failing);
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        PasswordChecker {
            shared,
            capacity: capacity.max(1),
        }
    }

    /// Whether `password` matches `stored` (false if no thread could check
    /// it), or [`CheckersBusy`] at once if the queue has no room for this
    /// attempt. `failing`: the source has been failing (the slow lane).
    pub async fn verify(
        &self,
        password: String,
        stored: String,
        failing: bool,
    ) -> Result<bool, CheckersBusy> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        {
            let mut lanes = self.shared.lanes.lock().map_err(|_| CheckersBusy)?;
            let total = lanes.clean_pending + lanes.failing_pending;
            if total >= self.capacity
                || (failing && lanes.failing_pending >= (self.capacity / 2).max(1))
            {
                return Err(CheckersBusy);
            }
            if failing {
                lanes.failing_pending += 1;
                lanes.failing.push_back((password, stored, reply));
            } else {
                lanes.clean_pending += 1;
                lanes.clean.push_back((password, stored, reply));
            }
        }
        self.shared.ready.notify_one();
        Ok(answer.await.unwrap_or(false))
    }
}

impl Drop for PasswordChecker {
    fn drop(&mut self) {
        if let Ok(mut lanes) = self.shared.lanes.lock() {
            lanes.closed = true;
        }
        self.shared.ready.notify_all();
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

    #[tokio::test]
    async fn a_full_checker_queue_answers_busy_at_once() {
        let checker = PasswordChecker::new(1, 2);
        let stored = hash_password("night-shift").expect("hash");
        let attempts: Vec<_> = (0..6)
            .map(|_| checker.verify("wrong".into(), stored.clone(), false))
            .collect();
        let results = futures_util::future::join_all(attempts).await;
        assert!(results.iter().any(|r| r.is_err()), "some were refused");
        assert!(
            results.iter().any(|r| matches!(r, Ok(false))),
            "some were checked"
        );
        assert!(matches!(
            checker.verify("night-shift".into(), stored, false).await,
            Ok(true)
        ));
    }

    #[tokio::test]
    async fn failing_sources_get_half_the_room() {
        let checker = PasswordChecker::new(1, 4);
        let stored = hash_password("night-shift").expect("hash");
        let failing: Vec<_> = (0..3)
            .map(|_| checker.verify("x".into(), stored.clone(), true))
            .collect();
        let clean = checker.verify("night-shift".into(), stored.clone(), false);
        let (failing, clean) = tokio::join!(futures_util::future::join_all(failing), clean);
        assert_eq!(failing.iter().filter(|r| r.is_err()).count(), 1);
        assert!(matches!(clean, Ok(true)), "a clean source still had room");
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
