//! One WebSocket connection: hello and authentication, replay from the
//! store, then a loop over incoming frames, queued events, command replies,
//! heartbeats, kicks and shutdown.
//!
//! The resume race is closed by order: the connection registers for live
//! events before it reads the replay, and skips any live event whose `seq`
//! it has already sent.

use super::registry::{event_frame, Kick, Outbound, Registration};
use super::writer::error_frame;
use super::Hub;
use crate::auth::token_hash;
use crate::clock::now_ms;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::{debug, info, info_span, warn, Instrument};
use wardpage_proto::{ClientFrame, ErrorCode, ServerFrame, StaffId, PROTOCOL_VERSION};

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

const POLICY: u16 = 1008;

/// Runs one connection to its end.
pub async fn serve(hub: Arc<Hub>, mut ws: WebSocket, conn_id: u64) {
    hub.metrics.connections_total.inc();
    hub.metrics.connections_open.inc();
    let span = info_span!("conn", id = conn_id, staff = tracing::field::Empty);
    let reason = async {
        match hello(&hub, &mut ws).await {
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

/// Sends a close frame and waits briefly for the peer's, discarding what it
/// still sends: dropping a socket with unread input resets the TCP
/// connection, and the peer would never see our reason.
async fn close(ws: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
    let drain = async {
        while let Some(Ok(m)) = ws.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

async fn send_text(ws: &mut WebSocket, text: String) -> bool {
    ws.send(Message::Text(text.into())).await.is_ok()
}

/// Most frames written before one flush.
const WRITE_BURST: usize = 64;

/// Writes a burst of frames and flushes once: under load a raiser's `ok`
/// and the events for it leave in one write instead of one each.
async fn send_all(ws: &mut WebSocket, frames: Vec<String>) -> bool {
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

/// The state of an authenticated connection.
struct Session {
    staff: StaffId,
    reg: Registration,
    last_sent: u64,
    last_acked: u64,
}

/// Waits for the hello, checks it, registers, welcomes and replays.
async fn hello(hub: &Arc<Hub>, ws: &mut WebSocket) -> Result<Session, &'static str> {
    let first = match tokio::time::timeout(HELLO_TIMEOUT, ws.recv()).await {
        Err(_) => {
            close(ws, POLICY, "no hello").await;
            return Err("no hello");
        }
        Ok(None) | Ok(Some(Err(_))) => return Err("gone before hello"),
        Ok(Some(Ok(m))) => m,
    };
    let refuse = |code: ErrorCode, message: String| (code, message);
    let outcome = match first {
        Message::Text(t) => match ClientFrame::parse_at(t.as_str(), now_ms()) {
            Ok(ClientFrame::Hello {
                version,
                token,
                cursor,
                fresh,
            }) => {
                if version != PROTOCOL_VERSION {
                    Err(refuse(
                        ErrorCode::UnsupportedVersion,
                        format!("this hub speaks protocol version {PROTOCOL_VERSION}; the client sent {version}"),
                    ))
                } else {
                    Ok((token, cursor, fresh.unwrap_or(false)))
                }
            }
            Ok(_) => Err(refuse(
                ErrorCode::HelloRequired,
                "the first frame must be a hello".into(),
            )),
            Err(e) => Err(refuse(e.code, e.message)),
        },
        _ => Err(refuse(
            ErrorCode::HelloRequired,
            "the first frame must be a text hello".into(),
        )),
    };
    let (token, cursor, fresh) = match outcome {
        Ok(v) => v,
        Err((code, message)) => {
            send_text(ws, error_frame(None, code, &message)).await;
            close(ws, POLICY, "bad hello").await;
            return Err("bad hello");
        }
    };
    let hash = token_hash(&token);
    let staff = match hub.store.session(&hash, now_ms()).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            send_text(
                ws,
                error_frame(
                    None,
                    ErrorCode::Unauthorized,
                    "token unknown, expired or revoked; log in again",
                ),
            )
            .await;
            close(ws, POLICY, "unauthorized").await;
            return Err("unauthorized");
        }
        Err(e) => {
            warn!(error = %e, "session lookup failed");
            send_text(
                ws,
                error_frame(
                    None,
                    ErrorCode::Internal,
                    "could not check the token; retry",
                ),
            )
            .await;
            close(ws, 1011, "internal").await;
            return Err("internal");
        }
    };
    // Register before reading the replay so nothing committed meanwhile is missed.
    let reg = hub.registry.register(staff, hash);
    let (me, top) = match hub.writer.whois(staff).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            send_text(
                ws,
                error_frame(None, ErrorCode::Unauthorized, "account is not active"),
            )
            .await;
            close(ws, POLICY, "unauthorized").await;
            return Err("inactive account");
        }
        Err(_) => {
            send_text(
                ws,
                error_frame(None, ErrorCode::Unavailable, "the hub is shutting down"),
            )
            .await;
            close(ws, 1001, "shutting down").await;
            return Err("shutting down");
        }
    };
    let mut me = me;
    me.connected = true;
    me.last_seen_at = Some(now_ms());
    // History before the floor was pruned: the client must start afresh.
    let floor = match hub.store.stream_floor(staff).await {
        Ok(f) => f,
        Err(e) => {
            warn!(error = %e, "stream floor lookup failed");
            0
        }
    };
    let resync = fresh || cursor > top || cursor < floor;
    let welcome = ServerFrame::Welcome {
        version: PROTOCOL_VERSION,
        me,
        server_time: now_ms(),
        cursor: top,
        resync,
        heartbeat_secs: HEARTBEAT.as_secs() as u32,
    };
    if !send_text(ws, welcome.to_text()).await {
        return Err("gone during welcome");
    }
    let mut session = Session {
        staff,
        reg,
        last_sent: if resync { top } else { cursor },
        last_acked: 0,
    };
    // Replay everything committed after the cursor, page by page.
    loop {
        let page = match hub
            .store
            .replay(staff, session.last_sent, REPLAY_PAGE)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                warn!(error = %e, "replay failed");
                close(ws, 1011, "replay failed").await;
                return Err("replay failed");
            }
        };
        let n = page.len();
        for ev in page {
            if !send_text(ws, event_frame(ev.seq, ev.at, &ev.body)).await {
                return Err("gone during replay");
            }
            session.last_sent = ev.seq;
        }
        if n < REPLAY_PAGE as usize {
            break;
        }
    }
    debug!(cursor, top, resync, "welcomed");
    Ok(session)
}

