//! A roster change made outside the hub (`wardpage roster import`, `user
//! add`) is reloaded by the running hub; a shift started or ended through
//! the hub that is still committing when that reload reads the database
//! must survive it. Once lost, an SHO whose shift was ended was still
//! offered new tasks.

use sqlx::Connection;
use wardpage_proto::{Command, Role};
use wardpage_server::config::Config;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub};

#[tokio::test]
async fn a_shift_ended_while_the_roster_reloads_stays_ended() -> anyhow::Result<()> {
    on_fresh_postgres(
        "a_shift_ended_while_the_roster_reloads_stays_ended",
        |url| async move {
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
            // The hub checks for roster changes every 500 ms and says
            // nothing observable while its commit waits: give it three.
            tokio::time::sleep(std::time::Duration::from_millis(1_600)).await;
            sqlx::query("COMMIT").execute(&mut holder).await?;
            coord.reply(ended).await?.expect("shift ended");
            let task = raise_ok(&mut nurse, needs_role("w7", Role::Sho)).await?;
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
