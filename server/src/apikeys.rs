//! API keys for other systems (an EPR, observation devices, reporting):
//! `wardpage apikey create|list|revoke`, and the check of a request's
//! `Authorization: Bearer wpk_<id>_<secret>` against the stored key and the
//! scope the operation needs.
//!
//! Each key acts as a service account of its own: a staff row with no
//! password (so it can never log in), whose name is the key's, with the
//! admin grade (it sees every ward) and never a shift (so the hub never
//! offers it a task nor tells it of one). What a key writes goes through
//! the writer as that account, so the audit trail names the key. Reads and
//! refusals are counted per key, minute and kind (`api_key_uses`, written
//! at once for writes and refusals and at most once a second for reads):
//! one chained audit row per FHIR read would make the audit trail mostly
//! polling.
//!
//! A key never opens the WebSocket: keys are stored apart from sessions,
//! so a hello with one finds no session, and its refusal says why.

use crate::clock::now_ms;
use crate::domain::Staff;
use crate::store::{ApiKeyRecord, Store, StoreError};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use wardpage_proto::{Millis, Role, StaffId};

/// Every key starts with this, so that it is recognised (and refused) where
/// a session token is expected, and found by secret scanners.
pub const PREFIX: &str = "wpk_";

/// What a key may be allowed to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every FHIR read and search.
    FhirRead,
    /// Posting vital-signs sets (`POST /fhir/Observation`).
    ObservationsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::FhirRead, Scope::ObservationsWrite];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::FhirRead => "fhir:read",
            Scope::ObservationsWrite => "observations:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a key name is 1 to 32 characters of a-z, 0-9 and -")]
    BadName,
    #[error("unknown scope {0:?} (known: fhir:read, observations:write)")]
    BadScope(String),
    #[error("name at least one scope")]
    NoScope,
    #[error("a key named {0:?} exists already (revoked keys keep their names)")]
    Taken(String),
    #[error("no key named {0:?}")]
    Unknown(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a request's key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("send an API key as Authorization: Bearer wpk_...")]
    Missing,
    #[error("unknown API key")]
    Unknown,
    #[error("this API key has been revoked")]
    Revoked,
    #[error("this API key has expired")]
    Expired,
    #[error("this API key lacks the scope {0}")]
    OutOfScope(&'static str),
    #[error("the hub could not check the key; try again")]
    Store,
}

/// Who a request acts as, once its key is accepted.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub name: String,
    pub staff: StaffId,
}

/// The stored form of a key's secret. SHA-256 rather than a slow password
/// hash: the secret is 32 random bytes, so there is no dictionary to try
/// and brute force over 2^256 is out of reach whatever the hash's speed;
/// a slow hash would only cost CPU on every request.
pub fn secret_hash(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The (id, secret) of a key in the `wpk_<id>_<secret>` shape.
pub fn split(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (id.len() == 12 && ok(id) && ok(secret)).then_some((id, secret))
}

/// Equal without an early exit (the hashes are of random secrets, so a
/// timing difference would tell little, but it costs nothing).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The login of a key's service account.
pub fn account_login(name: &str) -> String {
    format!("apikey-{name}")
}

/// Creates a key and its service account; returns the key, which is not
/// stored and cannot be shown again.
pub async fn create(
    store: &dyn Store,
    name: &str,
    scopes: &[String],
    expires_in_days: Option<u32>,
) -> Result<String, ApiKeyError> {
    if !valid_name(name) {
        return Err(ApiKeyError::BadName);
    }
    if scopes.is_empty() {
        return Err(ApiKeyError::NoScope);
    }
    if let Some(bad) = scopes.iter().find(|s| Scope::parse(s).is_none()) {
        return Err(ApiKeyError::BadScope(bad.clone()));
    }
    if store.api_keys().await?.iter().any(|k| k.name == name) {
        return Err(ApiKeyError::Taken(name.into()));
    }
    let mut id = [0u8; 6];
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id);
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let login = account_login(name);
    let staff = match store.staff_by_login(&login).await? {
        Some(s) => s.id,
        None => StaffId::new_random(),
    };
    // No password: the account can act only through its key.
    let account = Staff {
        id: staff,
        login,
        name: format!("{name} (API key)"),
        role: Role::Admin,
        skills: vec![],
        active: true,
    };
    store.upsert_staff(&account, None).await?;
    let now = now_ms();
    let record = ApiKeyRecord {
        id: id.clone(),
        name: name.into(),
        secret_hash: secret_hash(&secret),
        scopes: scopes.to_vec(),
        staff,
        created_at: now,
        expires_at: expires_in_days.map(|d| now + i64::from(d) * 86_400_000),
        last_used_at: None,
        revoked_at: None,
    };
    if !store.create_api_key(&record).await? {
        return Err(ApiKeyError::Taken(name.into()));
    }
    Ok(format!("{PREFIX}{id}_{secret}"))
}

