//! Fresh PostgreSQL databases for tests: each test gets its own, dropped
//! afterwards, on the server `WARDPAGE_TEST_POSTGRES` names (CI sets it; a
//! run without it says loudly that it skipped).

use sqlx::Connection;

/// Runs `story` on a fresh PostgreSQL database, dropped afterwards; skips
/// loudly when no server is named.
pub async fn on_fresh_postgres<F, Fut>(test: &str, story: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let Ok(admin_url) = std::env::var("WARDPAGE_TEST_POSTGRES") else {
        eprintln!("SKIPPED {test}: set WARDPAGE_TEST_POSTGRES=postgres://user@host/db to run it");
        return Ok(());
    };
    on_fresh_postgres_at(&admin_url, story).await
}

/// [`on_fresh_postgres`] on the server `admin_url` names (a scenario given
/// `--pg URL`): a fresh database, dropped afterwards.
pub async fn on_fresh_postgres_at<F, Fut>(admin_url: &str, story: F) -> anyhow::Result<()>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let name = format!("wardpage_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let (base, _) = admin_url.rsplit_once('/').unwrap_or((admin_url, ""));
    let result = story(format!("{base}/{name}")).await;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    result
}
