//! Denial of service: lock-outs, login floods, stalled requests, too many
//! connections or commands, and sessions that must end. Each attack runs
//! against a real hub from loopback, from its own source address
//! (127.0.0.2 and up: all of 127/8 reaches the hub), and ends by checking
//! that real users still get in and that the audit chain is intact.

use anyhow::Context;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use wardpage_proto::ErrorCode;
use wardpage_tests::sources::{http_from, login_from, src};
use wardpage_tests::story::*;
use wardpage_tests::{Client, CommandError, TestHub, DEMO_PASSWORD};

/// A raw TCP connection to the hub from `source`.
async fn tcp_from(source: IpAddr, hub: SocketAddr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    Ok(socket.connect(hub).await?)
}

/// Reads until the hub closes the connection (or `within` passes); what it sent.
async fn read_to_close(tcp: &mut TcpStream, within: Duration) -> anyhow::Result<String> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    anyhow::ensure!(read.is_ok(), "the hub kept the connection open");
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// The audit trail is intact, and holds nothing a user typed as a login.
async fn audit_intact(hub: &TestHub, never: &[&str]) -> anyhow::Result<()> {
    let v = wardpage_server::store::audit_chain::verify(&*hub.store).await?;
    assert!(v.broken.is_none(), "audit chain broken: {:?}", v.broken);
    let rows = hub.store.audit_page(0, 100_000).await?;
    for (row, _) in rows {
        let text = serde_json::to_string(&row)?;
        for n in never {
            assert!(!text.contains(n), "the audit trail holds `{n}`: {text}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn a_doctor_is_never_locked_out_by_someone_elses_guesses() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let attacker = http_from(src(2))?;
    for i in 0..6 {
        let (s, _) = login_from(&attacker, &base, "fy1.patel", &format!("guess-{i}")).await?;
        assert!(s == 401 || s == 429, "guess {i}: {s}");
    }
    // The guessing source is slowed, with a time to come back.
    let (s, retry) = login_from(&attacker, &base, "fy1.patel", DEMO_PASSWORD).await?;
    assert_eq!(s, 429);
    assert!(retry.is_some(), "429 carries Retry-After");
    // Her own phone, which has not been failing, gets straight in.
    let phone = http_from(src(3))?;
    assert_eq!(
        login_from(&phone, &base, "fy1.patel", DEMO_PASSWORD)
            .await?
            .0,
        200
    );
    // And again after more guesses (one every pause keeps nobody out).
    let (s, _) = login_from(&attacker, &base, "fy1.patel", "guess-again").await?;
    assert!(s == 401 || s == 429);
    let ward_pc = http_from(src(4))?;
    assert_eq!(
        login_from(&ward_pc, &base, "fy1.patel", DEMO_PASSWORD)
            .await?
            .0,
        200
    );
    // Someone else's account was never affected.
    assert_eq!(
        login_from(&attacker, &base, "sho.khan", "wrong").await?.0,
        401
    );
    assert_eq!(
        login_from(&phone, &base, "sho.khan", DEMO_PASSWORD)
            .await?
            .0,
        200
    );

    // The logins are audited, the guesses too, and no typed password is.
    let patel = hub
        .store
        .staff_by_login("fy1.patel")
        .await?
        .expect("demo staff");
    // Login rows ride with the writer's next commit: look until they are in.
    let (store, who) = (&hub.store, patel.id.to_string());
    let who = &who;
    let rows = wardpage_tests::eventually("both logins audited", || async move {
        let rows = store.audit_for(who).await?;
        let logins = rows.iter().filter(|r| r.action == "logged_in").count();
        Ok((logins >= 2).then_some(rows))
    })
    .await?;
    assert_eq!(rows.iter().filter(|r| r.action == "logged_in").count(), 2);
    assert!(rows
        .iter()
        .any(|r| r.action == "login_failed" && r.detail.contains("127.0.0.2")));
    audit_intact(&hub, &["guess-", DEMO_PASSWORD]).await?;
    hub.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_flood_is_shed_while_a_real_login_succeeds() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    const SOURCES: u8 = 8;
    const PER_SOURCE: usize = 12;
    // An upper bound: each flooder stops when the real login is done.
    const ATTEMPTS: usize = 400;
    let stop = Arc::new(AtomicBool::new(false));
    let failed_sources = Arc::new(tokio::sync::watch::channel(std::collections::HashSet::new()).0);
    let answers = Arc::new(Mutex::new(Vec::<(u16, bool)>::new()));
    let mut flood = Vec::new();
    for s in 0..SOURCES {
        let http = http_from(src(10 + s))?;
        for t in 0..PER_SOURCE {
            let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
            let (failed, answers) = (failed_sources.clone(), answers.clone());
            flood.push(tokio::spawn(async move {
                for i in 0..ATTEMPTS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("made-up-{s}-{t}-{i}");
                    let Ok((status, retry)) = login_from(&http, &base, &name, "x").await else {
                        continue;
                    };
                    if status == 401 {
                        failed.send_modify(|f| {
                            f.insert(s);
                        });
                    }
                    answers
                        .lock()
                        .expect("lock")
                        .push((status, retry.is_some()));
                    if retry.is_some() {
                        // A flooder that backs off a little, as bots do:
                        // pacing, not a wait for anything.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }));
        }
    }
    // Once every flooding source has been failing, a real login comes in.
    let mut failing = failed_sources.subscribe();
    let all_failing = failing.wait_for(|f| f.len() == SOURCES as usize);
    if tokio::time::timeout(Duration::from_secs(30), all_failing)
        .await
        .is_err()
    {
        anyhow::bail!("the flood never got going");
    }
    let nurse_pc = http_from(src(50))?;
    let real = login_from(&nurse_pc, &base, "nurse.okafor", DEMO_PASSWORD).await?;
    let in_flight = !flood.iter().all(|f| f.is_finished());
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        f.await?;
    }
    assert!(in_flight, "the flood was still going during the real login");
    assert_eq!(real.0, 200, "a real login during the flood succeeds");
    let answers = answers.lock().expect("lock").clone();
    assert!(
        answers.iter().all(|(s, _)| [401, 429, 503].contains(s)),
        "flood answers: {:?}",
        answers
            .iter()
            .map(|a| a.0)
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert!(
        answers.iter().any(|(s, _)| *s == 503),
        "a full queue answers 503"
    );
    assert!(
        answers
            .iter()
            .filter(|(s, _)| *s != 401)
            .all(|(_, retry)| *retry),
        "every 429 and 503 says when to retry"
    );
    // Nothing changed: the flood created no session and no account.
    assert!(hub.store.staff_by_login("made-up-0-0-0").await?.is_none());
    Client::login_connect(&base, "fy1.patel").await?;
    audit_intact(&hub, &["made-up-"]).await?;
    hub.stop().await
}

#[tokio::test]
async fn an_oversized_declared_body_is_refused_at_once() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let mut tcp = tcp_from(src(2), hub.addr).await?;
    tcp.write_all(
        format!(
            "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n",
            hub.addr
        )
        .as_bytes(),
    )
    .await?;
    // No body follows: the answer must come from the declared length alone.
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
        .await
        .map_err(|_| anyhow::anyhow!("no answer to a 100 MB Content-Length"))??;
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // A login body over 1 KiB is refused too.
    let http = http_from(src(3))?;
    let big = "x".repeat(2048);
    let res = http
        .post(format!("{}/api/login", hub.base()))
        .header("content-type", "application/json")
        .body(format!(r#"{{"username":"fy1.patel","password":"{big}"}}"#))
        .send()
        .await?;
    assert_eq!(res.status().as_u16(), 413);
    Client::login_connect(&hub.base(), "fy1.patel").await?;
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}

#[tokio::test]
async fn a_stalled_body_and_an_unfinished_header_are_cut_off() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    // A login that declares 500 bytes and sends 10.
    let mut body = tcp_from(src(2), hub.addr).await?;
    body.write_all(
        format!(
            "POST /api/login HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"username",
            hub.addr
        )
        .as_bytes(),
    )
    .await?;
    // A request whose header never ends.
    let mut header = tcp_from(src(3), hub.addr).await?;
    header
        .write_all(format!("GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: a", hub.addr).as_bytes())
        .await?;
    // A connection that never says anything.
    let mut silent = tcp_from(src(4), hub.addr).await?;
    let got = read_to_close(&mut body, Duration::from_secs(30))
        .await
        .context("stalled body")?;
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    read_to_close(&mut header, Duration::from_secs(30))
        .await
        .context("unfinished header")?;
    read_to_close(&mut silent, Duration::from_secs(30))
        .await
        .context("silent connection")?;
    Client::login_connect(&hub.base(), "fy1.patel").await?;
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_source_cannot_take_every_connection() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut coordinator = Client::login_connect(&base, "coord.hale").await?;
    // The default `limits.max_connections_per_source`.
    let cap = 512;
    let mut held = Vec::with_capacity(cap);
    for _ in 0..cap {
        held.push(tcp_from(src(2), hub.addr).await?);
    }
    // One more from the same source is closed unanswered.
    let mut extra = tcp_from(src(2), hub.addr).await?;
    let _ = extra
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {}\r\n\r\n", hub.addr).as_bytes())
        .await;
    let got = read_to_close(&mut extra, Duration::from_secs(30)).await?;
    assert!(got.is_empty(), "answered over the cap: {got}");
    // Everyone else is served meanwhile: a logged-in coordinator, and a
    // nurse logging in from the ward.
    snapshot(&mut coordinator).await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    raise_ok(&mut nurse, cannula_w7()).await?;
    drop(held);
    // Once its sockets close, that source is served again.
    let (http, health) = (&http_from(src(2))?, &format!("{base}/healthz"));
    wardpage_tests::eventually("the source is served again", || async move {
        let served = http.get(health).send().await;
        Ok(served.is_ok_and(|r| r.status().is_success()).then_some(()))
    })
    .await?;
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}

#[tokio::test]
async fn one_account_cannot_open_unbounded_sockets() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let token = wardpage_tests::client::login(&base, "fy1.patel", DEMO_PASSWORD).await?;
    // The default `limits.max_sockets_per_user`.
    let cap = 10;
    let mut open = Vec::new();
    for _ in 0..cap {
        open.push(Client::connect(&base, &token, 0).await?);
    }
    let err = Client::connect(&base, &token, 0)
        .await
        .err()
        .expect("over the cap");
    let refused = err.downcast_ref::<CommandError>().map(|e| e.code);
    assert_eq!(refused, Some(ErrorCode::RateLimited), "{err}");
    // The open ones carry on, and other accounts are unaffected.
    snapshot(&mut open[0]).await?;
    Client::login_connect(&base, "sho.khan").await?;
    open.pop();
    // A place came free: the same account connects again (once the hub
    // has seen the close).
    let (at, token) = (&base, &token);
    wardpage_tests::eventually("a place came free", || async move {
        Ok(Client::connect(at, token, 0).await.ok())
    })
    .await?;
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_account_cannot_flood_commands() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let token = wardpage_tests::client::login(&base, "nurse.okafor", DEMO_PASSWORD).await?;
    const SOCKETS: usize = 3;
    const EACH: usize = 200;
    let ok = Arc::new(AtomicUsize::new(0));
    let limited = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..SOCKETS {
        let mut c = Client::connect(&base, &token, 0).await?;
        let (ok, limited) = (ok.clone(), limited.clone());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(EACH);
            for _ in 0..EACH {
                ids.push(c.send(cannula_w7()).await?);
            }
            for id in ids {
                match c.reply(id).await? {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(e) if e.code == ErrorCode::RateLimited => {
                        limited.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => anyhow::bail!("unexpected refusal: {e}"),
                };
            }
            anyhow::Ok(c)
        }));
    }
    let mut clients = Vec::new();
    for t in tasks {
        clients.push(t.await??);
    }
    let (ok, limited) = (ok.load(Ordering::Relaxed), limited.load(Ordering::Relaxed));
    assert_eq!(ok + limited, SOCKETS * EACH);
    assert!(limited > 0, "{ok} commands accepted, none refused");
    // Exactly the accepted raises exist: a refused command changed nothing.
    // (Read by the coordinator: the nurse's own reads count against the
    // rate she has just used up.)
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let (_, tasks) = snapshot(&mut coord).await?;
    assert_eq!(tasks.len(), ok);
    drop(clients);
    // Other accounts are served meanwhile.
    let mut other = Client::login_connect(&base, "nurse.lee").await?;
    raise_ok(&mut other, needs_role("w8", wardpage_proto::Role::Fy1)).await?;
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}

#[tokio::test]
async fn a_socket_does_not_outlive_its_session() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let staff = hub
        .store
        .staff_by_login("fy1.patel")
        .await?
        .expect("demo staff");
    let token = "a-token-that-expires-in-two-seconds";
    let now = wardpage_server::clock::now_ms();
    hub.store
        .create_session(
            &wardpage_server::auth::token_hash(token),
            staff.id,
            now,
            now + 2_000,
        )
        .await?;
    let mut c = Client::connect(&base, token, 0).await?;
    let (code, reason) = c.closed().await?;
    assert_eq!((code, reason.as_str()), (1008, "session expired"));
    assert_eq!(
        c.errors.pop_front().map(|e| e.0),
        Some(ErrorCode::Unauthorized)
    );
    audit_intact(&hub, &[]).await?;
    hub.stop().await
}
