//! A measurement, not a check: how long a real user's login (and then
//! hello, welcome and a whole snapshot) takes from a
//! clean source while each denial-of-service attack runs against the real
//! binary on loopback. Ignored by default; run it with
//! `WARDPAGE_BIN=<release wardpage> cargo test -p wardpage-tests --test
//! login_under_attack -- --ignored --nocapture`. Bounded: each attack
//! stops once its logins are measured.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};
use wardpage_tests::sources::{http_from, login_from, src};
use wardpage_tests::story::needs_role;
use wardpage_tests::{Client, DEMO_PASSWORD};

/// A login from the client's source: status and the token, if any.
async fn login_token_from(
    http: &reqwest::Client,
    base: &str,
    username: &str,
) -> anyhow::Result<(u16, Option<String>)> {
    let res = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({ "username": username, "password": DEMO_PASSWORD }))
        .send()
        .await?;
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    Ok((status, body["token"].as_str().map(String::from)))
}

/// A raw TCP connection to the hub from `source`.
async fn tcp_from(source: IpAddr, hub: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    Ok(socket.connect(hub).await?)
}

/// Logins of `coord.hale` from 127.0.0.200 during each attack, as a table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_login_round_trip_during_attacks() -> anyhow::Result<()> {
    rlimit::increase_nofile_limit(u64::MAX)?;
    let dir = tempfile::tempdir()?;
    let hub =
        wardpage_tests::HubProcess::start(&dir.path().join("hub.db"), "127.0.0.1:0".parse()?, &[])
            .await?;
    let base = hub.base();
    let addr = hub.addr;
    println!("| attack | logins | login p50 ms | login max ms | login + hello + snapshot p50 ms | max ms | refused |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    measure("none", &base, || async { Ok(Vec::new()) }).await?;
    measure(
        "500 concurrent made-up logins from 8 sources",
        &base,
        || {
            let base = base.clone();
            async move {
                let mut held = Vec::new();
                for i in 0..500usize {
                    let http = http_from(src(10 + (i % 8) as u8))?;
                    let base = base.clone();
                    held.push(tokio::spawn(async move {
                        for n in 0..10_000usize {
                            let name = format!("made-up-{i}-{n}");
                            if login_from(&http, &base, &name, "x").await.is_err() {
                                // Pacing: a refused bot retries a little later.
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }));
                }
                Ok(held)
            }
        },
    )
    .await?;
    measure(
        "guessing fy1.patel's password from one source",
        &base,
        || {
            let base = base.clone();
            async move {
                let http = http_from(src(30))?;
                Ok(vec![tokio::spawn(async move {
                    for n in 0..100_000usize {
                        let _ = login_from(&http, &base, "fy1.patel", &format!("guess-{n}")).await;
                    }
                })])
            }
        },
    )
    .await?;
    measure("300 stalled login bodies (declared 2 MB)", &base, || async move {
        let mut held = Vec::new();
        for i in 0..300usize {
            let mut tcp = tcp_from(src(40 + (i % 4) as u8), addr).await?;
            held.push(tokio::spawn(async move {
                let head = format!(
                    "POST /api/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n{{"
                );
                let _ = tcp.write_all(head.as_bytes()).await;
                // The attack: hold the body back (aborted once measured).
                tokio::time::sleep(Duration::from_secs(3600)).await;
                drop(tcp);
            }));
        }
        Ok(held)
    })
    .await?;
    measure(
        "1,100 half-open connections from 3 sources",
        &base,
        || async move {
            let mut held = Vec::new();
            for i in 0..1100usize {
                let tcp = tcp_from(src(60 + (i % 3) as u8), addr).await?;
                held.push(tokio::spawn(async move {
                    // The attack: say nothing (aborted once measured).
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    drop(tcp);
                }));
            }
            Ok(held)
        },
    )
    .await?;
    measure(
        "one user's 10 sockets sending commands flat out",
        &base,
        || {
            let base = base.clone();
            async move {
                let token =
                    wardpage_tests::client::login(&base, "nurse.lee", DEMO_PASSWORD).await?;
                let mut held = Vec::new();
                for _ in 0..10 {
                    let mut c = Client::connect(&base, &token, 0).await?;
                    held.push(tokio::spawn(async move {
                        for _ in 0..100_000usize {
                            if c.command(needs_role("w8", wardpage_proto::Role::Fy1))
                                .await
                                .is_err()
                            {
                                break;
                            }
                        }
                    }));
                }
                Ok(held)
            }
        },
    )
    .await?;
    hub.terminate().await?;
    Ok(())
}

/// Starts an attack, lets it run a second, times 20 real logins from a
/// clean source, then stops the attack.
async fn measure<F, Fut>(name: &str, base: &str, attack: F) -> anyhow::Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Vec<tokio::task::JoinHandle<()>>>>,
{
    let held = attack().await?;
    // Part of the measurement: logins are timed against an attack in full
    // swing, a second after it starts, not against its first requests.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let http = http_from(src(200))?;
    let (mut times, mut trips) = (Vec::new(), Vec::new());
    let mut refused = 0;
    for _ in 0..20 {
        let t = std::time::Instant::now();
        let (status, token) = login_token_from(&http, base, "coord.hale").await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        match token.filter(|_| status == 200) {
            // The rest of the round trip: hello, welcome, a whole snapshot.
            Some(token) => {
                let mut c = Client::connect(base, &token, 0).await?;
                wardpage_tests::story::snapshot(&mut c).await?;
                trips.push(t.elapsed().as_secs_f64() * 1000.0);
                c.close().await;
            }
            None => refused += 1,
        }
    }
    trips.sort_by(f64::total_cmp);
    for h in &held {
        h.abort();
    }
    times.sort_by(f64::total_cmp);
    let (p50, max) = match trips.len() {
        0 => (f64::NAN, f64::NAN),
        n => (trips[n / 2], trips[n - 1]),
    };
    println!(
        "| {name} | {} | {:.0} | {:.0} | {p50:.0} | {max:.0} | {refused} |",
        times.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    );
    // The next attack starts on a hub that has seen this one's sockets close.
    wardpage_tests::eventually("the hub is over the attack", || hub_at_rest(base)).await
}

/// Whether the hub has no WebSocket open and serves every source the
/// attacks use again (so their sockets' places are free).
async fn hub_at_rest(base: &str) -> anyhow::Result<Option<()>> {
    let metrics = reqwest::get(format!("{base}/metrics"))
        .await?
        .text()
        .await?;
    if !metrics.lines().any(|l| l == "wardpage_connections_open 0") {
        return Ok(None);
    }
    let sources = (10..18).chain([30]).chain(40..44).chain(60..63);
    for last in sources {
        let served = http_from(src(last))?
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !served {
            return Ok(None);
        }
    }
    Ok(Some(()))
}
