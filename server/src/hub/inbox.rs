//! The inbox rows the writer still owes the store.
//!
//! Every event is stored with its recipient list in the group commit that
//! makes it, so it is durable and replayable at once (see the
//! `0006_inbox_tail` migration). The per-recipient inbox rows, which replay
//! uses for everything older, are written here later and in bulk: one row
//! per recipient per commit scattered a page per recipient over the inbox
//! index, and that was 40% of what a commit wrote at 5,000 raises/s.
//! Batched, each recipient's rows land side by side.
//!
//! A write is spread over several commits, a few recipients' rows in each:
//! written in one commit, the rows gathered in 250 ms at 5,000 raises/s
//! touched a page per recipient and made that commit take 6-16 ms, four
//! times a second, with every raise behind it waiting. The parts are paced
//! a few milliseconds apart: each still makes its commit about 0.6 ms
//! slower, and 32 of them in consecutive commits made a 10-15 ms stretch in
//! which every raise waited behind one slow commit and then rode in another.
//!
//! Invariant: a write covers the rows of every event numbered when it
//! began, and its last part moves the watermark to the last of those
//! events, in the same transaction; so below the watermark every event has
//! all its rows. Above it an event may have some (a write under way): replay
//! de-duplicates by seq, and the store ignores a row written twice. If a
//! commit fails the writer reloads, and the rows still owed are read back
//! from the events above the watermark.

use crate::store::{Batch, EventRow};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wardpage_proto::{Millis, StaffId};

/// A write begins once the oldest owed row has waited this long...
// A quarter second gathers enough events (1,250 at 5,000 raises/s) that
// each recipient's rows fill pages of their own; the rows are needed only
// when an event is replayed from the inbox, so waiting costs no one.
const WRITE_AFTER: Duration = Duration::from_millis(250);
/// ...or once this many are owed.
// Bounds memory and one write's size under a burst: 32 parts of ~512
// rows, each still a fraction of a millisecond on a commit.
const WRITE_AT_ROWS: usize = 16_384;
/// A write is spread over about this many commits...
const PARTS: usize = 32;
/// ...with at least this many recipients' rows in each...
const MIN_STAFF_PER_PART: usize = 4;
/// ...one part every this long at most (32 parts: 192 ms)...
const PART_EVERY: Duration = Duration::from_millis(6);
/// ...and whatever is left goes at once when a write has taken this long
/// (at full load a commit comes only every 50-100 ms).
const FINISH_WITHIN: Duration = Duration::from_millis(250);

/// (recipient, seq, event id)
type Row = (StaffId, u64, i64);

/// Event numbering and the inbox rows not yet written.
pub struct InboxTail {
    next_event_id: i64,
    /// Rows of events numbered since the current write began.
    owed: Vec<Row>,
    oldest: Option<Instant>,
    writing: Option<Write>,
}

/// A write under way: rows sorted by recipient, handed out in parts.
struct Write {
    rows: Vec<Row>,
    next: usize,
    staff_per_part: usize,
    /// The watermark once the last part is committed.
    through: i64,
    began: Instant,
    /// Parts handed out so far.
    parts: u32,
}

impl Write {
    fn next_part_due(&self) -> Instant {
        self.began + PART_EVERY * self.parts
    }
}

impl InboxTail {
    /// After a load: the highest event id stored and the rows still owed.
    /// Those are due at once: until they are written every replay scans
    /// their events, and after a crash under load that can be thousands
    /// (replaying every stream after a restart took 60% longer).
    pub fn new(max_event_id: i64, owed: Vec<Row>) -> InboxTail {
        let now = Instant::now();
        InboxTail {
            next_event_id: max_event_id + 1,
            oldest: (!owed.is_empty()).then(|| now.checked_sub(WRITE_AFTER).unwrap_or(now)),
            owed,
            writing: None,
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
            recipients: to.to_vec(),
        }
    }

    /// Whether the next commit should carry inbox rows.
    pub fn due(&self, now: Instant) -> bool {
        match &self.writing {
            Some(w) => now >= w.next_part_due(),
            None => {
                self.owed.len() >= WRITE_AT_ROWS
                    || self
                        .oldest
                        .is_some_and(|t| now.duration_since(t) >= WRITE_AFTER)
            }
        }
    }

    /// Adds the next part of the write under way to `batch` (beginning a
    /// write if none is), with each touched stream's last seq, and the new
    /// watermark if this part ends the write.
    pub fn write_part(&mut self, batch: &mut Batch, now: Instant) {
        self.write(batch, now, false);
    }

    /// Everything still owed, for a hub that is stopping.
    pub fn write_all(&mut self, batch: &mut Batch) {
        while self.writing.is_some() || !self.owed.is_empty() {
            self.write(batch, Instant::now(), true);
        }
    }

    fn write(&mut self, batch: &mut Batch, now: Instant, all: bool) {
        let w = match &mut self.writing {
            Some(w) => w,
            None => {
                let mut rows = std::mem::take(&mut self.owed);
                self.oldest = None;
                rows.sort_unstable_by_key(|(staff, seq, _)| (*staff, *seq));
                let staff = count_staff(&rows);
                self.writing.insert(Write {
                    rows,
                    next: 0,
                    staff_per_part: staff.div_ceil(PARTS).max(MIN_STAFF_PER_PART),
                    through: self.next_event_id - 1,
                    began: now,
                    parts: 0,
                })
            }
        };
        let end = if all || now.duration_since(w.began) >= FINISH_WITHIN {
            w.rows.len()
        } else {
            end_after_staff(&w.rows, w.next, w.staff_per_part)
        };
        w.parts += 1;
        let part = &w.rows[w.next..end];
        for run in part.chunk_by(|a, b| a.0 == b.0) {
            if let Some((staff, seq, _)) = run.last() {
                batch.streams.push((*staff, *seq));
            }
        }
        batch.inbox.extend_from_slice(part);
        w.next = end;
        if w.next == w.rows.len() {
            batch.inbox_through = Some(w.through);
            self.writing = None;
        }
        // Two parts in one batch (a tick's and a launch's, or a stop's) may
        // name a stream twice; one upsert per row and statement, the later.
        batch
            .streams
            .sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        batch.streams.dedup_by_key(|s| s.0);
    }
}

