//! The protocol's rules for text fields: which characters a field may hold.
//!
//! Text that displays as something other than what it is misleads people:
//! `RX\u{202e}7654321` displays as `RX1234567`, the wrong patient. So the
//! hub refuses, with `invalid_field` naming the field and the character:
//!
//! - in **identifiers** (`patient`, `bed`, a page's `callback`: what people
//!   match against a wristband, a bed sign or a phone), every control
//!   character (newline and tab too), every format character (Unicode
//!   category Cf: bidi controls, zero-width characters, the byte-order
//!   mark, soft hyphens), line and paragraph separators (Zl, Zp), private
//!   use and unassigned code points (Co, Cn: they display as nothing or as
//!   a box), any space other than U+0020, and a space at either end;
//! - in **free text** (SBAR fields, page messages, reasons, outcomes),
//!   control characters other than newline and tab, and every format
//!   character except U+200D ZERO WIDTH JOINER, which emoji sequences such
//!   as 👩‍⚕️ need and which reorders nothing, and line and paragraph
//!   separators (a newline is the way to break a line).
//!
//! Refusing rather than stripping: a stripped field would not be what the
//! sender's screen showed them when they sent it, and a refusal changes
//! nothing. Ward codes are ASCII by shape (`WardId::is_well_formed`).
//!
//! The categories come from the `unicode-properties` crate (general
//! category tables of the current Unicode version, no dependencies,
//! already in the hub's build through sqlx). The alternatives were a hand
//! table of the bidi and zero-width code points, which misses the rest of
//! Cf and goes stale with each Unicode version, and `unicode-general-category`,
//! which is equivalent but would be one more crate.

use crate::error::FieldError;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// U+200D ZERO WIDTH JOINER, allowed in free text for emoji sequences.
const ZWJ: char = '\u{200d}';

/// Checks an identifier field: `min..=max` characters, none of them
/// invisible, reordering or an unusual space, no space at either end.
pub fn identifier(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    length(field, value, min, max)?;
    if let Some(c) = value.chars().find(|&c| !identifier_char(c)) {
        return Err(refused(field, c));
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err(FieldError::new(
            field,
            "must not begin or end with a space (it would look like another value)",
        ));
    }
    Ok(())
}

/// Checks a free-text field: `min..=max` characters (at least `min` that are
/// not white space), no control character but newline and tab, no format
/// character but U+200D, no line or paragraph separator.
pub fn free_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    length(field, value, min, max)?;
    match value.chars().find(|&c| !free_text_char(c)) {
        Some(c) => Err(refused(field, c)),
        None => Ok(()),
    }
}

fn length(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), FieldError> {
    if value.trim().chars().count() < min {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if value.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("longer than {max} characters"),
        ));
    }
    Ok(())
}

/// Whether `c` may appear in an identifier.
pub fn identifier_char(c: char) -> bool {
    use GeneralCategory as G;
    match c.general_category() {
        G::Control
        | G::Format
        | G::LineSeparator
        | G::ParagraphSeparator
        | G::PrivateUse
        | G::Surrogate
        | G::Unassigned => false,
        G::SpaceSeparator => c == ' ',
        _ => true,
    }
}

/// Whether `c` may appear in free text.
pub fn free_text_char(c: char) -> bool {
    use GeneralCategory as G;
    match c.general_category() {
        G::Control => c == '\n' || c == '\t',
        G::Format => c == ZWJ,
        G::LineSeparator | G::ParagraphSeparator | G::Surrogate => false,
        _ => true,
    }
}

fn refused(field: &'static str, c: char) -> FieldError {
    let what = match c.general_category() {
        GeneralCategory::Control => "a control character",
        GeneralCategory::Format => "an invisible formatting or text-direction character",
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            "a line or paragraph separator"
        }
        GeneralCategory::PrivateUse | GeneralCategory::Unassigned => {
            "a code point with no agreed character"
        }
        GeneralCategory::SpaceSeparator => "a space other than U+0020",
        _ => "a character not allowed here",
    };
    FieldError::new(
        field,
        format!(
            "contains {what} (U+{:04X}), which could make it display as something it is not",
            u32::from(c)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reordering_and_invisible_characters_are_named() {
        let e = identifier("patient", "RX\u{202e}7654321", 1, 32).expect_err("bidi");
        assert_eq!(e.field, "patient");
        assert!(e.problem.contains("U+202E"), "{e}");
        for c in [
            '\u{200b}', '\u{200d}', '\u{2066}', '\u{feff}', '\u{ad}', '\u{a0}', '\n',
        ] {
            assert!(!identifier_char(c), "{:04X}", u32::from(c));
        }
        for c in [
            '\u{200b}', '\u{202e}', '\u{2028}', '\u{2029}', '\u{61c}', '\r',
        ] {
            assert!(!free_text_char(c), "{:04X}", u32::from(c));
        }
        for c in ['\n', '\t', '\u{200d}', 'é', '€', '🩺', ' '] {
            assert!(free_text_char(c), "{:04X}", u32::from(c));
        }
        assert!(identifier("bed", "12", 1, 16).is_ok());
        assert!(identifier("bed", "Side room 2", 1, 16).is_ok());
        assert!(identifier("bed", " 12", 1, 16).is_err());
        assert!(free_text("reason", "  ", 1, 500).is_err());
    }
}
