//! wardpage wire protocol, version 1.
//!
//! Every frame that crosses the hub's WebSocket is a type in this crate:
//! [`ClientFrame`] from a handheld or dashboard to the hub, [`ServerFrame`]
//! back. Frames are JSON text, one object per WebSocket message, tagged by a
//! `type` field. `PROTOCOL.md` beside this crate is the prose specification;
//! its examples are checked by this crate's tests.
//!
//! Architecture invariant: this crate does no I/O and knows nothing about the
//! hub's storage. It may validate a frame's fields (lengths, ranges) because
//! those rules are part of the protocol, not of one implementation.

pub mod clinical;
pub mod command;
pub mod error;
pub mod event;
pub mod frame;
/// Fuzz target bodies (see `fuzz/`); not part of the protocol.
#[doc(hidden)]
pub mod fuzzing;
pub mod handover_note;
pub mod ids;
pub mod limits;
pub mod login;
pub mod model;
pub mod page_extras;
pub mod paging;
pub mod text;

pub use clinical::*;
pub use command::{Command, CommandResult, PageTarget, TimelineEntry};
pub use error::{ErrorCode, FieldError};
pub use event::{Event, PageChange, TaskChange};
pub use frame::{ClientFrame, ServerFrame};
pub use handover_note::{HandoverNote, HandoverNoteText};
pub use ids::{CommandId, ObservationId, PageId, PatientId, StaffId, TaskId, WardId};
pub use model::*;
pub use page_extras::{callback_number, PageReply, WardRef};

/// The protocol version this crate speaks. A hello with any other version is
/// refused with [`ErrorCode::UnsupportedVersion`].
pub const PROTOCOL_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch, UTC. Every timestamp on the wire uses it.
pub type Millis = i64;
