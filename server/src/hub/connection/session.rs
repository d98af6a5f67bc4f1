//! The loop of an authenticated connection: one `select!` over everything
//! it waits on, each source handled by a method of [`Live`] that says
//! whether the connection goes on or ends, and with which reason.
//!
//! Frames from the client are handled in `incoming.rs`; this file holds the
//! loop and the other sources: command replies, queued events, the
//! heartbeat, the session's expiry and re-check, kicks and shutdown.

use super::Socket;
use super::{
    close, refuse, reply_text, send_all, send_text, Session, HEARTBEAT, MAX_IN_FLIGHT, POLICY,
    RATE_BURST, WRITE_BURST,
};
use crate::clock::now_ms;
use crate::hub::registry::{event_frame, Kick, Outbound};
use crate::hub::session_lookups::Looked;
use crate::hub::writer::error_frame;
use crate::hub::Hub;
use axum::extract::ws::Message;
use futures_util::future::Map;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, SinkExt, StreamExt};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tracing::instrument::Instrumented;
use tracing::warn;
use wardpage_proto::ErrorCode;

/// A command's reply on its way from the writer, in the command's span;
/// `None` if the writer went away first.
pub(super) type Reply = Instrumented<
    Map<oneshot::Receiver<String>, fn(Result<String, oneshot::error::RecvError>) -> Option<String>>,
>;

/// What one step of the loop decided: go on, or end with this reason.
pub(super) type Step = Result<(), &'static str>;

/// An authenticated connection while its loop runs.
pub(super) struct Live<'a> {
    pub(super) hub: &'a Arc<Hub>,
    pub(super) ws: &'a mut Socket,
    pub(super) session: Session,
    /// Commands submitted and not yet answered, at most [`MAX_IN_FLIGHT`].
    pub(super) pending: FuturesUnordered<Reply>,
    pub(super) last_heard: Instant,
    pub(super) bad_frames: u32,
    /// The rate limit's token bucket and when it was last refilled.
    pub(super) tokens: f64,
    pub(super) refilled: Instant,
}

impl Session {
    /// Serves the connection until it ends; returns the reason.
    pub(super) async fn run(self, hub: &Arc<Hub>, ws: &mut Socket) -> &'static str {
        let mut shutdown = hub.shutdown.clone();
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
        let entry = self.reg.entry.clone();
        let mut sessions = hub.sessions_changed.clone();
        let until_expiry = Duration::from_millis((self.expires - now_ms()).max(0) as u64);
        let expiry = tokio::time::sleep(until_expiry);
        tokio::pin!(expiry);
        let mut live = Live {
            hub,
            ws,
            session: self,
            pending: FuturesUnordered::new(),
            last_heard: Instant::now(),
            bad_frames: 0,
            tokens: RATE_BURST,
            refilled: Instant::now(),
        };
        loop {
            let step = tokio::select! {
                incoming = live.ws.next(), if live.pending.len() < MAX_IN_FLIGHT => {
                    live.incoming(incoming).await
                }
                Some(reply) = live.pending.next(), if !live.pending.is_empty() => {
                    live.reply(reply).await
                }
                Some(out) = live.session.reg.rx.recv() => live.event(out).await,
                _ = ping.tick() => live.heartbeat().await,
                _ = &mut expiry => Err(live.expired().await),
                Ok(()) = sessions.changed() => live.recheck_session().await,
                kick = entry.kicked() => Err(live.kicked(kick).await),
                _ = shutdown.changed() => Err(live.shut_down().await),
            };
            if let Err(reason) = step {
                return reason;
            }
        }
    }

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
}

