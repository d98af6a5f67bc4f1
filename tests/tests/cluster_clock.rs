//! A cluster node whose machine clock is minutes off (`docs/cluster.md`,
//! "What happens on each fault"): leases are judged by the database's clock
//! alone, and every node keeps the database's time, so escalation deadlines
//! fire on time whichever node set them. Real `wardpage` processes, one of
//! them under Debian's `faketime` (the test says loudly when it skipped),
//! on a real PostgreSQL. Short leases (1.5 s), so the cluster suites' tests
//! run one at a time. Needs `WARDPAGE_TEST_POSTGRES`.

use anyhow::Context;
use std::time::{Duration, Instant};
use wardpage_proto::{Event, Role, TaskId};
use wardpage_tests::hub::HubProcess;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::roaming::Roaming;
use wardpage_tests::story::*;
use wardpage_tests::{eventually, Client};

/// One node's clock five minutes ahead (libfaketime): leases are judged
/// by the database's clock alone, so neither node takes over early from
/// the other (over three ttls each way), and takeover of a frozen owner
/// works both ways. Both nodes keep the database's time (the fast one
/// says in `/readyz` how far its machine is off), so an escalation raised
/// on the fast owner fires once, 3 s after the raise by its stamps and by
/// the test's watch, and a deadline set by either node fires on time on
/// the other after a takeover.
#[tokio::test]
async fn a_node_minutes_off_keeps_leases_on_the_database_clock() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    let Some(lib) = libfaketime() else {
        assert!(
            std::env::var("WARDPAGE_TEST_FAKETIME").is_err(),
            "WARDPAGE_TEST_FAKETIME is set but libfaketime is not installed"
        );
        eprintln!("SKIPPED a_node_minutes_off_keeps_leases_on_the_database_clock: no libfaketime (apt-get install faketime)");
        return Ok(());
    };
    on_fresh_postgres("a_node_minutes_off", |url| async move {
        let dir = tempfile::tempdir()?;
        let fast = [
            ("LD_PRELOAD", lib.as_str()),
            ("FAKETIME", "+5m"),
            // Only the wall clock is wrong, as on a machine with bad NTP.
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ];
        let spec_a = NodeSpec {
            url: &url,
            dir: dir.path(),
            name: "a",
            ttl_ms: TTL_MS,
            extra: REALERT_IN_3S,
        };
        let a = spec_a.start("127.0.0.1:0".parse()?, &fast).await?;
        until_owns(&a, "node a (five minutes fast) owns").await?;
        let b = start_node(&url, dir.path(), "b", TTL_MS, REALERT_IN_3S).await?;
        until_stands_by(&b, "a", "node b stands by").await?;
        let mut nurse = Client::login_connect(&a.base(), "nurse.lee").await?;
        // The fast node keeps the database's time, not its machine's...
        let skew = nurse.server_time - system_ms();
        assert!(
            skew.abs() < 1000,
            "node a's time is {skew} ms off the database's"
        );
        // Each node shows IT how far its machine's clock is from the
        // database's.
        let offset = |r: Option<(u16, serde_json::Value)>| {
            r.and_then(|(_, body)| body["clock_offset_ms"].as_i64())
        };
        let off_a = offset(readyz(&a).await?).context("a's offset")?;
        assert!(
            (290_000..310_000).contains(&off_a),
            "a says it is {off_a} ms off"
        );
        let off_b = eventually("b has measured its clock", || async {
            Ok(offset(readyz(&b).await?))
        })
        .await?;
        assert!(off_b.abs() < 1000, "b says it is {off_b} ms off");
        holds_for(&a, &b, "a", Duration::from_millis(3 * TTL_MS)).await?;

        let mut fy1 = Client::login_connect(&a.base(), "fy1.patel").await?;
        let task = raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
        let raised = Instant::now();
        let due = task.next_escalation_at.context("a countdown is running")?;
        assert_eq!(
            due - task.raised_at,
            3000,
            "due 3 s after the raise by the owner's clock"
        );
        let fired = escalated(&mut fy1, task.id).await?;
        let waited = raised.elapsed();
        let late = fired - due;
        assert!(
            (0..1000).contains(&late),
            "fired {late} ms after due by the owner's clock"
        );
        assert!(
            waited > Duration::from_millis(2900) && waited < Duration::from_millis(4000),
            "fired {waited:?} after the raise by the test's watch"
        );
        while let Some((_, e)) = fy1.next_event_within(Duration::from_millis(1500)).await? {
            if let Event::TaskEscalated { task: t, .. } = e {
                assert_ne!(t.id, task.id, "escalated twice");
            }
        }

        // A deadline the fast node set fires on time on the true clock's
        // node that takes the frozen fast node over...
        let bases = [a.base(), b.base()];
        let mut fy1 = Roaming::connect(&bases, "fy1.patel").await?;
        deadline_moves_on_time(&mut nurse, &mut fy1, &a, &b, "b").await?;
        a.signal("CONT")?;
        until_stands_by(&a, "b", "node a stands by").await?;
        holds_for(&b, &a, "b", Duration::from_millis(3 * TTL_MS)).await?;
        // ...and one the true node set fires on time (not at once) on the
        // fast node that takes the frozen true one over.
        let mut nurse = Client::login_connect(&b.base(), "nurse.lee").await?;
        deadline_moves_on_time(&mut nurse, &mut fy1, &b, &a, "a").await?;
        b.signal("CONT")?;
        until_stands_by(&b, "a", "node b stands by again").await?;
        let mut nurse = Client::login_connect(&a.base(), "nurse.lee").await?;
        raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?;
        a.terminate().await?;
        b.terminate().await?;
        Ok(())
    })
    .await
}

/// Raises a task on `owner` (its first escalation due in 3 s), freezes
/// `owner` at once, and checks that `next` (named `name`) takes over and
/// fires the escalation by the database's time: never before it is due,
/// and within 1 s of due or of the takeover if that came later. Before
/// nodes kept the database's time, a node five minutes slow fired it five
/// minutes late and a node five minutes fast at once.
async fn deadline_moves_on_time(
    nurse: &mut Client,
    fy1: &mut Roaming,
    owner: &HubProcess,
    next: &HubProcess,
    name: &str,
) -> anyhow::Result<()> {
    let task = raise_ok(nurse, needs_role("w8", Role::Fy1)).await?;
    owner.signal("STOP")?;
    let due = task.next_escalation_at.context("a countdown is running")?;
    until_owns(next, &format!("node {name} takes over the frozen owner")).await?;
    let took_over = system_ms();
    fy1.abandon("the frozen owner stopped answering")?;
    let fired = loop {
        match fy1.next_event_within(Duration::from_secs(20)).await? {
            Some(Event::TaskEscalated {
                task: t, level: 1, ..
            }) if t.id == task.id => break t.updated_at,
            Some(_) => {}
            None => anyhow::bail!("the escalation did not fire on node {name} within 20 s"),
        }
    };
    assert!(
        fired >= due && fired - due.max(took_over) < 1000,
        "node {name} fired {} ms after due (took over {} ms after due)",
        fired - due,
        took_over - due
    );
    Ok(())
}

/// Waits on `fy1` for the first escalation of `task`; its time by the hub.
async fn escalated(fy1: &mut Client, task: TaskId) -> anyhow::Result<i64> {
    loop {
        if let (
            _,
            Event::TaskEscalated {
                task: t, level: 1, ..
            },
        ) = fy1.next_event().await?
        {
            if t.id == task {
                return Ok(t.updated_at);
            }
        }
    }
}
