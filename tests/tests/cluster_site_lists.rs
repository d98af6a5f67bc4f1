//! Nodes of one deployment started with different `[cluster] sites`: each
//! publishes its list in the database, and a node whose list differs
//! from another live node's says so on `/readyz` (`site_list_mismatch`,
//! naming both lists) and in `wardpage cluster status`, while it goes on
//! serving (a rolling change of the list passes through this). A node
//! that stops cleanly takes its list out. Real `wardpage` nodes on a fresh
//! PostgreSQL database; needs `WARDPAGE_TEST_POSTGRES`.

use std::path::Path;
use wardpage_tests::eventually;
use wardpage_tests::hub::{wardpage_cli, HubProcess};
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;

/// `node`'s `/readyz` body once `check` holds for it.
async fn until_body(
    node: &HubProcess,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<serde_json::Value> {
    eventually(what, || async {
        Ok(match readyz(node).await? {
            Some((_, body)) if check(&body) => Some(body),
            _ => None,
        })
    })
    .await
}

/// `wardpage cluster status` with `node`'s config.
fn status(url: &str, dir: &Path, node: &str) -> anyhow::Result<String> {
    let config = dir.join(format!("{node}.toml"));
    wardpage_cli(
        Path::new(url),
        &[
            "cluster",
            "status",
            "--config",
            config.to_str().unwrap_or_default(),
        ],
        "",
    )
}

/// Node a on north and south, b on north alone, c as a: a and b each
/// name the other's list, c's list is not named (it is a's), both keep
/// serving their sites, and `cluster status` prints the difference. Once
/// b stops cleanly, the mismatch is gone on a and in `cluster status`.
#[tokio::test]
async fn a_node_with_another_site_list_is_named_by_the_others() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("site_list_mismatch", |url| async move {
        let dir = tempfile::tempdir()?;
        let both = ["north", "south"];
        let (a, b, c) = tokio::try_join!(
            start_site_node(&url, dir.path(), "a", &both, None),
            start_site_node(&url, dir.path(), "b", &["north"], None),
            start_site_node(&url, dir.path(), "c", &both, None),
        )?;
        let expected_on_a = serde_json::json!({
            "this_node": ["north", "south"],
            "differing": [{"node": "b", "sites": ["north"]}],
        });
        let on_a = until_body(&a, "a names b's list", |b| {
            b["site_list_mismatch"] == expected_on_a
        })
        .await?;
        // Warned, not refused: a still answers for both its sites.
        assert_eq!(on_a["sites"].as_array().map(Vec::len), Some(2), "{on_a}");
        let on_b = until_body(&b, "b names a's and c's lists", |body| {
            body["site_list_mismatch"]["differing"].as_array().map(Vec::len) == Some(2)
        })
        .await?;
        assert_eq!(
            on_b["site_list_mismatch"],
            serde_json::json!({
                "this_node": ["north"],
                "differing": [
                    {"node": "a", "sites": ["north", "south"]},
                    {"node": "c", "sites": ["north", "south"]},
                ],
            }),
            "{on_b}"
        );
        // And the nodes keep serving: both sites are owned meanwhile.
        let nodes = [("a", &a), ("b", &b), ("c", &c)];
        eventually("both sites owned while the lists differ", || async {
            Ok((site_owners(&nodes).await?.len() == 2).then_some(()))
        })
        .await?;
        let printed = status(&url, dir.path(), "a")?;
        assert!(
            printed.contains("site lists:   DIFFER between live nodes: a [north, south]; b [north]; c [north, south]"),
            "{printed}"
        );
        assert!(printed.contains("node b:"), "{printed}");
        b.terminate().await?;
        until_body(&a, "a's mismatch is gone once b stopped", |body| {
            body.get("site_list_mismatch").is_none() && body["node"] == "a"
        })
        .await?;
        let printed = status(&url, dir.path(), "a")?;
        assert!(
            printed.contains("site lists:   the same on every live node"),
            "{printed}"
        );
        assert!(!printed.contains("node b:"), "{printed}");
        a.terminate().await?;
        c.terminate().await?;
        Ok(())
    })
    .await
}
