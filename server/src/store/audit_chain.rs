//! The audit trail's hash chain: each row stores SHA-256 over the previous
//! row's hash and its own fields, so editing, inserting or deleting a row
//! anywhere but at the very end breaks every hash after it.
//!
//! The writer is the only producer of audit rows and commits its batches in
//! order, so it keeps the head of the chain in memory ([`AuditChain`]) and
//! hashes each row as it stages it. `wardpage audit verify` walks the table
//! in id order with a [`Verifier`].
//!
//! Removing the newest rows leaves a valid, shorter chain: only a head
//! recorded elsewhere shows that. The hub logs its head when it starts and
//! stops, and `verify` prints it, for IT to keep beside their backups.

use super::{AuditRow, Store, StoreResult};
use crate::domain::AuditRecord;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// What the first row of a chain links to.
pub const GENESIS: [u8; 32] = [0; 32];

/// An audit row's fields as stored, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub at: i64,
    pub actor: Option<&'a str>,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub action: &'a str,
    pub from_state: Option<&'a str>,
    pub to_state: Option<&'a str>,
    pub detail: &'a str,
}

/// A row to store with its link in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedAudit {
    pub record: AuditRecord,
    /// Lowercase hex of the row's SHA-256.
    pub hash: String,
}

impl AuditRow {
    fn fields(&self) -> Fields<'_> {
        Fields {
            at: self.at,
            actor: self.actor.as_deref(),
            entity: &self.entity,
            entity_id: &self.entity_id,
            action: &self.action,
            from_state: self.from_state.as_deref(),
            to_state: self.to_state.as_deref(),
            detail: &self.detail,
        }
    }
}

