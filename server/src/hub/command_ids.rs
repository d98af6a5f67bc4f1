//! Command ids as idempotency keys: what makes a repeat the same command,
//! and when an id is too old for the hub to vouch for.
//!
//! A repeat is the same command only if the same user sent the same op with
//! the same fields: the digest covers the whole command as sent, so an id
//! reused for another task, bed or ward is refused (`id_reused`) instead of
//! being answered with the first command's result, which would tell the
//! client that something happened that did not.

use crate::store::CommandRecord;
use sha2::{Digest, Sha256};
use wardpage_proto::{Command, Millis, StaffId};

/// How far a client's idea of hub time (`issued_at`) may be off: a command
/// is taken as new only if it was issued this much inside the window, so a
/// client whose clock estimate runs late cannot slip a forgotten command in.
pub const ISSUED_AT_MARGIN: Millis = 3_600_000;

/// A stable fingerprint of a command: SHA-256 over its canonical JSON (the
/// proto types serialise their fields in declaration order), first 16
/// bytes in hex. `None` only if the command cannot be serialised, which
/// the proto types never do.
pub fn digest(cmd: &Command) -> Option<String> {
    let json = serde_json::to_vec(cmd).ok()?;
    let hash = Sha256::digest(&json);
    Some(hash[..16].iter().map(|b| format!("{b:02x}")).collect())
}

/// How a command that arrives relates to what the hub remembers of its id.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// Never seen (or forgotten) and recent enough: apply it.
    New,
    /// The same command again: answer as the first time.
    Repeat,
    /// The id stands for another command or another user.
    Reused,
    /// Not remembered, and issued before the window: it may have been
    /// applied and forgotten, so it is not applied now.
    Expired,
}

/// Judges an arriving command against the remembered record for its id.
/// Records stored before digests were kept have an empty digest and are
/// judged by actor and op alone.
pub fn judge(
    remembered: Option<&CommandRecord>,
    actor: StaffId,
    op: &str,
    digest: &str,
    issued_at: Option<Millis>,
    now: Millis,
    retention: Millis,
) -> Seen {
    match remembered {
        Some(rec) => {
            let same = rec.actor == actor
                && rec.op == op
                && (rec.digest.is_empty() || rec.digest == digest);
            if same {
                Seen::Repeat
            } else {
                Seen::Reused
            }
        }
        None if issued_at.is_some_and(|t| t < now - retention + ISSUED_AT_MARGIN) => Seen::Expired,
        None => Seen::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wardpage_proto::{CommandId, TaskId};

    fn cancel(task: TaskId) -> Command {
        Command::Cancel {
            task,
            reason: "raised in error".into(),
        }
    }

    fn record(actor: StaffId, cmd: &Command, digest: &str) -> CommandRecord {
        CommandRecord {
            id: CommandId::new_random(),
            actor,
            op: cmd.op().into(),
            digest: digest.into(),
            at: 0,
            reply: None,
        }
    }

    #[test]
    fn the_digest_tells_commands_of_one_op_apart() {
        let (a, b) = (TaskId::new_random(), TaskId::new_random());
        assert_eq!(digest(&cancel(a)), digest(&cancel(a)));
        assert_ne!(digest(&cancel(a)), digest(&cancel(b)));
    }

    #[test]
    fn a_repeat_must_match_actor_op_and_fields() {
        let me = StaffId::new_random();
        let task = TaskId::new_random();
        let d = digest(&cancel(task)).unwrap_or_default();
        let rec = record(me, &cancel(task), &d);
        let day = 86_400_000;
        assert_eq!(
            judge(Some(&rec), me, "cancel", &d, None, 0, day),
            Seen::Repeat
        );
        let other = digest(&cancel(TaskId::new_random())).unwrap_or_default();
        assert_eq!(
            judge(Some(&rec), me, "cancel", &other, None, 0, day),
            Seen::Reused
        );
        let them = StaffId::new_random();
        assert_eq!(
            judge(Some(&rec), them, "cancel", &d, None, 0, day),
            Seen::Reused
        );
        // A record from before digests: actor and op decide.
        let old = record(me, &cancel(task), "");
        assert_eq!(
            judge(Some(&old), me, "cancel", &other, None, 0, day),
            Seen::Repeat
        );
    }

    #[test]
    fn an_unremembered_command_issued_before_the_window_is_expired() {
        let me = StaffId::new_random();
        let (now, day) = (100 * 86_400_000, 86_400_000);
        let judge_at = |t| judge(None, me, "cancel", "", Some(t), now, day);
        assert_eq!(judge_at(now - day), Seen::Expired);
        assert_eq!(judge_at(now - day + ISSUED_AT_MARGIN - 1), Seen::Expired);
        assert_eq!(judge_at(now - day + ISSUED_AT_MARGIN), Seen::New);
        assert_eq!(judge(None, me, "cancel", "", None, now, day), Seen::New);
    }
}
