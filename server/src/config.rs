//! The hub's configuration: a TOML file, then `WARDPAGE_*` environment
//! variables over it, then command-line flags over both.

use crate::domain::{Target, Targets};
pub use crate::escalation_config::{EscalationConfig, LadderConfig, StepConfig, TaskPolicyConfig};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Accept-by and complete-by targets for one priority, in minutes.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriorityTarget {
    pub accept_within_mins: u32,
    pub complete_within_mins: u32,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriorityTargets {
    pub routine: PriorityTarget,
    pub soon: PriorityTarget,
    pub urgent: PriorityTarget,
    pub emergency: PriorityTarget,
}

impl Default for PriorityTargets {
    fn default() -> Self {
        let t = |a, c| PriorityTarget {
            accept_within_mins: a,
            complete_within_mins: c,
        };
        PriorityTargets {
            routine: t(240, 720),
            soon: t(60, 240),
            urgent: t(15, 60),
            emergency: t(2, 30),
        }
    }
}

impl PriorityTargets {
    pub fn to_targets(&self) -> Targets {
        let t = |p: &PriorityTarget| Target {
            accept_within: i64::from(p.accept_within_mins) * 60_000,
            complete_within: i64::from(p.complete_within_mins) * 60_000,
        };
        Targets {
            routine: t(&self.routine),
            soon: t(&self.soon),
            urgent: t(&self.urgent),
            emergency: t(&self.emergency),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP and WebSocket server listens on.
    pub listen: SocketAddr,
    /// The SQLite database file.
    pub database: PathBuf,
    /// Browser origins allowed to open the WebSocket, e.g.
    /// `https://wardpage.trust.nhs.uk`. The hub's own origin (same host) is
    /// always allowed; clients that send no Origin (native apps) are too.
    pub allowed_origins: Vec<String>,
    /// How long a login lasts.
    pub session_hours: u32,
    /// How long command ids are remembered for idempotent re-sends.
    pub command_retention_hours: u32,
    /// Events a device has acknowledged are kept this long for replay, then
    /// pruned; a device resuming from before that is told to resync.
    pub event_retention_hours: u32,
    pub priorities: PriorityTargets,
    /// PEM certificate chain and private key: with both, the hub serves
    /// HTTPS and WSS only. Without them it serves plain HTTP (for a
    /// TLS-terminating proxy in front, or a demo on one machine).
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Escalation policies; built-in defaults when absent.
    pub escalation: EscalationConfig,
    /// `Host` header values the hub answers to (DNS rebinding). Empty: any
    /// IP address, `localhost`, and the hosts of `allowed_origins`.
    pub allowed_hosts: Vec<String>,
    /// Addresses that may read `/metrics` without a token.
    pub metrics_allow_from: Vec<std::net::IpAddr>,
    /// A bearer token that also opens `/metrics` (from anywhere).
    pub metrics_token: Option<String>,
    /// Denial-of-service limits; see SECURITY.md.
    pub limits: Limits,
    /// The clinical response to NEWS2 scores; RCP defaults when absent.
    pub news2: crate::news2_config::News2Config,
    /// The HL7 v2 ADT feed from the patient administration system; off
    /// unless `hl7.listen` is set.
    pub hl7: crate::hl7::config::Hl7Config,
    /// `[cluster]`: several nodes on one PostgreSQL database, one serving
    /// and the others standing by (see docs/cluster.md); off by default.
    pub cluster: crate::cluster::ClusterConfig,
}

/// `[limits]`: every brake the hub puts on one source, one login or one
/// user, so that nobody can lock a doctor out or starve the hub.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Failed logins for one login name within the window before that
    /// login is slowed (for sources that have been failing).
    pub login_free_failures: u32,
    pub login_failure_window_secs: u32,
    /// Once slowed, a login may be tried once per this many seconds.
    pub login_pause_secs: u32,
    /// Login attempts per minute from a source with recent failures.
    pub login_attempts_per_source_per_min: u32,
    /// Password checks under way at once for one source.
    pub login_in_flight_per_source: u32,
    /// Password checks waiting or running at once overall (then 503).
    pub login_queue: u32,
    /// Threads that check passwords (argon2id, 19 MiB each).
    pub password_threads: u32,
    /// Time to send a request's headers (and idle time between requests).
    pub header_timeout_secs: u32,
    /// Time for a whole HTTP request, body included (not WebSockets).
    pub request_timeout_secs: u32,
    /// Open TCP connections overall (also capped by the open-file limit).
    pub max_connections: u32,
    /// Open TCP connections from one source address.
    pub max_connections_per_source: u32,
    /// Open WebSockets of one member of staff.
    pub max_sockets_per_user: u32,
    /// Commands per second one member of staff may send, over all sockets.
    pub commands_per_user_per_sec: u32,
    pub command_burst_per_user: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the real source.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            login_free_failures: 5,
            login_failure_window_secs: 15 * 60,
            login_pause_secs: 30,
            login_attempts_per_source_per_min: 30,
            login_in_flight_per_source: 4,
            login_queue: 32,
            password_threads: 2,
            header_timeout_secs: 10,
            request_timeout_secs: 10,
            max_connections: 16_384,
            max_connections_per_source: 512,
            max_sockets_per_user: 10,
            commands_per_user_per_sec: 100,
            command_burst_per_user: 400,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Limits {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("login_free_failures", self.login_free_failures),
            ("login_failure_window_secs", self.login_failure_window_secs),
            ("login_pause_secs", self.login_pause_secs),
            (
                "login_attempts_per_source_per_min",
                self.login_attempts_per_source_per_min,
            ),
            (
                "login_in_flight_per_source",
                self.login_in_flight_per_source,
            ),
            ("login_queue", self.login_queue),
            ("password_threads", self.password_threads),
            ("header_timeout_secs", self.header_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
            ("max_connections", self.max_connections),
            (
                "max_connections_per_source",
                self.max_connections_per_source,
            ),
            ("max_sockets_per_user", self.max_sockets_per_user),
            ("commands_per_user_per_sec", self.commands_per_user_per_sec),
            ("command_burst_per_user", self.command_burst_per_user),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid(format!(
                    "limits.{name} must be at least 1"
                )));
            }
        }
        if self.password_threads > 64 {
            return Err(ConfigError::Invalid(
                "limits.password_threads must be at most 64 (each needs 19 MiB)".into(),
            ));
        }
        if self.login_failure_window_secs < self.login_pause_secs {
            return Err(ConfigError::Invalid(
                "limits.login_failure_window_secs must be at least limits.login_pause_secs".into(),
            ));
        }
        if self.max_connections_per_source > self.max_connections {
            return Err(ConfigError::Invalid(
                "limits.max_connections_per_source must be at most limits.max_connections".into(),
            ));
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("wardpage.db"),
            allowed_origins: Vec::new(),
            session_hours: 16,
            command_retention_hours: 24,
            event_retention_hours: 72,
            priorities: PriorityTargets::default(),
            escalation: EscalationConfig::default(),
            tls_cert: None,
            tls_key: None,
            allowed_hosts: Vec::new(),
            metrics_allow_from: vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            metrics_token: None,
            limits: Limits::default(),
            news2: Default::default(),
            hl7: Default::default(),
            cluster: Default::default(),
        }
    }
}

