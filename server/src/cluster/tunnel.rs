//! WebSocket tunnels over NATS: a device connected to a node that does not
//! own the site keeps its socket on that node, and its frames travel to
//! the owner and back as NATS messages; the owner runs an ordinary
//! connection session (`hub::connection::serve_on`) over the tunnel.
//!
//! Opening: the device's node subscribes `wardpage.site.<site>.tunnel.<id>.down`
//! and sends `{id, node, epoch}` as a request on `wardpage.site.<site>.tunnel`;
//! the owner (if `epoch` is its own) subscribes `....<id>.up`, answers
//! `ok` and starts the session. Every message is one WebSocket message:
//! a kind byte, the tunnel's sequence number (8 bytes, big-endian, from 1
//! in each direction), then the data (for a close: the code, 2 bytes, and
//! the reason).
//!
//! NATS only carries: a gap in either direction's sequence, a stale
//! owner heartbeat or a new epoch (at the device's node), and a stale
//! heartbeat of the device's node (at the owner) end the tunnel. The device
//! is closed with 1012 and a reason, reconnects, and is replayed from the
//! store from its cursor.

use super::bus::{Bus, OwnerBeat};
use super::tunnel_open::Opened;
use crate::hub::connection::serve_on;
use crate::hub::Hub;
use crate::metrics::KindLabels;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::{Sink, Stream, StreamExt};
use serde::{Deserialize, Serialize};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::{debug, info, info_span, warn, Instrument};

/// Close reason when frames were lost between the nodes.
pub const REASON_GAP: &str = "cluster tunnel lost frames: reconnect";
/// Close reason when the owner (or the bus) cannot be heard.
pub const REASON_OWNER_LOST: &str = "cluster owner lost: reconnect";
/// Close code of both: "service restart", as for a node standing down.
pub const CODE: u16 = 1012;
/// A publish that does not go out within this means the bus is gone.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);

const TEXT: u8 = 0;
const BINARY: u8 = 1;
const PING: u8 = 2;
const PONG: u8 = 3;
const CLOSE: u8 = 4;

/// A tunnel open, device's node to owner (see the module's doc).
#[derive(Serialize, Deserialize)]
pub(super) struct Open {
    pub id: String,
    pub node: String,
    pub epoch: i64,
}

pub(super) fn up(bus: &Bus, id: &str) -> String {
    bus.subject(&format!("tunnel.{id}.up"))
}

pub(super) fn down(bus: &Bus, id: &str) -> String {
    bus.subject(&format!("tunnel.{id}.down"))
}

fn encode(seq: u64, msg: Message) -> Bytes {
    let (kind, data): (u8, Vec<u8>) = match msg {
        Message::Text(t) => (TEXT, t.as_str().as_bytes().to_vec()),
        Message::Binary(b) => (BINARY, b.to_vec()),
        Message::Ping(b) => (PING, b.to_vec()),
        Message::Pong(b) => (PONG, b.to_vec()),
        Message::Close(c) => {
            let mut d = Vec::new();
            if let Some(c) = c {
                d.extend_from_slice(&c.code.to_be_bytes());
                d.extend_from_slice(c.reason.as_str().as_bytes());
            }
            (CLOSE, d)
        }
    };
    let mut out = Vec::with_capacity(9 + data.len());
    out.push(kind);
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&data);
    out.into()
}

fn decode(bytes: &Bytes) -> Option<(u64, Message)> {
    let kind = *bytes.first()?;
    let seq = u64::from_be_bytes(bytes.get(1..9)?.try_into().ok()?);
    let data = bytes.slice(9..);
    let msg = match kind {
        TEXT => Message::Text(Utf8Bytes::try_from(data).ok()?),
        BINARY => Message::Binary(data),
        PING => Message::Ping(data),
        PONG => Message::Pong(data),
        CLOSE if data.len() >= 2 => Message::Close(Some(CloseFrame {
            code: u16::from_be_bytes([data[0], data[1]]),
            reason: Utf8Bytes::try_from(data.slice(2..)).ok()?,
        })),
        CLOSE => Message::Close(None),
        _ => return None,
    };
    Some((seq, msg))
}

