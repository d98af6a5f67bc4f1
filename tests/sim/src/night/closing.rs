//! The end of a handheld's night: the final snapshot, reading the stream up
//! to the top that snapshot names (so the ledger sees everything the hub
//! sent), the coordinator's tally of open, closed and accepted tasks, and
//! the device log handed to the ledger.

use super::Actor;
use std::time::Duration;
use tokio::time::Instant;
use wardpage_proto::{Command, CommandResult, TaskState, TaskView};

impl Actor {
    /// Resumes if needed and reads the stream up to the hub's top.
    pub(super) async fn finish(&mut self) {
        let Some((top, tasks)) = self.final_snapshot().await else {
            self.res
                .log
                .failure
                .get_or_insert_with(|| "final snapshot failed".into());
            self.finish_log();
            return;
        };
        self.read_to(top).await;
        self.drain_buffered();
        let reached = self.stream_cursor() >= top;
        self.res.log.resumed = reached;
        if !reached {
            self.res
                .log
                .failure
                .get_or_insert_with(|| format!("stream stopped short of {top}"));
        }
        if self.is_coordinator() {
            self.tally(tasks);
        }
        self.finish_log();
    }

    /// Every part of the snapshot, and the top of the stream (the first
    /// part's cursor); `None` if any part went unanswered.
    async fn final_snapshot(&mut self) -> Option<(u64, Vec<TaskView>)> {
        let (mut top, mut tasks, mut after) = (None, Vec::new(), None);
        loop {
            let Some(Ok(CommandResult::Snapshot {
                cursor,
                tasks: part,
                next,
                ..
            })) = self.exec(Command::Snapshot { after }).await
            else {
                return None;
            };
            top.get_or_insert(cursor);
            tasks.extend(part);
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Some((top.unwrap_or(0), tasks))
    }

    /// Where this handheld's stream has got to, connected or not.
    fn stream_cursor(&self) -> u64 {
        self.client
            .as_ref()
            .map(|c| c.cursor)
            .unwrap_or(self.cursor)
    }

    /// Reads events (reconnecting if need be) until the stream reaches
    /// `top`, for at most 20 seconds.
    async fn read_to(&mut self, top: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.stream_cursor() < top && Instant::now() < deadline {
            if self.ensure_connected().await.is_err() {
                break;
            }
            let Some(c) = self.client.as_mut() else { break };
            match c.next_event_within(Duration::from_millis(500)).await {
                Ok(Some((seq, e))) => self.handle(seq, e),
                Ok(None) => {}
                Err(e) => self.transport_failed(&e),
            }
        }
    }

    /// Files the events buffered while waiting for the snapshot's reply.
    fn drain_buffered(&mut self) {
        if let Some(c) = self.client.as_mut() {
            let mut pending = Vec::new();
            while c.buffered() > 0 {
                match futures_util::FutureExt::now_or_never(c.next_event_within(Duration::ZERO)) {
                    Some(Ok(Some(ev))) => pending.push(ev),
                    _ => break,
                }
            }
            for (seq, e) in pending {
                self.handle(seq, e);
            }
        }
    }

    /// Coordinator: the open tasks of the final snapshot, and from every
    /// task version seen, which closed, which no one accepted, and how long
    /// the accepted ones waited.
    fn tally(&mut self, tasks: Vec<TaskView>) {
        self.res.open = tasks.iter().map(|t| t.id).collect();
        self.res.open_tasks = tasks.into_iter().filter(|t| t.review.is_some()).collect();
        for (id, (_, state, raised, accepted)) in &self.views {
            if state.is_terminal() {
                self.res.closed.insert(*id);
            }
            if *state == TaskState::NoOneAccepted {
                self.res.no_one_accepted += 1;
            }
            if let Some(a) = accepted {
                self.res.accept_ms.push((a - raised) as f64);
            }
        }
    }

    fn finish_log(&mut self) {
        if let Some(c) = &self.client {
            self.duplicates = c.duplicates;
        }
        self.res.log.staff = Some(self.sh.ids[self.idx]);
        self.res.log.label = self.sh.plan.hospital.staff[self.idx].login.clone();
        self.res.log.cursor = self.stream_cursor();
        self.res.log.duplicates = self.duplicates;
        self.disconnect();
    }
}
