//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer). They
//! live here, not in the fuzz crate, so that the ordinary test suite runs
//! them too (`tests/fuzz_smoke.rs`, over the committed corpus and
//! generated inputs) and they keep compiling and holding without a fuzzer.
//!
//! Each body panics when a property of the real parser breaks; the fuzzer
//! reports a panic as a finding.

use crate::limits::{MAX_FRAME_BYTES, MAX_SHIFT_MS};
use crate::login::{parse_login_body, MAX_PASSWORD_BYTES, MAX_USERNAME_BYTES};
use crate::model::*;
use crate::{ClientFrame, Command, CommandId, ErrorCode, PageTarget, StaffId, TaskId, WardId};

/// A fixed "now" for the rules that need the time.
pub const NOW: crate::Millis = 1_764_358_144_000;

/// `ClientFrame::parse_at` on any text: it never panics; a frame it
/// accepts passes the field rules and reads back the same after the hub's
/// own serialisation; an error names no nil id.
pub fn frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientFrame::parse_at(text, NOW) {
        Ok(frame) => {
            if let ClientFrame::Cmd { id, cmd, .. } = &frame {
                assert!(!id.0.is_nil(), "a nil id was accepted");
                assert!(
                    cmd.validate_at(NOW).is_ok(),
                    "accepted but invalid: {cmd:?}"
                );
            }
            let again = serde_json::to_string(&frame).expect("frames serialise");
            if again.len() <= MAX_FRAME_BYTES {
                let back = ClientFrame::parse_at(&again, NOW).expect("own output reads back");
                assert_eq!(back, frame, "round trip changed the frame");
            }
        }
        Err(e) => {
            assert!(e.id.is_none_or(|id| !id.0.is_nil()), "error names a nil id");
            if e.code == ErrorCode::TooLarge {
                assert!(text.len() > MAX_FRAME_BYTES);
            }
        }
    }
}

/// `Command::validate_at` on commands built from the bytes: it never
/// panics; a valid command's text fields hold only allowed characters; a
/// valid command of characters up to three bytes fits a frame (the promise
/// in `limits`), and any valid command that fits reads back the same.
pub fn command(data: &[u8]) {
    let mut u = Bytes(data);
    let cmd = u.command();
    if cmd.validate_at(NOW).is_err() {
        return;
    }
    if let Command::RaiseTask { bed, patient, .. } = &cmd {
        assert!(bed
            .chars()
            .chain(patient.chars())
            .all(crate::text::identifier_char));
    }
    if let Command::StartShift { ends_at, .. } = &cmd {
        assert!(*ends_at <= NOW + MAX_SHIFT_MS);
    }
    let id = CommandId(uuid::Uuid::from_u128(1));
    let frame = ClientFrame::Cmd {
        id,
        cmd,
        issued_at: None,
    };
    let text = serde_json::to_string(&frame).expect("commands serialise");
    let narrow = text.chars().all(|c| c.len_utf8() <= 3);
    if narrow {
        assert!(
            text.len() <= MAX_FRAME_BYTES,
            "a valid command of BMP text is {} bytes",
            text.len()
        );
    }
    if text.len() <= MAX_FRAME_BYTES {
        let back = ClientFrame::parse_at(&text, NOW).expect("a valid command reads back");
        assert_eq!(back, frame);
    }
}

/// `parse_login_body` on any bytes: it never panics, and what it accepts
/// keeps the length limits.
pub fn login_body(data: &[u8]) {
    if let Ok(body) = parse_login_body(data) {
        assert!(body.username.len() <= MAX_USERNAME_BYTES);
        assert!(body.password.len() <= MAX_PASSWORD_BYTES);
        assert!(body.login().len() <= body.username.len());
    }
}

/// Reads values off the fuzzer's bytes (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[usize::from(self.byte()) % from.len()]
    }

    fn len(&mut self, max: usize) -> usize {
        let n = usize::from(self.byte()) << 8 | usize::from(self.byte());
        n % (max + 1)
    }

    /// Text biased towards the characters the rules are about.
    fn text(&mut self, max: usize) -> String {
        const SPECIAL: [char; 16] = [
            ' ', '\n', '\t', '\r', '\u{0}', '\u{202e}', '\u{200b}', '\u{200d}', '\u{2028}',
            '\u{a0}', '\u{feff}', '\u{e000}', '"', '\\', '€', '🩺',
        ];
        let n = self.len(max + 4);
        let fill = self.pick(&['a', '€', '🩺', '\n', '"']);
        (0..n)
            .map(|_| match self.byte() {
                0..=15 => SPECIAL[usize::from(self.byte()) % SPECIAL.len()],
                16..=31 => char::from_u32(u32::from(self.byte()) << 8 | u32::from(self.byte()))
                    .unwrap_or('x'),
                32..=127 => fill,
                b => char::from(b & 0x7f),
            })
            .collect()
    }

    fn uuid(&mut self) -> uuid::Uuid {
        uuid::Uuid::from_u128(u128::from(self.byte()))
    }

    fn ward(&mut self) -> WardId {
        WardId(match self.byte() % 4 {
            0 => "w7".into(),
            1 => "a".repeat(32),
            2 => self.text(33),
            _ => "W7".into(),
        })
    }

    fn command(&mut self) -> Command {
        let task = TaskId(self.uuid());
        match self.byte() % 8 {
            0 | 1 => Command::RaiseTask {
                ward: self.ward(),
                bed: self.text(crate::limits::MAX_BED_CHARS),
                patient: self.text(crate::limits::MAX_PATIENT_CHARS),
                patient_id: None,
                category: Category::Cannula,
                priority: self.pick(&[Priority::Routine, Priority::Emergency]),
                requirement: Requirement::Skill(Skill::BloodCultures),
                sbar: Sbar {
                    situation: self.text(crate::limits::MAX_SBAR_CHARS),
                    background: self.text(crate::limits::MAX_SBAR_CHARS),
                    assessment: self.text(crate::limits::MAX_SBAR_CHARS),
                    recommendation: self.text(crate::limits::MAX_SBAR_CHARS),
                },
            },
            2 => Command::Decline {
                task,
                reason: self.text(crate::limits::MAX_REASON_CHARS),
            },
            3 => Command::Complete {
                task,
                outcome: self.text(crate::limits::MAX_REASON_CHARS),
            },
            4 => Command::SendPage {
                target: PageTarget::Staff(StaffId(self.uuid())),
                priority: Priority::Urgent,
                callback: self.text(crate::limits::MAX_CALLBACK_CHARS),
                message: self.text(crate::limits::MAX_MESSAGE_CHARS),
                ward: None,
            },
            5 => Command::StartShift {
                staff: StaffId(self.uuid()),
                role: Role::NursePractitioner,
                wards: (0..self.len(crate::limits::MAX_WARDS_PER_SHIFT + 1))
                    .map(|_| self.ward())
                    .collect(),
                ends_at: NOW + (i64::from(self.byte()) - 8) * 3_600_000,
            },
            6 => Command::Snapshot {
                after: match self.byte() % 3 {
                    0 => None,
                    1 => Some(self.text(80)),
                    _ => Some(format!("v1.{}_{}.e", self.byte(), self.uuid())),
                },
            },
            _ => Command::History {
                since: i64::from(self.byte()),
                after: Some("v1.s.e".into()),
            },
        }
    }
}
