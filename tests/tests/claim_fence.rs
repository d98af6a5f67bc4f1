//! The PostgreSQL claim is fenced: two real hubs (the `wardpage` binary) on
//! one database, the first losing its claim while it still serves. Nothing
//! the first acknowledges after the second claimed may be missing from the
//! second's view, and the first stops. Needs `WARDPAGE_TEST_POSTGRES` (a
//! run without it says loudly that it skipped).

use sqlx::Connection;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wardpage_proto::TaskId;
use wardpage_tests::hub::HubProcess;
use wardpage_tests::nodes::{open_tasks, raise_until_refused};
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::Client;

async fn start_hub(url: &str) -> anyhow::Result<HubProcess> {
    HubProcess::start(std::path::Path::new(url), "127.0.0.1:0".parse()?, &[]).await
}

/// Waits until the ended backends are gone: no advisory lock held on the
/// database (`what` = "advisory"), or no session on it but `admin`'s.
async fn until_only_us(admin: &mut sqlx::PgConnection, what: &str) -> anyhow::Result<()> {
    let sql = if what == "advisory" {
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    } else {
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()"
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left: i64 = sqlx::query_scalar(sql).fetch_one(&mut *admin).await?;
        if left == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{left} {what} holders left"
        );
        // The pace of looking: only the database can say they are gone.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The claim's connection is cut (a network fault on that one connection)
/// while the hub keeps committing over its others, and a second hub claims
/// the database at once. Unfenced, the first went on acknowledging raises
/// for a second or so that the second never saw, and the second's next
/// commit failed on a duplicate event id.
#[tokio::test]
async fn a_hub_whose_claim_is_cut_acknowledges_nothing_the_next_hub_misses() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_hub_whose_claim_is_cut_acknowledges_nothing_the_next_hub_misses",
        |url| async move {
            let mut a = start_hub(&url).await?;
            let nurse = Client::login_connect(&a.base(), "nurse.okafor").await?;
            let acked = Arc::new(watch::channel(Vec::new()).0);
            let mut progress = acked.subscribe();
            let raiser = raise_until_refused(nurse, acked.clone());
            let twenty = progress.wait_for(|a| a.len() >= 20);
            if tokio::time::timeout(Duration::from_secs(20), twenty)
                .await
                .is_err()
            {
                anyhow::bail!("hub A acknowledged only {} raises", acked.borrow().len());
            }
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            let cut: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_locks \
                 WHERE locktype = 'advisory' AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            )
            .fetch_all(&mut admin)
            .await?;
            assert_eq!(cut, [true], "exactly one hub claim to cut");
            until_only_us(&mut admin, "advisory").await?;
            // B claims the moment A's lock is gone, and loads the state.
            let b = start_hub(&url).await?;
            let status = a.exited_within(Duration::from_secs(30)).await?;
            assert!(
                !status.success(),
                "a hub that lost its claim stops with an error"
            );
            raiser.await?;
            let acked = acked.borrow().clone();
            let seen = open_tasks(&b.base()).await?;
            let missing: Vec<&TaskId> = acked.iter().filter(|t| !seen.contains(t)).collect();
            assert!(
                missing.is_empty(),
                "{} of the {} raises hub A acknowledged are missing from hub B",
                missing.len(),
                acked.len()
            );
            // And B commits on: nothing of A's is in its way.
            let mut nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
            raise_ok(&mut nurse, cannula_w7()).await?;
            b.terminate().await?;
            Ok(())
        },
    )
    .await
}

/// A hub frozen (SIGSTOP) while another takes over: the second can claim
/// only once the first's session is gone, so all of the first's
/// connections are ended while it is stopped. Woken (SIGCONT), the first
/// reconnects for its next commit, which the fence refuses, and it stops.
#[tokio::test]
async fn a_frozen_hub_that_wakes_after_a_takeover_commits_nothing() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_frozen_hub_that_wakes_after_a_takeover_commits_nothing",
        |url| async move {
            let mut a = start_hub(&url).await?;
            let mut nurse_a = Client::login_connect(&a.base(), "nurse.okafor").await?;
            let before = raise_ok(&mut nurse_a, cannula_w7()).await?;
            a.signal("STOP")?;
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            let ended: Vec<bool> = sqlx::query_scalar(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )
            .fetch_all(&mut admin)
            .await?;
            assert!(
                !ended.is_empty() && ended.iter().all(|e| *e),
                "hub A's connections ended: {ended:?}"
            );
            until_only_us(&mut admin, "session").await?;
            let b = start_hub(&url).await?;
            a.signal("CONT")?;
            // Until it stops, A refuses whatever it is asked to change.
            let mut refused = 0;
            loop {
                match nurse_a.command(cannula_w7()).await {
                    Ok(Ok(r)) => panic!(
                        "hub A acknowledged a raise after hub B claimed: {:?}",
                        task_of(&r).id
                    ),
                    Ok(Err(_)) => refused += 1,
                    Err(_) => break,
                }
            }
            let status = a.exited_within(Duration::from_secs(30)).await?;
            assert!(!status.success(), "a fenced hub stops with an error");
            let seen = open_tasks(&b.base()).await?;
            assert!(seen.contains(&before.id), "hub B has what A committed");
            let mut nurse_b = Client::login_connect(&b.base(), "nurse.okafor").await?;
            raise_ok(&mut nurse_b, cannula_w7()).await?;
            assert_eq!(
                open_tasks(&b.base()).await?.len(),
                2,
                "hub B holds A's one task and its own ({refused} raises refused by A)"
            );
            b.terminate().await?;
            Ok(())
        },
    )
    .await
}
