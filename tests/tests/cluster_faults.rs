//! The cluster under faults (`docs/cluster.md`, "What happens on each
//! fault"): PostgreSQL restarted under the nodes, the owner cut off from
//! the database but not from its devices, a rolling restart of three
//! nodes under load, and several escalation deadlines across a takeover.
//! Real `wardpage` processes, a real PostgreSQL (a server of the test's
//! own where the test restarts it), devices that follow the owner from
//! their cursors. Short leases (1.5 s), so the suite's tests run one at a
//! time. Needs `WARDPAGE_TEST_POSTGRES` (each test says loudly when it
//! skipped). The node whose clock is minutes off is `cluster_clock.rs`.

use anyhow::Context;
use std::time::{Duration, Instant};
use wardpage_proto::{Event, Role};
use wardpage_tests::hub::HubProcess;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::pg_instance::{PgInstance, StopMode};
use wardpage_tests::relay::Relay;
use wardpage_tests::story::*;
use wardpage_tests::ward_load::{verify, Load};
use wardpage_tests::{eventually, Client};

/// PostgreSQL (a server of the test's own) killed and started again
/// under an owner and a standby while devices raise and accept: nothing
/// is acknowledged while it is down, afterwards exactly one node owns,
/// every acknowledged raise and accept is there, raises work again at
/// once (no command refused once a node serves again), and every device
/// resumed from its cursor with no gap and nothing twice.
#[tokio::test]
async fn a_restarted_database_leaves_one_owner_and_loses_nothing() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    let test = "a_restarted_database_leaves_one_owner_and_loses_nothing";
    let Some(pg) = PgInstance::start(test).await? else {
        return Ok(());
    };
    let url = pg.create_database("wardpage").await?;
    let dir = tempfile::tempdir()?;
    let a = start_node(&url, dir.path(), "a", TTL_MS, "").await?;
    until_owns(&a, "node a owns").await?;
    let b = start_node(&url, dir.path(), "b", TTL_MS, "").await?;
    until_stands_by(&b, "a", "node b stands by").await?;
    let cluster = bases(&[&a, &b]);
    let mut load = Load::start(&cluster, 2).await?;
    load.until_more_raised(20, Duration::from_secs(20)).await?;

    pg.stop(StopMode::Immediate).await?;
    let down = Instant::now();
    eventually("no node serves while the database is down", || async {
        Ok(serving_base(&cluster).await?.is_none().then_some(()))
    })
    .await?;
    // Part of the scenario: the database stays down past a lease.
    tokio::time::sleep(Duration::from_millis(2 * TTL_MS)).await;
    let up = Instant::now();
    pg.start_again().await?;

    let owner = one_owner(&[("a", &a), ("b", &b)]).await?;
    let serving = Instant::now();
    load.until_more_raised(20, Duration::from_secs(20)).await?;
    let (ledger, watcher, seen) = load.stop().await?;
    // An answer in flight as the server died may land just after; none
    // can come later, while nothing could commit.
    let grace = Duration::from_millis(200);
    let while_down: Vec<_> = ledger
        .raised
        .iter()
        .chain(&ledger.accepted)
        .filter(|a| a.at > down + grace && a.at < up)
        .collect();
    assert!(
        while_down.is_empty(),
        "acknowledged while the database was down: {while_down:?}"
    );
    let refused_after: Vec<_> = ledger
        .refused
        .iter()
        .filter(|(_, at)| *at > serving)
        .collect();
    assert!(
        refused_after
            .iter()
            .all(|(c, _)| *c != wardpage_proto::ErrorCode::Internal),
        "commands failed after a node served again: {refused_after:?}"
    );
    // A node that serves again commits on fresh connections: no device
    // is closed because a write could not be confirmed.
    let unconfirmed: Vec<_> = ledger
        .closes
        .iter()
        .filter(|(at, why)| *at > serving && why.contains("could not confirm a write"))
        .collect();
    assert!(unconfirmed.is_empty(), "after the restart: {unconfirmed:?}");
    let base = [&a, &b][owner].base();
    verify(&ledger, &watcher, &seen, &tasks_on(&base).await?)?;
    assert!(watcher.resumes >= 1, "the coordinator's device resumed");
    // Still exactly one owner, by the database's own account too.
    let status =
        wardpage_tests::hub::wardpage_cli(std::path::Path::new(&url), &["cluster", "status"], "")?;
    let name = ["a", "b"][owner];
    assert!(
        status.contains(&format!("owner:        {name}")),
        "{status}"
    );
    one_owner(&[("a", &a), ("b", &b)]).await?;
    a.terminate().await?;
    b.terminate().await?;
    Ok(())
}

