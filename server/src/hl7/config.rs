//! `[hl7]` in the hub's config: the inbound ADT feed from the patient
//! administration system. Off unless `listen` is set; TLS only when
//! `tls_cert` and `tls_key` are set.
//!
//! A cluster of several sites takes one feed per site, as each hospital's
//! PAS sends its own: `[hl7.sites.<name>]` gives that site's listener and
//! ward codes (and, if they differ, its account and TLS files; left out,
//! they are `[hl7]`'s). `[hl7] listen` stays the first site's feed, so a
//! deployment of one site keeps its config.

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
    /// A feed per site of a cluster (`[hl7.sites.<name>]`), by site name.
    pub sites: BTreeMap<String, Hl7SiteConfig>,
}

/// `[hl7.sites.<name>]`: one site's ADT feed on a cluster node.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Hl7SiteConfig {
    /// Where this site's MLLP listener listens (required).
    pub listen: Option<SocketAddr>,
    /// The login the feed acts as, in this site's accounts (default:
    /// `[hl7] account`).
    pub account: Option<String>,
    /// This site's PAS ward codes to its wardpage wards (default:
    /// `[hl7.wards]`).
    pub wards: BTreeMap<String, String>,
    /// TLS for this site's listener (default: `[hl7]`'s).
    pub tls_cert: Option<PathBuf>,
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

    /// The feed of `site` on a cluster node (`first`: the first listed
    /// site, which `[hl7] listen` feeds unless it has a table of its own).
    /// `None` as `listen`: the site has no feed.
    pub fn for_site(&self, site: &str, first: bool) -> Hl7Config {
        let top = Hl7Config {
            sites: BTreeMap::new(),
            ..self.clone()
        };
        match self.sites.get(site) {
            Some(s) => {
                let (tls_cert, tls_key) = match (&s.tls_cert, &s.tls_key) {
                    (None, None) => (top.tls_cert.clone(), top.tls_key.clone()),
                    (c, k) => (c.clone(), k.clone()),
                };
                Hl7Config {
                    listen: s.listen,
                    account: s.account.clone().unwrap_or_else(|| top.account.clone()),
                    wards: if s.wards.is_empty() {
                        top.wards.clone()
                    } else {
                        s.wards.clone()
                    },
                    tls_cert,
                    tls_key,
                    sites: BTreeMap::new(),
                }
            }
            None if first => top,
            None => Hl7Config {
                listen: None,
                ..top
            },
        }
    }

    /// Checks `[hl7.sites]` against the deployment's sites (`cluster`:
    /// whether this is a cluster node): every table names a site of
    /// `sites` (a typo would feed no one), has a listener of its own, and
    /// is complete once `[hl7]`'s defaults are filled in.
    pub fn validate_sites(&self, cluster: bool, sites: &[String]) -> Result<(), ConfigError> {
        if self.sites.is_empty() {
            return Ok(());
        }
        if !cluster {
            return Err(ConfigError::Invalid(
                "hl7.sites is for the sites of a cluster ([cluster] enabled and sites);                  a single hub's feed is [hl7] listen"
                    .into(),
            ));
        }
        let mut taken = Vec::new();
        for (name, table) in &self.sites {
            if !sites.contains(name) {
                return Err(ConfigError::Invalid(format!(
                    "hl7.sites.{name}: no such site in [cluster] sites {sites:?}"
                )));
            }
            if table.listen.is_none() {
                return Err(ConfigError::Invalid(format!(
                    "hl7.sites.{name}.listen: give the address of this site's feed"
                )));
            }
            if sites.first() == Some(name) && self.listen.is_some() {
                return Err(ConfigError::Invalid(format!(
                    "hl7.listen feeds the first site, {name}, which has hl7.sites.{name}                      as well: give its listener in one place"
                )));
            }
        }
        for (i, site) in sites.iter().enumerate() {
            let feed = self.for_site(site, i == 0);
            let Some(addr) = feed.listen else { continue };
            feed.validate().map_err(|e| match e {
                ConfigError::Invalid(why) => ConfigError::Invalid(format!("site {site}: {why}")),
                other => other,
            })?;
            if let Some((other, _)) = taken.iter().find(|(_, a)| *a == addr) {
                return Err(ConfigError::Invalid(format!(
                    "the HL7 feeds of sites {other} and {site} both listen on {addr}"
                )));
            }
            taken.push((site.clone(), addr));
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

#[cfg(test)]
mod site_tests {
    use crate::config::Config;

    const NODE: &str = "[cluster]\nenabled = true\nnode = \"a\"\nsites = [\"north\", \"south\"]\n";

    #[test]
    fn each_site_has_its_feed_and_the_plain_listener_stays_the_first_sites() {
        let c = Config::parse(&format!(
            "{NODE}[hl7]\nlisten = \"127.0.0.1:2575\"\naccount = \"pas.feed\"\n\
             [hl7.wards]\nWD7 = \"w7\"\n\
             [hl7.sites.south]\nlisten = \"127.0.0.1:2576\"\n[hl7.sites.south.wards]\nS7 = \"w7\"\n"
        ))
        .expect("parse");
        c.validate().expect("valid");
        let north = c.hl7.for_site("north", true);
        let south = c.hl7.for_site("south", false);
        assert_eq!(north.listen, Some(([127, 0, 0, 1], 2575).into()));
        assert_eq!(south.listen, Some(([127, 0, 0, 1], 2576).into()));
        assert_eq!(south.account, "pas.feed", "the account is [hl7]'s");
        assert!(south.wards.contains_key("S7") && !south.wards.contains_key("WD7"));
        // Without a table of its own, a later site has no feed.
        let plain = Config::parse(&format!(
            "{NODE}[hl7]\nlisten = \"127.0.0.1:2575\"\naccount = \"f\"\n[hl7.wards]\nWD7 = \"w7\"\n"
        ))
        .expect("parse");
        assert_eq!(plain.hl7.for_site("south", false).listen, None);
    }

    #[test]
    fn a_site_table_must_name_a_site_and_a_listener_of_its_own() {
        for (bad, why) in [
            ("[hl7.sites.sotuh]\nlisten = \"127.0.0.1:2576\"\naccount = \"f\"\n[hl7.sites.sotuh.wards]\nA = \"w7\"\n", "no such site"),
            ("[hl7.sites.south]\naccount = \"f\"\n[hl7.sites.south.wards]\nA = \"w7\"\n", "listen"),
            ("[hl7]\nlisten = \"127.0.0.1:2576\"\naccount = \"f\"\n[hl7.wards]\nA = \"w7\"\n[hl7.sites.south]\nlisten = \"127.0.0.1:2576\"\n", "both listen"),
            ("[hl7]\nlisten = \"127.0.0.1:2575\"\naccount = \"f\"\n[hl7.wards]\nA = \"w7\"\n[hl7.sites.north]\nlisten = \"127.0.0.1:2576\"\n", "in one place"),
            ("[hl7.sites.south]\nlisten = \"127.0.0.1:2576\"\n[hl7.sites.south.wards]\nA = \"w7\"\n", "hl7.account"),
        ] {
            let c = Config::parse(&format!("{NODE}{bad}")).expect("parse");
            let err = c.validate().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(why), "{bad}: {err}");
        }
        let single = Config::parse(
            "[hl7.sites.default]\nlisten = \"127.0.0.1:2576\"\naccount = \"f\"\n[hl7.sites.default.wards]\nA = \"w7\"\n",
        )
        .expect("parse");
        assert!(single.validate().is_err(), "hl7.sites on a single hub");
    }
}
