//! `wardpage serve --demo` on a demo database that already exists keeps it
//! as it is: a coordinator's changes to tonight's shifts survive a restart
//! of the demo hub (once, every restart moved every demo shift to "now").

use wardpage_proto::{Command, CommandResult, Role, WardId};
use wardpage_tests::{Client, HubProcess};

async fn shift_end_of(coord: &mut Client, login: &str) -> anyhow::Result<Option<i64>> {
    let CommandResult::Directory { staff, .. } = coord.ok(Command::Directory {}).await? else {
        anyhow::bail!("directory")
    };
    Ok(staff
        .iter()
        .find(|s| s.login == login)
        .and_then(|s| s.shift.as_ref())
        .map(|s| s.ends_at))
}

#[tokio::test]
async fn a_restarted_demo_keeps_the_shifts_the_coordinator_set() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("demo.db");
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let np = {
        let CommandResult::Directory { staff, .. } = coord.ok(Command::Directory {}).await? else {
            anyhow::bail!("directory")
        };
        staff
            .iter()
            .find(|s| s.login == "np.murphy")
            .map(|s| s.id)
            .expect("demo NP")
    };
    let ends_at = wardpage_server::clock::now_ms() + 3 * 3_600_000;
    coord
        .ok(Command::StartShift {
            staff: np,
            role: Role::NursePractitioner,
            wards: vec![WardId("w7".into())],
            ends_at,
        })
        .await?;
    coord.close().await;
    assert!(hub.terminate().await?.success());

    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    assert_eq!(
        shift_end_of(&mut coord, "np.murphy").await?,
        Some(ends_at),
        "the shift the coordinator set is kept"
    );
    coord.close().await;
    hub.terminate().await?;
    Ok(())
}
