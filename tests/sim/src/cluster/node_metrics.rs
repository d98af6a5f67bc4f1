//! What the simulator reads from the nodes' Prometheus metrics: open
//! connections (for the devices' choice of a node), and at the end of a
//! run how the hellos were checked (session checks per store query, and
//! hellos refused as busy).

use std::net::SocketAddr;
use std::time::Duration;

/// The metrics text of the site at `prefix` on the node at `addr`.
async fn metrics(http: &reqwest::Client, addr: SocketAddr, prefix: &str) -> Option<String> {
    http.get(format!("http://{addr}{prefix}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
}

/// The value of the sample whose line starts with `name` (labels
/// included, then a space).
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
}

/// Connections open on the node at `addr` for the site at `prefix`.
pub(super) async fn node_open(
    http: &reqwest::Client,
    addr: SocketAddr,
    prefix: &str,
) -> Option<u64> {
    let text = metrics(http, addr, prefix).await?;
    sample(&text, "wardpage_connections_open").map(|v| v as u64)
}

/// Over every node and site, as each node counted since it last started:
/// hellos refused because the hub was busy, session checks, and the store
/// queries that answered them.
pub(super) async fn hello_figures(nodes: &[SocketAddr], prefixes: &[String]) -> Vec<(String, f64)> {
    let Ok(http) = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
    else {
        return Vec::new();
    };
    let (mut busy, mut checks, mut queries) = (0.0, 0.0, 0.0);
    for addr in nodes {
        for prefix in prefixes {
            let Some(text) = metrics(&http, *addr, prefix).await else {
                continue;
            };
            busy += sample(&text, r#"wardpage_disconnects_total{reason="busy"}"#).unwrap_or(0.0);
            checks += sample(&text, "wardpage_session_checks_per_query_sum").unwrap_or(0.0);
            queries += sample(&text, "wardpage_session_checks_per_query_count").unwrap_or(0.0);
        }
    }
    vec![
        (
            "hellos refused as busy (nodes' counts since their last start)".into(),
            busy,
        ),
        (
            "session checks (nodes' counts since their last start)".into(),
            checks,
        ),
        (
            "session check queries (nodes' counts since their last start)".into(),
            queries,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    fn a_sample_is_found_by_its_whole_name_and_labels() {
        let text = "wardpage_connections_open 12\n\
                    wardpage_disconnects_total{reason=\"busy\"} 3\n\
                    wardpage_session_checks_per_query_sum 40.0\n";
        assert_eq!(sample(text, "wardpage_connections_open"), Some(12.0));
        assert_eq!(
            sample(text, r#"wardpage_disconnects_total{reason="busy"}"#),
            Some(3.0)
        );
        assert_eq!(
            sample(text, "wardpage_session_checks_per_query_sum"),
            Some(40.0)
        );
        assert_eq!(sample(text, "wardpage_connections"), None);
    }
}
