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
/// "busy" at once instead of making every login wait behind it. Sources
/// that have been failing may fill only half of it, so that a flood of
/// made-up logins cannot take the places a real user's login needs.
pub struct PasswordChecker {
    jobs: std::sync::mpsc::SyncSender<CheckJob>,
    pending: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    capacity: usize,
}

type CheckJob = (String, String, tokio::sync::oneshot::Sender<bool>);

/// The password checkers are all busy and their queue is full.
#[derive(Debug, thiserror::Error)]
#[error("too many logins at once; try again shortly")]
pub struct CheckersBusy;

impl PasswordChecker {
    /// Starts `threads` checker threads with room for `capacity` checks
    /// waiting or running; the threads end when the checker is dropped.
    pub fn new(threads: usize, capacity: usize) -> PasswordChecker {
        let capacity = capacity.max(1);
        let (jobs, rx) = std::sync::mpsc::sync_channel::<CheckJob>(capacity);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let pending = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            let pending = pending.clone();
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
                    pending.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password-checking thread");
            }
        }
        PasswordChecker {
            jobs,
            pending,
            capacity,
        }
    }

    /// Whether `password` matches `stored` (false if no thread could check
    /// it), or [`CheckersBusy`] at once if the queue has no room for this
    /// attempt. `failing`: the source has been failing (it gets half the room).
    pub async fn verify(
        &self,
        password: String,
        stored: String,
        failing: bool,
    ) -> Result<bool, CheckersBusy> {
        use std::sync::atomic::Ordering;
        let room = if failing {
            (self.capacity / 2).max(1)
        } else {
            self.capacity
        };
        self.pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < room).then_some(n + 1)
            })
            .map_err(|_| CheckersBusy)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        if let Err(e) = self.jobs.try_send((password, stored, reply)) {
            self.pending.fetch_sub(1, Ordering::AcqRel);
            return match e {
                std::sync::mpsc::TrySendError::Full(_) => Err(CheckersBusy),
                std::sync::mpsc::TrySendError::Disconnected(_) => Ok(false),
            };
        }
        Ok(answer.await.unwrap_or(false))
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

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 43, "256 bits in base64url");
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