impl Live<'_> {
    /// A command's reply: sent with whatever else is ready.
    async fn reply(&mut self, reply: Option<String>) -> Step {
        let mut frames = vec![reply_text(reply)];
        self.gather(&mut frames);
        if !send_all(self.ws, frames).await {
            return Err("write failed");
        }
        Ok(())
    }

    /// An event or frame from the registry queue: sent with whatever else
    /// is ready (nothing is sent if it was an event already replayed).
    async fn event(&mut self, out: Outbound) -> Step {
        let mut frames = Vec::new();
        self.session.outbound(out, &mut frames);
        self.gather(&mut frames);
        if !frames.is_empty() && !send_all(self.ws, frames).await {
            return Err("write failed");
        }
        Ok(())
    }

    /// Adds whatever replies and events are ready now, without waiting.
    fn gather(&mut self, frames: &mut Vec<String>) {
        while frames.len() < WRITE_BURST {
            match self.pending.next().now_or_never() {
                Some(Some(reply)) => frames.push(reply_text(reply)),
                _ => break,
            }
        }
        while frames.len() < WRITE_BURST {
            match self.session.reg.rx.try_recv() {
                Ok(out) => self.session.outbound(out, frames),
                Err(_) => break,
            }
        }
    }

    /// The heartbeat tick: drops a peer silent for three, else pings it.
    async fn heartbeat(&mut self) -> Step {
        if self.last_heard.elapsed() > HEARTBEAT * 3 {
            close(self.ws, 1001, "heartbeat timeout").await;
            return Err("heartbeat timeout");
        }
        if self
            .ws
            .send(Message::Ping(Default::default()))
            .await
            .is_err()
        {
            return Err("write failed");
        }
        Ok(())
    }

    /// The session reached its expiry.
    async fn expired(&mut self) -> &'static str {
        let message = "the session has expired; log in again";
        let error = error_frame(None, ErrorCode::Unauthorized, message);
        refuse(self.ws, error, POLICY, "session expired").await;
        "session expired"
    }

    /// Some session changed (a logout, a revocation, an account disabled):
    /// is this one still live?
    async fn recheck_session(&mut self) -> Step {
        match self.hub.sessions.check(&self.session.hash).await {
            Looked::Live(..) => {}
            Looked::NotLive => {
                let message = "the session was revoked or the account disabled; log in again";
                let error = error_frame(None, ErrorCode::Unauthorized, message);
                refuse(self.ws, error, POLICY, "session revoked").await;
                return Err("session revoked");
            }
            // The store is unreachable or slow: keep serving; the next
            // change re-checks.
            Looked::Failed | Looked::Busy => warn!("session re-check did not answer"),
        }
        Ok(())
    }

    /// The registry kicked this connection (logout, slow consumer, a
    /// failed commit).
    async fn kicked(&mut self, kick: Kick) -> &'static str {
        // Answers already given (e.g. `internal` for the failed
        // commit that caused the kick) go out before the close.
        while let Some(Some(reply)) = self.pending.next().now_or_never() {
            if !send_text(self.ws, reply_text(reply)).await {
                break;
            }
        }
        close(self.ws, kick.code, kick.reason).await;
        match kick {
            Kick { code: 1013, .. } => "slow consumer",
            _ => "kicked",
        }
    }

    /// The hub is shutting down.
    async fn shut_down(&mut self) -> &'static str {
        // Let replies to commands already committed go out first.
        let wait = Duration::from_secs(2);
        while let Ok(Some(reply)) = tokio::time::timeout(wait, self.pending.next()).await {
            if !send_text(self.ws, reply_text(reply)).await {
                break;
            }
        }
        if self
            .hub
            .standing_down
            .load(std::sync::atomic::Ordering::Acquire)
        {
            close(self.ws, 1012, crate::hub::STANDING_DOWN).await;
            return "standing down";
        }
        close(self.ws, 1012, "hub restarting").await;
        "shutdown"
    }
}

/// A reply future for a submitted command, polled in the command's span.
pub(super) fn reply_future(rx: oneshot::Receiver<String>, span: tracing::Span) -> Reply {
    use tracing::Instrument;
    let ok: fn(Result<String, oneshot::error::RecvError>) -> Option<String> = Result::ok;
    rx.map(ok).instrument(span)
}
