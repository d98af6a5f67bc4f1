//! Hellos in a crowd (issue 18, "a reconnect storm that feeds itself"):
//! after a node dies every device of its sites says hello to the next
//! owner at once. Their session checks are answered many to a query, and
//! a hello whose check the store cannot answer in time is told to try
//! again later (close 1013) instead of waiting on, or failing as an
//! internal error that the device retries at once.
//!
//! PostgreSQL, where a table lock held from outside the hub stands in
//! for a store that is too busy to answer.

use futures_util::{SinkExt, StreamExt};
use sqlx::{Connection, Executor};
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{ClientFrame, ErrorCode, ServerFrame, PROTOCOL_VERSION};
use wardpage_server::config::Config;
use wardpage_tests::client::{login, open_socket, Ws};
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::{Client, TestHub, DEMO_PASSWORD};

/// How long these tests wait for what must come, well past the hub's 3 s.
const PATIENCE: Duration = Duration::from_secs(20);

async fn hub_on(url: &str) -> anyhow::Result<TestHub> {
    TestHub::start_with(|c: &mut Config| c.database = url.to_owned().into()).await
}

async fn send_hello(ws: &mut Ws, token: &str) -> anyhow::Result<()> {
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token: token.to_owned(),
        cursor: 0,
        fresh: None,
    };
    ws.send(Message::Text(serde_json::to_string(&hello)?.into()))
        .await?;
    Ok(())
}

/// The frames the hub sends before it closes, and its close code.
async fn until_closed(ws: &mut Ws) -> anyhow::Result<(Vec<ServerFrame>, Option<CloseCode>)> {
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await? {
            Some(Ok(Message::Text(t))) => frames.push(serde_json::from_str(t.as_str())?),
            Some(Ok(Message::Close(c))) => return Ok((frames, c.map(|c| c.code))),
            Some(Ok(_)) => {}
            Some(Err(e)) => anyhow::bail!("socket error: {e}"),
            None => return Ok((frames, None)),
        }
    }
}

/// The value of a sample (its name and labels) in the hub's metrics.
async fn metric(base: &str, name: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no {name} in the metrics"))
}

/// Polls the hub's metrics until the sample `name` reaches `at_least`
/// (a sample not there yet counts as 0), for at most [`PATIENCE`].
async fn until_metric(base: &str, name: &str, at_least: f64) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while metric(base, name).await.unwrap_or(0.0) < at_least {
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{name} never reached {at_least}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Holds PostgreSQL's strongest lock on the hub's sessions table until
/// the returned connection commits: every session check waits meanwhile.
async fn lock_sessions(url: &str) -> anyhow::Result<sqlx::PgConnection> {
    let mut conn = sqlx::PgConnection::connect(url).await?;
    conn.execute("BEGIN").await?;
    conn.execute("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .await?;
    Ok(conn)
}

#[tokio::test]
async fn a_hello_the_store_cannot_check_in_time_is_told_to_try_again_later() -> anyhow::Result<()> {
    on_fresh_postgres("a_hello_the_store_cannot_check_in_time", |url| async move {
        let hub = hub_on(&url).await?;
        let base = hub.base();
        let token = login(&base, "fy1.patel", DEMO_PASSWORD).await?;
        let mut lock = lock_sessions(&url).await?;

        let mut ws = open_socket(&base, None).await?;
        send_hello(&mut ws, &token).await?;
        let (frames, code) = until_closed(&mut ws).await?;
        assert_eq!(
            code,
            Some(CloseCode::Again),
            "closed with 1013 try again later"
        );
        assert!(
            matches!(
                frames.as_slice(),
                [ServerFrame::Error {
                    id: None,
                    code: ErrorCode::Unavailable,
                    ..
                }]
            ),
            "one `unavailable` error before the close: {frames:?}"
        );
        // Counted once the connection's task has ended, just after the close.
        until_metric(&base, r#"wardpage_disconnects_total{reason="busy"}"#, 1.0).await?;

        // Once the store answers again the same token is welcome: the
        // refusal changed nothing.
        lock.execute("COMMIT").await?;
        let patel = Client::connect(&base, &token, 0).await?;
        assert_eq!(patel.me.name, "Dr Asha Patel");
        hub.stop().await
    })
    .await
}

#[tokio::test]
async fn hellos_that_arrive_together_are_checked_by_a_few_queries() -> anyhow::Result<()> {
    on_fresh_postgres("hellos_that_arrive_together", |url| async move {
        let hub = hub_on(&url).await?;
        let base = hub.base();
        let token = login(&base, "fy1.patel", DEMO_PASSWORD).await?;
        const CROWD: usize = 100;
        let mut crowd = Vec::new();
        for _ in 0..CROWD {
            crowd.push(open_socket(&base, None).await?);
        }
        let mut patel = open_socket(&base, None).await?;
        let queries_before = metric(&base, "wardpage_session_checks_per_query_count").await?;

        let mut lock = lock_sessions(&url).await?;
        for ws in &mut crowd {
            send_hello(ws, &uuid::Uuid::new_v4().to_string()).await?;
        }
        send_hello(&mut patel, &token).await?;
        // Every check is waiting (the first inside its query, behind the
        // lock); then the store answers.
        until_metric(&base, "wardpage_session_checks_waiting", (CROWD + 1) as f64).await?;
        lock.execute("COMMIT").await?;

        for ws in &mut crowd {
            let (frames, _) = until_closed(ws).await?;
            assert!(
                matches!(
                    frames.as_slice(),
                    [ServerFrame::Error {
                        code: ErrorCode::Unauthorized,
                        ..
                    }]
                ),
                "an unknown token is refused as before: {frames:?}"
            );
        }
        let welcome = tokio::time::timeout(PATIENCE, patel.next()).await?;
        let Some(Ok(Message::Text(t))) = welcome else {
            anyhow::bail!("no welcome: {welcome:?}");
        };
        assert!(
            matches!(
                serde_json::from_str(t.as_str())?,
                ServerFrame::Welcome { .. }
            ),
            "the real token is welcomed: {t}"
        );
        let queries =
            metric(&base, "wardpage_session_checks_per_query_count").await? - queries_before;
        // One query was waiting behind the lock with the first hello (or
        // the first few); all the others are answered by the next.
        assert!(
            queries <= 3.0,
            "{} hellos took {queries} queries",
            CROWD + 1
        );
        hub.stop().await
    })
    .await
}