/// The mechanism behind a clean takeover after a database restart: the
/// restart ended the store's idle commit connection, and a node checks it
/// when it claims (`PgStore::check_writer`), so its first commit goes
/// through instead of failing (which refused its batch as unconfirmed
/// and reloaded the hospital, logged as a failed commit on every takeover
/// after a restart).
#[tokio::test]
async fn after_a_database_restart_a_checked_store_commits_at_once() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    use wardpage_server::store::{postgres::PgStore, Batch, Store};
    let test = "after_a_database_restart_a_checked_store_commits_at_once";
    let Some(pg) = PgInstance::start(test).await? else {
        return Ok(());
    };
    let url = pg.create_database("wardpage").await?;
    let store = PgStore::open(&url).await?;
    store.commit(&Batch::default()).await?;
    pg.stop(StopMode::Immediate).await?;
    pg.start_again().await?;
    store.check_writer().await?;
    store
        .commit(&Batch::default())
        .await
        .context("the first commit after the restart")?;
    Ok(())
}

/// How the owner's database connections break.
#[derive(Debug, Clone, Copy)]
enum Break {
    /// Every connection ends and new ones are refused (a dead route).
    Cut,
    /// Every connection stays up and passes nothing (dropped packets).
    Stall,
    /// The connections open at the break stay up and pass nothing, for
    /// good; new ones work (a stateful firewall that lost its table).
    Blackhole,
}

/// The owner's database connections go through a relay that then breaks
/// (`how`), while its devices stay connected: it acknowledges nothing it
/// could not commit, stands down within 2/3 of the ttl (an idle device
/// closed with 1012 by then), the other node takes over, and once the
/// relay is restored the old owner stands by naming it. Nothing
/// acknowledged is lost.
async fn cut_off(url: String, how: Break) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let relay = Relay::start(url_addr(&url)?).await?;
    let a = start_node(&url_via(&url, relay.addr())?, dir.path(), "a", TTL_MS, "").await?;
    until_owns(&a, "node a owns").await?;
    let b = start_node(&url, dir.path(), "b", TTL_MS, "").await?;
    until_stands_by(&b, "a", "node b stands by").await?;
    let cluster = bases(&[&a, &b]);
    let mut idle = Client::login_connect(&a.base(), "np.murphy").await?;
    let mut load = Load::start(&cluster, 2).await?;
    load.until_more_raised(20, Duration::from_secs(20)).await?;

    match how {
        Break::Cut => relay.cut(),
        Break::Stall => relay.stall(),
        Break::Blackhole => relay.blackhole_open(),
    }
    let broke = Instant::now();
    let (code, reason) = idle.closed().await?;
    let closed_after = broke.elapsed();
    assert_eq!(code, 1012, "closed with {reason}");
    // 2/3 of the ttl from the last renewal, which was before the break;
    // the close itself is a few milliseconds more.
    let bound = Duration::from_millis(TTL_MS * 2 / 3 + 100);
    assert!(
        closed_after < bound,
        "{how:?}: the cut-off owner closed its devices {closed_after:?} after the break"
    );
    until_owns(&b, "node b takes over").await?;
    let standing = readyz(&a).await?.context("node a answers")?;
    assert_eq!(
        standing.0, 503,
        "the cut-off node does not serve: {standing:?}"
    );
    load.until_more_raised(20, Duration::from_secs(20)).await?;
    relay.restore();
    until_stands_by(&a, "b", "node a stands by once it reaches the database").await?;
    let (ledger, watcher, seen) = load.stop().await?;
    // Every device of a's, busy or not, was closed by then too.
    let slow: Vec<_> = ledger
        .closes
        .iter()
        .filter(|(at, _)| at.duration_since(broke) >= bound)
        .map(|(at, why)| (at.duration_since(broke), why))
        .collect();
    assert!(slow.is_empty(), "{how:?}: devices closed late: {slow:?}");
    let grace = Duration::from_millis(100);
    let late: Vec<_> = ledger
        .raised
        .iter()
        .chain(&ledger.accepted)
        .filter(|x| x.node == a.base() && x.at > broke + grace)
        .collect();
    assert!(
        late.is_empty(),
        "node a acknowledged after the break: {late:?}"
    );
    verify(&ledger, &watcher, &seen, &tasks_on(&b.base()).await?)?;
    a.terminate().await?;
    b.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn a_node_cut_off_from_the_database_stands_down_and_is_taken_over() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_node_cut_off_from_the_database", |url| {
        cut_off(url, Break::Cut)
    })
    .await
}

/// The old owner's connections hang for good while new ones work: it
/// must not wait on them for ever, but stand by for the next takeover.
#[tokio::test]
async fn a_node_whose_database_connections_hang_for_good_stands_by_again() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_node_whose_database_connections_hang", |url| {
        cut_off(url, Break::Blackhole)
    })
    .await
}

#[tokio::test]
async fn a_node_whose_database_stalls_stands_down_and_is_taken_over() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_node_whose_database_stalls", |url| {
        cut_off(url, Break::Stall)
    })
    .await
}

