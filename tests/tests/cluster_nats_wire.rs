//! The owner's side of what crosses NATS, tested against a real owner
//! node: this test plays the node a device is connected to, speaking the
//! tunnel's messages on the bus itself (so it can lose one on purpose, or
//! fall silent), and the forwarded requests carry the device's address to
//! the owner's login limits. Real processes on a fresh PostgreSQL database
//! and a `nats-server` of the test's own; needs `WARDPAGE_TEST_POSTGRES`.

use anyhow::Context;
use futures_util::StreamExt;
use std::time::Duration;
use wardpage_proto::{ClientFrame, PROTOCOL_VERSION};
use wardpage_tests::client::login;
use wardpage_tests::nats::NatsServer;
use wardpage_tests::nodes::*;
use wardpage_tests::pg::on_fresh_postgres;
use wardpage_tests::story::{cannula_w7, raise_ok};
use wardpage_tests::{Client, DEMO_PASSWORD};

const SITE: &str = "wardpage.site.default";

/// One tunnel message: kind, sequence number, data (docs in
/// `server/src/cluster/tunnel.rs`).
fn frame(kind: u8, seq: u64, data: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// A node of the test's making on the bus: its heartbeat, until aborted.
fn beat_as(nats: async_nats::Client, node: &str) -> tokio::task::JoinHandle<()> {
    let body = serde_json::json!({ "node": node }).to_string();
    let subject = format!("{SITE}.node");
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(300));
        loop {
            every.tick().await;
            let _ = nats.publish(subject.clone(), body.clone().into()).await;
        }
    })
}

/// Waits for the owner's heartbeat at `epoch`, as a node does before it
/// opens a tunnel: the owner beats only once NATS has its subscriptions
/// (`/readyz` can say it owns before its NATS connection is up).
async fn until_owner_beats(nats: &async_nats::Client, epoch: i64) -> anyhow::Result<()> {
    let mut beats = nats.subscribe(format!("{SITE}.owner")).await?;
    let heard = async {
        while let Some(m) = beats.next().await {
            let beat: serde_json::Value = serde_json::from_slice(&m.payload)?;
            if beat["epoch"] == epoch {
                return anyhow::Ok(());
            }
        }
        anyhow::bail!("the subscription ended")
    };
    tokio::time::timeout(Duration::from_secs(10), heard)
        .await
        .context("no heartbeat from the owner")?
}

/// Opens a tunnel as `node` to the owner at `epoch`; its down subscription.
async fn open_tunnel(
    nats: &async_nats::Client,
    id: &str,
    node: &str,
    epoch: i64,
) -> anyhow::Result<async_nats::Subscriber> {
    let down = nats.subscribe(format!("{SITE}.tunnel.{id}.down")).await?;
    let open = serde_json::json!({ "id": id, "node": node, "epoch": epoch }).to_string();
    let answer = nats.request(format!("{SITE}.tunnel"), open.into()).await?;
    anyhow::ensure!(
        answer.payload.as_ref() == b"ok",
        "refused: {:?}",
        answer.payload
    );
    Ok(down)
}

/// The next message down the tunnel: (kind, seq, data).
async fn next_down(down: &mut async_nats::Subscriber) -> anyhow::Result<(u8, u64, Vec<u8>)> {
    let m = tokio::time::timeout(Duration::from_secs(10), down.next())
        .await
        .context("nothing came down the tunnel")?
        .context("the subscription ended")?;
    let p = m.payload;
    anyhow::ensure!(p.len() >= 9, "short tunnel message");
    let seq = u64::from_be_bytes(p[1..9].try_into()?);
    Ok((p[0], seq, p[9..].to_vec()))
}

/// Reads down the tunnel until its close; the code and reason.
async fn close_down(down: &mut async_nats::Subscriber) -> anyhow::Result<(u16, String)> {
    loop {
        let (kind, _, data) = next_down(down).await?;
        if kind == 4 {
            anyhow::ensure!(data.len() >= 2, "a close without a code");
            let code = u16::from_be_bytes([data[0], data[1]]);
            return Ok((code, String::from_utf8_lossy(&data[2..]).into_owned()));
        }
    }
}

