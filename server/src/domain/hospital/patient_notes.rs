//! The patient's shift handover note (`set_handover_note`): SBAR with the
//! plan's "what if", written by whoever on shift covers the patient's ward
//! (or a coordinator). A new note replaces the one before in the patient's
//! view, so it is carried from shift to shift until someone rewrites it;
//! every version is kept in the audit trail, whole.

use super::{Effects, Hospital};
use crate::domain::DomainError;
use wardpage_proto::{HandoverNote, HandoverNoteText, Millis, PatientChange, PatientId, StaffId};

impl Hospital {
    pub(super) fn set_handover_note(
        &mut self,
        actor: StaffId,
        id: PatientId,
        text: &HandoverNoteText,
        now: Millis,
    ) -> Result<Effects, DomainError> {
        // Only who may see the patient may write about them; anyone else
        // is told the patient does not exist, as a read would be.
        let mut p = self.visible_patient(actor, id, now)?.clone();
        let note = HandoverNote::new(text.clone(), self.roster.staff_ref(actor), now);
        let detail = audit_text(&note);
        p.view.handover_note = Some(note);
        p.touch(now);
        let mut fx = Effects::default();
        self.audit_patient(&mut fx, Some(actor), &p, "set_handover_note", detail, now);
        Ok(self.finish_patient(fx, Some(actor), p, PatientChange::HandoverNote, &[], now))
    }
}

/// The whole note as the audit row keeps it: one line per part written.
fn audit_text(n: &HandoverNote) -> String {
    [
        ("S", &n.situation),
        ("B", &n.background),
        ("A", &n.assessment),
        ("R", &n.recommendation),
        ("What if", &n.what_if),
    ]
    .iter()
    .filter(|(_, text)| !text.is_empty())
    .map(|(part, text)| format!("{part}: {text}"))
    .collect::<Vec<_>>()
    .join("\n")
}
