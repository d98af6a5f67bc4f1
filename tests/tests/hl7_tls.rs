//! The HL7 v2 ADT feed over TLS: with `[hl7] tls_cert` and `tls_key` the
//! MLLP listener takes an admission from a PAS that trusts the certificate,
//! and gives nothing to a plain MLLP client or to one that does not trust
//! it, changing nothing for either; a certificate that cannot be read
//! stops the hub at start.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use wardpage_proto::{Command, CommandResult, PatientView};
use wardpage_server::config::Config;
use wardpage_tests::{Client, TestHub};

/// A self-signed certificate for `localhost`, written as PEM files.
struct Cert {
    der: rustls::pki_types::CertificateDer<'static>,
    _dir: tempfile::TempDir,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn self_signed() -> anyhow::Result<Cert> {
    let c = rcgen::generate_simple_self_signed(vec!["localhost".into()])?;
    let dir = tempfile::tempdir()?;
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, c.cert.pem())?;
    std::fs::write(&key, c.key_pair.serialize_pem())?;
    Ok(Cert {
        der: c.cert.der().clone(),
        _dir: dir,
        cert,
        key,
    })
}

/// A hub whose ADT feed listens, TLS only, on a free loopback port.
async fn hub_with_tls_feed(cert: &Cert) -> anyhow::Result<(TestHub, SocketAddr)> {
    let free = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = free.local_addr()?;
    drop(free);
    let hub = TestHub::start_with(|c: &mut Config| {
        c.hl7.listen = Some(addr);
        c.hl7.account = "admin".into();
        c.hl7.wards = BTreeMap::from([("WD7".into(), "w7".into())]);
        c.hl7.tls_cert = Some(cert.cert.clone());
        c.hl7.tls_key = Some(cert.key.clone());
    })
    .await?;
    Ok((hub, addr))
}

/// A TLS client trusting `root` only, as the PAS's interface engine is set
/// up to trust the feed's certificate.
fn trusting(root: rustls::pki_types::CertificateDer<'static>) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root)?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// An admission as a PAS writes it (segments end in CR).
fn admit(control: &str, bed: &str) -> String {
    [
        format!("MSH|^~\\&|PAS|RXH|WARDPAGE|RXH|20261202013000||ADT^A01^ADT_A01|{control}|P|2.4"),
        "EVN|A01|20261202013000".to_owned(),
        "PID|1||9990000018^^^NHS^NH~RX123456^^^RXH^MR||Dummyworth^Harper^J||19480314|F".to_owned(),
        format!("PV1|1|I|WD7^^{bed}|||||||MED"),
    ]
    .join("\r")
        + "\r"
}

fn framed(message: &str) -> Vec<u8> {
    let mut f = vec![0x0b];
    f.extend_from_slice(message.as_bytes());
    f.extend_from_slice(&[0x1c, 0x0d]);
    f
}

/// Sends one framed message and reads the framed answer.
async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    feed: &mut S,
    message: &str,
) -> anyhow::Result<String> {
    feed.write_all(&framed(message)).await?;
    feed.flush().await?;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    while !answer.ends_with(&[0x1c, 0x0d]) {
        anyhow::ensure!(feed.read(&mut byte).await? == 1, "the feed closed");
        answer.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&answer[1..answer.len() - 2]).into_owned())
}

async fn patients(c: &mut Client) -> anyhow::Result<Vec<PatientView>> {
    match c
        .ok(Command::Patients {
            ward: None,
            after: None,
        })
        .await?
    {
        CommandResult::Patients { patients, .. } => Ok(patients),
        other => anyhow::bail!("patients answered {other:?}"),
    }
}

#[tokio::test]
async fn an_adt_admission_over_tls_is_acknowledged_and_admits() -> anyhow::Result<()> {
    let cert = self_signed()?;
    let (hub, addr) = hub_with_tls_feed(&cert).await?;
    // Logged in: the hub is serving, so its feed listener is bound.
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;
    let tcp = TcpStream::connect(addr).await?;
    let mut feed = trusting(cert.der.clone())?
        .connect("localhost".try_into()?, tcp)
        .await?;

    let ack = send(&mut feed, &admit("TLS0001", "3")).await?;
    assert!(ack.contains("MSA|AA|TLS0001"), "{ack}");
    let ps = patients(&mut coord).await?;
    assert_eq!(ps.len(), 1, "{ps:?}");
    assert_eq!((ps[0].ward.0.as_str(), ps[0].bed.as_str()), ("w7", "3"));
    assert_eq!(ps[0].details.name, "Harper Dummyworth");
    hub.stop().await
}

