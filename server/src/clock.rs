//! Time in protocol units: the only place the hub reads the clock for
//! timestamps and deadlines; the domain is handed `now` instead.
//!
//! The hub keeps its own time, driven by the monotonic clock and kept near
//! the wall clock: small corrections (within [`ADOPT_WITHIN`]) are taken at
//! once, never backwards; a larger step of the wall clock (a bad NTP
//! server, an operator setting the date) is logged and absorbed slowly, at
//! most [`SLEW`] of elapsed time. So a clock set back an hour neither delays
//! every escalation by an hour, nor does a clock set forward fire an hour's
//! escalations at once. A restarted hub starts from the wall clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;
use wardpage_proto::Millis;

/// A wall-clock difference up to this is taken at once (ordinary NTP work).
pub const ADOPT_WITHIN: Millis = 1_000;
/// A larger difference is closed by at most 1 ms per this many ms elapsed
/// (5%: a minute's escalation gap runs 57-63 s while a step is absorbed).
pub const SLEW: Millis = 20;

struct State {
    /// Hub time at `at`.
    base: Millis,
    at: Instant,
    /// Whether the wall clock is off by more than `ADOPT_WITHIN` (logged
    /// once per step, not per read).
    stepped: bool,
}

/// The hub's clock: see the module docs.
struct HubClock {
    state: Mutex<State>,
    /// Added to the system clock: lets a test step the wall clock.
    wall_offset: AtomicI64,
}

static CLOCK: LazyLock<HubClock> = LazyLock::new(|| HubClock {
    state: Mutex::new(State {
        base: system_ms(),
        at: Instant::now(),
        stepped: false,
    }),
    wall_offset: AtomicI64::new(0),
});

fn system_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// The hub's time: milliseconds since the Unix epoch, never decreasing.
pub fn now_ms() -> Millis {
    let clock = &*CLOCK;
    let wall = system_ms() + clock.wall_offset.load(Ordering::Relaxed);
    let mono = Instant::now();
    let Ok(mut st) = clock.state.lock() else {
        return wall;
    };
    let elapsed = mono.saturating_duration_since(st.at).as_millis() as Millis;
    let (now, off) = advance(st.base, elapsed, wall);
    match (off, st.stepped) {
        (true, false) => tracing::warn!(
            step_ms = wall - (st.base + elapsed),
            "the wall clock stepped; the hub keeps its own time and moves toward the new one by at most 5% (a restart takes the wall clock at once)"
        ),
        (false, true) => tracing::info!("the hub's time has caught up with the wall clock"),
        _ => {}
    }
    st.stepped = off;
    st.base = now;
    st.at = mono;
    now
}

/// Hub time `elapsed` ms after it was `base`, given the wall clock reads
/// `wall`; and whether the wall clock is off by more than can be adopted.
fn advance(base: Millis, elapsed: Millis, wall: Millis) -> (Millis, bool) {
    let steady = base + elapsed;
    let diff = wall - steady;
    if diff.abs() <= ADOPT_WITHIN {
        // Never before the last time handed out.
        return (wall.max(base), false);
    }
    let slew = (elapsed / SLEW).min(diff.abs());
    (steady + slew * diff.signum(), true)
}

/// For tests: moves the wall clock the hub reads by `ms` (negative: back).
#[doc(hidden)]
pub fn step_wall_clock_for_tests(ms: Millis) {
    CLOCK.wall_offset.fetch_add(ms, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_corrections_are_taken_at_once_but_never_backwards() {
        assert_eq!(advance(1_000, 100, 1_150), (1_150, false));
        assert_eq!(advance(1_000, 100, 1_050), (1_050, false));
        assert_eq!(advance(1_000, 100, 900), (1_000, false), "never backwards");
    }

    #[test]
    fn a_step_back_is_absorbed_slowly_and_time_still_moves_on() {
        let hour = 3_600_000;
        let (now, off) = advance(10 * hour, 1_000, 9 * hour);
        assert!(off);
        assert_eq!(now, 10 * hour + 1_000 - 1_000 / SLEW);
    }

    #[test]
    fn a_step_forward_is_absorbed_slowly() {
        let hour = 3_600_000;
        let (now, off) = advance(10 * hour, 1_000, 11 * hour);
        assert!(off);
        assert_eq!(now, 10 * hour + 1_000 + 1_000 / SLEW);
    }
}
