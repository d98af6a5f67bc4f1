//! `[hl7]` in the hub's config: the inbound ADT feed from the patient
//! administration system. Off unless `listen` is set; TLS only when
//! `tls_cert` and `tls_key` are set.

use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Hl7Config {
    /// Where the MLLP listener listens (e.g. `0.0.0.0:2575`); absent: off.
    pub listen: Option<SocketAddr>,
    /// The login the feed acts as: an active admin or coordinator account
    /// (`wardpage user add pas.feed --role admin`), so every change it makes
    /// is audited under its name.
    pub account: String,
    /// The PAS's ward codes (PV1-3.1) to wardpage ward ids, e.g.
    /// `WD7 = "w7"`. A message for a ward not listed is refused.
    pub wards: BTreeMap<String, String>,
    /// The feed's certificate chain (PEM). With `tls_key`, the listener
    /// accepts TLS only; the PAS's interface engine must trust it.
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) for `tls_cert`.
    pub tls_key: Option<PathBuf>,
}

impl Hl7Config {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.listen.is_some() && self.account.trim().is_empty() {
            return Err(ConfigError::Invalid(
                "hl7.account: name the login the ADT feed acts as (an admin or coordinator)".into(),
            ));
        }
        if self.listen.is_some() && self.wards.is_empty() {
            return Err(ConfigError::Invalid(
                "hl7.wards: map at least one PAS ward code to a wardpage ward".into(),
            ));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "hl7.tls_cert and hl7.tls_key go together: give both or neither".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_without_its_key_is_refused() {
        let mut c = Hl7Config {
            listen: Some(([127, 0, 0, 1], 2575).into()),
            account: "pas.feed".into(),
            wards: BTreeMap::from([("WD7".into(), "w7".into())]),
            ..Default::default()
        };
        assert!(c.validate().is_ok(), "plain MLLP");
        c.tls_cert = Some("cert.pem".into());
        let err = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("hl7.tls_cert and hl7.tls_key"), "{err}");
        c.tls_key = Some("key.pem".into());
        assert!(c.validate().is_ok(), "both given");
        c.tls_cert = None;
        assert!(c.validate().is_err(), "a key without its certificate");
    }
}