fn count_staff(rows: &[Row]) -> usize {
    rows.chunk_by(|a, b| a.0 == b.0).count()
}

/// The index just past the rows of the next `staff` recipients from `from`.
fn end_after_staff(rows: &[Row], from: usize, staff: usize) -> usize {
    rows[from..]
        .chunk_by(|a, b| a.0 == b.0)
        .take(staff)
        .map(<[Row]>::len)
        .sum::<usize>()
        + from
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(n: u128) -> StaffId {
        StaffId(uuid::Uuid::from_u128(n))
    }

    fn body() -> Arc<str> {
        Arc::from("{}")
    }

    #[test]
    fn a_write_holds_every_owed_row_grouped_by_recipient_and_moves_the_watermark() {
        let mut tail = InboxTail::new(10, vec![(staff(2), 4, 10)]);
        let e = tail.event(1, body(), &[(staff(1), 1), (staff(2), 5)]);
        assert_eq!(e.id, 11);
        assert_eq!(e.recipients, vec![(staff(1), 1), (staff(2), 5)]);
        assert_eq!(tail.event(2, body(), &[(staff(1), 2)]).id, 12);
        let mut batch = Batch::default();
        tail.write_part(&mut batch, Instant::now());
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
        assert_eq!(batch.streams, vec![(staff(1), 2), (staff(2), 5)]);
        assert!(!tail.due(Instant::now() + WRITE_AFTER * 2));
    }

    #[test]
    fn a_large_write_is_spread_over_commits_and_moves_the_watermark_last() {
        let mut tail = InboxTail::new(0, Vec::new());
        let recipients = (PARTS * MIN_STAFF_PER_PART * 2) as u128;
        for k in 0..recipients {
            tail.event(1, body(), &[(staff(k), 1), (staff(k), 2)]);
        }
        let start = Instant::now();
        let mut written = Vec::new();
        let mut parts = 0;
        loop {
            let mut batch = Batch::default();
            let now = start + PART_EVERY * parts;
            tail.write_part(&mut batch, now);
            parts += 1;
            // A part with no watermark is still something to commit: an
            // idle hub's tick hands it over with nothing else.
            assert!(!batch.is_empty(), "part {parts} would not be committed");
            // Each recipient's rows travel together, in one part.
            let staff_in_part = count_staff(&batch.inbox);
            assert_eq!(batch.inbox.len(), staff_in_part * 2);
            // Events numbered meanwhile wait for the next write.
            tail.event(2, body(), &[(staff(0), 3)]);
            written.extend(batch.inbox);
            if let Some(through) = batch.inbox_through {
                assert_eq!(through, recipients as i64, "the write's last event");
                break;
            }
            assert!(!tail.due(now), "the next part waits its turn");
            assert!(
                tail.due(start + PART_EVERY * parts),
                "a write under way continues"
            );
        }
        assert_eq!(parts as usize, PARTS);
        assert_eq!(written.len(), recipients as usize * 2);
        assert_eq!(tail.owed.len(), PARTS, "one new row per part, still owed");
    }

    #[test]
    fn a_slow_write_finishes_at_once() {
        let mut tail = InboxTail::new(0, Vec::new());
        for k in 0..(PARTS * MIN_STAFF_PER_PART * 2) as u128 {
            tail.event(1, body(), &[(staff(k), 1)]);
        }
        let start = Instant::now();
        let mut batch = Batch::default();
        tail.write_part(&mut batch, start);
        assert!(batch.inbox_through.is_none());
        tail.write_part(&mut batch, start + FINISH_WITHIN);
        assert!(batch.inbox_through.is_some());
        let mut all = Batch::default();
        tail.event(1, body(), &[(staff(1), 2)]);
        tail.write_all(&mut all);
        assert_eq!(all.inbox, vec![(staff(1), 2, all.inbox[0].2)]);
        assert!(all.inbox_through.is_some());
    }

    #[test]
    fn rows_fall_due_by_age_or_by_count() {
        let mut tail = InboxTail::new(0, Vec::new());
        let now = Instant::now();
        assert!(!tail.due(now + WRITE_AFTER * 2), "nothing owed");
        tail.event(1, body(), &[(staff(1), 1)]);
        assert!(!tail.due(Instant::now()));
        assert!(tail.due(Instant::now() + WRITE_AFTER));
        let mut tail = InboxTail::new(0, Vec::new());
        for seq in 1..=WRITE_AT_ROWS as u64 {
            tail.event(1, body(), &[(staff(1), seq)]);
        }
        assert!(tail.due(Instant::now()));
    }

    #[test]
    fn rows_owed_at_start_are_due_at_once() {
        let tail = InboxTail::new(10, vec![(staff(2), 4, 10)]);
        assert!(tail.due(Instant::now()));
        assert!(!InboxTail::new(10, Vec::new()).due(Instant::now()));
    }
}