#[tokio::test]
async fn a_plain_mllp_client_on_the_tls_feed_gets_no_ack_and_changes_nothing() -> anyhow::Result<()>
{
    let cert = self_signed()?;
    let (hub, addr) = hub_with_tls_feed(&cert).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;

    let mut plain = TcpStream::connect(addr).await?;
    plain.write_all(&framed(&admit("PLAIN01", "3"))).await?;
    // The hub closes the connection once the handshake fails; a TLS alert
    // may come first, an MLLP frame never. Read until the close, or until
    // a whole frame has come (a plain listener would answer and wait).
    let mut rest = Vec::new();
    let mut chunk = [0u8; 1024];
    while !rest.ends_with(&[0x1c, 0x0d]) {
        match plain.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => rest.extend_from_slice(&chunk[..n]),
        }
    }
    assert!(
        !rest.contains(&0x0b) && !String::from_utf8_lossy(&rest).contains("MSA"),
        "no ACK to a plain client: {rest:?}"
    );
    assert!(patients(&mut coord).await?.is_empty(), "nothing admitted");

    // The listener carries on: the same message over TLS is read afresh
    // and applies, so the plain attempt left nothing behind.
    let tcp = TcpStream::connect(addr).await?;
    let mut feed = trusting(cert.der.clone())?
        .connect("localhost".try_into()?, tcp)
        .await?;
    let ack = send(&mut feed, &admit("PLAIN01", "3")).await?;
    assert!(ack.contains("MSA|AA|PLAIN01"), "{ack}");
    assert_eq!(patients(&mut coord).await?.len(), 1);
    hub.stop().await
}

#[tokio::test]
async fn a_client_that_does_not_trust_the_feeds_certificate_fails_the_handshake(
) -> anyhow::Result<()> {
    let cert = self_signed()?;
    let (hub, addr) = hub_with_tls_feed(&cert).await?;
    let mut coord = Client::login_connect(&hub.base(), "coord.hale").await?;

    // Trusts some other certificate, as an engine set up with the wrong CA.
    let other = self_signed()?;
    let tcp = TcpStream::connect(addr).await?;
    let refused = trusting(other.der.clone())?
        .connect("localhost".try_into()?, tcp)
        .await;
    let err = refused
        .err()
        .map(|e| e.to_string())
        .ok_or_else(|| anyhow::anyhow!("the handshake succeeded with an untrusted certificate"))?;
    assert!(err.contains("certificate"), "{err}");
    assert!(patients(&mut coord).await?.is_empty(), "nothing admitted");
    hub.stop().await
}

#[tokio::test]
async fn a_feed_certificate_that_cannot_be_read_stops_the_hub_at_start() -> anyhow::Result<()> {
    let cert = self_signed()?;
    let missing = cert.cert.with_file_name("missing.pem");
    let mut hub = TestHub::start_with(|c: &mut Config| {
        c.hl7.listen = Some(([127, 0, 0, 1], 0).into());
        c.hl7.account = "admin".into();
        c.hl7.wards = BTreeMap::from([("WD7".into(), "w7".into())]);
        c.hl7.tls_cert = Some(missing.clone());
        c.hl7.tls_key = Some(cert.key.clone());
    })
    .await?;
    // The hub starts serving in its own task: it ends there, at once.
    let ended = hub
        .stopped_within(std::time::Duration::from_secs(30))
        .await?;
    let err = ended
        .err()
        .map(|e| format!("{e:#}"))
        .ok_or_else(|| anyhow::anyhow!("the hub ran without its feed certificate"))?;
    assert!(
        err.contains("missing.pem"),
        "the error names the file: {err}"
    );
    Ok(())
}