/// The shortest command-id window the protocol promises (PROTOCOL.md §5):
/// a re-send within it is recognised, so a hub that forgets sooner would
/// apply a retried command twice.
pub const MIN_COMMAND_RETENTION_HOURS: u32 = 24;
/// A week: longer only grows the hub's memory of ids.
pub const MAX_COMMAND_RETENTION_HOURS: u32 = 24 * 7;

impl Config {
    /// Reads `path` (if given), then applies environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let mut cfg = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                Self::parse(&text).map_err(|source| ConfigError::Parse {
                    path: p.to_owned(),
                    source,
                })?
            }
            None => Config::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// `WARDPAGE_LISTEN`, `WARDPAGE_DATABASE`, `WARDPAGE_ALLOWED_ORIGINS`
    /// (comma-separated), `WARDPAGE_SESSION_HOURS`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("WARDPAGE_LISTEN") {
            self.listen = v
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("WARDPAGE_LISTEN={v}: {e}")))?;
        }
        if let Some(v) = var("WARDPAGE_DATABASE") {
            self.database = PathBuf::from(v);
        }
        if let Some(v) = var("WARDPAGE_ALLOWED_ORIGINS") {
            self.allowed_origins = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = var("WARDPAGE_TLS_CERT") {
            self.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = var("WARDPAGE_TLS_KEY") {
            self.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = var("WARDPAGE_HL7_TLS_CERT") {
            self.hl7.tls_cert = Some(PathBuf::from(v));
        }
        if let Some(v) = var("WARDPAGE_HL7_TLS_KEY") {
            self.hl7.tls_key = Some(PathBuf::from(v));
        }
        if let Some(v) = var("WARDPAGE_METRICS_TOKEN") {
            self.metrics_token = Some(v).filter(|t| !t.is_empty());
        }
        if let Some(v) = var("WARDPAGE_SESSION_HOURS") {
            self.session_hours = v
                .parse()
                .map_err(|e| ConfigError::Invalid(format!("WARDPAGE_SESSION_HOURS={v}: {e}")))?;
        }
        Ok(())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.command_retention_hours < MIN_COMMAND_RETENTION_HOURS
            || self.command_retention_hours > MAX_COMMAND_RETENTION_HOURS
        {
            return Err(ConfigError::Invalid(format!(
                "command_retention_hours must be between {MIN_COMMAND_RETENTION_HOURS} (the protocol promises clients that ids are remembered at least that long) and {MAX_COMMAND_RETENTION_HOURS}"
            )));
        }
        self.cluster.validate()?;
        if self.event_retention_hours < 12 {
            return Err(ConfigError::Invalid(
                "event_retention_hours must be at least 12 (a night shift)".into(),
            ));
        }
        if self.session_hours == 0 || self.session_hours > 24 * 7 {
            return Err(ConfigError::Invalid(
                "session_hours must be between 1 and 168".into(),
            ));
        }
        let p = &self.priorities;
        for (name, t) in [
            ("routine", p.routine),
            ("soon", p.soon),
            ("urgent", p.urgent),
            ("emergency", p.emergency),
        ] {
            if t.accept_within_mins == 0 || t.complete_within_mins < t.accept_within_mins {
                return Err(ConfigError::Invalid(format!(
                    "priorities.{name}: accept_within_mins must be at least 1 and no more than complete_within_mins"
                )));
            }
        }
        self.escalation.to_policies()?;
        self.news2.to_policy()?;
        self.hl7.validate()?;
        self.hl7
            .validate_sites(self.cluster.enabled, &self.cluster.sites)?;
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid(
                "tls_cert and tls_key go together: give both or neither".into(),
            ));
        }
        for o in &self.allowed_origins {
            if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                return Err(ConfigError::Invalid(format!(
                    "allowed_origins: `{o}` must look like https://host[:port] with no trailing slash"
                )));
            }
        }
        for h in &self.allowed_hosts {
            if h.is_empty() || h.contains('/') || h.chars().any(char::is_whitespace) {
                return Err(ConfigError::Invalid(format!(
                    "allowed_hosts: `{h}` must be a host name, optionally with :port"
                )));
            }
        }
        if self.metrics_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err(ConfigError::Invalid(
                "metrics_token must have at least 16 characters".into(),
            ));
        }
        self.limits.validate()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Policies;

    #[test]
    fn limits_are_validated() {
        let zero = Config::parse("[limits]\nlogin_queue = 0").expect("parse");
        let err = zero.validate().expect_err("refused").to_string();
        assert!(err.contains("limits.login_queue"), "{err}");
        assert!(
            Config::parse("[limits]\nlogin_qeue = 3").is_err(),
            "typos are refused"
        );
        let short = Config {
            metrics_token: Some("short".into()),
            ..Config::default()
        };
        assert!(short.validate().is_err());
        let proxied = Config::parse("[limits]\ntrusted_proxies = [\"10.0.0.1\"]").expect("parse");
        proxied.validate().expect("valid");
        let node = Config::parse("[cluster]\nenabled = true\nnode = \"a\"").expect("parse");
        node.validate().expect("valid");
        assert_eq!(node.cluster.lease_ttl_ms, 15_000);
        let unnamed = Config::parse("[cluster]\nenabled = true").expect("parse");
        assert!(unnamed.validate().is_err(), "a node needs a name");
        let short = Config::parse("[cluster]\nenabled = true\nnode = \"a\"\nlease_ttl_ms = 10");
        assert!(short.expect("parse").validate().is_err(), "a 10 ms lease");
    }

    #[test]
    fn example_config_parses_and_env_overrides_it() {
        let mut cfg = Config::parse(include_str!("../../wardpage.example.toml")).expect("parse");
        assert_eq!(cfg.priorities.emergency.accept_within_mins, 2);
        assert_eq!(
            cfg.escalation.to_policies().expect("valid"),
            Policies::default(),
            "the example file shows the built-in defaults"
        );
        assert_eq!(
            cfg.news2.to_policy().expect("valid"),
            crate::domain::response::ResponsePolicy::default(),
            "the example file shows the RCP defaults"
        );
        assert_eq!(
            (&cfg.limits, &cfg.metrics_allow_from),
            (&Limits::default(), &Config::default().metrics_allow_from),
            "the example file shows the default limits"
        );
        cfg.apply_env(|k| (k == "WARDPAGE_LISTEN").then(|| "127.0.0.1:9999".to_string()))
            .expect("env");
        assert_eq!(cfg.listen.port(), 9999);
        cfg.validate().expect("valid");
    }

    /// The example's commented `[cluster]` block, uncommented, is a
    /// valid node's config (with a name): what IT copies must load.
    #[test]
    fn the_example_cluster_block_is_valid() {
        let example = include_str!("../../wardpage.example.toml");
        let block: String = example
            .lines()
            .skip_while(|l| *l != "# [cluster]")
            .take_while(|l| l.starts_with('#'))
            .map(|l| format!("{}\n", l.trim_start_matches('#')))
            .collect();
        let cfg = Config::parse(&block).expect("parse");
        cfg.validate().expect("valid");
        assert!(cfg.cluster.enabled);
        assert_eq!(cfg.cluster.sites, ["default"]);
        assert!(cfg.cluster.nats_url.is_some());
    }

    #[test]
    fn bad_configs_are_refused_with_a_reason() {
        assert!(Config::parse("listen = 5").is_err());
        assert!(
            Config::parse("lisen = \"127.0.0.1:1\"").is_err(),
            "typos are refused"
        );
        let cfg = Config {
            allowed_origins: vec!["wardpage.example".into()],
            ..Config::default()
        };
        assert!(cfg
            .validate()
            .expect_err("refused")
            .to_string()
            .contains("allowed_origins"));
    }
}
