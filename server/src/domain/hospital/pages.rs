//! The page commands: send a page to a person or a role, and each
//! recipient's read and acknowledgement (with a one-tap reply). Who hears
//! of a page's change is decided here too (`page_audience`), for the
//! escalations and delivery receipts that change pages as well.

use super::{Effects, Hospital, Write};
use crate::domain::ids::Ids;
use crate::domain::page::Page;
use crate::domain::{AuditRecord, DomainError};
use std::collections::BTreeSet;
use wardpage_proto::{
    callback_number, CommandResult, Event, Millis, PageChange, PageId, PageReceipt, PageReply,
    PageState, PageTarget, PageView, Priority, StaffId, WardId, WardRef,
};

/// What a new page says, a person's or the hub's.
pub(crate) struct PageDraft<'a> {
    pub target: PageTarget,
    pub priority: Priority,
    pub callback: &'a str,
    pub message: &'a str,
    /// Where it is sent from (`None`: nowhere named).
    pub ward: Option<&'a WardId>,
}

impl Hospital {
    /// `send_page`: from someone on shift (or a coordinator), from the
    /// ward they name or, failing that, their shift's one ward.
    pub(super) fn send_page(
        &mut self,
        actor: StaffId,
        draft: PageDraft<'_>,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        let shift = self.roster.on_shift(actor, now);
        if shift.is_none() && !self.roster.oversees(actor, now) {
            return Err(DomainError::Forbidden(
                "only staff on shift may send pages".into(),
            ));
        }
        // Not named: the ward of the sender's shift, when it is one ward
        // (someone covering several could be on any of them).
        let own = shift
            .filter(|s| s.wards.len() == 1)
            .and_then(|s| s.wards.first())
            .cloned();
        let ward = draft.ward.or(own.as_ref());
        self.send_page_from(actor, PageDraft { ward, ..draft }, now, ids)
    }

    /// Sends a person's page from `draft.ward`, which must exist.
    fn send_page_from(
        &mut self,
        actor: StaffId,
        draft: PageDraft<'_>,
        now: Millis,
        ids: &mut Ids,
    ) -> Result<Effects, DomainError> {
        if let Some(w) = draft.ward {
            if !self.roster.wards.contains_key(w) {
                return Err(DomainError::NotFound(format!("no ward {w}")));
            }
        }
        let to = self.page_recipients(actor, draft.target, now)?;
        let from = self.roster.staff_ref(actor);
        let page = self.new_page(from, &draft, &to, now, ids);
        Ok(self.publish_page(Some(actor), page, &to, now))
    }

    /// A ward as the hospital names it.
    pub(super) fn ward_ref(&self, ward: &WardId) -> WardRef {
        WardRef {
            id: ward.clone(),
            name: self.ward_name(ward),
        }
    }

    /// A page as sent to `to` (nobody: undeliverable), on the first step
    /// of the page ladder.
    pub(super) fn new_page(
        &self,
        from: wardpage_proto::StaffRef,
        draft: &PageDraft<'_>,
        to: &[StaffId],
        now: Millis,
        ids: &mut Ids,
    ) -> Page {
        let PageDraft {
            target,
            priority,
            callback,
            message,
            ward,
        } = *draft;
        let mut page = Page {
            view: PageView {
                id: self.fresh_page_id(now, ids),
                version: 1,
                from,
                target,
                priority,
                callback: callback.to_owned(),
                callback_number: callback_number(callback),
                from_ward: ward.map(|w| self.ward_ref(w)),
                message: message.to_owned(),
                state: if to.is_empty() {
                    PageState::Undeliverable
                } else {
                    PageState::Open
                },
                sent_at: now,
                recipients: to
                    .iter()
                    .map(|id| PageReceipt {
                        staff: self.roster.staff_ref(*id),
                        delivered_at: None,
                        read_at: None,
                        acked_at: None,
                        reply: None,
                        replied_at: None,
                    })
                    .collect(),
                escalation_level: 0,
                next_escalation_at: None,
            },
            delivery_seq: Default::default(),
            escalation_step: 0,
        };
        if page.view.state == PageState::Open {
            page.view.next_escalation_at = self
                .policies
                .pages
                .get(priority)
                .steps
                .first()
                .map(|s| now + s.after.unwrap_or(0));
        }
        page
    }

    /// Whom a new page goes to: the person, or everyone on shift in the role
    /// but the sender (possibly nobody).
    fn page_recipients(
        &self,
        actor: StaffId,
        target: PageTarget,
        now: Millis,
    ) -> Result<Vec<StaffId>, DomainError> {
        Ok(match target {
            PageTarget::Staff(id) => {
                if !self.roster.staff.get(&id).is_some_and(|s| s.active) {
                    return Err(DomainError::NotFound(format!("no member of staff {id}")));
                }
                vec![id]
            }
            PageTarget::Role(role) => self
                .roster
                .on_shift_in_role(role, now)
                .into_iter()
                .filter(|id| *id != actor)
                .collect(),
        })
    }

