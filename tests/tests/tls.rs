//! With a certificate configured the hub speaks only HTTPS and WSS: login,
//! health and the WebSocket protocol all work over TLS, plain HTTP does not.

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use wardpage_proto::{ClientFrame, ServerFrame, PROTOCOL_VERSION};
use wardpage_tests::TestHub;

fn connector(cert_der: rustls::pki_types::CertificateDer<'static>) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// One HTTP/1.1 exchange over TLS; returns the whole response as text.
async fn https(
    tls: &TlsConnector,
    addr: std::net::SocketAddr,
    request: String,
) -> anyhow::Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut s = tls.connect("localhost".try_into()?, tcp).await?;
    s.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok();
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn the_hub_serves_https_and_wss_only() -> anyhow::Result<()> {
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
    let tls = connector(cert.cert.der().clone())?;

    let health = https(
        &tls,
        hub.addr,
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into(),
    )
    .await?;
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"),
        "{health}"
    );

    let body = r#"{"username":"fy1.patel","password":"night-shift"}"#;
    let login = https(
        &tls,
        hub.addr,
        format!(
            "POST /api/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await?;
    let json = login.split("\r\n\r\n").nth(1).unwrap_or_default();
    let token = serde_json::from_str::<serde_json::Value>(json)?["token"]
        .as_str()
        .map(String::from)
        .ok_or_else(|| anyhow::anyhow!("no token in {login}"))?;

    // The WebSocket protocol over TLS.
    let tcp = TcpStream::connect(hub.addr).await?;
    let stream = tls.connect("localhost".try_into()?, tcp).await?;
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://localhost:{}/ws", hub.addr.port()), stream)
            .await?;
    let hello = ClientFrame::Hello {
        version: PROTOCOL_VERSION,
        token,
        cursor: 0,
        fresh: None,
    };
    ws.send(Message::Text(serde_json::to_string(&hello)?.into()))
        .await?;
    let reply = ws.next().await.ok_or_else(|| anyhow::anyhow!("closed"))??;
    let frame: ServerFrame = serde_json::from_str(reply.to_text()?)?;
    assert!(
        matches!(frame, ServerFrame::Welcome { ref me, .. } if me.login == "fy1.patel"),
        "{frame:?}"
    );

    // Plain HTTP to the TLS port gets nowhere.
    let plain = reqwest::Client::new()
        .get(format!("http://{}/healthz", hub.addr))
        .send()
        .await;
    assert!(plain.is_err() || !plain.is_ok_and(|r| r.status().is_success()));
    hub.stop().await
}
