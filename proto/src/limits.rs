//! Size limits that are part of the protocol.
//!
//! Field limits count characters; the frame limit counts bytes, and a
//! command must keep both. Every command within the field limits fits a
//! frame when each character takes at most three bytes as sent (any text
//! in the Basic Multilingual Plane, sent as UTF-8 and escaped only where
//! JSON requires it): the largest `raise_task` is then 12,465 bytes. Text
//! of four-byte characters (emoji) or sent as `\uXXXX` escapes can pass
//! 16 KiB at the field limits, and then the frame limit wins: `too_large`.

/// Largest text frame the hub reads, in bytes. Larger frames get
/// `too_large` and change nothing; far larger ones close the connection.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Largest frame the hub sends, in bytes. Snapshots and histories come in
/// parts (`crate::paging`) to keep it; a client must read frames this large.
pub const MAX_SERVER_FRAME_BYTES: usize = 1024 * 1024;
/// Longest a started shift may last: it must end within this of now.
pub const MAX_SHIFT_MS: i64 = 24 * 3_600_000;
/// Longest SBAR field (situation, background, assessment, recommendation), in characters.
pub const MAX_SBAR_CHARS: usize = 1000;
/// Longest bed label, in characters.
pub const MAX_BED_CHARS: usize = 16;
/// Longest patient identifier (e.g. hospital number), in characters.
pub const MAX_PATIENT_CHARS: usize = 32;
/// Longest reason or outcome note (decline, cancel, hand back, complete), in characters.
pub const MAX_REASON_CHARS: usize = 500;
/// Longest page message, in characters.
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Longest page callback (extension number or location), in characters.
pub const MAX_CALLBACK_CHARS: usize = 64;
/// Most wards one shift may cover.
pub const MAX_WARDS_PER_SHIFT: usize = 64;
/// Longest busy reason ("In resus", "With a sick patient"), in characters.
pub const MAX_BUSY_REASON_CHARS: usize = 60;
/// Shortest busy state, in minutes.
pub const MIN_BUSY_MINUTES: u32 = 5;
/// Longest busy state, in minutes: after two hours the phone rings again
/// for everything, whatever was forgotten.
pub const MAX_BUSY_MINUTES: u32 = 120;