/// A frame lost on the way to the owner (a gap in the tunnel's numbering)
/// ends the session with 1012 `cluster tunnel lost frames: reconnect`; a
/// tunnel whose node falls silent (no heartbeat for 1.5 s) is ended by the
/// owner with 1012 `cluster owner lost: reconnect`.
#[tokio::test]
async fn the_owner_ends_a_tunnel_on_a_gap_or_a_silent_node() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("the_owner_ends_a_tunnel_on_a_gap", |url| async move {
        let server = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let a = start_nats_node(&url, dir.path(), "a", &server.url(), "").await?;
        let epoch = until_owns(&a, "node a owns").await?;
        let nats = async_nats::connect(server.url()).await?;
        until_owner_beats(&nats, epoch).await?;
        let beat = beat_as(nats.clone(), "x");
        let token = login(&a.base(), "nurse.okafor", DEMO_PASSWORD).await?;
        let hello = serde_json::to_string(&ClientFrame::Hello {
            version: PROTOCOL_VERSION,
            token: token.clone(),
            cursor: 0,
            fresh: None,
        })?;
        let up = |id: &str| format!("{SITE}.tunnel.{id}.up");

        let mut down = open_tunnel(&nats, "gap1", "x", epoch).await?;
        nats.publish(up("gap1"), frame(0, 1, hello.as_bytes()).into())
            .await?;
        let (kind, seq, welcome) = next_down(&mut down).await?;
        assert_eq!((kind, seq), (0, 1), "the welcome comes first, numbered 1");
        assert!(String::from_utf8_lossy(&welcome).contains("welcome"));
        // Frame 2 is "lost": 3 arrives next.
        nats.publish(up("gap1"), frame(2, 3, b"").into()).await?;
        let (code, reason) = close_down(&mut down).await?;
        assert_eq!(
            (code, reason.as_str()),
            (1012, "cluster tunnel lost frames: reconnect")
        );

        let mut down = open_tunnel(&nats, "quiet1", "x", epoch).await?;
        nats.publish(up("quiet1"), frame(0, 1, hello.as_bytes()).into())
            .await?;
        assert_eq!(next_down(&mut down).await?.1, 1);
        beat.abort();
        let (code, reason) = close_down(&mut down).await?;
        assert_eq!(
            (code, reason.as_str()),
            (1012, "cluster owner lost: reconnect")
        );

        // An opening for another epoch (a takeover the opener missed) is refused.
        let stale = open_tunnel(&nats, "old1", "x", epoch - 1).await;
        assert!(stale.is_err(), "a tunnel to an old epoch must be refused");
        a.terminate().await?;
        Ok(())
    })
    .await
}

/// The device's address travels with a forwarded login: the owner's
/// per-source login limit throttles a failing address behind the
/// forwarding node, and not another device's behind the same node.
#[tokio::test]
async fn forwarded_logins_are_limited_per_device_address() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("forwarded_logins_are_limited", |url| async move {
        let server = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        // b trusts the test (loopback) as its proxy, so X-Forwarded-For
        // names the device; both nodes limit a failing source to 3 a minute.
        let limits =
            "[limits]\ntrusted_proxies = [\"127.0.0.1\"]\nlogin_attempts_per_source_per_min = 3\n";
        let a = start_nats_node(&url, dir.path(), "a", &server.url(), limits).await?;
        until_owns(&a, "node a owns").await?;
        let b = start_nats_node(&url, dir.path(), "b", &server.url(), limits).await?;
        until_forwards(&b, "a", "node b forwards to a").await?;
        let http = reqwest::Client::new();
        let attempt = |from: &'static str, password: &'static str| {
            let (http, base) = (http.clone(), b.base());
            async move {
                let res = http
                    .post(format!("{base}/api/login"))
                    .header("X-Forwarded-For", from)
                    .json(&serde_json::json!({ "username": "coord.hale", "password": password }))
                    .send()
                    .await?;
                anyhow::Ok(res.status().as_u16())
            }
        };
        let mut codes = Vec::new();
        for _ in 0..5 {
            codes.push(attempt("10.9.9.9", "wrong").await?);
        }
        assert_eq!(codes.first(), Some(&401), "{codes:?}");
        assert_eq!(
            codes.last(),
            Some(&429),
            "a failing source is throttled: {codes:?}"
        );
        assert_eq!(
            attempt("10.9.9.9", DEMO_PASSWORD).await?,
            429,
            "still that source"
        );
        assert_eq!(
            attempt("10.9.9.10", DEMO_PASSWORD).await?,
            200,
            "another device"
        );
        b.terminate().await?;
        a.terminate().await?;
        Ok(())
    })
    .await
}

/// At the device's node: a message down the tunnel out of its numbering
/// (as when NATS lost the one before it) closes the device's socket with
/// 1012 `cluster tunnel lost frames: reconnect`, and the device resumes.
#[tokio::test]
async fn a_gap_down_the_tunnel_closes_the_device_which_resumes() -> anyhow::Result<()> {
    let _turn = one_at_a_time().await;
    on_fresh_postgres("a_gap_down_the_tunnel", |url| async move {
        let server = NatsServer::start().await?;
        let dir = tempfile::tempdir()?;
        let a = start_nats_node(&url, dir.path(), "a", &server.url(), "").await?;
        until_owns(&a, "node a owns").await?;
        let b = start_nats_node(&url, dir.path(), "b", &server.url(), "").await?;
        until_forwards(&b, "a", "node b forwards to a").await?;
        // Overhears the opening (the owner answers it) to learn the id.
        let nats = async_nats::connect(server.url()).await?;
        let mut openings = nats.subscribe(format!("{SITE}.tunnel")).await?;
        nats.flush().await?;
        let mut nurse = Client::login_connect(&b.base(), "nurse.okafor").await?;
        let open = tokio::time::timeout(Duration::from_secs(10), openings.next())
            .await
            .context("no opening seen")?
            .context("subscription ended")?;
        let open: serde_json::Value = serde_json::from_slice(&open.payload)?;
        let id = open["id"].as_str().context("an id")?.to_owned();
        // A ping numbered far past what came down so far.
        nats.publish(
            format!("{SITE}.tunnel.{id}.down"),
            frame(2, 1_000, b"").into(),
        )
        .await?;
        let (code, reason) = nurse.closed().await?;
        assert_eq!(
            (code, reason.as_str()),
            (1012, "cluster tunnel lost frames: reconnect")
        );
        let mut nurse = nurse.reconnect().await?;
        raise_ok(&mut nurse, cannula_w7()).await?;
        b.terminate().await?;
        a.terminate().await?;
        Ok(())
    })
    .await
}
