//! Rows as the storage backend suites write and read them straight through
//! the `Store` trait: an event for some recipients, and the sequence numbers
//! a replay gave.

use std::sync::Arc;
use wardpage_proto::StaffId;
use wardpage_server::store::{EventRow, StreamEvent};

/// An event row with id `id` for `to` (recipient, sequence number), at
/// 1,000 ms plus its id.
pub fn event(id: i64, to: &[(StaffId, u64)]) -> EventRow {
    EventRow {
        id,
        at: 1_000 + id,
        body: Arc::from(format!("{{\"event\":{id}}}")),
        recipients: to.to_vec(),
    }
}

/// The sequence numbers of a replay, in order.
pub fn seqs(events: &[StreamEvent]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}
