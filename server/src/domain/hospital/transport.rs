//! Delivery receipts: which event carries each page to each recipient, and
//! the hub's own change when a device's transport ack says it has every
//! event up to a position, which marks those pages delivered.

use super::{Delivery, Effects, Hospital, Write};
use crate::domain::page::Page;
use crate::domain::AuditRecord;
use wardpage_proto::{Event, Millis, PageChange, PageId, StaffId};

impl Hospital {
    /// The hub's own change: `staff`'s device has every event up to `seq`,
    /// so pages carried by those events are delivered to them. An ack past
    /// the newest event of their stream claims what was never sent, and
    /// changes nothing (the writer drops those before asking, too).
    pub fn acknowledge_transport(&mut self, staff: StaffId, seq: u64, now: Millis) -> Effects {
        let mut fx = Effects::default();
        if seq > self.cursor(staff) {
            return fx;
        }
        let Some(pending) = self.undelivered.get_mut(&staff) else {
            return fx;
        };
        let later = pending.split_off(&(seq.saturating_add(1), PageId(uuid::Uuid::nil())));
        let due: Vec<PageId> = std::mem::replace(pending, later)
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        if pending.is_empty() {
            self.undelivered.remove(&staff);
        }
        for id in due {
            let Some(mut page) = self.pages.remove(&id) else {
                continue;
            };
            if page.mark_delivered(staff, now) {
                fx.audit.push(AuditRecord {
                    at: now,
                    actor: None,
                    entity: "page",
                    entity_id: id.to_string(),
                    action: "delivered",
                    from_state: None,
                    to_state: None,
                    detail: format!("to {}", self.roster.staff_ref(staff).name),
                });
                let recipients = self.page_audience(&page, now, false);
                self.deliver(
                    &mut fx,
                    now,
                    Event::Page {
                        change: PageChange::Delivered,
                        page: page.view.clone(),
                        by: Some(self.roster.staff_ref(staff)),
                    },
                    recipients,
                );
                fx.writes.push(Write::Page(page.clone()));
            }
            self.pages.insert(id, page);
        }
        fx
    }

    /// Remembers which event carries `page` to each of its recipients, so
    /// that their transport ack marks it delivered.
    pub(super) fn await_delivery(
        &mut self,
        page: &mut Page,
        delivery: &Delivery,
        recipient: impl Fn(&StaffId) -> bool,
    ) {
        for (staff, seq) in delivery.recipients.iter().filter(|(s, _)| recipient(s)) {
            page.delivery_seq.insert(*staff, *seq);
            self.undelivered
                .entry(*staff)
                .or_default()
                .insert((*seq, page.view.id));
        }
    }

    /// Rebuilds the indexes derived from the pages (after loading them).
    pub fn rebuild_indexes(&mut self) {
        self.undelivered.clear();
        for p in self.pages.values() {
            for (staff, seq) in &p.delivery_seq {
                let waiting = p
                    .view
                    .recipients
                    .iter()
                    .any(|r| r.staff.id == *staff && r.delivered_at.is_none());
                if waiting {
                    self.undelivered
                        .entry(*staff)
                        .or_default()
                        .insert((*seq, p.view.id));
                }
            }
        }
    }
}
