//! The handover note a shift keeps per patient: SBAR (situation,
//! background, assessment, recommendation) with the plan's "what if", as
//! the RCP and BMA handover guidance asks. It is stored with the patient
//! and carried from shift to shift until someone writes a new one; each
//! version is in the audit trail.

use crate::error::FieldError;
use crate::limits::MAX_SBAR_CHARS;
use crate::model::StaffRef;
use crate::text::free_text;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The text of a handover note, as a client writes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HandoverNoteText {
    /// What is happening now (required).
    pub situation: String,
    #[serde(default)]
    pub background: String,
    /// Condition and trend, as the writer judges it.
    #[serde(default)]
    pub assessment: String,
    /// The plan for the next shift.
    #[serde(default)]
    pub recommendation: String,
    /// What to do if things change ("if NEWS2 rises above 5, call the
    /// registrar").
    #[serde(default)]
    pub what_if: String,
}

impl HandoverNoteText {
    /// The field rules: each part free text of at most [`MAX_SBAR_CHARS`]
    /// characters, the situation not empty.
    pub fn validate(&self) -> Result<(), FieldError> {
        free_text("note.situation", &self.situation, 1, MAX_SBAR_CHARS)?;
        free_text("note.background", &self.background, 0, MAX_SBAR_CHARS)?;
        free_text("note.assessment", &self.assessment, 0, MAX_SBAR_CHARS)?;
        free_text(
            "note.recommendation",
            &self.recommendation,
            0,
            MAX_SBAR_CHARS,
        )?;
        free_text("note.what_if", &self.what_if, 0, MAX_SBAR_CHARS)
    }
}

/// A patient's current handover note: its text, who wrote it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HandoverNote {
    pub situation: String,
    pub background: String,
    pub assessment: String,
    pub recommendation: String,
    pub what_if: String,
    pub by: StaffRef,
    #[ts(type = "number")]
    pub at: Millis,
}

impl HandoverNote {
    /// The note `text` as written by `by` at `at`.
    pub fn new(text: HandoverNoteText, by: StaffRef, at: Millis) -> Self {
        let HandoverNoteText {
            situation,
            background,
            assessment,
            recommendation,
            what_if,
        } = text;
        HandoverNote {
            situation,
            background,
            assessment,
            recommendation,
            what_if,
            by,
            at,
        }
    }
}
