//! Reads answered in parts: `snapshot` and `history`.
//!
//! A part holds at most [`PART_ITEMS`] tasks and as many pages, and stops
//! early once the views in it would pass [`PART_BUDGET_BYTES`] (serialised),
//! so that no answer passes [`crate::limits::MAX_SERVER_FRAME_BYTES`]. Items
//! come in a stable order, tasks by `(raised_at, id)` and pages by
//! `(sent_at, id)`, keys that never change, so a part resumes exactly after
//! the last item of the part before even if things changed in between.
//!
//! The token handed out as `next` (and sent back as `after`) is opaque to
//! clients; it is `v1.<tasks>.<pages>`, each position `s` (from the start),
//! `e` (all sent) or `<millis>_<uuid>` (the last key sent).

use crate::error::FieldError;
use crate::Millis;
use serde::Serialize;
use uuid::Uuid;

/// Most tasks, and most pages, in one part.
pub const PART_ITEMS: usize = 200;
/// Most bytes of serialised views in one part (a single larger view still
/// goes alone, so that every part makes progress).
pub const PART_BUDGET_BYTES: usize = 512 * 1024;

/// The sort key of a task (`raised_at`, id) or a page (`sent_at`, id).
pub type Key = (Millis, Uuid);

/// Where one list stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Nothing sent yet.
    Start,
    /// Everything up to and including this key was sent.
    After(Key),
    /// Everything was sent.
    Done,
}

/// Where a paged read stands: its tasks and its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resume {
    pub tasks: Position,
    pub pages: Position,
}

impl Resume {
    /// The first part.
    pub const START: Resume = Resume {
        tasks: Position::Start,
        pages: Position::Start,
    };

    /// Reads an `after` field: absent or `null` is the first part.
    pub fn from_after(after: Option<&str>) -> Result<Resume, FieldError> {
        let Some(token) = after else {
            return Ok(Resume::START);
        };
        let bad = || FieldError::new("after", "not a `next` token from this hub");
        let mut parts = token.split('.');
        if parts.next() != Some("v1") {
            return Err(bad());
        }
        let tasks = parts.next().and_then(position).ok_or_else(bad)?;
        let pages = parts.next().and_then(position).ok_or_else(bad)?;
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(Resume { tasks, pages })
    }

    /// The `next` token: `None` once both lists are done.
    pub fn next_token(&self) -> Option<String> {
        if self.tasks == Position::Done && self.pages == Position::Done {
            return None;
        }
        Some(format!("v1.{}.{}", show(self.tasks), show(self.pages)))
    }
}

fn position(s: &str) -> Option<Position> {
    match s {
        "s" => Some(Position::Start),
        "e" => Some(Position::Done),
        _ => {
            let (at, id) = s.split_once('_')?;
            Some(Position::After((
                at.parse().ok()?,
                Uuid::parse_str(id).ok()?,
            )))
        }
    }
}

fn show(p: Position) -> String {
    match p {
        Position::Start => "s".into(),
        Position::Done => "e".into(),
        Position::After((at, id)) => format!("{at}_{id}"),
    }
}

/// Fills one list of a part: from `sorted` (ascending by `key`), the items
/// after `from`, at most [`PART_ITEMS`], while they fit in `budget` (which
/// it lowers). An item that does not fit is still taken when `*empty` (the
/// part has nothing yet), so every part makes progress. Returns the items
/// and where the list now stands.
pub fn fill<T: Serialize>(
    sorted: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> Key,
    from: Position,
    budget: &mut usize,
    empty: &mut bool,
) -> (Vec<T>, Position) {
    let mut taken = Vec::new();
    let mut at = from;
    if from == Position::Done {
        return (taken, at);
    }
    for item in sorted {
        let k = key(&item);
        if matches!(from, Position::After(last) if k <= last) {
            continue;
        }
        if taken.len() == PART_ITEMS {
            return (taken, at);
        }
        let size = serde_json::to_vec(&item).map(|v| v.len()).unwrap_or(0);
        if size > *budget && !*empty {
            return (taken, at);
        }
        *budget = budget.saturating_sub(size);
        *empty = false;
        at = Position::After(k);
        taken.push(item);
    }
    (taken, Position::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_strangers_are_refused() {
        let id = Uuid::new_v4();
        let r = Resume {
            tasks: Position::After((1764358144000, id)),
            pages: Position::Done,
        };
        let token = r.next_token().expect("not done");
        assert_eq!(Resume::from_after(Some(&token)), Ok(r));
        assert_eq!(Resume::from_after(None), Ok(Resume::START));
        for bad in [
            "",
            "v1",
            "v1.s",
            "v1.s.s.s",
            "v2.s.s",
            "v1.x.s",
            "v1.1_zz.s",
        ] {
            assert!(Resume::from_after(Some(bad)).is_err(), "{bad}");
        }
        let done = Resume {
            tasks: Position::Done,
            pages: Position::Done,
        };
        assert_eq!(done.next_token(), None);
    }

    #[test]
    fn parts_resume_after_the_last_key_and_respect_the_budget() {
        let items: Vec<(Millis, Uuid)> = (0..450).map(|i| (i, Uuid::from_u128(7))).collect();
        let mut all = Vec::new();
        let mut from = Position::Start;
        let mut parts = 0;
        while from != Position::Done {
            let (mut budget, mut empty) = (PART_BUDGET_BYTES, true);
            let (got, at) = fill(items.iter().copied(), |k| *k, from, &mut budget, &mut empty);
            assert!(got.len() <= PART_ITEMS);
            all.extend(got);
            from = at;
            parts += 1;
        }
        assert_eq!((all, parts), (items, 3));
        // A budget of nothing still lets an empty part take one item.
        let (mut budget, mut empty) = (0, true);
        let (got, at) = fill(
            vec![(1, Uuid::nil()), (2, Uuid::nil())],
            |k| *k,
            Position::Start,
            &mut budget,
            &mut empty,
        );
        assert_eq!((got.len(), at), (1, Position::After((1, Uuid::nil()))));
    }
}
