//! A short `escalation` run against an in-process hub: 60 tasks raised
//! over a second by three nurses, accepted by nobody, each due to escalate
//! two seconds after it was raised. Every one must escalate exactly once,
//! none before its time, and the coordinator must see each.

use wardpage_sim::escalation::{self, EscalationParams};
use wardpage_sim::hubctl::HubChoice;
use wardpage_sim::SIM_PASSWORD;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unaccepted_task_escalates_once_and_not_early() -> anyhow::Result<()> {
    let p = EscalationParams {
        tasks: 60,
        after_secs: 2,
        spread_secs: 1,
        restart: false,
        pairs: 3,
    };
    let report = escalation::run(&HubChoice::InProcess, p, SIM_PASSWORD).await?;
    println!("{}", report.table());
    let inv = &report.invariants;
    assert!(inv.ok, "invariants broken: {:?}", inv.failures());
    assert_eq!(report.raises_acked, 60);
    assert_eq!(report.escalations, 60);
    assert_eq!((inv.escalations_missing, inv.escalations_twice), (0, 0));
    for name in [
        "escalation fired after due (hub clock)",
        "escalation seen by the coordinator after due",
    ] {
        assert_eq!(report.latencies[name].percentiles.count, 60, "{name}");
    }
    assert!(
        report.figures["escalation fired after due, min (ms)"] >= 0.0,
        "an escalation fired before its due time"
    );
    Ok(())
}
