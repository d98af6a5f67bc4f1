//! A short `cluster` run: two `wardpage` nodes on a fresh PostgreSQL
//! database, 50 handhelds (half of them in a second simulator process) that move to the next node on a 503 or a closed
//! socket, a trickle of raises and accepts, and the owner SIGKILLed twice
//! (restarted as a standby each time). It fails if an acknowledged raise
//! did not reach a candidate's device, if a stream had a gap or showed an
//! event twice, or if a device did not resume on the new owner after each
//! kill. No timings are asserted. Needs `WARDPAGE_TEST_POSTGRES` and the
//! built `wardpage` binary; the second test also `nats-server` (three
//! nodes that all serve devices, the owner and then another node killed).

use wardpage_sim::cluster::{self, ClusterParams, KillTarget};
use wardpage_sim::report::RunReport;
use wardpage_sim::SIM_PASSWORD;
use wardpage_tests::nats::NatsServer;

/// Runs the scenario (a device that cannot fail over gives up after 90 s;
/// the run then fails on it rather than hanging) and checks the ledger.
async fn run_and_check(p: ClusterParams, pg: &str) -> anyhow::Result<RunReport> {
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(600),
        cluster::run(p, pg, SIM_PASSWORD),
    )
    .await??;
    println!("{}", report.table());
    let inv = &report.invariants;
    assert!(
        inv.ok,
        "invariants broken: {:?}\n{:#?}",
        inv.failures(),
        inv.examples
    );
    assert!(inv.acknowledged_raises > 0, "the trickle raised nothing");
    assert!(inv.deliveries_expected > 0);
    assert_eq!(inv.deliveries_missing, 0);
    assert_eq!((inv.gaps, inv.shown_twice), (0, 0));
    assert_eq!(inv.devices_not_resumed, 0);
    Ok(report)
}

/// A short run: `devices` handhelds over `nodes` nodes and `sites` sites,
/// half of them in a second simulator process (as a run of more devices
/// than one process may open files for spreads them), two kills 2 s
/// apart, a trickle of 10 raises/s with one accept in three.
fn short_run(nodes: usize, sites: usize, devices: usize, pairs: usize) -> ClusterParams {
    ClusterParams {
        nodes,
        sites,
        devices,
        pairs,
        kills: 2,
        kill: KillTarget::Owner,
        every_secs: 2.0,
        lease_ttl_ms: 3000,
        raise_rate: 10.0,
        accept_every: 3,
        ramp_concurrency: 16,
        seed: 7,
        procs: 2,
        nats: None,
        shard_bin: Some(env!("CARGO_BIN_EXE_wardpage-sim").into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_twice_loses_nothing_and_every_device_resumes() -> anyhow::Result<()> {
    let Ok(pg) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!(
            "SKIPPED killing_the_owner_twice_loses_nothing: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it"
        );
        return Ok(());
    };
    let p = short_run(2, 1, 50, 5);
    let report = run_and_check(p, &pg).await?;
    for k in 1..=2 {
        assert_eq!(
            report.figures.get(&format!("kill {k}: devices resumed")),
            Some(&50.0),
            "every device resumed after kill {k}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_then_another_node_resumes_the_killed_nodes_devices() -> anyhow::Result<()>
{
    let Ok(pg) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!(
            "SKIPPED killing_the_owner_then_another_node: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it"
        );
        return Ok(());
    };
    // A bus of this test's own: nodes on a shared one would hear another
    // cluster's owner.
    let nats = NatsServer::start().await?;
    let p = ClusterParams {
        kill: KillTarget::Alternate,
        seed: 11,
        nats: Some(nats.url()),
        ..short_run(3, 1, 60, 5)
    };
    let report = run_and_check(p, &pg).await?;
    let fig = |name: &str| report.figures.get(name).copied();
    // The owner's death closes every tunnel to it: all 60 devices resume,
    // those on the owner and those on the other nodes.
    assert_eq!(fig("kill 1: owner killed"), Some(1.0));
    assert_eq!(fig("kill 1: devices resumed"), Some(60.0));
    let on_owner = fig("kill 1: devices on the killed node").unwrap_or(0.0);
    assert!(
        on_owner > 0.0 && on_owner < 60.0,
        "devices spread over the nodes: {on_owner} on the owner"
    );
    assert_eq!(fig("kill 1: killed node's devices resumed"), Some(on_owner));
    // A node that does not own: its own devices move, and they are all
    // counted as its (the run fails on any of them missing).
    assert_eq!(fig("kill 2: owner killed"), Some(0.0));
    assert_eq!(fig("kill 2: takeover (s)"), None);
    let on_other = fig("kill 2: devices on the killed node").unwrap_or(0.0);
    assert!(on_other > 0.0, "the killed node served devices");
    assert_eq!(fig("kill 2: killed node's devices resumed"), Some(on_other));
    assert!(fig("kill 2: killed node's devices resume max (s)").is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_sites_killing_an_owner_resumes_its_sites_devices_only() -> anyhow::Result<()> {
    let Ok(pg) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!(
            "SKIPPED of_two_sites_killing_an_owner: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it"
        );
        return Ok(());
    };
    let nats = NatsServer::start().await?;
    let p = ClusterParams {
        kill: KillTarget::Alternate,
        seed: 13,
        nats: Some(nats.url()),
        ..short_run(3, 2, 60, 4)
    };
    let report = run_and_check(p, &pg).await?;
    let fig = |name: &str| report.figures.get(name).copied().unwrap_or(-1.0);
    // Kill 1 takes a site's owner: the killed node's devices (of both
    // sites) resume elsewhere, and so do its site's devices on the other
    // nodes (their tunnels to it closed); exactly those, none more.
    assert_eq!(fig("kill 1: owner killed"), 1.0);
    let on_killed = fig("kill 1: devices on the killed node");
    assert!(on_killed > 0.0, "the owner served devices");
    assert_eq!(fig("kill 1: killed node's devices resumed"), on_killed);
    let others = fig("kill 1: devices on other nodes to resume");
    assert!(others > 0.0, "its site's devices on other nodes");
    assert_eq!(fig("kill 1: other nodes' devices resumed"), others);
    if fig("kill 1: sites the killed node owned") == 1.0 {
        // The other site's devices on the surviving nodes kept their sockets.
        assert!(
            on_killed + others < 60.0,
            "only the killed site's devices moved: {on_killed} + {others}"
        );
    }
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("first owner of s2")),
        "{:?}",
        report.notes
    );
    Ok(())
}
