//! A TCP relay a test can cut: it listens on a free loopback port and
//! passes every connection on to a target (a PostgreSQL server, a NATS
//! server), so that a test can cut one hub node off from a service while
//! the node and the service both keep running.
//!
//! [`Relay::cut`] ends every open connection at once and refuses new ones
//! (they are accepted and closed, as a dead route would look to the node);
//! [`Relay::restore`] lets new ones through again. It is real TCP end to
//! end: the node's driver sees what it would see on a broken network.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running relay; dropping it stops the relay and ends its connections.
pub struct Relay {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    /// Bumped on every cut: each connection watches it and ends.
    generation: watch::Sender<u64>,
    accepted: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// Starts a relay to `target` on a free port of 127.0.0.1.
    pub async fn start(target: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = watch::channel(0u64);
        let accepted = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(accept_loop(
            listener,
            target,
            cut.clone(),
            generation.subscribe(),
            accepted.clone(),
        ));
        Ok(Relay {
            addr,
            cut,
            generation,
            accepted,
            task,
        })
    }

    /// The address to give the node instead of the service's own.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections passed through so far (a test can see that the node
    /// came back through the relay after [`Relay::restore`]).
    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Ends every open connection and refuses new ones until restored.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    /// Lets new connections through again.
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.generation.send_modify(|g| *g += 1);
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    cut: Arc<AtomicBool>,
    generation: watch::Receiver<u64>,
    accepted: Arc<AtomicU64>,
) {
    while let Ok((inbound, _)) = listener.accept().await {
        if cut.load(Ordering::SeqCst) {
            drop(inbound);
            continue;
        }
        accepted.fetch_add(1, Ordering::SeqCst);
        let mut generation = generation.clone();
        generation.mark_unchanged();
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(target).await else {
                return;
            };
            let (mut a, mut b) = (inbound, outbound);
            tokio::select! {
                _ = copy_bidirectional(&mut a, &mut b) => {}
                // A cut (or the relay's end): both sockets drop here.
                _ = generation.changed() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn passes_bytes_then_cuts_and_restores() -> anyhow::Result<()> {
        // An echo server as the target.
        let echo = TcpListener::bind("127.0.0.1:0").await?;
        let target = echo.local_addr()?;
        tokio::spawn(async move {
            while let Ok((mut s, _)) = echo.accept().await {
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = s.read(&mut buf).await {
                        if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        let relay = Relay::start(target).await?;
        let mut c = TcpStream::connect(relay.addr()).await?;
        c.write_all(b"ping").await?;
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"ping");

        relay.cut();
        // The open connection ends: a read returns 0 or an error.
        let n = c.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 0, "a cut connection must end");
        // A new one is accepted and closed at once.
        let mut d = TcpStream::connect(relay.addr()).await?;
        let n = d.read(&mut buf).await.unwrap_or(0);
        assert_eq!(n, 0, "a connection during the cut must be refused");

        relay.restore();
        let mut e = TcpStream::connect(relay.addr()).await?;
        e.write_all(b"back").await?;
        e.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"back");
        assert_eq!(relay.accepted(), 2);
        Ok(())
    }
}
