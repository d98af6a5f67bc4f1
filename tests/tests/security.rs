//! Authentication, role checks and hostile input: every refusal is clear,
//! and none of them changes anything.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{Command, ErrorCode, Role, StaffId, TaskChange};
use wardpage_tests::client::{login, open_socket};
use wardpage_tests::story::*;
use wardpage_tests::{Client, TestHub, DEMO_PASSWORD};

async fn login_status(base: &str, body: &str) -> anyhow::Result<(u16, serde_json::Value)> {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/login"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await?;
    let status = res.status().as_u16();
    Ok((status, res.json().await.unwrap_or_default()))
}

#[tokio::test]
async fn bad_logins_are_refused_alike() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let (s, body) = login_status(&base, r#"{"username":"fy1.patel","password":"wrong"}"#).await?;
    assert_eq!((s, body["code"].as_str()), (401, Some("unauthorized")));
    let (s2, body2) = login_status(&base, r#"{"username":"nobody","password":"wrong"}"#).await?;
    assert_eq!(s2, 401);
    assert_eq!(
        body["message"], body2["message"],
        "no hint whether the login exists"
    );
    let (s, body) = login_status(&base, r#"{"username":"fy1.patel"}"#).await?;
    assert_eq!((s, body["code"].as_str()), (400, Some("invalid_field")));
    let (s, _) = login_status(&base, "not json").await?;
    assert_eq!(s, 400);
    // Guessing is throttled per account for the guessing source, even when
    // the guess is right (a source that has not been failing gets in:
    // tests/tests/hardening.rs).
    for _ in 0..5 {
        login_status(&base, r#"{"username":"sho.khan","password":"guess"}"#).await?;
    }
    let (s, body) =
        login_status(&base, r#"{"username":"sho.khan","password":"night-shift"}"#).await?;
    assert_eq!((s, body["code"].as_str()), (429, Some("rate_limited")));
    let (s, _) = login_status(
        &base,
        r#"{"username":"reg.evans","password":"night-shift"}"#,
    )
    .await?;
    assert_eq!(s, 200, "other accounts are unaffected");
    hub.stop().await
}

#[tokio::test]
async fn expired_revoked_and_unknown_tokens_are_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let err = Client::connect(&base, "made-up-token", 0)
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("unauthorized"), "{err}");

    // An expired session (written as the hub would, with its expiry past).
    let staff = hub
        .store
        .staff_by_login("fy1.patel")
        .await?
        .expect("demo staff");
    let token = "an-expired-token-for-this-test";
    let now = wardpage_server::clock::now_ms();
    hub.store
        .create_session(
            &wardpage_server::auth::token_hash(token),
            staff.id,
            now - 1000,
            now - 1,
        )
        .await?;
    let err = Client::connect(&base, token, 0)
        .await
        .err()
        .expect("expired");
    assert!(err.to_string().contains("unauthorized"), "{err}");

    // Logout revokes the token and closes its live connections.
    let token = login(&base, "fy1.patel", DEMO_PASSWORD).await?;
    let mut live = Client::connect(&base, &token, 0).await?;
    let res = reqwest::Client::new()
        .post(format!("{base}/api/logout"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(res.status().as_u16(), 204);
    let (code, reason) = live.closed().await?;
    assert_eq!((code, reason.as_str()), (1008, "logged out"));
    let err = Client::connect(&base, &token, 0)
        .await
        .err()
        .expect("revoked");
    assert!(err.to_string().contains("unauthorized"), "{err}");
    let again = reqwest::Client::new()
        .post(format!("{base}/api/logout"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(again.status().as_u16(), 401);
    hub.stop().await
}

#[tokio::test]
async fn a_foreign_origin_cannot_open_the_socket() -> anyhow::Result<()> {
    let hub = TestHub::start_with(|c| {
        c.allowed_origins = vec!["https://wardpage.example-trust.nhs.uk".into()]
    })
    .await?;
    let base = hub.base();
    let err = open_socket(&base, Some("https://evil.example"))
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("403"), "{err}");
    open_socket(&base, Some("https://wardpage.example-trust.nhs.uk")).await?;
    open_socket(&base, Some(&base)).await?; // the hub's own pages
    open_socket(&base, None).await?; // native clients send no Origin
    hub.stop().await
}

#[tokio::test]
async fn roles_are_checked_at_the_hub() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let mut w8_nurse = Client::login_connect(&base, "nurse.lee").await?;
    let mut admin = Client::login_connect(&base, "admin").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    let someone = StaffId::new_random();
    let forbidden = [
        Command::Assign {
            task: task.id,
            staff: nurse.id(),
        },
        Command::StartShift {
            staff: nurse.id(),
            role: Role::Coordinator,
            wards: vec!["w7".into()],
            ends_at: wardpage_server::clock::now_ms() + 8 * 3_600_000,
        },
        Command::EndShift {
            staff: w8_nurse.id(),
        },
        Command::Accept { task: task.id },
        Command::Start { task: task.id },
    ];
    for cmd in forbidden {
        let op = cmd.op();
        let e = nurse.command(cmd).await?.expect_err("a nurse may not");
        assert_eq!(e.code, ErrorCode::Forbidden, "{op}: {e}");
    }
    // Another ward's nurse cannot see or touch Ward 7's task.
    let e = w8_nurse
        .command(Command::Cancel {
            task: task.id,
            reason: "x".into(),
        })
        .await?
        .expect_err("cross-ward");
    assert_eq!(e.code, ErrorCode::NotFound);
    let (cursor, tasks) = snapshot(&mut w8_nurse).await?;
    assert_eq!(
        (cursor, tasks.len()),
        (0, 0),
        "no Ward 7 task leaks to Ward 8"
    );
    // Admin (not on shift) can steer; unknown staff is not_found.
    let e = admin
        .command(Command::Assign {
            task: task.id,
            staff: someone,
        })
        .await?
        .expect_err("unknown");
    assert_eq!(e.code, ErrorCode::NotFound);
    hub.stop().await
}

/// Sends raw text after hello and returns the error frame's code (as the
/// reply to the frame's command id when it has a readable one).
async fn refusal(c: &mut Client, text: &str) -> anyhow::Result<ErrorCode> {
    c.send_text(text.to_owned()).await?;
    let id = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("id")
                .and_then(|i| i.as_str())
                .and_then(|i| i.parse().ok())
        });
    match id {
        Some(id) => Ok(c.reply(id).await?.expect_err("refused").code),
        None => Ok(c.next_error().await?.0),
    }
}

#[tokio::test]
async fn malformed_frames_get_clear_errors_and_change_nothing() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut coord = Client::login_connect(&base, "coord.hale").await?;
    let mut nurse = Client::login_connect(&base, "nurse.okafor").await?;
    let (before, _) = snapshot(&mut coord).await?;
    let id = "c0ffee00-0000-4000-8000-000000000001";
    let cases = [
        ("{not json", ErrorCode::BadJson),
        ("[]", ErrorCode::BadJson),
        (r#"{"type":"teleport"}"#, ErrorCode::UnknownType),
        (
            r#"{"type":"cmd","id":"c0ffee00-0000-4000-8000-000000000001","cmd":{"op":"drop_tables"}}"#,
            ErrorCode::UnknownType,
        ),
        (
            r#"{"type":"cmd","id":"c0ffee00-0000-4000-8000-000000000001","cmd":{"op":"accept"}}"#,
            ErrorCode::InvalidField,
        ),
        (r#"{"type":"ack","seq":"lots"}"#, ErrorCode::InvalidField),
        (
            r#"{"type":"hello","version":1,"token":"x","cursor":0}"#,
            ErrorCode::HelloRequired,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(refusal(&mut nurse, text).await?, want, "{text}");
    }
    // Errors that carry an id come back as that command's reply.
    let long_bed = format!(
        r#"{{"type":"cmd","id":"{id}","cmd":{{"op":"raise_task","ward":"w7","bed":"{}","patient":"p","category":"ecg","priority":"routine","requirement":{{"skill":"ecg"}},"sbar":{{"situation":"s"}}}}}}"#,
        "9".repeat(40)
    );
    nurse.send_text(long_bed).await?;
    let e = nurse.reply(id.parse()?).await?.expect_err("bed too long");
    assert_eq!(e.code, ErrorCode::InvalidField);
    // Oversized text gets too_large without closing.
    let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(20_000));
    assert_eq!(refusal(&mut nurse, &big).await?, ErrorCode::TooLarge);
    // Unknown ward and bed, wrong state: not_found / invalid_state.
    let e = nurse
        .command(raise(
            "w99",
            wardpage_proto::Requirement::Role(Role::Fy1),
            wardpage_proto::Priority::Soon,
        ))
        .await?
        .expect_err("no such ward");
    assert_eq!(e.code, ErrorCode::NotFound);
    let mut bad_bed = cannula_w7();
    if let Command::RaiseTask { bed, .. } = &mut bad_bed {
        *bed = "99".into();
    }
    assert_eq!(
        nurse.command(bad_bed).await?.expect_err("no bed 99").code,
        ErrorCode::NotFound
    );
    let mut patel = Client::login_connect(&base, "fy1.patel").await?;
    let task = raise_ok(&mut nurse, cannula_w7()).await?;
    let e = patel
        .command(Command::Start { task: task.id })
        .await?
        .expect_err("not accepted yet");
    assert_eq!(e.code, ErrorCode::Forbidden);
    patel.ok(Command::Accept { task: task.id }).await?;
    patel.ok(Command::Start { task: task.id }).await?;
    let e = patel
        .command(Command::Start { task: task.id })
        .await?
        .expect_err("already started");
    assert_eq!(e.code, ErrorCode::InvalidState);

    // The only change in the coordinator's stream is the one good raise and its accept/start.
    let (after, tasks) = snapshot(&mut coord).await?;
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        after - before,
        3,
        "raise, accept, start: nothing else changed"
    );
    task_event(&mut coord, task.id, TaskChange::Started).await?;
    hub.stop().await
}

#[tokio::test]
async fn garbage_floods_and_huge_frames_close_the_connection() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let mut c = Client::login_connect(&base, "nurse.okafor").await?;
    for _ in 0..25 {
        c.send_text("garbage".into()).await?;
    }
    let (code, reason) = c.closed().await?;
    assert_eq!((code, reason.as_str()), (1008, "too many bad frames"));

    let mut c = Client::login_connect(&base, "nurse.okafor").await?;
    for _ in 0..500 {
        if c.send_text(r#"{"type":"ping"}"#.into()).await.is_err() {
            break;
        }
    }
    let (code, reason) = c.closed().await?;
    assert_eq!((code, reason.as_str()), (1008, "rate limited"));

    let mut c = Client::login_connect(&base, "nurse.okafor").await?;
    // Two 60 KB frames of one message: each within the hub's 64 KiB, the
    // message not (sent in parts so the close is not lost to a reset).
    let part = "x".repeat(60_000);
    c.send_fragmented(&[&part, &part]).await?;
    let (code, reason) = c.closed().await?;
    assert_eq!(
        (code, reason.as_str()),
        (1009, "frame too large"),
        "a huge message closes the socket"
    );

    // A hello that is not first, or never comes, or names another version.
    let mut ws = open_socket(&base, None).await?;
    ws.send(Message::Text(r#"{"type":"ping"}"#.into())).await?;
    let reply = ws.next().await.expect("frame")?;
    assert!(reply.to_text()?.contains("hello_required"), "{reply:?}");
    let mut ws = open_socket(&base, None).await?;
    ws.send(Message::Text(
        r#"{"type":"hello","version":2,"token":"x","cursor":0}"#.into(),
    ))
    .await?;
    let reply = ws.next().await.expect("frame")?;
    assert!(
        reply.to_text()?.contains("unsupported_version"),
        "{reply:?}"
    );
    hub.stop().await
}

/// One raw HTTP/1.1 exchange on a fresh connection; the whole answer.
async fn raw_http(addr: std::net::SocketAddr, request: String) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(addr).await?;
    tcp.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tcp.read_to_end(&mut out),
    )
    .await
    .map_err(|_| anyhow::anyhow!("no answer"))??;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn api_answers_are_not_cached_and_a_login_must_be_json() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    let base = hub.base();
    let http = reqwest::Client::new();
    let ok = http
        .post(format!("{base}/api/login"))
        .json(&serde_json::json!({"username": "fy1.patel", "password": DEMO_PASSWORD}))
        .send()
        .await?;
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers()["cache-control"], "no-store");
    let refused = http.post(format!("{base}/api/logout")).send().await?;
    assert_eq!(refused.status().as_u16(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
    // What a cross-site form can send without asking: refused, unread.
    let form = http
        .post(format!("{base}/api/login"))
        .header("content-type", "text/plain")
        .body(format!(
            r#"{{"username":"fy1.patel","password":"{DEMO_PASSWORD}"}}"#
        ))
        .send()
        .await?;
    assert_eq!(form.status().as_u16(), 415);
    assert!(
        !ok.headers().contains_key("strict-transport-security"),
        "no HSTS without TLS"
    );
    hub.stop().await
}

#[tokio::test]
async fn a_foreign_host_name_is_refused() -> anyhow::Result<()> {
    let hub = TestHub::start().await?;
    // DNS rebinding: evil.example now resolves to the hub, so the page's
    // requests carry Host and Origin evil.example.
    for (method, path) in [
        ("POST", "/api/login"),
        ("GET", "/ws"),
        ("GET", "/"),
        ("GET", "/healthz"),
    ] {
        let answer = raw_http(
            hub.addr,
            format!(
                "{method} {path} HTTP/1.1\r\nHost: evil.example:8080\r\nOrigin: http://evil.example:8080\r\n\
                 Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
            ),
        )
        .await?;
        assert!(answer.starts_with("HTTP/1.1 421"), "{path}: {answer}");
    }
    let port = hub.addr.port();
    for host in [format!("localhost:{port}"), hub.addr.to_string()] {
        let answer = raw_http(
            hub.addr,
            format!("GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        )
        .await?;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
    hub.stop().await
}

#[tokio::test]
async fn metrics_are_open_to_configured_addresses_or_the_token() -> anyhow::Result<()> {
    let token = "a-metrics-token-for-this-test";
    let hub = TestHub::start_with(|c| c.metrics_token = Some(token.into())).await?;
    let base = hub.base();
    let local = reqwest::Client::new();
    assert_eq!(
        local
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .status()
            .as_u16(),
        200
    );
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()?;
    let refused = elsewhere.get(format!("{base}/metrics")).send().await?;
    assert_eq!(refused.status().as_u16(), 403);
    let wrong = elsewhere
        .get(format!("{base}/metrics"))
        .bearer_auth("a-guessed-token-of-some-length")
        .send()
        .await?;
    assert_eq!(wrong.status().as_u16(), 403);
    let with_token = elsewhere
        .get(format!("{base}/metrics"))
        .bearer_auth(token)
        .send()
        .await?;
    assert_eq!(with_token.status().as_u16(), 200);
    assert!(with_token.text().await?.contains("# EOF"));
    hub.stop().await
}

#[tokio::test]
async fn https_answers_carry_hsts() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
    let dir = tempfile::tempdir()?;
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem())?;
    std::fs::write(&key_path, cert.key_pair.serialize_pem())?;
    let hub = TestHub::start_with(|c| {
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone())?;
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(hub.addr).await?;
    let mut s = tls.connect("localhost".try_into()?, tcp).await?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok();
    let answer = String::from_utf8_lossy(&out).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 200"), "{answer}");
    assert!(
        answer.contains("strict-transport-security: max-age=31536000"),
        "{answer}"
    );
    hub.stop().await
}