impl Session {
    /// Adds an outbound event (unless already sent) or frame to a burst.
    fn outbound(&mut self, out: Outbound, frames: &mut Vec<String>) {
        match out {
            Outbound::Event { seq, at, body } => {
                if seq > self.last_sent {
                    self.last_sent = seq;
                    frames.push(event_frame(seq, at, &body));
                }
            }
            Outbound::Frame(text) => frames.push(text.to_string()),
        }
    }

    /// Adds whatever replies and events are ready now, without waiting.
    fn gather<F>(&mut self, pending: &mut FuturesUnordered<F>, frames: &mut Vec<String>)
    where
        F: std::future::Future<Output = Option<String>>,
    {
        while frames.len() < WRITE_BURST {
            match pending.next().now_or_never() {
                Some(Some(reply)) => frames.push(reply_text(reply)),
                _ => break,
            }
        }
        while frames.len() < WRITE_BURST {
            match self.reg.rx.try_recv() {
                Ok(out) => self.outbound(out, frames),
                Err(_) => break,
            }
        }
    }

    async fn run(mut self, hub: &Arc<Hub>, ws: &mut WebSocket) -> &'static str {
        let shutdown = hub.shutdown.clone();
        let mut pending = FuturesUnordered::new();
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        let mut last_heard = Instant::now();
        let mut bad_frames = 0u32;
        let mut tokens = RATE_BURST;
        let mut refilled = Instant::now();
        let entry = self.reg.entry.clone();
        loop {
            tokio::select! {
                incoming = ws.recv(), if pending.len() < MAX_IN_FLIGHT => {
                    let msg = match incoming {
                        None => return "client closed",
                        Some(Err(e)) => {
                            debug!(error = %e, "read failed");
                            // Oversized frames end here: tungstenite refuses them.
                            if e.to_string().contains("too long") || e.to_string().contains("too big") {
                                close(ws, 1009, "frame too large").await;
                                return "frame too large";
                            }
                            return "read error";
                        }
                        Some(Ok(m)) => m,
                    };
                    last_heard = Instant::now();
                    let elapsed = refilled.elapsed().as_secs_f64();
                    refilled = Instant::now();
                    tokens = (tokens + elapsed * RATE_PER_SEC).min(RATE_BURST) - 1.0;
                    if tokens < 0.0 {
                        send_text(ws, error_frame(None, ErrorCode::RateLimited, "too many frames; slow down and reconnect")).await;
                        close(ws, POLICY, "rate limited").await;
                        return "rate limited";
                    }
                    let text = match msg {
                        Message::Text(t) => t,
                        Message::Binary(_) => {
                            bad_frames += 1;
                            if !send_text(ws, error_frame(None, ErrorCode::BadJson, "binary frames are not part of the protocol; send JSON text")).await {
                                return "write failed";
                            }
                            if bad_frames > MAX_BAD_FRAMES {
                                close(ws, POLICY, "too many bad frames").await;
                                return "too many bad frames";
                            }
                            continue;
                        }
                        Message::Close(_) => return "client closed",
                        Message::Ping(_) | Message::Pong(_) => continue,
                    };
                    match ClientFrame::parse_at(text.as_str(), now_ms()) {
                        Ok(ClientFrame::Cmd { id, cmd, issued_at }) => {
                            let op = cmd.op();
                            match hub.writer.submit(self.staff, id, cmd, issued_at).await {
                                Ok(rx) => pending.push(async move { rx.await.ok() }.instrument(info_span!("cmd", op, %id))),
                                Err(_) => {
                                    send_text(ws, error_frame(Some(id), ErrorCode::Unavailable, "the hub is shutting down; resend after reconnecting")).await;
                                    close(ws, 1001, "shutting down").await;
                                    return "shutting down";
                                }
                            }
                        }
                        Ok(ClientFrame::Ack { seq }) => {
                            // A device cannot have what it was never sent.
                            let seq = seq.min(self.last_sent);
                            if seq > self.last_acked {
                                self.last_acked = seq;
                                hub.writer.acked(self.staff, seq);
                            }
                        }
                        Ok(ClientFrame::Ping {}) => {
                            let pong = ServerFrame::Pong { server_time: now_ms() }.to_text();
                            if !send_text(ws, pong).await {
                                return "write failed";
                            }
                        }
                        Ok(ClientFrame::Hello { .. }) => {
                            bad_frames += 1;
                            if !send_text(ws, error_frame(None, ErrorCode::HelloRequired, "hello was already received on this connection")).await {
                                return "write failed";
                            }
                        }
                        Err(e) => {
                            bad_frames += 1;
                            debug!(code = e.code.as_str(), "bad frame");
                            if !send_text(ws, error_frame(e.id, e.code, &e.message)).await {
                                return "write failed";
                            }
                        }
                    }
                    if bad_frames > MAX_BAD_FRAMES {
                        close(ws, POLICY, "too many bad frames").await;
                        return "too many bad frames";
                    }
                }
                Some(reply) = pending.next(), if !pending.is_empty() => {
                    let mut frames = vec![reply_text(reply)];
                    self.gather(&mut pending, &mut frames);
                    if !send_all(ws, frames).await {
                        return "write failed";
                    }
                }
                Some(out) = self.reg.rx.recv() => {
                    let mut frames = Vec::new();
                    self.outbound(out, &mut frames);
                    self.gather(&mut pending, &mut frames);
                    if !frames.is_empty() && !send_all(ws, frames).await {
                        return "write failed";
                    }
                }
                _ = ping.tick() => {
                    if last_heard.elapsed() > HEARTBEAT * 3 {
                        close(ws, 1001, "heartbeat timeout").await;
                        return "heartbeat timeout";
                    }
                    if ws.send(Message::Ping(Default::default())).await.is_err() {
                        return "write failed";
                    }
                }
                kick = entry.kicked() => {
                    // Answers already given (e.g. `internal` for the failed
                    // commit that caused the kick) go out before the close.
                    while let Some(Some(reply)) = pending.next().now_or_never() {
                        if !send_text(ws, reply_text(reply)).await { break; }
                    }
                    close(ws, kick.code, kick.reason).await;
                    return match kick {
                        Kick { code: 1013, .. } => "slow consumer",
                        _ => "kicked",
                    };
                }
                _ = shutdown.cancelled() => {
                    // Let replies to commands already committed go out first.
                    while let Ok(Some(reply)) = tokio::time::timeout(Duration::from_secs(2), pending.next()).await {
                        if !send_text(ws, reply_text(reply)).await { break; }
                    }
                    close(ws, 1012, "hub restarting").await;
                    return "shutdown";
                }
            }
        }
    }
}
