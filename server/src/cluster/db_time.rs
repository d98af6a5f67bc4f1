//! A cluster node keeps the database's time. Leases were always judged by
//! the database's clock; escalation deadlines, though, are stamped and
//! fired by whichever node owns, so with each node on its own machine's
//! clock a takeover by a node five minutes slow would fire every pending
//! escalation five minutes late (and a fast one, early). So each node
//! measures its machine's clock against the database's at every lease read
//! and runs the hub's clock ([`crate::clock::follow`]) on the database's
//! time: every node stamps and fires by one clock. `/readyz` still shows
//! how far the machine's own clock is off, for IT to fix its NTP.

use super::Status;
use tracing::error;

/// A machine clock further than this from the database's is logged.
const CLOCK_OFF_MS: i64 = 1_000;

/// A measured difference smaller than this from the correction in force is
/// the measurement's own noise (half a round trip): not followed, so that
/// a standby's clock does not jitter with each read.
const NOISE_MS: i64 = 100;

/// Follows the database's clock given `offset`, this machine's clock minus
/// the database's as a lease read found them, and shows it in `/readyz`.
/// `at_once` when the node has nothing of its own scheduled (it owns no
/// site, or is about to load the one it just claimed): even a large
/// correction is taken at once. Otherwise it is absorbed as a stepped wall
/// clock is (`crate::clock`'s doc), never moving a deadline at once.
pub(super) fn follow_database(status: &Status, offset: i64, at_once: bool) {
    status.set(|s| s.clock_offset_ms = Some(offset));
    let correction = -offset;
    if (correction - crate::clock::correction()).abs() > NOISE_MS {
        crate::clock::follow(correction, at_once);
        if offset.abs() > CLOCK_OFF_MS {
            error!(
                offset_ms = offset,
                "this machine's clock is off the database's: the node keeps the database's time \
                 for its stamps and deadlines, but fix the machine's time (NTP)"
            );
        }
    }
}
