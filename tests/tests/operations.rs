//! What hospital IT does with the binary: add accounts, import a roster
//! into a running hub, and watch it through /healthz and /metrics.

use anyhow::Context;
use std::process::Stdio;
use wardpage_proto::{Command as Cmd, CommandResult};
use wardpage_tests::client::login;
use wardpage_tests::hub::{wardpage_bin, wardpage_cli};
use wardpage_tests::story::*;
use wardpage_tests::{Client, HubProcess};

#[tokio::test]
async fn accounts_and_rosters_change_a_running_hub() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let base = hub.base();

    // A locum FY1 arrives: IT adds the account while the hub runs.
    let out = wardpage_cli(
        &db,
        &[
            "user",
            "add",
            "--login",
            "fy1.locum",
            "--name",
            "Dr Lee Locum",
            "--role",
            "fy1",
            "--skills",
            "cannulation,bloods",
        ],
        "locum-password-1\n",
    )?;
    assert!(out.starts_with("saved fy1.locum"), "{out}");
    let listed = wardpage_cli(&db, &["user", "list"], "")?;
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("fy1.locum") && l.contains("cannulation,bloods")),
        "{listed}"
    );
    // Too short a password is refused.
    assert!(wardpage_cli(&db, &["user", "passwd", "--login", "fy1.locum"], "short\n").is_err());

    // Tonight's roster puts the locum on Ward 12; the hub picks it up.
    let roster = dir.path().join("tonight.toml");
    std::fs::write(
        &roster,
        "[[staff]]\nlogin = \"fy1.locum\"\nname = \"Dr Lee Locum\"\nrole = \"fy1\"\nskills = [\"cannulation\", \"bloods\"]\nshift = { wards = [\"w12\"] }\n",
    )?;
    let out = wardpage_cli(
        &db,
        &["roster", "import", roster.to_str().unwrap_or_default()],
        "",
    )?;
    assert!(out.contains("1 staff, 1 shifts"), "{out}");

    // The hub notices within a tick or two: its welcome says so once it has.
    let token = login(&base, "fy1.locum", "locum-password-1").await?;
    let (at, token) = (&base, &token);
    let mut locum =
        wardpage_tests::eventually("the running hub has the locum's shift", || async move {
            let c = Client::connect(at, token, 0).await?;
            Ok(c.me.shift.is_some().then_some(c))
        })
        .await?;
    assert_eq!(locum.me.shift.as_ref().map(|s| s.wards.len()), Some(1));
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(
        &mut coord,
        raise(
            "w12",
            wardpage_proto::Requirement::Skill(wardpage_proto::Skill::Cannulation),
            wardpage_proto::Priority::Urgent,
        ),
    )
    .await?;
    assert!(
        task.offers.iter().any(|o| o.staff.name == "Dr Lee Locum"),
        "{:?}",
        task.offers
    );
    locum.ok(Cmd::Accept { task: task.id }).await?;
    let CommandResult::Directory { staff, .. } = coord.ok(Cmd::Directory {}).await? else {
        anyhow::bail!("directory")
    };
    assert!(staff.iter().any(|s| s.login == "fy1.locum"));
    hub.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn health_and_metrics_tell_it_how_the_hub_is() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let hub = HubProcess::start(&dir.path().join("hub.db"), "127.0.0.1:0".parse()?, &[]).await?;
    let base = hub.base();
    let http = reqwest::Client::new();
    let health = http.get(format!("{base}/healthz")).send().await?;
    assert_eq!(health.status().as_u16(), 200);
    // The web client is served, and a folder without its slash redirects.
    let app = http.get(format!("{base}/")).send().await?;
    assert_eq!(app.status().as_u16(), 200);
    assert!(app.headers().contains_key("content-security-policy"));
    let dash = http.get(format!("{base}/dashboard")).send().await?;
    assert_eq!(
        (dash.status().as_u16(), dash.url().path()),
        (200, "/dashboard/")
    );
    let missing = http.get(format!("{base}/no-such-page")).send().await?;
    assert_eq!(missing.status().as_u16(), 404);
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    raise_ok(&mut nurse, cannula_w7()).await?;
    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for needle in [
        "wardpage_connections_open 1",
        r#"wardpage_commands_total{op="raise_task",outcome="ok"} 1"#,
        r#"wardpage_tasks{state="offering"} 1"#,
        "wardpage_commit_seconds_bucket",
        "wardpage_escalation_lateness_seconds_count",
    ] {
        assert!(
            metrics.contains(needle),
            "/metrics lacks {needle}:\n{metrics}"
        );
    }
    hub.terminate().await?;
    Ok(())
}