    /// Audits, tells and stores a new page sent to `to`; escalates it at
    /// once when nobody could receive it.
    pub(super) fn publish_page(
        &mut self,
        actor: Option<StaffId>,
        mut page: Page,
        to: &[StaffId],
        now: Millis,
    ) -> Effects {
        let mut fx = Effects::default();
        fx.audit.push(AuditRecord {
            at: now,
            actor,
            entity: "page",
            entity_id: page.view.id.to_string(),
            action: "send",
            from_state: None,
            to_state: Some(page.view.state.as_str().into()),
            detail: page.view.message.clone(),
        });
        let audience = self.page_audience(&page, now, true);
        let delivery = self.deliver_only(
            now,
            Event::Page {
                change: PageChange::Sent,
                page: page.view.clone(),
                by: actor.map(|a| self.roster.staff_ref(a)),
            },
            audience,
        );
        self.await_delivery(&mut page, &delivery, |s| to.contains(s));
        fx.deliveries.push(delivery);
        fx.result = Some(CommandResult::Page {
            page: page.view.clone(),
        });
        fx.writes.push(Write::Page(Box::new(page.clone())));
        let id = page.view.id;
        let undeliverable = page.view.state == PageState::Undeliverable;
        self.pages.insert(id, Box::new(page));
        if undeliverable {
            // Nobody holds the role tonight: tell someone now.
            if let Some(more) = self.escalate_page(id, now, true) {
                fx.merge(Effects {
                    result: None,
                    ..more
                });
            }
        }
        fx
    }

    pub(super) fn page_read(
        &mut self,
        actor: StaffId,
        page: PageId,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_page(actor, page, now, |p| {
            p.mark_read(actor, now)
                .map(|c| c.then_some(PageChange::Read))
        })
    }

    pub(super) fn page_ack(
        &mut self,
        actor: StaffId,
        page: PageId,
        reply: Option<PageReply>,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        self.change_page(actor, page, now, |p| p.acknowledge(actor, reply, now))
    }

    fn change_page(
        &mut self,
        actor: StaffId,
        id: PageId,
        now: Millis,
        f: impl FnOnce(&mut Page) -> Result<Option<PageChange>, DomainError>,
    ) -> Result<Effects, DomainError> {
        let before = self
            .pages
            .get(&id)
            .ok_or_else(|| DomainError::NotFound(format!("no page {id}")))?;
        let from = before.view.state;
        let mut page = before.clone();
        let mut fx = Effects::default();
        if let Some(change) = f(&mut page)? {
            fx.audit.push(AuditRecord {
                at: now,
                actor: Some(actor),
                entity: "page",
                entity_id: id.to_string(),
                action: match change {
                    PageChange::Read => "read",
                    PageChange::Acknowledged => "acknowledge",
                    PageChange::Replied => "reply",
                    PageChange::Delivered => "delivered",
                    PageChange::Sent => "send",
                },
                from_state: Some(from.as_str().into()),
                to_state: Some(page.view.state.as_str().into()),
                // The reply, in the words the sender saw ("On my way").
                detail: reply_of(&page, actor)
                    .filter(|_| matches!(change, PageChange::Acknowledged | PageChange::Replied))
                    .map(|r| r.label().to_owned())
                    .unwrap_or_default(),
            });
            let everyone = matches!(change, PageChange::Acknowledged | PageChange::Replied);
            let audience = self.page_audience(&page, now, everyone);
            let delivery = self.deliver_only(
                now,
                Event::Page {
                    change,
                    page: page.view.clone(),
                    by: Some(self.roster.staff_ref(actor)),
                },
                audience,
            );
            fx.deliveries.push(delivery);
            fx.writes.push(Write::Page(page.clone()));
            self.pages.insert(id, page.clone());
        }
        // A repeat read or ack changes nothing and answers with the page as it is.
        fx.result = Some(CommandResult::Page { page: page.view });
        Ok(fx)
    }

    /// Sender and coordinators always; every recipient when `everyone`.
    pub(super) fn page_audience(
        &self,
        page: &Page,
        now: Millis,
        everyone: bool,
    ) -> BTreeSet<StaffId> {
        let mut to = BTreeSet::from([page.view.from.id]);
        to.extend(self.roster.overseers(now));
        if everyone {
            to.extend(page.view.recipients.iter().map(|r| r.staff.id));
        }
        to
    }
}

/// The reply `who` has given on `page`, if any.
fn reply_of(page: &Page, who: StaffId) -> Option<PageReply> {
    page.view
        .recipients
        .iter()
        .find(|r| r.staff.id == who)
        .and_then(|r| r.reply)
}
