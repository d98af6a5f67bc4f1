//! The inbox rows the writer still owes the store.
//!
//! Every event is stored with its recipient list in the group commit that
//! makes it, so it is durable and replayable at once (see the
//! `0006_inbox_tail` migration). The per-recipient inbox rows, which replay
//! uses for everything older, are written here in bulk: one row per
//! recipient per commit scattered a page per recipient over the inbox index,
//! and that was 40% of what a commit wrote at 5,000 raises/s. Batched, each
//! recipient's rows land side by side.
//!
//! Invariant: a bulk write holds the rows of every event numbered so far
//! and moves the watermark to the last of them, in the same transaction as
//! the batch it rides with; so below the watermark every event has its rows
//! and above it none has. If that commit fails the writer reloads, and the
//! rows still owed are read back from the events above the watermark.

use crate::store::{recipients, Batch, EventRow};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wardpage_proto::{Millis, StaffId};

/// Rows are written once the oldest has waited this long...
const WRITE_AFTER: Duration = Duration::from_millis(250);
/// ...or once this many are owed, so one write stays a modest commit.
const WRITE_AT_ROWS: usize = 16_384;

/// Event numbering and the inbox rows not yet handed to a commit.
pub struct InboxTail {
    next_event_id: i64,
    /// (recipient, seq, event id)
    owed: Vec<(StaffId, u64, i64)>,
    oldest: Option<Instant>,
}

impl InboxTail {
    /// After a load: the highest event id stored and the rows still owed.
    /// Those are due at once: until they are written every replay scans
    /// their events, and after a crash under load that can be thousands
    /// (replaying every stream after a restart took 60% longer).
    pub fn new(max_event_id: i64, owed: Vec<(StaffId, u64, i64)>) -> InboxTail {
        let now = Instant::now();
        InboxTail {
            next_event_id: max_event_id + 1,
            oldest: (!owed.is_empty()).then(|| now.checked_sub(WRITE_AFTER).unwrap_or(now)),
            owed,
        }
    }

    /// Numbers a new event and owes its recipients' rows.
    pub fn event(&mut self, at: Millis, body: Arc<str>, to: &[(StaffId, u64)]) -> EventRow {
        let id = self.next_event_id;
        self.next_event_id += 1;
        if !to.is_empty() && self.oldest.is_none() {
            self.oldest = Some(Instant::now());
        }
        self.owed
            .extend(to.iter().map(|(staff, seq)| (*staff, *seq, id)));
        EventRow {
            id,
            at,
            body,
            recipients: recipients::encode(to),
        }
    }

    /// Whether the owed rows should go with the next commit.
    pub fn due(&self, now: Instant) -> bool {
        self.owed.len() >= WRITE_AT_ROWS
            || self
                .oldest
                .is_some_and(|t| now.duration_since(t) >= WRITE_AFTER)
    }

    /// Hands every owed row to `batch`, each recipient's together, with the
    /// new watermark and each touched stream's last seq.
    pub fn write_into(&mut self, batch: &mut Batch) {
        // The batch may hold an earlier write already (one at a tick, one
        // at launch): this one goes on top of it.
        batch.inbox.append(&mut self.owed);
        self.oldest = None;
        batch
            .inbox
            .sort_unstable_by_key(|(staff, seq, _)| (*staff, *seq));
        let mut tops: HashMap<StaffId, u64> = HashMap::new();
        for (staff, seq, _) in &batch.inbox {
            let top = tops.entry(*staff).or_insert(0);
            *top = (*top).max(*seq);
        }
        batch.streams = tops.into_iter().collect();
        batch.inbox_through = Some(self.next_event_id - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(n: u128) -> StaffId {
        StaffId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_write_holds_every_owed_row_grouped_by_recipient_and_moves_the_watermark() {
        let mut tail = InboxTail::new(10, vec![(staff(2), 4, 10)]);
        let body: Arc<str> = Arc::from("{}");
        let e = tail.event(1, body.clone(), &[(staff(1), 1), (staff(2), 5)]);
        assert_eq!(e.id, 11);
        assert_eq!(
            recipients::decode(&e.recipients).expect("decodes"),
            vec![(staff(1), 1), (staff(2), 5)]
        );
        let e = tail.event(2, body, &[(staff(1), 2)]);
        assert_eq!(e.id, 12);
        let mut batch = Batch::default();
        tail.write_into(&mut batch);
        assert_eq!(
            batch.inbox,
            vec![
                (staff(1), 1, 11),
                (staff(1), 2, 12),
                (staff(2), 4, 10),
                (staff(2), 5, 11)
            ]
        );
        assert_eq!(batch.inbox_through, Some(12));
        let mut streams = batch.streams.clone();
        streams.sort();
        assert_eq!(streams, vec![(staff(1), 2), (staff(2), 5)]);
        assert!(!tail.due(Instant::now() + WRITE_AFTER * 2));
    }

    #[test]
    fn rows_owed_at_start_are_due_at_once() {
        let tail = InboxTail::new(10, vec![(staff(2), 4, 10)]);
        assert!(tail.due(Instant::now()));
        assert!(!InboxTail::new(10, Vec::new()).due(Instant::now()));
    }

    #[test]
    fn rows_fall_due_by_age_or_by_count() {
        let mut tail = InboxTail::new(0, Vec::new());
        let now = Instant::now();
        assert!(!tail.due(now + WRITE_AFTER * 2), "nothing owed");
        let body: Arc<str> = Arc::from("{}");
        tail.event(1, body.clone(), &[(staff(1), 1)]);
        assert!(!tail.due(Instant::now()));
        assert!(tail.due(Instant::now() + WRITE_AFTER));
        let mut tail = InboxTail::new(0, Vec::new());
        for seq in 1..=WRITE_AT_ROWS as u64 {
            tail.event(1, body.clone(), &[(staff(1), seq)]);
        }
        assert!(tail.due(Instant::now()));
    }
}
