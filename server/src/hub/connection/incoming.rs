//! What the client sends on an authenticated connection: the rate limit,
//! the frame kinds, and each protocol frame (commands, acks, pings, and a
//! second hello, which is refused). Bad frames are answered and counted,
//! and too many end the connection.

use super::session::{reply_future, Live, Step};
use super::{close, refuse, send_text, MAX_BAD_FRAMES, POLICY, RATE_BURST, RATE_PER_SEC};
use crate::clock::now_ms;
use crate::hub::writer::error_frame;
use axum::extract::ws::Message;
use std::time::Instant;
use tracing::{debug, info_span};
use wardpage_proto::{ClientFrame, Command, CommandId, ErrorCode, Millis, ServerFrame};

impl Live<'_> {
    /// One message read from the socket (or the read's end or failure).
    pub(super) async fn incoming(
        &mut self,
        incoming: Option<Result<Message, axum::Error>>,
    ) -> Step {
        let msg = match incoming {
            None => return Err("client closed"),
            Some(Err(e)) => {
                debug!(error = %e, "read failed");
                // Oversized frames end here: tungstenite refuses them.
                if e.to_string().contains("too long") || e.to_string().contains("too big") {
                    close(self.ws, 1009, "frame too large").await;
                    return Err("frame too large");
                }
                return Err("read error");
            }
            Some(Ok(m)) => m,
        };
        self.last_heard = Instant::now();
        self.take_token().await?;
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                self.bad_frames += 1;
                let message = "binary frames are not part of the protocol; send JSON text";
                if !send_text(self.ws, error_frame(None, ErrorCode::BadJson, message)).await {
                    return Err("write failed");
                }
                return self.check_bad_frames().await;
            }
            Message::Close(_) => return Err("client closed"),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        self.frame(text.as_str()).await?;
        self.check_bad_frames().await
    }

    /// Takes one token from the bucket, refilled for the time since the
    /// last frame; an empty bucket ends the connection.
    async fn take_token(&mut self) -> Step {
        let elapsed = self.refilled.elapsed().as_secs_f64();
        self.refilled = Instant::now();
        self.tokens = (self.tokens + elapsed * RATE_PER_SEC).min(RATE_BURST) - 1.0;
        if self.tokens < 0.0 {
            let message = "too many frames; slow down and reconnect";
            let error = error_frame(None, ErrorCode::RateLimited, message);
            refuse(self.ws, error, POLICY, "rate limited").await;
            return Err("rate limited");
        }
        Ok(())
    }

    /// One text frame: parsed and acted on, or answered with an error.
    async fn frame(&mut self, text: &str) -> Step {
        let staff = self.session.staff;
        let answer = match ClientFrame::parse_at(text, now_ms()) {
            Ok(ClientFrame::Cmd { id, .. }) if !self.hub.commands.allow(staff) => {
                // Not submitted: the same id may be sent again later.
                let message =
                    "too many commands from this account; resend this command in a moment";
                error_frame(Some(id), ErrorCode::RateLimited, message)
            }
            Ok(ClientFrame::Cmd { id, cmd, issued_at }) => {
                return self.submit(id, cmd, issued_at).await;
            }
            Ok(ClientFrame::Ack { seq }) => {
                // A device cannot have what it was never sent.
                let seq = seq.min(self.session.last_sent);
                if seq > self.session.last_acked {
                    self.session.last_acked = seq;
                    self.hub.writer.acked(staff, seq);
                }
                return Ok(());
            }
            Ok(ClientFrame::Ping {}) => ServerFrame::Pong {
                server_time: now_ms(),
            }
            .to_text(),
            Ok(ClientFrame::Hello { .. }) => {
                self.bad_frames += 1;
                let message = "hello was already received on this connection";
                error_frame(None, ErrorCode::HelloRequired, message)
            }
            Err(e) => {
                self.bad_frames += 1;
                debug!(code = e.code.as_str(), "bad frame");
                error_frame(e.id, e.code, &e.message)
            }
        };
        if !send_text(self.ws, answer).await {
            return Err("write failed");
        }
        Ok(())
    }

    /// Hands a command to the writer; its reply joins the pending ones.
    async fn submit(&mut self, id: CommandId, cmd: Command, issued_at: Option<Millis>) -> Step {
        let op = cmd.op();
        let staff = self.session.staff;
        match self.hub.writer.submit(staff, id, cmd, issued_at).await {
            Ok(rx) => {
                self.pending
                    .push(reply_future(rx, info_span!("cmd", op, %id)));
                Ok(())
            }
            Err(_) => {
                let message = "the hub is shutting down; resend after reconnecting";
                let error = error_frame(Some(id), ErrorCode::Unavailable, message);
                refuse(self.ws, error, 1001, "shutting down").await;
                Err("shutting down")
            }
        }
    }

    /// Ends the connection once it has sent more bad frames than allowed.
    async fn check_bad_frames(&mut self) -> Step {
        if self.bad_frames > MAX_BAD_FRAMES {
            close(self.ws, POLICY, "too many bad frames").await;
            return Err("too many bad frames");
        }
        Ok(())
    }
}
