//! The frames themselves: the outermost JSON objects, tagged by `type`.

use crate::command::{Command, CommandResult};
use crate::error::ErrorCode;
use crate::event::Event;
use crate::ids::CommandId;
use crate::model::StaffView;
use crate::Millis;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A frame from a client to the hub.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum ClientFrame {
    /// Must be the first frame. `cursor` is the highest event `seq` the
    /// client has processed (0 for a fresh device).
    Hello {
        version: u32,
        token: String,
        #[ts(type = "number")]
        cursor: u64,
        /// `true`: a device with no local state that wants no history: the
        /// hub skips the replay and answers `resync` (ask for `snapshot`).
        #[serde(default)]
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        fresh: Option<bool>,
    },
    /// Carry out a command. The reply names `id` (in lower case: the hub
    /// answers every id in its canonical form).
    Cmd {
        id: CommandId,
        cmd: Command,
        /// When the client first made this command (hub time as the client
        /// best knows it, e.g. its clock corrected by `welcome.server_time`),
        /// unchanged on every re-send. A command the hub no longer
        /// remembers and issued longer ago than its id window is refused
        /// with `id_expired` rather than taken as new.
        #[serde(default)]
        #[serde(skip_serializing_if = "Option::is_none")]
        #[ts(optional, type = "number")]
        issued_at: Option<Millis>,
    },
    /// Every event up to and including `seq` has been received (cumulative).
    Ack {
        #[ts(type = "number")]
        seq: u64,
    },
    /// Application heartbeat; the hub answers `pong`.
    Ping {},
}

/// A frame from the hub to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
// As for `CommandResult`: a frame lives briefly and is built once per reply;
// boxing the large answers would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum ServerFrame {
    /// The answer to a good hello. Events after the client's cursor follow.
    Welcome {
        version: u32,
        me: StaffView,
        #[ts(type = "number")]
        server_time: Millis,
        /// The newest `seq` in the user's stream.
        #[ts(type = "number")]
        cursor: u64,
        /// The client's cursor could not be honoured (history it asked for
        /// is gone, or it is ahead of the hub): drop local state, ask for a
        /// snapshot, and continue from `cursor`.
        resync: bool,
        /// The hub pings at this interval and drops a peer silent for three of them.
        heartbeat_secs: u32,
    },
    /// A command succeeded (now, or the first time this id was sent).
    Ok {
        id: CommandId,
        result: CommandResult,
    },
    /// A frame or command was refused; nothing changed. `id` is `null` when
    /// the frame had no readable command id.
    Error {
        id: Option<CommandId>,
        code: ErrorCode,
        message: String,
    },
    /// One event in the user's stream. `seq` is gap-free per user.
    Event {
        #[ts(type = "number")]
        seq: u64,
        #[ts(type = "number")]
        at: Millis,
        event: Event,
    },
    /// Someone's first device connected, or their last one went away.
    /// Sent live to coordinators; not numbered and never replayed (ask for
    /// `directory` after a reconnect).
    Presence {
        staff: crate::ids::StaffId,
        connected: bool,
        #[ts(type = "number")]
        at: Millis,
    },
    /// The answer to `ping`.
    Pong {
        #[ts(type = "number")]
        server_time: Millis,
    },
}

/// Why a client frame could not be read, with the wire code to answer.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct FrameError {
    pub code: ErrorCode,
    /// The command id, when the frame was readable far enough to have one.
    pub id: Option<CommandId>,
    pub message: String,
}

impl ClientFrame {
    /// Reads a text frame, telling bad JSON, unknown types and bad fields
    /// apart, and applying the protocol's field rules to commands; the
    /// rules that need the time are checked against `now`
    /// ([`Command::validate_at`]). The hub reads every frame with it.
    pub fn parse_at(text: &str, now: Millis) -> Result<ClientFrame, FrameError> {
        let frame = Self::read(text)?;
        if let ClientFrame::Cmd { id, cmd, .. } = &frame {
            cmd.validate_at(now).map_err(|e| invalid(Some(*id), e))?;
        }
        Ok(frame)
    }