/// Checks `bearer` (the `Authorization: Bearer` value) for `scope` at
/// `now`, and counts the use (`kind`: read or write) or the refusal in
/// `uses`.
pub async fn authorize(
    store: &dyn Store,
    uses: &UseCounter,
    bearer: Option<&str>,
    scope: Scope,
    kind: &'static str,
    now: Millis,
) -> Result<Caller, Refusal> {
    let (id, secret) = bearer.and_then(split).ok_or(Refusal::Missing)?;
    let key = match store.api_key(id).await {
        Ok(Some(k)) => k,
        Ok(None) => return Err(Refusal::Unknown),
        Err(e) => {
            tracing::warn!(error = %e, "API key lookup failed");
            return Err(Refusal::Store);
        }
    };
    if !same(&key.secret_hash, &secret_hash(secret)) {
        return Err(Refusal::Unknown);
    }
    let verdict = if key.revoked_at.is_some() {
        Err(Refusal::Revoked)
    } else if key.expires_at.is_some_and(|e| e <= now) {
        Err(Refusal::Expired)
    } else if !key.scopes.iter().any(|s| s == scope.as_str()) {
        Err(Refusal::OutOfScope(scope.as_str()))
    } else {
        Ok(Caller {
            key_id: key.id.clone(),
            name: key.name.clone(),
            staff: key.staff,
        })
    };
    let counted = if verdict.is_ok() { kind } else { "refused" };
    uses.add(&key.id, now, counted);
    // Reads are written in bulk at most once a second; a write or a
    // refusal at once, with whatever reads are pending.
    if counted != "read" || uses.due(now) {
        if let Err(e) = uses.flush(store, now).await {
            // Refuse rather than act uncounted.
            tracing::warn!(error = %e, key = %key.name, "could not count an API key's use");
            return Err(Refusal::Store);
        }
    }
    verdict
}

/// What the hub keeps in memory about keys (`Hub::api_keys`).
#[derive(Default)]
pub struct KeyState {
    pub uses: UseCounter,
    /// Service accounts the writer is known to have loaded (see
    /// `fhir::submit`).
    pub known_accounts: std::sync::Mutex<std::collections::HashSet<StaffId>>,
}

/// Uses of keys not yet written: (key id, minute, kind) -> count, and when
/// they were last written. Counting every FHIR read with a durable write of
/// its own would put an fsync in front of every poll.
#[derive(Default)]
pub struct UseCounter(std::sync::Mutex<Pending>);

#[derive(Default)]
struct Pending {
    counts: std::collections::HashMap<(String, Millis, &'static str), (i64, Millis)>,
    flushed_at: Millis,
}

/// How often pending reads are written at most.
const FLUSH_EVERY_MS: Millis = 1_000;

impl UseCounter {
    fn add(&self, id: &str, now: Millis, kind: &'static str) {
        if let Ok(mut p) = self.0.lock() {
            let minute = now - now.rem_euclid(60_000);
            let e = p.counts.entry((id.to_owned(), minute, kind)).or_default();
            e.0 += 1;
            e.1 = e.1.max(now);
        }
    }

    fn due(&self, now: Millis) -> bool {
        self.0
            .lock()
            .map(|p| now - p.flushed_at >= FLUSH_EVERY_MS)
            .unwrap_or(true)
    }

    /// Writes what is pending; on failure puts it back for the next try.
    pub async fn flush(&self, store: &dyn Store, now: Millis) -> Result<(), StoreError> {
        let taken: Vec<_> = match self.0.lock() {
            Ok(mut p) => {
                p.flushed_at = now;
                p.counts.drain().collect()
            }
            Err(_) => return Ok(()),
        };
        for (i, ((id, minute, kind), (count, last))) in taken.iter().enumerate() {
            if let Err(e) = store
                .note_api_key_use(id, *minute, kind, *count, *last)
                .await
            {
                if let Ok(mut p) = self.0.lock() {
                    for ((id, minute, kind), (count, last)) in taken.into_iter().skip(i) {
                        let e = p.counts.entry((id, minute, kind)).or_default();
                        e.0 += count;
                        e.1 = e.1.max(last);
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

/// `wardpage apikey ...`.
#[derive(clap::Subcommand)]
pub enum ApiKeyCmd {
    /// Create a key and its service account; prints the key once.
    Create {
        /// 1 to 32 characters of a-z, 0-9 and -, e.g. epr.
        #[arg(long)]
        name: String,
        /// Comma-separated: fhir:read, observations:write.
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<String>,
        /// The key stops working this many days from now.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// Every key: name, scopes, created, expires, last used, revoked.
    List,
    /// Revoke a key by name: refused from its next request on.
    Revoke { name: String },
}

fn when(t: Option<Millis>) -> String {
    t.and_then(|t| jiff::Timestamp::from_millisecond(t).ok())
        .map(|t| t.strftime("%Y-%m-%dT%H:%MZ").to_string())
        .unwrap_or_else(|| "-".into())
}

pub async fn cli(store: &dyn Store, action: ApiKeyCmd) -> Result<(), ApiKeyError> {
    match action {
        ApiKeyCmd::Create {
            name,
            scopes,
            expires_in_days,
        } => {
            let key = create(store, &name, &scopes, expires_in_days).await?;
            println!("{key}");
            eprintln!("key {name} created; it is shown only this once: keep it safe");
        }
        ApiKeyCmd::List => {
            println!(
                "{:<20} {:<32} {:<18} {:<18} {:<18} revoked",
                "name", "scopes", "created", "expires", "last used"
            );
            for k in store.api_keys().await? {
                println!(
                    "{:<20} {:<32} {:<18} {:<18} {:<18} {}",
                    k.name,
                    k.scopes.join(","),
                    when(Some(k.created_at)),
                    when(k.expires_at),
                    when(k.last_used_at),
                    when(k.revoked_at)
                );
            }
        }
        ApiKeyCmd::Revoke { name } => {
            if !store.revoke_api_key(&name, now_ms()).await? {
                return Err(ApiKeyError::Unknown(name));
            }
            println!("revoked {name}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_id_and_secret() {
        assert_eq!(
            split("wpk_0123456789ab_c2VjcmV0"),
            Some(("0123456789ab", "c2VjcmV0"))
        );
        assert_eq!(split("wpk_short_x"), None);
        assert_eq!(split("a session token"), None);
        assert_eq!(split("wpk_0123456789ab_"), None);
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
        }
        assert_eq!(Scope::parse("fhir:write"), None);
    }
}