/// Three nodes under a steady load of raises and accepts, each stopped
/// cleanly and started again in turn (on its own address, waiting until
/// it stands by again): nothing acknowledged is lost, each task has one
/// holder, the one told so, and every device resumed with no gap and
/// nothing shown twice.
#[tokio::test]
async fn a_rolling_restart_of_three_nodes_under_load_loses_nothing() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_rolling_restart_of_three_nodes", |url| async move {
        let dir = tempfile::tempdir()?;
        let names = ["a", "b", "c"];
        let specs: Vec<NodeSpec> = names
            .iter()
            .map(|name| NodeSpec {
                url: &url,
                dir: dir.path(),
                name,
                ttl_ms: TTL_MS,
                extra: "",
            })
            .collect();
        let mut nodes = Vec::new();
        for s in &specs {
            nodes.push(Some(s.start("127.0.0.1:0".parse()?, &[]).await?));
            if nodes.len() == 1 {
                until_owns(nodes[0].as_ref().context("a")?, "node a owns").await?;
            }
        }
        let addrs: Vec<_> = nodes.iter().flatten().map(|n| n.addr).collect();
        let cluster: Vec<String> = nodes.iter().flatten().map(|n| n.base()).collect();
        let mut load = Load::start(&cluster, 3).await?;
        load.until_more_raised(20, Duration::from_secs(20)).await?;
        for i in 0..names.len() {
            let node = nodes[i].take().context("running")?;
            let status = node.terminate().await?;
            assert!(
                status.success(),
                "node {} stopped cleanly: {status}",
                names[i]
            );
            nodes[i] = Some(specs[i].start(addrs[i], &[]).await?);
            let running: Vec<(&str, &HubProcess)> =
                names.iter().copied().zip(nodes.iter().flatten()).collect();
            one_owner(&running).await?;
            load.until_more_raised(20, Duration::from_secs(20)).await?;
        }
        let (ledger, watcher, seen) = load.stop().await?;
        let running: Vec<(&str, &HubProcess)> =
            names.iter().copied().zip(nodes.iter().flatten()).collect();
        let owner = one_owner(&running).await?;
        verify(
            &ledger,
            &watcher,
            &seen,
            &tasks_on(&running[owner].1.base()).await?,
        )?;
        assert!(!ledger.accepted.is_empty(), "the doctors accepted tasks");
        assert!(
            ledger.resumes.iter().all(|r| *r >= 1),
            "every device followed the owner: {:?}",
            ledger.resumes
        );
        for n in nodes.into_iter().flatten() {
            n.terminate().await?;
        }
        Ok(())
    })
    .await
}

/// Three countdowns running when the owner freezes, due before, around
/// and after the standby has loaded the hospital: each fires exactly
/// once, on the new owner, no earlier than due and within a second of
/// due or of the new owner serving, whichever is later.
#[tokio::test]
async fn several_escalations_due_across_a_takeover_each_fire_once_on_time() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres(
        "several_escalations_due_across_a_takeover",
        |url| async move {
            let dir = tempfile::tempdir()?;
            let a = start_node(&url, dir.path(), "a", TTL_MS, REALERT_IN_3S).await?;
            until_owns(&a, "node a owns").await?;
            let b = start_node(&url, dir.path(), "b", TTL_MS, REALERT_IN_3S).await?;
            until_stands_by(&b, "a", "node b stands by").await?;
            let mut nurse = Client::login_connect(&a.base(), "nurse.lee").await?;
            let mut tasks = Vec::new();
            for _ in 0..3 {
                tasks.push(raise_ok(&mut nurse, needs_role("w8", Role::Fy1)).await?);
                // Part of the scenario: the countdowns are staggered.
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            // 2.1 s into the first countdown: the standby finds the lease
            // lapsed ~1.5 s on, so the first is due before it has loaded.
            a.signal("STOP")?;
            until_owns(&b, "node b takes over").await?;
            let serving = system_ms();
            let token = wardpage_tests::client::login(
                &b.base(),
                "fy1.patel",
                wardpage_tests::DEMO_PASSWORD,
            )
            .await?;
            let mut fy1 = Client::connect(&b.base(), &token, 0).await?;
            let mut fired = std::collections::BTreeMap::new();
            while fired.len() < tasks.len() {
                if let (
                    _,
                    Event::TaskEscalated {
                        task: t, level: 1, ..
                    },
                ) = fy1.next_event().await?
                {
                    assert!(
                        fired.insert(t.id, t.updated_at).is_none(),
                        "{:?} escalated twice",
                        t.id
                    );
                }
            }
            while let Some((_, e)) = fy1.next_event_within(Duration::from_millis(1500)).await? {
                if let Event::TaskEscalated { task: t, .. } = e {
                    assert!(!fired.contains_key(&t.id), "{:?} escalated twice", t.id);
                }
            }
            for t in &tasks {
                let due = t.next_escalation_at.context("a countdown")?;
                let at = *fired.get(&t.id).context("fired")?;
                assert!(at >= due, "fired {} ms before due", due - at);
                let bound = due.max(serving) + 1000;
                assert!(
                    at < bound,
                    "fired {} ms after due, {} ms after b served",
                    at - due,
                    at - serving
                );
            }
            a.signal("CONT")?;
            until_stands_by(&a, "b", "node a stands by once it wakes").await?;
            a.terminate().await?;
            b.terminate().await?;
            Ok(())
        },
    )
    .await
}
