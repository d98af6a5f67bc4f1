//! Time in protocol units: the only place the hub reads the clock for
//! timestamps and deadlines; the domain is handed `now` instead.
//!
//! The hub keeps its own time, driven by the monotonic clock and kept near
//! the wall clock: small corrections (within [`ADOPT_WITHIN`]) are taken at
//! once, never backwards; a larger step of the wall clock (a bad NTP
//! server, an operator setting the date) is logged and absorbed slowly, at
//! most [`SLEW`] of elapsed time. So a clock set back an hour neither delays
//! every escalation by an hour, nor does a clock set forward fire an hour's
//! escalations at once. A restarted hub starts from the wall clock; a
//! cluster node starts from (and keeps following) the database's clock
//! ([`follow`]).
//!
//! The writer (and its escalation timer) read the time through a [`Clock`]
//! handed to them, [`Clock::Hub`] in production. Tests that are about
//! timing run the writer on a [`ManualClock`] instead: it stands still
//! until the test moves it, and moving it wakes the escalation timer.
//!
//! Why not tokio's paused clock (`start_paused`)? It advances by itself
//! whenever every task is idle, and a hub is "idle" while it waits on the
//! store's own thread, on SQLite's file lock or on a socket: time would
//! jump to the next deadline in the middle of a commit or before a
//! client's command reached the hub, so whether an escalation fired before
//! or after a command would depend on scheduling. A manual clock moves only
//! when the test says so, so "just before due" and "just after" are exact.
//! Only the writer's time is injected: connections and logins (and their
//! tokens' expiry) keep the hub clock, which a manual clock starts from and
//! stays near (tests move it by seconds or minutes).

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
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
    /// Added to the system clock on a cluster node: the database's clock
    /// minus this machine's, as last measured ([`follow`]).
    correction: AtomicI64,
}

static CLOCK: LazyLock<HubClock> = LazyLock::new(|| HubClock {
    state: Mutex::new(State {
        base: raw_system_ms(),
        at: Instant::now(),
        stepped: false,
    }),
    wall_offset: AtomicI64::new(0),
    correction: AtomicI64::new(0),
});

fn raw_system_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// This machine's wall clock (as a test may have stepped it), without the
/// correction a cluster node follows: what it is measured by against
/// another clock.
pub fn system_ms() -> Millis {
    raw_system_ms() + CLOCK.wall_offset.load(Ordering::Relaxed)
}

/// The wall clock as the hub reads it: the system's, corrected.
fn wall_ms(clock: &HubClock) -> Millis {
    raw_system_ms()
        + clock.wall_offset.load(Ordering::Relaxed)
        + clock.correction.load(Ordering::Relaxed)
}

/// The correction [`follow`] applies now: ms added to the system clock.
pub fn correction() -> Millis {
    CLOCK.correction.load(Ordering::Relaxed)
}

/// Makes the hub keep another clock's time: the system clock plus
/// `correction` ms. A cluster node follows the database's clock, so that
/// every node stamps and schedules by one time: an escalation deadline set
/// by one owner fires on time on the next, whatever this machine's clock
/// says (leases are judged by the database's clock anyway).
///
/// `at_once` takes even a large step at once: only for a node that has not
/// served yet, so that nothing it stamped or scheduled is moved. Otherwise
/// the change is a wall-clock step like any other (taken at once within
/// [`ADOPT_WITHIN`], else absorbed at [`SLEW`]).
pub fn follow(correction: Millis, at_once: bool) {
    let clock = &*CLOCK;
    clock.correction.store(correction, Ordering::Relaxed);
    if !at_once {
        return;
    }
    if let Ok(mut st) = clock.state.lock() {
        st.base = wall_ms(clock);
        st.at = Instant::now();
        st.stepped = false;
    }
}

/// The hub's time: milliseconds since the Unix epoch, never decreasing.
pub fn now_ms() -> Millis {
    let clock = &*CLOCK;
    let wall = wall_ms(clock);
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

/// Where the writer reads the time: see the module docs.
#[derive(Clone, Debug, Default)]
pub enum Clock {
    /// The hub's own clock ([`now_ms`]), in production.
    #[default]
    Hub,
    /// A clock that moves only when told to (tests).
    Manual(ManualClock),
}

impl Clock {
    /// The time now, in milliseconds since the Unix epoch.
    pub fn now(&self) -> Millis {
        match self {
            Clock::Hub => now_ms(),
            Clock::Manual(m) => m.now(),
        }
    }

    /// Returns once this clock reads `due` or later (at once if it does).
    pub async fn until(&self, due: Millis) {
        match self {
            // The hub's time runs at the monotonic clock's pace (give or
            // take a slew), so one sleep lands on time; a caller whose
            // deadline is not quite reached after it just asks again.
            Clock::Hub => {
                let wait = (due - now_ms()).max(0) as u64;
                tokio::time::sleep(Duration::from_millis(wait)).await;
            }
            Clock::Manual(m) => {
                let mut moved = m.now.subscribe();
                // The sender lives as long as `m`: an error cannot happen
                // while we borrow it, and would mean time stands still.
                if moved.wait_for(|now| *now >= due).await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it;
/// clones share one time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<watch::Sender<Millis>>,
}

impl ManualClock {
    /// A clock reading the hub's time now (so that times it stamps look
    /// like tonight's, and tokens and shifts made by the hub clock hold).
    pub fn new() -> ManualClock {
        ManualClock::starting_at(now_ms())
    }

    pub fn starting_at(now: Millis) -> ManualClock {
        ManualClock {
            now: Arc::new(watch::channel(now).0),
        }
    }

    pub fn now(&self) -> Millis {
        *self.now.borrow()
    }

    /// Moves the clock on by `by`, waking whatever waits for a time up to
    /// the new one (never backwards: time only moves on).
    pub fn advance(&self, by: Duration) {
        let by = Millis::try_from(by.as_millis()).unwrap_or(Millis::MAX);
        self.now.send_modify(|now| *now = now.saturating_add(by));
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
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
    fn a_manual_clock_wakes_a_waiter_only_once_it_reaches_the_time() {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let manual = ManualClock::starting_at(1_000);
        let clock = Clock::Manual(manual.clone());
        let mut waiting = std::pin::pin!(clock.until(2_000));
        let mut cx = Context::from_waker(Waker::noop());
        // Polled by hand, so "not yet" is a fact, not a timeout.
        assert!(waiting.as_mut().poll(&mut cx).is_pending());
        manual.advance(Duration::from_millis(999));
        assert_eq!(clock.now(), 1_999);
        assert!(waiting.as_mut().poll(&mut cx).is_pending(), "woke early");
        manual.advance(Duration::from_millis(1));
        assert_eq!(waiting.as_mut().poll(&mut cx), Poll::Ready(()));
        assert_eq!(clock.now(), 2_000);
    }

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