fn close_msg(reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code: CODE,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Publishes within [`PUBLISH_TIMEOUT`]; whether it went.
async fn publish(bus: &Bus, subject: &str, payload: Bytes) -> bool {
    let send = bus.client.publish(subject.to_owned(), payload);
    matches!(
        tokio::time::timeout(PUBLISH_TIMEOUT, send).await,
        Ok(Ok(()))
    )
}

/// Counts a tunnel open while it lives.
struct OpenTunnel(Arc<Bus>);

impl OpenTunnel {
    fn new(bus: &Arc<Bus>) -> OpenTunnel {
        bus.metrics.cluster_tunnels_open.inc();
        OpenTunnel(bus.clone())
    }
}

impl Drop for OpenTunnel {
    fn drop(&mut self) {
        self.0.metrics.cluster_tunnels_open.dec();
    }
}

/// On the device's node: carries `ws` through the tunnel `opened`
/// (`tunnel_open`) to the owner and back until either end closes or the
/// tunnel breaks.
pub async fn relay(bus: Arc<Bus>, mut ws: WebSocket, opened: Opened) {
    let Opened { id, owner, downs } = opened;
    let span = info_span!("tunnel", id = %id, owner = %owner.node, epoch = owner.epoch);
    async {
        let _open = OpenTunnel::new(&bus);
        match carry(&bus, &mut ws, &id, &owner, downs).await {
            Ended::Broken(reason) => {
                info!(reason, "tunnel broken: closing the device");
                let _ = ws.send(close_msg(reason)).await;
                // The owner's session ends too (it may already have).
                let _ = publish(&bus, &up(&bus, &id), encode(u64::MAX, close_msg(reason))).await;
                drain(&mut ws).await;
            }
            Ended::ClosedByOwner => drain(&mut ws).await,
            Ended::Closed => {}
        }
    }
    .instrument(span)
    .await;
}

/// Ends the owner's side of a tunnel whose device never arrived (its
/// upgrade failed after the owner had accepted).
pub async fn abandon(bus: Arc<Bus>, id: String) {
    let _ = publish(&bus, &up(&bus, &id), encode(u64::MAX, Message::Close(None))).await;
}

enum Ended {
    /// The device closed (or went), and the owner was told.
    Closed,
    /// The owner closed, and the device was told.
    ClosedByOwner,
    /// The tunnel broke: the device is to be closed with this reason.
    Broken(&'static str),
}

async fn carry(
    bus: &Bus,
    ws: &mut WebSocket,
    id: &str,
    owner: &OwnerBeat,
    mut downs: async_nats::Subscriber,
) -> Ended {
    let (up, mut up_seq, mut down_seq) = (up(bus, id), 0u64, 0u64);
    let mut live = bus.watch_owner();
    live.mark_changed();
    loop {
        tokio::select! {
            from_device = ws.next() => {
                let (msg, last) = match from_device {
                    Some(Ok(m)) => { let last = matches!(m, Message::Close(_)); (m, last) }
                    // Gone without a close: the owner's session ends.
                    _ => (Message::Close(None), true),
                };
                up_seq += 1;
                if !publish(bus, &up, encode(up_seq, msg)).await {
                    return Ended::Broken(REASON_OWNER_LOST);
                }
                bus.metrics.cluster_forwarded.get_or_create(&KindLabels { kind: "frame" }).inc();
                if last {
                    return Ended::Closed;
                }
            }
            from_owner = downs.next() => {
                let Some((seq, msg)) = from_owner.as_ref().and_then(|m| decode(&m.payload)) else {
                    return Ended::Broken(REASON_OWNER_LOST);
                };
                if seq != down_seq + 1 {
                    debug!(seq, expected = down_seq + 1, "gap from the owner");
                    return Ended::Broken(REASON_GAP);
                }
                down_seq = seq;
                let last = matches!(msg, Message::Close(_));
                if ws.send(msg).await.is_err() {
                    let _ = publish(bus, &up, encode(up_seq + 1, Message::Close(None))).await;
                    return Ended::Closed;
                }
                if last {
                    return Ended::ClosedByOwner;
                }
            }
            _ = bus.stopped() => return Ended::Broken(crate::hub::STANDING_DOWN),
            changed = live.changed() => {
                let heard = changed.is_ok() && match &*live.borrow_and_update() {
                    Some((node, epoch)) => *epoch == owner.epoch && *node == owner.node,
                    None => false,
                };
                if !heard {
                    return Ended::Broken(REASON_OWNER_LOST);
                }
            }
        }
    }
}

/// Waits briefly for the device's close after ours, discarding the rest:
/// a socket dropped with unread input resets, and the device would never
/// read the reason.
async fn drain(ws: &mut WebSocket) {
    let wait = async {
        while let Some(Ok(m)) = ws.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), wait).await;
}

/// On the owner: accepts tunnels for `hub` at `epoch` until aborted.
/// Subscribes before it returns, so that the node is not announced as the
/// owner while an opening would still find nobody listening (which the
/// opener takes for the owner's death).
pub async fn accept(bus: Arc<Bus>, hub: Arc<Hub>, epoch: i64) -> tokio::task::JoinHandle<()> {
    let sub = bus.client.subscribe(bus.subject("tunnel")).await;
    tokio::spawn(async move {
        let mut sub = match sub {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "cannot subscribe to tunnel openings");
                return;
            }
        };
        while let Some(msg) = sub.next().await {
            let Some(reply) = msg.reply.clone() else {
                continue;
            };
            let answer: Bytes = match serde_json::from_slice::<Open>(&msg.payload) {
                // The id becomes part of two subjects: no wildcards, no dots.
                Ok(o) if !valid_id(&o.id) => Bytes::from_static(b"malformed"),
                Ok(o) if o.epoch != epoch => Bytes::from_static(b"another epoch"),
                Ok(_) if *hub.shutdown.borrow() => Bytes::from_static(b"shutting down"),
                Ok(o) => match start(&bus, &hub, o).await {
                    Ok(()) => Bytes::from_static(b"ok"),
                    Err(e) => Bytes::from(format!("cannot open: {e}")),
                },
                Err(_) => Bytes::from_static(b"malformed"),
            };
            let _ = bus.client.publish(reply, answer).await;
        }
    })
}

