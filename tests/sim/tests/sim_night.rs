//! A short simulated night (20 s for 12 hours, a 300-bed site with a
//! patient in every bed, 12 handhelds with not-spots and sleeping phones)
//! against an in-process hub. It fails if any acknowledged raise did not
//! reach a candidate, if a task is missing from the coordinator's snapshot,
//! if any stream had a gap, or if a NEWS2 set that called for a review did
//! not land on the patient's one open review.

use wardpage_sim::hubctl::{HubChoice, SimHub};
use wardpage_sim::night;
use wardpage_sim::plan::{NightParams, NightPlan};
use wardpage_sim::SIM_PASSWORD;

fn short_night(seed: u64) -> NightPlan {
    let mut p = NightParams::new(seed);
    p.beds = 300;
    p.handhelds = 12;
    p.night_secs = 20.0;
    // A busier night than the published 125 per 1,000 beds, so a short CI
    // run still raises a few dozen tasks.
    p.tasks_per_1000_beds = 200.0;
    p.notspots_per_hour = 3.0;
    // One patient in ten deteriorates, so the night has a few dozen
    // triggering sets in both bands.
    p.deteriorate_share = 0.1;
    NightPlan::new(p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_night_loses_nothing() -> anyhow::Result<()> {
    let plan = short_night(42);
    assert_eq!(
        plan.fingerprint(),
        short_night(42).fingerprint(),
        "the same seed gives the same night"
    );
    assert!(
        plan.raises.len() >= 30,
        "{} raises planned",
        plan.raises.len()
    );
    assert!(!plan.outages.is_empty());
    assert_eq!(plan.patients.len(), 300, "a patient in every bed");
    assert!(plan.sets.iter().any(|s| s.total >= 7));
    let planned_sets = plan.sets.len() as f64;
    let mut hub = SimHub::start(&HubChoice::InProcess, &plan.hospital, SIM_PASSWORD, None).await?;
    let planned = plan.raises.len() as u64;
    let report = night::run(&mut hub, plan, SIM_PASSWORD, false).await?;
    hub.stop().await?;
    println!("{}", report.table());
    let inv = &report.invariants;
    assert!(
        inv.ok,
        "invariants broken: {:?}\n{:#?}",
        inv.failures(),
        inv.examples
    );
    assert_eq!(inv.deliveries_missing, 0);
    assert_eq!(inv.gaps, 0);
    assert_eq!(inv.shown_twice, 0);
    assert_eq!(inv.tasks_missing_after_restart, 0);
    // Every planned raise was acknowledged (the hub was up all night) and
    // the check had real work to do (a few tasks have no candidate and go
    // straight to the coordinator).
    assert_eq!(report.raises_acked, planned);
    assert!(
        inv.deliveries_expected * 2 >= planned,
        "{} deliveries checked",
        inv.deliveries_expected
    );
    assert!(report.reconnects > 0, "the night had outages");
    // Every set was answered and scored as planned, and the episode check
    // had triggering sets in both bands to look at.
    assert_eq!(report.figures["NEWS2 sets recorded"], planned_sets);
    assert_eq!(report.figures["NEWS2 sets scored off plan"], 0.0);
    assert_eq!(inv.review_episodes_broken, 0);
    assert!(
        inv.triggering_sets >= 20,
        "{} triggering sets",
        inv.triggering_sets
    );
    assert!(report.figures["NEWS2 sets at 7+"] > 0.0);
    assert!(report.figures["reviews accepted"] > 0.0);
    for band in ["5+", "7+"] {
        let name = format!("NEWS2 {band} set -> review accepted");
        assert!(
            report
                .latencies
                .get(&name)
                .is_some_and(|l| l.percentiles.count > 0),
            "{name} was measured"
        );
    }
    Ok(())
}
