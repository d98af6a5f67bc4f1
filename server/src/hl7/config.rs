//! `[hl7]` in the hub's config: the inbound ADT feed from the patient
//! administration system. Off unless `listen` is set.

use crate::config::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;

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
        Ok(())
    }
}
