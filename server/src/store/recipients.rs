//! An event's recipient list as stored beside it: `staff:seq` pairs joined
//! by commas (`events.recipients`). Written with the event in the same
//! append, it is what replay and start-up read for events whose inbox rows
//! are not written yet (see the `0006_inbox_tail` migration).

use super::sql::{corrupt, parse_id};
use super::StoreResult;
use std::fmt::Write as _;
use wardpage_proto::StaffId;

/// `recipients` in their stored form.
pub fn encode(recipients: &[(StaffId, u64)]) -> String {
    let mut out = String::with_capacity(recipients.len() * 40);
    for (i, (staff, seq)) in recipients.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{staff}:{seq}");
    }
    out
}

/// Every (recipient, seq) in a stored list.
pub fn decode(stored: &str) -> StoreResult<Vec<(StaffId, u64)>> {
    if stored.is_empty() {
        return Ok(Vec::new());
    }
    stored.split(',').map(pair).collect()
}

/// `staff`'s seq in a stored list, if the event went to them.
pub fn seq_of(stored: &str, staff: StaffId) -> StoreResult<Option<u64>> {
    // Called for every row a replay reads above the watermark: no allocation.
    let mut buf = uuid::Uuid::encode_buffer();
    let wanted: &str = staff.0.hyphenated().encode_lower(&mut buf);
    for item in stored.split(',') {
        if item.split(':').next() == Some(wanted) {
            return pair(item).map(|(_, seq)| Some(seq));
        }
    }
    Ok(None)
}

/// What a recipient's id looks like inside a stored list, for a `LIKE`
/// filter that leaves other people's events in the database.
pub fn like_pattern(staff: StaffId) -> String {
    format!("%{staff}:%")
}

fn pair(item: &str) -> StoreResult<(StaffId, u64)> {
    let (staff, seq) = item
        .split_once(':')
        .ok_or_else(|| corrupt(format!("bad recipient `{item}`")))?;
    let seq = seq
        .parse()
        .map_err(|_| corrupt(format!("bad recipient seq `{item}`")))?;
    Ok((parse_id(staff)?, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn staff(n: u128) -> StaffId {
        StaffId(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn a_list_survives_the_round_trip() {
        let list = vec![(staff(1), 7), (staff(2), 1), (staff(u128::MAX), u64::MAX)];
        let stored = encode(&list);
        assert_eq!(decode(&stored).expect("decodes"), list);
        assert_eq!(seq_of(&stored, staff(2)).expect("reads"), Some(1));
        assert_eq!(seq_of(&stored, staff(3)).expect("reads"), None);
        assert!(decode("").expect("empty").is_empty());
    }

    #[test]
    fn a_damaged_list_is_an_error_not_a_guess() {
        assert!(decode("not-a-uuid:1").is_err());
        let one = encode(&[(staff(1), 3)]);
        assert!(decode(&one.replace(":3", ":x")).is_err());
        assert!(decode(&one.replace(":3", "")).is_err());
    }
}
