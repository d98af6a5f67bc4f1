//! Prometheus metrics, one registry per hub (no global state, so tests can
//! run several hubs in one process).

use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub op: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub connections_open: Gauge,
    pub connections_total: Counter,
    pub disconnects: Family<ReasonLabels, Counter>,
    pub commands: Family<CommandLabels, Counter>,
    pub tasks: Family<StateLabels, Gauge>,
    pub events_sent: Counter,
    pub commit_seconds: Histogram,
    pub batch_size: Histogram,
    /// Session checks (hellos, re-checks) answered by each store query.
    pub session_checks: Histogram,
    /// Session checks waiting for their answer now.
    pub session_checks_waiting: Gauge,
    pub escalations: Counter,
    pub escalation_lateness: Histogram,
    /// `[cluster]`: 1 while this node owns the database, 0 standing by.
    pub cluster_owner: Gauge,
    /// The claim epoch this node last raised (0: never claimed).
    pub cluster_epoch: Gauge,
    /// Times this node took ownership of the database.
    pub cluster_takeovers: Counter,
    /// What a node forwarded to the owner over NATS: `http` requests,
    /// `tunnel` openings and device `frame`s (commands among them).
    pub cluster_forwarded: Family<KindLabels, Counter>,
    /// Tunnels open on this node (at either end).
    pub cluster_tunnels_open: Gauge,
    /// Age of the owner's last heartbeat heard on the bus (-1: none yet).
    pub cluster_owner_beat_age_ms: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("wardpage");
        let m = Metrics {
            connections_open: Gauge::default(),
            connections_total: Counter::default(),
            disconnects: Family::default(),
            commands: Family::default(),
            tasks: Family::default(),
            events_sent: Counter::default(),
            commit_seconds: Histogram::new([
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0,
            ]),
            batch_size: Histogram::new([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]),
            session_checks: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            session_checks_waiting: Gauge::default(),
            escalations: Counter::default(),
            escalation_lateness: Histogram::new([
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0,
            ]),
            cluster_owner: Gauge::default(),
            cluster_epoch: Gauge::default(),
            cluster_takeovers: Counter::default(),
            cluster_forwarded: Family::default(),
            cluster_tunnels_open: Gauge::default(),
            cluster_owner_beat_age_ms: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "connections_open",
            "WebSocket connections open now",
            m.connections_open.clone(),
        );
        registry.register(
            "connections",
            "WebSocket connections accepted",
            m.connections_total.clone(),
        );
        registry.register(
            "disconnects",
            "Connections closed by the hub, by reason",
            m.disconnects.clone(),
        );
        registry.register(
            "commands",
            "Commands handled, by op and outcome",
            m.commands.clone(),
        );
        registry.register("tasks", "Tasks held in memory, by state", m.tasks.clone());
        registry.register(
            "events_sent",
            "Event frames queued to connections",
            m.events_sent.clone(),
        );
        registry.register(
            "commit_seconds",
            "Group commit latency",
            m.commit_seconds.clone(),
        );
        registry.register(
            "commit_batch_commands",
            "Commands per group commit",
            m.batch_size.clone(),
        );
        registry.register(
            "session_checks_per_query",
            "Session checks of hellos and open sockets answered by each store query",
            m.session_checks.clone(),
        );
        registry.register(
            "session_checks_waiting",
            "Session checks of hellos and open sockets waiting for their answer now",
            m.session_checks_waiting.clone(),
        );
        registry.register("escalations", "Escalations fired", m.escalations.clone());
        registry.register(
            "escalation_lateness_seconds",
            "How long after its due time each escalation fired",
            m.escalation_lateness.clone(),
        );
        registry.register(
            "cluster_owner",
            "1 while this node owns the database ([cluster]), else 0",
            m.cluster_owner.clone(),
        );
        registry.register(
            "cluster_epoch",
            "The claim epoch this node last raised",
            m.cluster_epoch.clone(),
        );
        registry.register(
            "cluster_takeovers",
            "Times this node took ownership of the database",
            m.cluster_takeovers.clone(),
        );
        registry.register(
            "cluster_forwarded",
            "Requests, tunnels and device frames forwarded to the owner over NATS, by kind",
            m.cluster_forwarded.clone(),
        );
        registry.register(
            "cluster_tunnels_open",
            "Device tunnels over NATS open on this node, at either end",
            m.cluster_tunnels_open.clone(),
        );
        registry.register(
            "cluster_owner_heartbeat_age_ms",
            "Age of the owner's last heartbeat heard over NATS (-1: none)",
            m.cluster_owner_beat_age_ms.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
