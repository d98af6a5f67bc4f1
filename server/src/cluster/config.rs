//! `[cluster]` in the config file: whether this hub is one node of
//! several on one PostgreSQL database, its name, the lease, NATS, and the
//! sites (hospitals) the deployment serves.

use crate::config::ConfigError;
use crate::store::postgres::{valid_site_name, DEFAULT_SITE};
use serde::Deserialize;
use std::time::Duration;

/// The most sites one deployment may have: each costs every node about
/// six database connections and a NATS subscription set.
const MAX_SITES: usize = 32;

/// `[cluster]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Run as one node of several on the same PostgreSQL database.
    pub enabled: bool,
    /// This node's name, unique in the cluster (shown by `/readyz` and
    /// `wardpage cluster status`).
    pub node: String,
    /// How long a lease lasts unless renewed (every third of it).
    pub lease_ttl_ms: u64,
    /// The NATS server that carries requests and device tunnels between
    /// nodes (`nats://host:4222`). Without it, a node that does not own
    /// answers 503 and a load balancer moves devices to the owner.
    pub nats_url: Option<String>,
    /// The sites (hospitals) of the deployment, each owned by one node at
    /// a time; the same list on every node. The first is also served at
    /// the hub's plain URLs, every one at `/site/<name>/...`. `default`
    /// is the database's `public` schema (a deployment of one site).
    pub sites: Vec<String>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            enabled: false,
            node: String::new(),
            lease_ttl_ms: 15_000,
            nats_url: None,
            sites: vec![DEFAULT_SITE.to_owned()],
        }
    }
}

impl ClusterConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_sites()?;
        if !self.enabled {
            if self.sites != [DEFAULT_SITE] {
                return Err(ConfigError::Invalid(
                    "cluster.sites needs [cluster] enabled = true on a PostgreSQL database \
                     (a single hub serves one site)"
                        .into(),
                ));
            }
            return Ok(());
        }
        if self.node.trim().is_empty() || self.node.len() > 64 {
            return Err(ConfigError::Invalid(
                "cluster.node must name this node (1 to 64 characters)".into(),
            ));
        }
        // Under 300 ms a renewal every ttl/3 is within a commit's reach of
        // the network's jitter; over 10 minutes a frozen owner holds the
        // hospital for too long.
        if !(300..=600_000).contains(&self.lease_ttl_ms) {
            return Err(ConfigError::Invalid(
                "cluster.lease_ttl_ms must be between 300 and 600000".into(),
            ));
        }
        if let Some(url) = &self.nats_url {
            if url.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "cluster.nats_url must name a NATS server (nats://host:4222)".into(),
                ));
            }
        }
        Ok(())
    }

    fn validate_sites(&self) -> Result<(), ConfigError> {
        if self.sites.is_empty() || self.sites.len() > MAX_SITES {
            return Err(ConfigError::Invalid(format!(
                "cluster.sites must name 1 to {MAX_SITES} sites"
            )));
        }
        for (i, site) in self.sites.iter().enumerate() {
            if !valid_site_name(site) {
                return Err(ConfigError::Invalid(format!(
                    "cluster.sites: {site:?} is not a site name (a lowercase letter, then \
                     lowercase letters, digits or _, at most 32)"
                )));
            }
            if self.sites[..i].contains(site) {
                return Err(ConfigError::Invalid(format!(
                    "cluster.sites names {site:?} twice"
                )));
            }
        }
        Ok(())
    }

    pub(super) fn ttl(&self) -> Duration {
        Duration::from_millis(self.lease_ttl_ms)
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn nats_url_is_optional_and_must_name_a_server() {
        let node = "[cluster]\nenabled = true\nnode = \"a\"\n";
        let plain = Config::parse(node).expect("parse");
        assert_eq!(plain.cluster.nats_url, None);
        let with =
            Config::parse(&format!("{node}nats_url = \"nats://127.0.0.1:4222\"")).expect("parse");
        with.validate().expect("valid");
        assert_eq!(
            with.cluster.nats_url.as_deref(),
            Some("nats://127.0.0.1:4222")
        );
        let empty = Config::parse(&format!("{node}nats_url = \" \"")).expect("parse");
        assert!(empty.validate().is_err(), "an empty nats_url");
    }

    #[test]
    fn one_default_site_unless_named_and_names_need_no_quoting() {
        let node = "[cluster]\nenabled = true\nnode = \"a\"\n";
        let plain = Config::parse(node).expect("parse");
        assert_eq!(plain.cluster.sites, ["default"]);
        let two = Config::parse(&format!("{node}sites = [\"north\", \"south\"]")).expect("parse");
        two.validate().expect("valid");
        assert_eq!(two.cluster.sites, ["north", "south"]);
        for bad in [
            "[]",
            "[\"North\"]",
            "[\"a-b\"]",
            "[\"a\", \"a\"]",
            "[\"x/y\"]",
        ] {
            let c = Config::parse(&format!("{node}sites = {bad}")).expect("parse");
            assert!(c.validate().is_err(), "sites = {bad}");
        }
        // Sites are for cluster nodes only: a single hub serves one.
        let single = Config::parse("[cluster]\nsites = [\"north\"]\n").expect("parse");
        assert!(
            single.validate().is_err(),
            "sites without [cluster] enabled"
        );
    }
}
