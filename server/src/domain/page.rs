//! A page and its receipts: delivered, read and acknowledged, per recipient.

use super::DomainError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wardpage_proto::{Millis, PageChange, PageReply, PageState, PageView, StaffId};

/// A page as the hub keeps it: the view, plus the stream position of the
/// event that carried it to each recipient (a transport ack at or past it
/// means delivered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub view: PageView,
    pub delivery_seq: BTreeMap<StaffId, u64>,
    /// Index of the next escalation step to fire.
    #[serde(default)]
    pub escalation_step: usize,
}

impl Page {
    pub fn is_open(&self) -> bool {
        self.view.state == PageState::Open
    }

    /// The page's last change: sent, or its latest receipt.
    pub fn updated_at(&self) -> Millis {
        self.view.sent_at.max(
            self.view
                .recipients
                .iter()
                .filter_map(|r| r.replied_at.or(r.acked_at).or(r.read_at).or(r.delivered_at))
                .max()
                .unwrap_or(0),
        )
    }

    fn receipt(&mut self, who: StaffId) -> Result<&mut wardpage_proto::PageReceipt, DomainError> {
        self.view
            .recipients
            .iter_mut()
            .find(|r| r.staff.id == who)
            .ok_or_else(|| DomainError::Forbidden("this page was not sent to you".into()))
    }

    fn touch(&mut self) {
        self.view.version += 1;
    }

    /// Returns false when it was already delivered (nothing changed).
    pub fn mark_delivered(&mut self, who: StaffId, now: Millis) -> bool {
        let changed = match self.receipt(who) {
            Ok(r) if r.delivered_at.is_none() => {
                r.delivered_at = Some(now);
                true
            }
            _ => false,
        };
        if changed {
            self.touch();
        }
        changed
    }

    /// Returns false when it was already read.
    pub fn mark_read(&mut self, who: StaffId, now: Millis) -> Result<bool, DomainError> {
        let r = self.receipt(who)?;
        if r.read_at.is_some() {
            return Ok(false);
        }
        r.read_at = Some(now);
        // Shown on screen implies the device had it.
        r.delivered_at.get_or_insert(now);
        self.touch();
        Ok(true)
    }

    /// Acknowledges for `who`, with their reply when there is one: the
    /// change to tell (`Acknowledged` the first time, `Replied` when only
    /// the reply changed), or `None` when nothing changed (a repeat).
    pub fn acknowledge(
        &mut self,
        who: StaffId,
        reply: Option<PageReply>,
        now: Millis,
    ) -> Result<Option<PageChange>, DomainError> {
        let r = self.receipt(who)?;
        let change = if r.acked_at.is_none() {
            r.acked_at = Some(now);
            r.read_at.get_or_insert(now);
            r.delivered_at.get_or_insert(now);
            PageChange::Acknowledged
        } else if reply.is_some() && reply != r.reply {
            PageChange::Replied
        } else {
            return Ok(None);
        };
        if reply.is_some() {
            r.reply = reply;
            r.replied_at = Some(now);
        }
        self.view.state = PageState::Acknowledged;
        self.view.next_escalation_at = None;
        self.touch();
        Ok(Some(change))
    }
}
