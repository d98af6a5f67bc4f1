//! A roster change made outside the hub (`wardpage roster import`, `user
//! add`) is reloaded by the running hub; a shift started or ended through
//! the hub that is still committing when that reload reads the database
//! must survive it. Once lost, an SHO whose shift was ended was still
//! offered new tasks.
//!
//! Nothing a client can see tells that the hub has reloaded while a commit
//! waits (every reply waits for that commit), so the test watches for the
//! hub's own log line saying it did.

use sqlx::Connection;
use std::sync::OnceLock;
use tokio::sync::watch;
use tracing::field::{Field, Visit};
use wardpage_proto::{Command, Role};
use wardpage_server::config::Config;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

/// How many times the writer has logged a roster reload.
fn reloads() -> &'static watch::Sender<u32> {
    static RELOADS: OnceLock<watch::Sender<u32>> = OnceLock::new();
    RELOADS.get_or_init(|| watch::channel(0).0)
}

/// Counts the writer's "roster changed outside the hub; reloaded" lines
/// into [`reloads`] (and drops everything else).
struct ReloadLog;

impl tracing::Subscriber for ReloadLog {
    fn enabled(&self, meta: &tracing::Metadata<'_>) -> bool {
        meta.target().starts_with("wardpage_server::hub::writer")
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Reloaded(bool);
        impl Visit for Reloaded {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 |= format!("{value:?}").starts_with("roster changed outside the hub");
                }
            }
        }
        let mut seen = Reloaded(false);
        event.record(&mut seen);
        if seen.0 {
            reloads().send_modify(|n| *n += 1);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn a_shift_ended_while_the_roster_reloads_stays_ended() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_shift_ended_while_the_roster_reloads_stays_ended",
        |url| async move {
            tracing::subscriber::set_global_default(ReloadLog)?;
            let mut reloaded = reloads().subscribe();
            let hub = TestHub::start_with(|c: &mut Config| c.database = url.clone().into()).await?;
            let base = hub.base();
            let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
            let mut coord = Client::login_connect(&base, "coord.hale").await?;
            let sho = hub
                .store
                .staff_by_login("sho.khan")
                .await?
                .expect("demo SHO")
                .id;
            // Hold the SHO's shift row, so the hub's commit of the end of
            // that shift waits in flight...
            let mut holder = sqlx::PgConnection::connect(&url).await?;
            sqlx::query("BEGIN").execute(&mut holder).await?;
            sqlx::query("SELECT staff FROM shifts WHERE staff = $1 FOR UPDATE")
                .bind(sho.to_string())
                .fetch_all(&mut holder)
                .await?;
            let ended = coord.send(Command::EndShift { staff: sho }).await?;
            // ...while the roster changes outside the hub.
            let mut admin = sqlx::PgConnection::connect(&url).await?;
            sqlx::query("UPDATE meta SET value = value + 1 WHERE key = 'roster_version'")
                .execute(&mut admin)
                .await?;
            // The hub checks for roster changes every 500 ms; it has read
            // the roster once it logs the reload.
            tokio::time::timeout(std::time::Duration::from_secs(10), reloaded.changed())
                .await
                .map_err(|_| anyhow::anyhow!("the hub never reloaded the roster"))??;
            sqlx::query("COMMIT").execute(&mut holder).await?;
            coord.reply(ended).await?.expect("shift ended");
            let task = raise_ok(&mut nurse, needs_role("w7", Role::Sho)).await?;
            // Dr Khan is the demo's only SHO; the registrar still covers.
            assert!(!task.offers.is_empty(), "offered to someone");
            assert!(
                task.offers.iter().all(|o| o.staff.id != sho),
                "offered to an SHO whose shift was ended: {:?}",
                task.offers
            );
            hub.stop().await
        },
    )
    .await
}
