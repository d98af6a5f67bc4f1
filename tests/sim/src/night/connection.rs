//! A night handheld's link to the hub: connecting from its saved cursor
//! with jittered backoff, dropping the socket without losing what was
//! buffered, and the outbox that re-sends a command under the same id after
//! a transport failure, as a real handheld would.

use super::{Actor, RECONNECT_FOR};
use rand::Rng;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{Command, CommandId, CommandResult};
use wardpage_tests::client::CommandError;
use wardpage_tests::Client;

impl Actor {
    /// Connects from the saved cursor, retrying with jittered backoff (so a
    /// whole hospital reconnecting after a hub restart does not stampede).
    pub(super) async fn ensure_connected(&mut self) -> anyhow::Result<()> {
        if self.client.is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + RECONNECT_FOR;
        let mut backoff = 50u64;
        loop {
            match Client::connect(&self.sh.base, &self.token, self.cursor).await {
                Ok(mut c) => {
                    if self.traced() {
                        eprintln!(
                            "TRACE connect from {} -> cursor {} resync {} top {}",
                            self.cursor, c.cursor, c.resync, c.welcome_cursor
                        );
                    }
                    c.duplicates = self.duplicates;
                    self.cursor = c.cursor;
                    self.client = Some(c);
                    self.connected_since = Instant::now();
                    self.sh.live.connections.fetch_add(1, Relaxed);
                    return Ok(());
                }
                Err(e) if Instant::now() > deadline => return Err(e.context("could not reconnect")),
                Err(_) => {
                    let jitter = self.rng.gen_range(0..=backoff / 2);
                    tokio::time::sleep(Duration::from_millis(backoff + jitter)).await;
                    backoff = (backoff * 2).min(1000);
                }
            }
        }
    }

    /// Takes what the client buffered, then drops the socket.
    pub(super) fn disconnect(&mut self) {
        if let Some(mut c) = self.client.take() {
            while c.buffered() > 0 {
                let ev = futures_util::FutureExt::now_or_never(c.next_event_within(Duration::ZERO));
                match ev {
                    Some(Ok(Some((seq, e)))) => self.handle(seq, e),
                    _ => break,
                }
            }
            self.cursor = c.cursor;
            self.duplicates = c.duplicates;
            self.sh.live.connections.fetch_sub(1, Relaxed);
        }
    }

    pub(super) fn transport_failed(&mut self, e: &anyhow::Error) {
        if self.traced() {
            eprintln!("TRACE transport failed: {e:#}");
        }
        if e.to_string().contains("gap in stream") {
            self.res.log.gaps += 1;
        }
        self.sh.live.reconnects.fetch_add(1, Relaxed);
        self.disconnect();
    }

    /// Sends `cmd` until the hub answers, re-sending the same id after a
    /// transport failure (idempotency makes that safe).
    pub(super) async fn exec(
        &mut self,
        cmd: Command,
    ) -> Option<Result<CommandResult, CommandError>> {
        let id = CommandId::new_random();
        let deadline = Instant::now() + RECONNECT_FOR;
        while Instant::now() < deadline {
            if self.ensure_connected().await.is_err() {
                return None;
            }
            let Some(c) = self.client.as_mut() else {
                continue;
            };
            let attempt = async {
                c.send_with_id(id, cmd.clone()).await?;
                c.reply(id).await
            }
            .await;
            match attempt {
                Ok(r) => {
                    if r.is_err() {
                        self.sh.live.errors.fetch_add(1, Relaxed);
                    }
                    return Some(r);
                }
                Err(e) => self.transport_failed(&e),
            }
        }
        None
    }
}