/// A tunnel id as the device's node makes them (a UUID's 32 hex digits),
/// or anything else short of letters and digits.
fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Subscribes the tunnel's up subject and starts its session.
async fn start(bus: &Arc<Bus>, hub: &Arc<Hub>, open: Open) -> anyhow::Result<()> {
    let ups = bus.client.subscribe(up(bus, &open.id)).await?;
    bus.heard_node(&open.node);
    let (tx, rx) = mpsc::channel(64);
    let seq = Arc::new(AtomicU64::new(0));
    let sink = publisher(bus.clone(), down(bus, &open.id), seq.clone());
    let socket = OwnerEnd {
        rx,
        sink,
        broken: false,
    };
    tokio::spawn(pump(
        bus.clone(),
        ups,
        open.node.clone(),
        open.id.clone(),
        seq.clone(),
        tx,
    ));
    let (bus, hub2, id) = (bus.clone(), hub.clone(), open.id);
    let conn_id = crate::http::next_conn_id();
    let session = async move {
        let _open = OpenTunnel::new(&bus);
        info!(conn = conn_id, "tunnel open");
        serve_on(hub2, Box::new(socket), conn_id).await;
        // Whatever ended the session, the device's node ends the device's
        // socket: a last close, harmless if one was sent already.
        let n = seq.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = publish(
            &bus,
            &down(&bus, &id),
            encode(n, close_msg(REASON_OWNER_LOST)),
        )
        .await;
    }
    .instrument(info_span!("tunnel", node = %open.node));
    // Tracked, so that a stopping owner waits for the session's goodbye.
    tokio::spawn(hub.connections.track_future(session));
    Ok(())
}

type BoxSink = Pin<Box<dyn Sink<Message, Error = axum::Error> + Send>>;

/// The session's writes, published in order with the next sequence number.
fn publisher(bus: Arc<Bus>, subject: String, seq: Arc<AtomicU64>) -> BoxSink {
    Box::pin(futures_util::sink::unfold(
        (bus, subject, seq),
        |(bus, subject, seq), msg: Message| async move {
            let n = seq.fetch_add(1, Ordering::SeqCst) + 1;
            if publish(&bus, &subject, encode(n, msg)).await {
                Ok((bus, subject, seq))
            } else {
                Err(axum::Error::new("the bus is gone"))
            }
        },
    ))
}

