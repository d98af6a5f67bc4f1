//! The start of a connection, one step at a time: read and parse the hello
//! frame, authenticate its token, register and check the account, send the
//! welcome, then replay the stream from the client's cursor.
//!
//! Every refusal answers with an `error` frame and a close; the close
//! reason (or a shorter word for the log) is what the connection is
//! counted under in the disconnect metric.

use super::Socket;
use super::{close, refuse, send_text, Session, HEARTBEAT, HELLO_TIMEOUT, POLICY, REPLAY_PAGE};
use crate::auth::token_hash;
use crate::clock::now_ms;
use crate::hub::registry::{event_frame, Registration};
use crate::hub::session_lookups::Looked;
use crate::hub::writer::error_frame;
use crate::hub::Hub;
use axum::extract::ws::Message;
use futures_util::StreamExt;
use std::sync::Arc;
use tracing::{debug, warn};
use wardpage_proto::{ClientFrame, ErrorCode, ServerFrame, StaffId, StaffView, PROTOCOL_VERSION};

/// Close code of a hello refused because the hub is too busy to check
/// its token in time: "try again later" (RFC 6455).
pub const TRY_AGAIN_LATER: u16 = 1013;

/// The message of that refusal's `unavailable` error frame.
pub const BUSY_MESSAGE: &str = "the hub is busy; try again in a few seconds";

/// Why a connection ended before it became a session.
type Refused = &'static str;

/// What a valid hello asks for.
struct Hello {
    token: String,
    cursor: u64,
    fresh: bool,
}

/// Waits for the hello, checks it, registers, welcomes and replays.
pub(super) async fn hello(hub: &Arc<Hub>, ws: &mut Socket) -> Result<Session, Refused> {
    let hello = read_hello(ws).await?;
    let hash = token_hash(&hello.token);
    // A key is never a session (keys are stored apart, so it finds none);
    // its refusal says why. Checked after the lookup, so that a session
    // token that happens to start with the prefix still works.
    let key = hello.token.starts_with(crate::apikeys::PREFIX);
    let (staff, expires) = authenticate(hub, ws, &hash, key).await?;
    // Register before reading the replay so nothing committed meanwhile is missed.
    let reg = register(hub, ws, staff, &hash).await?;
    let (me, top) = account(hub, ws, staff).await?;
    let resync = welcome(hub, ws, staff, me, top, &hello).await?;
    let mut session = Session {
        staff,
        hash,
        expires,
        reg,
        last_sent: if resync { top } else { hello.cursor },
        last_acked: 0,
    };
    replay(hub, ws, &mut session, top).await?;
    let cursor = hello.cursor;
    debug!(cursor, top, resync, "welcomed");
    Ok(session)
}

/// Reads the first frame within [`HELLO_TIMEOUT`] and checks that it is a
/// hello in this hub's protocol version.
async fn read_hello(ws: &mut Socket) -> Result<Hello, Refused> {
    let first = match tokio::time::timeout(HELLO_TIMEOUT, ws.next()).await {
        Err(_) => {
            close(ws, POLICY, "no hello").await;
            return Err("no hello");
        }
        Ok(None) | Ok(Some(Err(_))) => return Err("gone before hello"),
        Ok(Some(Ok(m))) => m,
    };
    match parse_hello(first) {
        Ok(hello) => Ok(hello),
        Err((code, message)) => {
            refuse(ws, error_frame(None, code, &message), POLICY, "bad hello").await;
            Err("bad hello")
        }
    }
}

/// The hello in the first frame, or the error code and message it is
/// refused with.
fn parse_hello(first: Message) -> Result<Hello, (ErrorCode, String)> {
    let Message::Text(t) = first else {
        return Err((
            ErrorCode::HelloRequired,
            "the first frame must be a text hello".into(),
        ));
    };
    match ClientFrame::parse_at(t.as_str(), now_ms()) {
        Ok(ClientFrame::Hello {
            version,
            token,
            cursor,
            fresh,
        }) => {
            if version != PROTOCOL_VERSION {
                Err((
                    ErrorCode::UnsupportedVersion,
                    format!("this hub speaks protocol version {PROTOCOL_VERSION}; the client sent {version}"),
                ))
            } else {
                Ok(Hello {
                    token,
                    cursor,
                    fresh: fresh.unwrap_or(false),
                })
            }
        }
        Ok(_) => Err((
            ErrorCode::HelloRequired,
            "the first frame must be a hello".into(),
        )),
        Err(e) => Err((e.code, e.message)),
    }
}

