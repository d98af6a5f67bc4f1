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
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
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
/// exchanges under way finish (WebSockets close on the hub's own signal).
pub async fn serve(
    listener: TcpListener,
    serving: Serving,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let serving = Arc::new(serving);
    let graceful = GracefulShutdown::new();
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
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match serving.tls.clone() {
                None => serve_one(&serving, io, peer, watcher).await,
                Some(cfg) => {
                    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
                    match tokio::time::timeout(serving.header_timeout, acceptor.accept(io)).await {
                        Ok(Ok(tls)) => serve_one(&serving, tls, peer, watcher).await,
                        Ok(Err(e)) => debug!(error = %e, "TLS handshake failed"),
                        Err(_) => debug!(peer = %peer.ip(), "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => debug!("HTTP connections still open after the drain"),
    }
    Ok(())
}

async fn serve_one<I>(
    serving: &Serving,
    io: I,
    peer: SocketAddr,
    watcher: hyper_util::server::graceful::Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let app = serving.app.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_timeout);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    if let Err(e) = watcher.watch(conn.into_owned()).await {
        debug!(error = %e, "connection ended with an error");
    }
}
