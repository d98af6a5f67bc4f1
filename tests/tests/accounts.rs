//! Accounts and sessions from the command line against a running hub:
//! `wardpage user passwd`, `revoke`, `disable` and `enable` end sessions
//! and close their sockets; and the hub raises its open-file limit.

use anyhow::Context;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;
use wardpage_tests::hub::wardpage_cli;
use wardpage_tests::{Client, DEMO_PASSWORD};

#[tokio::test]
async fn passwd_disable_and_revoke_end_sessions_and_close_their_sockets() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    let hub = wardpage_tests::HubProcess::start(&db, "127.0.0.1:0".parse()?, &[]).await?;
    let base = hub.base();

    // A new password: the old token's socket closes, the token and the old
    // password stop working, the new password works.
    let mut phone = Client::login_connect(&base, "fy1.patel").await?;
    let out = wardpage_cli(
        &db,
        &["user", "passwd", "--login", "fy1.patel"],
        "a-new-password\n",
    )?;
    assert!(out.contains("1 sessions ended"), "{out}");
    let (code, reason) = phone.closed().await?;
    assert_eq!((code, reason.as_str()), (1008, "session revoked"));
    let err = Client::connect(&base, &phone.token, 0)
        .await
        .err()
        .expect("revoked");
    assert!(err.to_string().contains("unauthorized"), "{err}");
    assert!(
        wardpage_tests::client::login(&base, "fy1.patel", DEMO_PASSWORD)
            .await
            .is_err()
    );
    let token = wardpage_tests::client::login(&base, "fy1.patel", "a-new-password").await?;

    // Revoke (a lost phone): sessions end, the password stays.
    let mut lost = Client::connect(&base, &token, 0).await?;
    wardpage_cli(&db, &["user", "revoke", "--login", "fy1.patel"], "")?;
    assert_eq!(lost.closed().await?.1, "session revoked");
    let token = wardpage_tests::client::login(&base, "fy1.patel", "a-new-password").await?;

    // Disable: sockets close and no login works until enabled again.
    let mut leaver = Client::connect(&base, &token, 0).await?;
    wardpage_cli(&db, &["user", "disable", "--login", "fy1.patel"], "")?;
    assert_eq!(leaver.closed().await?.1, "session revoked");
    assert!(
        wardpage_tests::client::login(&base, "fy1.patel", "a-new-password")
            .await
            .is_err()
    );
    wardpage_cli(&db, &["user", "enable", "--login", "fy1.patel"], "")?;
    wardpage_tests::client::login(&base, "fy1.patel", "a-new-password").await?;
    // Nobody else was touched.
    Client::login_connect(&base, "sho.khan").await?;
    assert!(wardpage_cli(&db, &["user", "revoke", "--login", "nobody"], "").is_err());

    hub.terminate().await?;
    let verified = wardpage_cli(&db, &["audit", "verify"], "")?;
    assert!(verified.starts_with("audit chain intact"), "{verified}");
    Ok(())
}

#[tokio::test]
async fn the_hub_raises_its_open_file_limit() -> anyhow::Result<()> {
    let (_, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    if hard <= 1024 {
        println!("skipped: the hard open-file limit is {hard}, nothing to raise to");
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("hub.db");
    // A service manager's common default: soft 1,024 under a higher hard limit.
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -Sn 1024 && exec "$0" serve --demo --listen 127.0.0.1:0 --db "$1""#)
        .arg(wardpage_tests::hub::wardpage_bin()?)
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .context("hub did not start")??
        .context("hub exited")?;
    assert!(line.starts_with("wardpage listening on"), "{line}");
    let pid = child.id().context("no pid")?;
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits"))?;
    let row = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no open-files row")?;
    let soft: u64 = row.split_whitespace().nth(3).context("soft")?.parse()?;
    assert_eq!(soft, hard, "{row}");
    child.start_kill()?;
    child.wait().await?;
    Ok(())
}