#[tokio::test]
async fn the_audit_chain_verifies_across_restarts_and_names_an_edited_row() -> anyhow::Result<()> {
    use sqlx::Connection;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    // Counts audit rows: an offer to nobody connected waits, as before.
    let config = offers_wait_file(dir.path())?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    let raise_two = |base: String| async move {
        let mut coord = Client::login_connect(&base, "coord.hale").await?;
        for _ in 0..2 {
            raise_ok(
                &mut coord,
                raise(
                    "w7",
                    wardpage_proto::Requirement::Skill(wardpage_proto::Skill::Cannulation),
                    wardpage_proto::Priority::Routine,
                ),
            )
            .await?;
        }
        anyhow::Ok(())
    };
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    raise_two(hub.base()).await?;
    hub.terminate().await?;
    let first = wardpage_cli(&db, &["audit", "verify"], "")?;
    assert!(
        // Two raises and the login before them.
        first.starts_with("audit chain intact: 3 rows, 0 of them older"),
        "{first}"
    );

    // A restarted hub continues the chain from the newest stored row.
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    raise_two(hub.base()).await?;
    hub.terminate().await?;
    let second = wardpage_cli(&db, &["audit", "verify"], "")?;
    assert!(second.starts_with("audit chain intact: 6 rows"), "{second}");
    assert_ne!(first, second, "the newest hash moved on");

    // Someone with the database file edits a row, getting round the
    // append-only trigger.
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query("DROP TRIGGER audit_append_only_update")
        .execute(&mut conn)
        .await?;
    let edited = sqlx::query("UPDATE audit SET detail = 'offered to nobody' WHERE id = 3")
        .execute(&mut conn)
        .await?;
    assert_eq!(edited.rows_affected(), 1);
    conn.close().await?;
    let refused = wardpage_cli(&db, &["audit", "verify"], "")
        .expect_err("an edited trail must not verify")
        .to_string();
    assert!(refused.contains("audit chain broken at row 3"), "{refused}");
    Ok(())
}

#[tokio::test]
async fn a_backup_taken_while_the_hub_runs_is_a_whole_working_database() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    // Counts audit rows: an offer to nobody connected waits, as before.
    let config = offers_wait_file(dir.path())?;
    let env = [("WARDPAGE_CONFIG", config.to_str().unwrap_or_default())];
    let copy = dir.path().join("backup.db");
    let copy_arg = copy.to_str().unwrap_or_default();
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &env).await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let task = raise_ok(
        &mut coord,
        raise(
            "w7",
            wardpage_proto::Requirement::Skill(wardpage_proto::Skill::Cannulation),
            wardpage_proto::Priority::Urgent,
        ),
    )
    .await?;
    let out = wardpage_cli(&db, &["backup", copy_arg], "")?;
    assert!(
        // The raise and the login before it.
        out.contains("integrity ok, 2 audit rows, newest audit hash "),
        "{out}"
    );
    let head = out.rsplit(' ').next().unwrap_or_default().trim().to_owned();
    // The copy is one file, and a second backup never overwrites it.
    assert!(!dir.path().join("backup.db-wal").exists());
    let again = wardpage_cli(&db, &["backup", copy_arg], "")
        .expect_err("an existing file is not overwritten")
        .to_string();
    assert!(again.contains("already exists"), "{again}");
    let missing = wardpage_cli(&dir.path().join("nowhere.db"), &["backup", "other.db"], "")
        .expect_err("no database, no backup")
        .to_string();
    assert!(missing.contains("there is no database at"), "{missing}");
    assert!(
        !dir.path().join("nowhere.db").exists(),
        "nor is one created"
    );
    // The hub carried on meanwhile.
    coord
        .ok(Cmd::Cancel {
            task: task.id,
            reason: "test".into(),
        })
        .await?;
    hub.terminate().await?;

    // The copy's trail ends at the head the backup printed (checked before
    // a hub on the copy audits its own logins).
    let verified = wardpage_cli(&copy, &["audit", "verify"], "")?;
    assert!(
        verified.contains(&format!("newest hash {head}")),
        "{verified} / {head}"
    );
    // A hub started on the copy has the task as it was when copied.
    let restored = HubProcess::start(&copy, "127.0.0.1:0".parse()?, &[]).await?;
    let mut coord = Client::login_connect(&restored.base(), "coord.hale").await?;
    let CommandResult::Snapshot { tasks, .. } = coord.ok(Cmd::Snapshot { after: None }).await?
    else {
        anyhow::bail!("snapshot")
    };
    let t = tasks
        .iter()
        .find(|t| t.id == task.id)
        .context("the task is in the copy")?;
    assert_eq!(t.state, wardpage_proto::TaskState::Offering);
    restored.terminate().await?;
    let verified = wardpage_cli(&copy, &["audit", "verify"], "")?;
    assert!(verified.starts_with("audit chain intact"), "{verified}");
    Ok(())
}

#[tokio::test]
async fn a_second_hub_on_the_same_database_is_refused_and_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let hub = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let second = tokio::process::Command::new(wardpage_bin()?)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(30), second)
        .await
        .context("the second hub should stop at once")??;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another wardpage hub is already serving this database"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("listening"),
        "it never served"
    );
    assert!(
        !stderr.contains("demo hospital"),
        "nor loaded the demo roster: {stderr}"
    );
    // The first hub is unharmed, and once it stops the database is free.
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    coord.ok(Cmd::Snapshot { after: None }).await?;
    hub.terminate().await?;
    let next = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    next.kill9().await?;
    // Nor does a SIGKILLed hub leave its claim behind.
    let after_kill = HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    after_kill.terminate().await?;
    Ok(())
}