/// Looks the token's hash up among the live sessions: who it is, and when
/// the session expires.
async fn authenticate(
    hub: &Arc<Hub>,
    ws: &mut Socket,
    hash: &str,
    key: bool,
) -> Result<(StaffId, i64), Refused> {
    match hub.sessions.check(hash).await {
        Looked::Live(staff, expires) => Ok((staff, expires)),
        Looked::NotLive => {
            let message = if key {
                "an API key cannot open the WebSocket; log in as a person"
            } else {
                "token unknown, expired or revoked; log in again"
            };
            let error = error_frame(None, ErrorCode::Unauthorized, message);
            refuse(ws, error, POLICY, "unauthorized").await;
            Err("unauthorized")
        }
        Looked::Busy => {
            // Told apart from a failure so that the device waits longer
            // before it comes back: after a takeover every device of the
            // site says hello at once (`session_lookups`).
            let error = error_frame(None, ErrorCode::Unavailable, BUSY_MESSAGE);
            refuse(ws, error, TRY_AGAIN_LATER, "busy").await;
            Err("busy")
        }
        Looked::Failed => {
            let message = "could not check the token; retry";
            refuse(
                ws,
                error_frame(None, ErrorCode::Internal, message),
                1011,
                "internal",
            )
            .await;
            Err("internal")
        }
    }
}

/// Registers for live events, within the account's cap on open sockets.
async fn register(
    hub: &Arc<Hub>,
    ws: &mut Socket,
    staff: StaffId,
    hash: &str,
) -> Result<Registration, Refused> {
    let reg = hub.registry.register(staff, hash.to_owned());
    // Counted with this one: two racing hellos may both be refused, never
    // both let in over the cap.
    if hub.registry.count(staff) > hub.config.limits.max_sockets_per_user as usize {
        let message = "too many open connections for this account; close one and retry";
        let error = error_frame(None, ErrorCode::RateLimited, message);
        refuse(ws, error, POLICY, "too many connections").await;
        // `reg` leaves the registry only now, after the close.
        return Err("too many connections");
    }
    // Presence before the welcome: `account` asks the writer next, behind
    // this hint, so a task raised once this device is welcomed already
    // counts it as connected (an offer to it rings, issue 17 hazard 4).
    hub.writer.presence(staff);
    Ok(reg)
}

/// The account as the writer knows it, and the newest `seq` in its stream;
/// an account disabled since the token was issued is refused.
async fn account(
    hub: &Arc<Hub>,
    ws: &mut Socket,
    staff: StaffId,
) -> Result<(StaffView, u64), Refused> {
    match hub.writer.whois(staff).await {
        Ok(Some(v)) => Ok(v),
        Ok(None) => {
            let error = error_frame(None, ErrorCode::Unauthorized, "account is not active");
            refuse(ws, error, POLICY, "unauthorized").await;
            Err("inactive account")
        }
        Err(_) => {
            let error = error_frame(None, ErrorCode::Unavailable, "the hub is shutting down");
            refuse(ws, error, 1001, "shutting down").await;
            Err("shutting down")
        }
    }
}

/// Sends the welcome; returns whether the client must resync, i.e. start
/// from `top` instead of replaying from its cursor.
async fn welcome(
    hub: &Arc<Hub>,
    ws: &mut Socket,
    staff: StaffId,
    mut me: StaffView,
    top: u64,
    hello: &Hello,
) -> Result<bool, Refused> {
    me.connected = true;
    me.last_seen_at = Some(now_ms());
    let resync =
        hello.fresh || hello.cursor > top || hello.cursor < floor(hub, staff, hello, top).await;
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
    Ok(resync)
}

/// The stream's floor (history before it was pruned: a client behind it
/// must start afresh), read only for a client behind `top`: one at the top
/// misses nothing, whatever was pruned. Most hellos are at the top (a
/// reconnect after a dropped socket), and in a reconnect storm every read
/// saved is one the others do not queue behind on the store's pool.
async fn floor(hub: &Arc<Hub>, staff: StaffId, hello: &Hello, top: u64) -> u64 {
    if hello.fresh || hello.cursor >= top {
        return 0;
    }
    match hub.store.stream_floor(staff).await {
        Ok(f) => f,
        Err(e) => {
            warn!(error = %e, "stream floor lookup failed");
            0
        }
    }
}

/// Replays everything committed after `session.last_sent` up to `top`,
/// page by page; nothing to read when the client is at `top` already
/// (what is committed after `top` comes live: the session registered
/// before `top` was read).
async fn replay(
    hub: &Arc<Hub>,
    ws: &mut Socket,
    session: &mut Session,
    top: u64,
) -> Result<(), Refused> {
    if session.last_sent >= top {
        return Ok(());
    }
    loop {
        let page = match hub
            .store
            .replay(session.staff, session.last_sent, REPLAY_PAGE)
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
            return Ok(());
        }
    }
}
