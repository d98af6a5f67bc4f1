//! Pages on the wire: "call me now" to a person or a role, whether it still
//! waits for a human acknowledgement, and each recipient's receipts.

use super::{Priority, StaffRef};
use crate::ids::PageId;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// One recipient's receipts for a page: three separate facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageReceipt {
    pub staff: StaffRef,
    /// The recipient's device acknowledged the event carrying the page.
    #[ts(type = "number | null")]
    pub delivered_at: Option<Millis>,
    /// The page was shown to the recipient.
    #[ts(type = "number | null")]
    pub read_at: Option<Millis>,
    /// The recipient, a person, acknowledged it.
    #[ts(type = "number | null")]
    pub acked_at: Option<Millis>,
    /// Their one-tap reply, the latest one (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reply: Option<crate::page_extras::PageReply>,
    /// When they sent that reply (absent with `reply`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub replied_at: Option<Millis>,
}

/// Whether a page still waits for a human acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum PageState {
    /// No recipient has acknowledged yet.
    Open,
    /// At least one recipient acknowledged.
    Acknowledged,
    /// Nobody was on shift to receive it: the coordinator is told.
    Undeliverable,
}

impl PageState {
    /// The snake_case name used on the wire, in the audit trail and the
    /// store's state column.
    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Open => "open",
            PageState::Acknowledged => "acknowledged",
            PageState::Undeliverable => "undeliverable",
        }
    }
}

/// A page: "call me now" to a person or to everyone holding a role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct PageView {
    pub id: PageId,
    pub version: u32,
    pub from: StaffRef,
    pub target: crate::command::PageTarget,
    pub priority: Priority,
    pub callback: String,
    /// The number a phone dials for `callback` (digits, a leading `+` kept):
    /// show it as a `tel:` link. Absent for the hub's own pages, whose
    /// callback is a place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub callback_number: Option<String>,
    /// The ward the page was sent from, as the hospital names it (absent:
    /// the sender named none and their shift covers several or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from_ward: Option<crate::page_extras::WardRef>,
    pub message: String,
    pub state: PageState,
    #[ts(type = "number")]
    pub sent_at: Millis,
    pub recipients: Vec<PageReceipt>,
    /// How many times the hub has escalated this page (0: never).
    pub escalation_level: u32,
    /// When the hub will escalate next unless someone acknowledges.
    #[ts(type = "number | null")]
    pub next_escalation_at: Option<Millis>,
}
