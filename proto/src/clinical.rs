//! Patients, bedside observations and their NEWS2 scores, as they appear on
//! the wire, with the protocol's rules for them: the NHS number's check
//! digit, the plausible range of every vital sign, how a measured value is
//! quantised before it is scored.
//!
//! Numbers are quantised where they are read, so that the hub, every client
//! and the store see the one value that was scored: a temperature to the
//! nearest 0.1 °C and every other vital sign to the nearest whole number,
//! halves rounded up (35.05 °C is 35.1; a rate of 8.5 is 9). Bands then
//! meet without gaps: every quantised value falls in exactly one band.

use crate::Millis;

/// Longest patient name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest consultant name, in characters.
pub const MAX_CONSULTANT_CHARS: usize = 100;
/// Longest alerts text (allergies, resuscitation status), in characters.
pub const MAX_ALERTS_CHARS: usize = 500;
/// Longest clinical concern or scale reason, in characters.
pub const MAX_CONCERN_CHARS: usize = 1000;
/// How far ahead of the hub's clock a set's `taken_at` may be: a handset's
/// clock a little fast is tolerated, a set from the future is not.
pub const MAX_TAKEN_AHEAD_MS: Millis = 2 * 60_000;
/// How long ago a set may have been taken: a set queued offline keeps its
/// time, but one older than this is refused (it would rewrite history).
pub const MAX_TAKEN_AGO_MS: Millis = 24 * 3_600_000;
/// How far back a chart reaches.
pub const CHART_WINDOW_MS: Millis = 72 * 3_600_000;

mod observation;
mod patient;
mod score;

pub use observation::*;
pub use patient::*;
pub use score::*;
