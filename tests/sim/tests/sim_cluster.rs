//! A short `cluster` run: two `wardpage` nodes on a fresh PostgreSQL
//! database, 50 handhelds (half of them in a second simulator process) that move to the next node on a 503 or a closed
//! socket, a trickle of raises and accepts, and the owner SIGKILLed twice
//! (restarted as a standby each time). It fails if an acknowledged raise
//! did not reach a candidate's device, if a stream had a gap or showed an
//! event twice, or if a device did not resume on the new owner after each
//! kill. No timings are asserted. Needs `WARDPAGE_TEST_POSTGRES` and the
//! built `wardpage` binary.

use wardpage_sim::cluster::{self, ClusterParams};
use wardpage_sim::SIM_PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_owner_twice_loses_nothing_and_every_device_resumes() -> anyhow::Result<()> {
    let Ok(pg) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!(
            "SKIPPED killing_the_owner_twice_loses_nothing: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it"
        );
        return Ok(());
    };
    let p = ClusterParams {
        nodes: 2,
        devices: 50,
        pairs: 5,
        kills: 2,
        every_secs: 2.0,
        lease_ttl_ms: 3000,
        raise_rate: 10.0,
        accept_every: 3,
        ramp_concurrency: 16,
        seed: 7,
        // Half the devices in a second simulator process, as a run of more
        // devices than one process may open files for spreads them.
        procs: 2,
        nats: None,
        shard_bin: Some(env!("CARGO_BIN_EXE_wardpage-sim").into()),
    };
    // A device that cannot fail over gives up after 90 s; the run then
    // fails on it rather than hanging.
    let report = tokio::time::timeout(
        std::time::Duration::from_secs(600),
        cluster::run(p, &pg, SIM_PASSWORD),
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
    for k in 1..=2 {
        assert_eq!(
            report.figures.get(&format!("kill {k}: devices resumed")),
            Some(&50.0),
            "every device resumed after kill {k}"
        );
    }
    Ok(())
}
