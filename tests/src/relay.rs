//! A TCP relay a test can cut: it listens on a free loopback port and
//! passes every connection on to a target (a PostgreSQL server, a NATS
//! server), so that a test can cut one hub node off from a service while
//! the node and the service both keep running.
//!
//! [`Relay::cut`] ends every open connection at once and refuses new ones
//! (they are accepted and closed, as a dead route would look to the node);
//! [`Relay::restore`] lets new ones through again. [`Relay::stall`] is
//! the other way a network breaks: every connection, open or new, stays
//! up but passes nothing (as when a firewall drops packets) until
//! restored, when what was held back flows on. [`Relay::blackhole_open`]
//! stalls only the connections open now, for good, while new ones pass
//! (a stateful firewall that lost its connection table: the node's old
//! connections hang, a new one works). It is real TCP end to
//! end: the node's driver sees what it would see on a broken network.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A running relay; dropping it stops the relay and ends its connections.
pub struct Relay {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    /// Whether bytes pass, and for which connections.
    flow: watch::Sender<Flow>,
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
        let (flow, _) = watch::channel(Flow::default());
        let task = tokio::spawn(accept_loop(
            listener,
            target,
            cut.clone(),
            (generation.subscribe(), flow.subscribe()),
            accepted.clone(),
        ));
        Ok(Relay {
            addr,
            cut,
            flow,
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

    /// Holds every connection, open or new, without passing a byte until
    /// restored.
    pub fn stall(&self) {
        self.flow.send_modify(|f| f.stalled = true);
    }

    /// Stalls every connection open now for good (they stay up and pass
    /// nothing, even once restored); new ones pass.
    pub fn blackhole_open(&self) {
        self.flow.send_modify(|f| f.holes += 1);
    }

    /// Lets new connections through again (after a cut), and bytes again
    /// (after a stall).
    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
        self.flow.send_modify(|f| f.stalled = false);
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
    (generation, flow): (watch::Receiver<u64>, watch::Receiver<Flow>),
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
        let flow = flow.clone();
        // Bytes pass while not stalled and no blackhole came after it.
        let born = flow.borrow().holes;
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(target).await else {
                return;
            };
            let (a_read, a_write) = inbound.into_split();
            let (b_read, b_write) = outbound.into_split();
            tokio::select! {
                _ = async {
                    tokio::join!(
                        pump(a_read, b_write, flow.clone(), born),
                        pump(b_read, a_write, flow, born)
                    )
                } => {}
                // A cut (or the relay's end): both sockets drop here.
                _ = generation.changed() => {}
            }
        });
    }
}

/// Whether bytes pass, for connections born at a blackhole count.
#[derive(Debug, Clone, Copy, Default)]
struct Flow {
    stalled: bool,
    /// Bumped by every [`Relay::blackhole_open`].
    holes: u64,
}

/// Passes bytes from `from` to `to` while they may flow for a connection
/// born at `born`; at the end of `from`, ends `to`'s writing half.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut flow: watch::Receiver<Flow>,
    born: u64,
) {
    let passes = move |f: &Flow| !f.stalled && f.holes == born;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if flow.wait_for(passes).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        // Read as the stall began: held back until it ends.
        if flow.wait_for(passes).await.is_err() || to.write_all(&buf[..n]).await.is_err() {
            return;
        }
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

        // A blackhole: the open connection passes nothing, a new one does.
        relay.blackhole_open();
        e.write_all(b"lost").await?;
        let mut f = TcpStream::connect(relay.addr()).await?;
        f.write_all(b"next").await?;
        f.read_exact(&mut buf).await?;
        assert_eq!(&buf, b"next");
        // The new connection's echo came back; the old one's (sent first)
        // still has not.
        let n = tokio::time::timeout(std::time::Duration::from_millis(100), e.read(&mut buf)).await;
        assert!(n.is_err(), "a blackholed connection passed bytes");
        Ok(())
    }
}
