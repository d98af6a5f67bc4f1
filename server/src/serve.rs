//! The accept loop: TCP (and TLS) connections into hyper, with the
//! connection caps applied at accept and a deadline on request headers.
//!
//! hyper's own HTTP/1 server is used directly (rather than `axum::serve`
//! or axum-server) because those do not expose the header read timeout,
//! and a cap per source address needs the peer address before anything
//! is read. A header timeout also bounds how long an idle keep-alive
//! connection is kept: hyper starts it whenever it waits for a request.

use crate::conn_limits::{ConnLimits, Counted};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tower::ServiceExt;
use tracing::{debug, warn};

/// How the listener serves each connection.
pub struct Serving {
    pub app: Router,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub conns: Arc<ConnLimits>,
    /// For the TLS handshake and each request's headers.
    pub header_timeout: Duration,
}

/// How long HTTP exchanges under way may finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// Accepts connections until `shutdown` resolves, then lets the HTTP
/// exchanges under way finish, for at most [`DRAIN`] (WebSockets close on
/// the hub's own signal).
pub async fn serve(
    listener: TcpListener,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let serving = Arc::new(serving);
    // Every connection task holds a clone of `alive`; once they are all
    // gone, `drained` yields `None`. `stopping` tells them to finish.
    let (alive, mut drained) = tokio::sync::mpsc::channel::<()>(1);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(v) => v,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // to close rather than spin.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = match serving.conns.admit(peer.ip()) {
            Ok(s) => s,
            Err(full) => {
                debug!(peer = %peer.ip(), cap = full.as_str(), "connection refused");
                continue;
            }
        };
        // Replies and events are small frames written back to back:
        // Nagle's algorithm would hold the second for the peer's ACK.
        let _ = tcp.set_nodelay(true);
        let io = Counted::new(tcp, slot);
        let serving = serving.clone();
        let (alive, stopping) = (alive.clone(), stopping.clone());
        tokio::spawn(async move {
            let _alive = alive;
            match serving.tls.clone() {
                None => serve_one(&serving, io, peer, stopping).await,
                Some(cfg) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
                    match tokio::time::timeout(serving.header_timeout, acceptor.accept(io)).await {
                        Ok(Ok(tls)) => serve_one(&serving, tls, peer, stopping).await,
                        Ok(Err(e)) => debug!(error = %e, "TLS handshake failed"),
                        Err(_) => debug!(peer = %peer.ip(), "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    drop(alive);
    let _ = stop.send(true);
    if tokio::time::timeout(DRAIN, drained.recv()).await.is_err() {
        debug!("HTTP connections still open after the drain");
    }
    Ok(())
}

async fn serve_one<I>(
    serving: &Serving,
    io: I,
    peer: SocketAddr,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = serving.app.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req)
    });
    // HTTP/1 only (TLS offers only http/1.1): hyper's own builder starts
    // the header timer at once, where a version-sniffing one would first
    // wait, without a deadline, for the peer's first bytes.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_timeout)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let ended = tokio::select! {
        r = conn.as_mut() => r,
        _ = async { stopping.wait_for(|s| *s).await.map(|_| ()) } => {
            conn.as_mut().graceful_shutdown();
            match tokio::time::timeout(DRAIN, conn.as_mut()).await {
                Ok(r) => r,
                Err(_) => return,
            }
        }
    };
    if let Err(e) = ended {
        debug!(error = %e, "connection ended with an error");
    }
}