/// SHA-256 over `prev` and the row's fields. Each field is length-prefixed
/// (and an absent one marked apart from an empty one), so no two different
/// rows hash the same bytes.
pub fn link(prev: &[u8; 32], f: Fields<'_>) -> [u8; 32] {
    fn put(h: &mut Sha256, s: Option<&str>) {
        match s {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(prev);
    h.update(f.at.to_be_bytes());
    for s in [
        f.actor,
        Some(f.entity),
        Some(f.entity_id),
        Some(f.action),
        f.from_state,
        f.to_state,
        Some(f.detail),
    ] {
        put(&mut h, s);
    }
    h.finalize().into()
}

pub fn to_hex(hash: &[u8; 32]) -> String {
    let mut s = String::with_capacity(64);
    for b in hash {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The head of the chain, kept by the writer.
#[derive(Debug, Clone)]
pub struct AuditChain {
    head: [u8; 32],
}

impl AuditChain {
    /// Continues from the newest stored row's hash; from [`GENESIS`] when
    /// there is none (or it was written before the chain began).
    pub fn after(stored_head: Option<&str>) -> AuditChain {
        AuditChain {
            head: stored_head.and_then(from_hex).unwrap_or(GENESIS),
        }
    }

    pub fn head(&self) -> String {
        to_hex(&self.head)
    }

    /// Links `record` after the head and makes it the head.
    pub fn chain(&mut self, record: AuditRecord) -> ChainedAudit {
        let actor = record.actor.map(|a| a.to_string());
        self.head = link(
            &self.head,
            Fields {
                at: record.at,
                actor: actor.as_deref(),
                entity: record.entity,
                entity_id: &record.entity_id,
                action: record.action,
                from_state: record.from_state.as_deref(),
                to_state: record.to_state.as_deref(),
                detail: &record.detail,
            },
        );
        ChainedAudit {
            record,
            hash: to_hex(&self.head),
        }
    }
}

/// Walks stored rows in id order and finds the first that does not link.
#[derive(Debug, Default)]
pub struct Verifier {
    prev: Option<[u8; 32]>,
    /// Rows read.
    pub rows: u64,
    /// Rows older than the chain (no hash, before the first hashed row).
    pub unchained: u64,
    /// The first row that breaks the chain, and why.
    pub broken: Option<(i64, String)>,
    pub last_id: i64,
}

impl Verifier {
    /// Checks the next row and its stored hash; after a break, the rest
    /// are only counted.
    pub fn check(&mut self, row: &AuditRow, hash: Option<&str>) {
        self.rows += 1;
        self.last_id = row.id;
        if self.broken.is_some() {
            return;
        }
        let Some(stored) = hash else {
            if self.prev.is_none() {
                self.unchained += 1;
            } else {
                self.broken = Some((row.id, "no hash after the chain began".into()));
            }
            return;
        };
        let expected = link(&self.prev.unwrap_or(GENESIS), row.fields());
        if from_hex(stored) != Some(expected) {
            self.broken = Some((
                row.id,
                "its hash does not match its fields and the row before it (edited, inserted, or a row before it deleted)".into(),
            ));
            return;
        }
        self.prev = Some(expected);
    }

    /// The hash of the newest row checked, while the chain holds.
    pub fn head(&self) -> Option<String> {
        self.prev.as_ref().map(to_hex)
    }
}

/// Rows read per query while verifying.
const VERIFY_PAGE: u32 = 5_000;

/// Walks the whole stored trail, oldest first.
pub async fn verify(store: &dyn Store) -> StoreResult<Verifier> {
    let mut v = Verifier::default();
    loop {
        let page = store.audit_page(v.last_id, VERIFY_PAGE).await?;
        for (row, hash) in &page {
            v.check(row, hash.as_deref());
        }
        if page.len() < VERIFY_PAGE as usize {
            return Ok(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: i64, detail: &str) -> AuditRecord {
        AuditRecord {
            at: n,
            actor: None,
            entity: "task",
            entity_id: format!("t{n}"),
            action: "raise",
            from_state: None,
            to_state: Some("offering".into()),
            detail: detail.into(),
        }
    }

    type Stored = (AuditRow, Option<String>);

    fn stored(id: i64, c: &ChainedAudit) -> Stored {
        let r = &c.record;
        let row = AuditRow {
            id,
            at: r.at,
            actor: r.actor.map(|a| a.to_string()),
            entity: r.entity.into(),
            entity_id: r.entity_id.clone(),
            action: r.action.into(),
            from_state: r.from_state.clone(),
            to_state: r.to_state.clone(),
            detail: r.detail.clone(),
        };
        (row, Some(c.hash.clone()))
    }

    fn chain_of(n: i64) -> Vec<Stored> {
        let mut chain = AuditChain::after(None);
        (1..=n)
            .map(|i| stored(i, &chain.chain(record(i, "offered to Dr A"))))
            .collect()
    }

    fn verify(rows: &[Stored]) -> Verifier {
        let mut v = Verifier::default();
        for (r, h) in rows {
            v.check(r, h.as_deref());
        }
        v
    }

    #[test]
    fn an_untouched_chain_verifies_and_continues_after_a_restart() {
        let mut rows = chain_of(5);
        let v = verify(&rows);
        assert_eq!((v.rows, v.unchained, v.broken.clone()), (5, 0, None));
        // A restarted writer continues from the stored head.
        let mut chain = AuditChain::after(rows[4].1.as_deref());
        assert_eq!(Some(chain.head()), v.head());
        rows.push(stored(6, &chain.chain(record(6, "accepted"))));
        assert_eq!(verify(&rows).broken, None);
    }

    #[test]
    fn an_edit_an_insert_or_a_deletion_breaks_the_chain_there() {
        let mut edited = chain_of(5);
        edited[2].0.detail = "offered to Dr B".into();
        assert_eq!(verify(&edited).broken.map(|b| b.0), Some(3));

        let mut deleted = chain_of(5);
        deleted.remove(1);
        assert_eq!(verify(&deleted).broken.map(|b| b.0), Some(3));

        let mut inserted = chain_of(5);
        let mut forged = inserted[1].clone();
        forged.0.id = 25;
        inserted.insert(2, forged);
        assert_eq!(verify(&inserted).broken.map(|b| b.0), Some(25));

        // An absent field is not the same as an empty one.
        let mut emptied = chain_of(2);
        emptied[0].0.actor = Some(String::new());
        assert_eq!(verify(&emptied).broken.map(|b| b.0), Some(1));
    }

    #[test]
    fn rows_older_than_the_chain_are_counted_apart_and_a_gap_after_it_breaks_it() {
        let mut rows = chain_of(3);
        let mut old = rows[0].clone();
        old.1 = None;
        old.0.id = 0;
        rows.insert(0, old);
        let v = verify(&rows);
        assert_eq!((v.unchained, v.broken), (1, None));
        rows[2].1 = None;
        assert_eq!(verify(&rows).broken.map(|b| b.0), Some(2));
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        let h = link(&GENESIS, chain_of(1)[0].0.fields());
        assert_eq!(from_hex(&to_hex(&h)), Some(h));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"g".repeat(64)), None);
        assert_eq!(from_hex(&"é".repeat(32)), None);
    }
}
