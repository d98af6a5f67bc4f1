//! One WebSocket connection: hello and authentication, replay from the
//! store, then a loop over incoming frames, queued events, command replies,
//! heartbeats, kicks and shutdown.
//!
//! The resume race is closed by order: the connection registers for live
//! events before it reads the replay, and skips any live event whose `seq`
//! it has already sent.
//!
//! `hello.rs` takes a connection as far as an authenticated, replayed
//! [`Session`]; `session.rs` runs the `select!` loop after it, and
//! `incoming.rs` handles each frame the client sends. This file holds
//! what they share: the limits, the session state and the write helpers.

mod hello;
mod incoming;
mod session;

use super::registry::Registration;
use super::writer::error_frame;
use super::Hub;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, info_span, Instrument};
use wardpage_proto::{ErrorCode, StaffId};

/// Interval between the hub's pings; a peer silent for three is dropped.
pub const HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a new connection may take to say hello.
const HELLO_TIMEOUT: Duration = Duration::from_secs(10);
/// Commands from one connection waiting for their commit at once.
const MAX_IN_FLIGHT: usize = 64;
/// Bad frames tolerated on one connection before it is closed.
const MAX_BAD_FRAMES: u32 = 20;
/// Token bucket: sustained frames per second, and burst.
const RATE_PER_SEC: f64 = 200.0;
const RATE_BURST: f64 = 400.0;
/// Events read from the store per replay query.
const REPLAY_PAGE: u32 = 500;
/// Most frames written before one flush.
const WRITE_BURST: usize = 64;

const POLICY: u16 = 1008;

/// What a connection runs over: anything that reads and writes WebSocket
/// messages. A device's own socket, or (in a cluster) a tunnel from the
/// node the device is connected to (`cluster::tunnel`).
pub trait Transport:
    Stream<Item = Result<Message, axum::Error>> + Sink<Message, Error = axum::Error> + Send + Unpin
{
}

impl<T> Transport for T where
    T: Stream<Item = Result<Message, axum::Error>>
        + Sink<Message, Error = axum::Error>
        + Send
        + Unpin
{
}

/// The connection's socket, boxed so that one session code serves both
/// kinds (a virtual call per frame is nothing beside its JSON).
pub type Socket = Box<dyn Transport>;

/// Runs one connection on a device's own WebSocket to its end.
pub async fn serve(hub: Arc<Hub>, ws: WebSocket, conn_id: u64) {
    serve_on(hub, Box::new(ws), conn_id).await;
}

/// Runs one connection on any [`Transport`] to its end.
pub async fn serve_on(hub: Arc<Hub>, mut ws: Socket, conn_id: u64) {
    hub.metrics.connections_total.inc();
    hub.metrics.connections_open.inc();
    let span = info_span!("conn", id = conn_id, staff = tracing::field::Empty);
    let reason = async {
        match hello::hello(&hub, &mut ws).await {
            Ok(session) => {
                let staff = session.staff;
                tracing::Span::current().record("staff", tracing::field::display(staff));
                // Hints on every change: the writer reads the registry for
                // the truth, so two devices coming and going at once cannot
                // leave someone shown as connected.
                hub.writer.presence(staff);
                let reason = session.run(&hub, &mut ws).await;
                // The session (and its registration) is gone now.
                hub.writer.presence(staff);
                reason
            }
            Err(reason) => reason,
        }
    }
    .instrument(span.clone())
    .await;
    span.in_scope(|| info!(reason, "connection closed"));
    hub.metrics
        .disconnects
        .get_or_create(&crate::metrics::ReasonLabels { reason })
        .inc();
    hub.metrics.connections_open.dec();
}

/// The state of an authenticated connection.
struct Session {
    staff: StaffId,
    /// The session's token hash and expiry, re-checked while the socket is
    /// open: a socket must not outlive its session.
    hash: String,
    expires: i64,
    reg: Registration,
    last_sent: u64,
    last_acked: u64,
}

/// Sends a close frame and waits briefly for the peer's, discarding what it
/// still sends: dropping a socket with unread input resets the TCP
/// connection, and the peer would never see our reason.
async fn close(ws: &mut Socket, code: u16, reason: &'static str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
    let drain = async {
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// Sends an `error` frame, then closes: the close is sent even if the
/// frame could not be, so a refusal always ends the socket.
async fn refuse(ws: &mut Socket, error: String, code: u16, reason: &'static str) {
    send_text(ws, error).await;
    close(ws, code, reason).await;
}

async fn send_text(ws: &mut Socket, text: String) -> bool {
    ws.send(Message::Text(text.into())).await.is_ok()
}

/// Writes a burst of frames and flushes once: under load a raiser's `ok`
/// and the events for it leave in one write instead of one each.
async fn send_all(ws: &mut Socket, frames: Vec<String>) -> bool {
    for text in frames {
        if ws.feed(Message::Text(text.into())).await.is_err() {
            return false;
        }
    }
    ws.flush().await.is_ok()
}

fn reply_text(reply: Option<String>) -> String {
    reply.unwrap_or_else(|| error_frame(None, ErrorCode::Unavailable, "the hub is shutting down"))
}