/// Reads the device's frames off the bus in order, and ends the stream on
/// a gap or once the device's node is no longer heard.
async fn pump(
    bus: Arc<Bus>,
    mut ups: async_nats::Subscriber,
    node: String,
    id: String,
    seq: Arc<AtomicU64>,
    tx: mpsc::Sender<Result<Message, axum::Error>>,
) {
    let mut expected = 1u64;
    let mut lost = bus.watch_nodes_lost();
    let why = loop {
        tokio::select! {
            msg = ups.next() => {
                let Some((n, msg)) = msg.as_ref().and_then(|m| decode(&m.payload)) else {
                    break REASON_OWNER_LOST;
                };
                // The device's node ends a broken tunnel with `u64::MAX`.
                if n != expected && n != u64::MAX {
                    break REASON_GAP;
                }
                expected += 1;
                if tx.send(Ok(msg)).await.is_err() {
                    return;
                }
            }
            _ = lost.changed() => {
                if !bus.node_alive(&node) || !bus.connected() {
                    break REASON_OWNER_LOST;
                }
            }
            _ = tx.closed() => return,
        }
    };
    info!(reason = why, tunnel = %id, "tunnel broken at the owner");
    let n = seq.fetch_add(1, Ordering::SeqCst) + 1;
    let _ = publish(&bus, &down(&bus, &id), encode(n, close_msg(why))).await;
    let _ = tx.send(Err(axum::Error::new(why))).await;
}

/// The owner's end of a tunnel, as a connection's socket.
struct OwnerEnd {
    rx: mpsc::Receiver<Result<Message, axum::Error>>,
    sink: BoxSink,
    /// A publish failed: every later write fails at once (the `unfold`
    /// sink has no state left to write with after an error).
    broken: bool,
}

impl OwnerEnd {
    fn watch(&mut self, r: Poll<Result<(), axum::Error>>) -> Poll<Result<(), axum::Error>> {
        if matches!(r, Poll::Ready(Err(_))) {
            self.broken = true;
        }
        r
    }

    fn gone() -> axum::Error {
        axum::Error::new("the tunnel is broken")
    }
}

impl Stream for OwnerEnd {
    type Item = Result<Message, axum::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Sink<Message> for OwnerEnd {
    type Error = axum::Error;
    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.broken {
            return Poll::Ready(Err(Self::gone()));
        }
        let r = self.sink.as_mut().poll_ready(cx);
        self.watch(r)
    }
    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        if self.broken {
            return Err(Self::gone());
        }
        self.sink.as_mut().start_send(item)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.broken {
            return Poll::Ready(Err(Self::gone()));
        }
        let r = self.sink.as_mut().poll_flush(cx);
        self.watch(r)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.broken {
            return Poll::Ready(Ok(()));
        }
        let r = self.sink.as_mut().poll_close(cx);
        self.watch(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_message_crosses_with_its_number() {
        let msgs = [
            Message::Text("{\"type\":\"ping\"}".into()),
            Message::Binary(Bytes::from_static(b"\x00\x01")),
            Message::Ping(Bytes::from_static(b"p")),
            Message::Pong(Bytes::new()),
            close_msg(REASON_GAP),
            Message::Close(None),
        ];
        for (n, msg) in msgs.into_iter().enumerate() {
            let seq = n as u64 + 1;
            let (got_seq, got) = decode(&encode(seq, msg.clone())).expect("decodes");
            assert_eq!((got_seq, got), (seq, msg));
        }
        assert!(decode(&Bytes::from_static(b"\x00short")).is_none());
        assert!(decode(&Bytes::from_static(b"\x09\0\0\0\0\0\0\0\x01")).is_none());
    }
    #[test]
    fn a_tunnel_id_cannot_widen_a_subject() {
        assert!(valid_id(&uuid::Uuid::new_v4().simple().to_string()));
        for bad in ["", "*", ">", "a.b", "a b", &"x".repeat(65)] {
            assert!(!valid_id(bad), "{bad:?}");
        }
    }

    /// A session writes again after a failed write (a refusal's close
    /// after its error frame): that fails too, and must not panic.
    #[tokio::test]
    async fn a_write_after_a_failed_one_fails_too() {
        use futures_util::SinkExt;
        let failing: BoxSink = Box::pin(futures_util::sink::unfold((), |(), _m: Message| async {
            Err::<(), _>(axum::Error::new("the bus is gone"))
        }));
        let (_tx, rx) = mpsc::channel(1);
        let mut end = OwnerEnd {
            rx,
            sink: failing,
            broken: false,
        };
        assert!(end.send(Message::Text("a".into())).await.is_err());
        assert!(end.send(close_msg(REASON_GAP)).await.is_err());
    }
}
