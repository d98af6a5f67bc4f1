//! Size limits that are part of the protocol. A client that respects them
//! never gets `too_large` or `invalid_field` for length.

/// Largest text frame the hub reads, in bytes. Larger frames get
/// `too_large` and change nothing; far larger ones close the connection.
pub const MAX_FRAME_BYTES: usize = 16 * 1024;
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
