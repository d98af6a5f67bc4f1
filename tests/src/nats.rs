//! A `nats-server` of a test's own on a free loopback port, so that a test
//! can stop, restart or cut it without touching anyone else's (and so
//! that two clusters under test never hear each other's heartbeats).

use anyhow::Context;
use std::net::SocketAddr;
use std::process::Stdio;

/// A running `nats-server`; dropping it kills it.
pub struct NatsServer {
    child: tokio::process::Child,
    pub addr: SocketAddr,
}

/// The binary: `$NATS_SERVER`, or `nats-server` on PATH, or Debian's
/// `/usr/sbin/nats-server` (not on every user's PATH).
fn binary() -> String {
    if let Ok(p) = std::env::var("NATS_SERVER") {
        return p;
    }
    let debian = "/usr/sbin/nats-server";
    if std::path::Path::new(debian).exists() {
        return debian.to_owned();
    }
    "nats-server".to_owned()
}

impl NatsServer {
    /// Starts one on a free port.
    pub async fn start() -> anyhow::Result<NatsServer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], port))).await
    }

    /// Starts one on `addr` (a restart takes the same address again).
    pub async fn start_on(addr: SocketAddr) -> anyhow::Result<NatsServer> {
        let child = tokio::process::Command::new(binary())
            .args(["-a", &addr.ip().to_string(), "-p", &addr.port().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("spawning nats-server (apt-get install nats-server)")?;
        let server = NatsServer { child, addr };
        crate::eventually("nats-server accepts connections", || async {
            Ok(tokio::net::TcpStream::connect(addr).await.ok().map(|_| ()))
        })
        .await?;
        Ok(server)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://{}", self.addr)
    }

    /// Kills it and waits for it to go (its port is free again after).
    pub async fn stop(mut self) -> anyhow::Result<SocketAddr> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(self.addr)
    }
}
