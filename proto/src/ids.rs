//! Identifiers. Tasks, pages, staff and commands are UUIDs (tasks and pages
//! minted by the hub, command ids minted by the client so that a re-sent
//! command is recognised); wards are short human codes such as `w7`. The
//! hub's ids are time-ordered (v7); it derives their other bits from the
//! command (or deadline) that made them, see [`TaskId::ordered_from`].

use serde::{Deserialize, Serialize};
use std::fmt;
use ts_rs::TS;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[ts(export, type = "string")]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) id.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// A fresh time-ordered (v7) id for something made at `at_ms`
            /// (Unix milliseconds): ids made later sort later, so stores
            /// append to their indexes instead of writing all over them.
            pub fn new_ordered(at_ms: i64) -> Self {
                let ms = u64::try_from(at_ms).unwrap_or(0);
                let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, ((ms % 1000) * 1_000_000) as u32);
                Self(Uuid::new_v7(ts))
            }

            /// A time-ordered (v7) id for something made at `at_ms` whose
            /// other bits are given (`bits`, of which the v7 layout keeps 74),
            /// so that whoever derives `bits` from what caused the change
            /// gets the same id each time it is made from the same inputs.
            pub fn ordered_from(at_ms: i64, bits: [u8; 10]) -> Self {
                let ms = u64::try_from(at_ms).unwrap_or(0);
                Self(uuid::Builder::from_unix_timestamp_millis(ms, &bits).into_uuid())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A task, minted by the hub when it is raised.
    TaskId
);
uuid_id!(
    /// A page, minted by the hub when it is sent.
    PageId
);
uuid_id!(
    /// A member of staff (an account).
    StaffId
);
uuid_id!(
    /// A patient, minted by the hub when they are admitted.
    PatientId
);
uuid_id!(
    /// A set of bedside observations, minted by the hub when it is stored.
    ObservationId
);
uuid_id!(
    /// A command, minted by the client. It is the idempotency key: the hub
    /// applies a command id once and answers a repeat with the first answer.
    CommandId
);

/// A ward's short code, e.g. `w7` or `amu`: lower-case letters, digits and
/// `-`, 1 to 32 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[ts(export, type = "string")]
pub struct WardId(pub String);

impl WardId {
    /// Whether the code has the allowed shape.
    pub fn is_well_formed(&self) -> bool {
        let s = self.0.as_str();
        !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

impl fmt::Display for WardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for WardId {
    fn from(s: &str) -> Self {
        WardId(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_ids_from_given_bits_are_v7_repeatable_and_sort_by_time() {
        let a = TaskId::ordered_from(1_764_358_144_123, [7; 10]);
        assert_eq!(a, TaskId::ordered_from(1_764_358_144_123, [7; 10]));
        assert_eq!(a.0.get_version_num(), 7);
        assert_eq!(a.0.get_variant(), uuid::Variant::RFC4122);
        let (secs, nanos) = a.0.get_timestamp().expect("v7 has a time").to_unix();
        assert_eq!((secs, nanos), (1_764_358_144, 123_000_000));
        assert_ne!(a, TaskId::ordered_from(1_764_358_144_123, [8; 10]));
        // Later sorts later, whatever the other bits.
        assert!(TaskId::ordered_from(1_764_358_144_124, [0; 10]) > a);
        assert!(TaskId::ordered_from(1_764_358_144_122, [255; 10]) < a);
    }
}