    /// [`ClientFrame::parse_at`] without the rules that need the time
    /// (for clients checking their own frames, and for tests).
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        let frame = Self::read(text)?;
        if let ClientFrame::Cmd { id, cmd, .. } = &frame {
            cmd.validate().map_err(|e| invalid(Some(*id), e))?;
        }
        Ok(frame)
    }

    fn read(text: &str) -> Result<ClientFrame, FrameError> {
        if text.len() > crate::limits::MAX_FRAME_BYTES {
            return Err(FrameError {
                code: ErrorCode::TooLarge,
                id: None,
                message: format!(
                    "frame is {} bytes; the limit is {}",
                    text.len(),
                    crate::limits::MAX_FRAME_BYTES
                ),
            });
        }
        match serde_json::from_str::<ClientFrame>(text) {
            // The nil UUID is what a client that forgot to mint an id sends:
            // as an idempotency key it would make unrelated commands repeats.
            Ok(ClientFrame::Cmd { id, .. }) if id.0.is_nil() => Err(FrameError {
                code: ErrorCode::InvalidField,
                id: None,
                message: "id: the nil UUID is not a command id; mint a random (v4) or time-ordered (v7) one".into(),
            }),
            Ok(frame) => Ok(frame),
            Err(err) => Err(classify(text, err)),
        }
    }
}

fn invalid(id: Option<CommandId>, e: crate::error::FieldError) -> FrameError {
    FrameError {
        code: ErrorCode::InvalidField,
        id,
        message: e.to_string(),
    }
}

/// The slow path: work out which rule the frame broke.
fn classify(text: &str, err: serde_json::Error) -> FrameError {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => {
            return FrameError {
                code: ErrorCode::BadJson,
                id: None,
                message: format!("not valid JSON: {err}"),
            }
        }
    };
    let id = value
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse::<CommandId>().ok())
        .filter(|id| !id.0.is_nil());
    let Some(obj) = value.as_object() else {
        return FrameError {
            code: ErrorCode::BadJson,
            id,
            message: "a frame must be a JSON object".into(),
        };
    };
    const TYPES: [&str; 4] = ["hello", "cmd", "ack", "ping"];
    match obj.get("type").and_then(|t| t.as_str()) {
        None => FrameError {
            code: ErrorCode::UnknownType,
            id,
            message: "missing string field `type`".into(),
        },
        Some(t) if !TYPES.contains(&t) => FrameError {
            code: ErrorCode::UnknownType,
            id,
            message: format!("unknown frame type `{t}`"),
        },
        Some("cmd") => {
            let op = obj.get("cmd").and_then(|c| c.get("op"));
            let known = op
                .and_then(|o| o.as_str())
                .map(|o| serde_json::from_value::<Command>(serde_json::json!({ "op": o })))
                .map(|r| match r {
                    Ok(_) => true,
                    // A known op complains about a missing field, not an unknown variant.
                    Err(e) => !e.to_string().contains("unknown variant"),
                });
            match known {
                Some(true) => FrameError {
                    code: ErrorCode::InvalidField,
                    id,
                    message: err.to_string(),
                },
                Some(false) => FrameError {
                    code: ErrorCode::UnknownType,
                    id,
                    message: format!(
                        "unknown command op {}",
                        op.map(|o| o.to_string()).unwrap_or_default()
                    ),
                },
                None => FrameError {
                    code: if obj.get("cmd").is_some() {
                        ErrorCode::UnknownType
                    } else {
                        ErrorCode::InvalidField
                    },
                    id,
                    message: if obj.get("cmd").is_some() {
                        "missing string field `cmd.op`".into()
                    } else {
                        err.to_string()
                    },
                },
            }
        }
        Some(_) => FrameError {
            code: ErrorCode::InvalidField,
            id,
            message: err.to_string(),
        },
    }
}

impl ServerFrame {
    /// Serialises the frame. Serialising these types cannot fail (no maps
    /// with non-string keys, no non-finite floats), so this returns a string.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"type":"error","id":null,"code":"internal","message":"serialise: {e}"}}"#)
        })
    }
}
