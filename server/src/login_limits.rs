//! Brakes on password guessing and login floods, by login name and by
//! source address.
//!
//! The rule that shapes all of it: the right password from a source that
//! has not been failing is never refused. An attacker who knows a doctor's
//! login can slow guessing at that login from the addresses that guess,
//! but cannot lock the doctor out from her own phone. So:
//!
//! - a source with a failed login in the last window is *failing*: it may
//!   try only `login_attempts_per_source_per_min` times a minute (any
//!   login), and may not try a login that has failed too often lately
//!   more than once per pause;
//! - a clean source is subject to neither, only to the count of password
//!   checks it may have under way at once;
//! - failures are counted per login only for accounts that exist, so the
//!   table is bounded by the number of accounts, not by what attackers type.

use crate::config::Limits;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Why a login attempt was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 429: this source has been failing and tries too often.
    SourceThrottled { retry_after: u64 },
    /// 429: this login failed too often lately, and this source is failing.
    LoginThrottled { retry_after: u64 },
    /// 429: this source already has its share of password checks under way.
    SourceBusy,
}

struct LoginFailures {
    count: u32,
    first: Instant,
    next_allowed: Instant,
}

#[derive(Default)]
struct Source {
    last_failure: Option<Instant>,
    in_flight: u32,
}

#[derive(Default)]
struct State {
    logins: HashMap<String, LoginFailures>,
    sources: HashMap<IpAddr, Source>,
}

pub struct LoginLimits {
    free_failures: u32,
    window: Duration,
    pause: Duration,
    in_flight_per_source: u32,
    state: Mutex<State>,
    /// Attempts by failing sources (GCRA, keyed by address).
    attempts: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

/// Sources or logins tracked at once before expired entries are swept.
const SWEEP_AT: usize = 10_000;

/// Held while one attempt's password is checked; counts against its
/// source's checks under way until dropped.
pub struct Ticket<'a> {
    limits: &'a LoginLimits,
    source: IpAddr,
    /// Whether the source had failed lately when the attempt arrived.
    pub failing: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let now = Instant::now();
        let window = self.limits.window;
        if let Ok(mut st) = self.limits.state.lock() {
            if let Some(s) = st.sources.get_mut(&self.source) {
                s.in_flight = s.in_flight.saturating_sub(1);
                let recent = s
                    .last_failure
                    .is_some_and(|t| now.duration_since(t) < window);
                if s.in_flight == 0 && !recent {
                    st.sources.remove(&self.source);
                }
            }
        }
    }
}

impl LoginLimits {
    pub fn new(limits: &Limits) -> LoginLimits {
        let per_min =
            NonZeroU32::new(limits.login_attempts_per_source_per_min).unwrap_or(NonZeroU32::MIN);
        LoginLimits {
            free_failures: limits.login_free_failures.max(1),
            window: Duration::from_secs(u64::from(limits.login_failure_window_secs)),
            pause: Duration::from_secs(u64::from(limits.login_pause_secs)),
            in_flight_per_source: limits.login_in_flight_per_source.max(1),
            state: Mutex::new(State::default()),
            attempts: RateLimiter::keyed(Quota::per_minute(per_min)),
            clock: DefaultClock::default(),
        }
    }

    /// Admits one attempt at `login` from `source`, or says why not.
    pub fn admit(&self, login: &str, source: IpAddr) -> Result<Ticket<'_>, Refusal> {
        let now = Instant::now();
        let Ok(mut st) = self.state.lock() else {
            return Err(Refusal::SourceBusy);
        };
        if st.sources.len() >= SWEEP_AT || st.logins.len() >= SWEEP_AT {
            self.sweep(&mut st, now);
        }
        let src = st.sources.entry(source).or_default();
        let failing = src
            .last_failure
            .is_some_and(|t| now.duration_since(t) < self.window);
        if src.in_flight >= self.in_flight_per_source {
            return Err(Refusal::SourceBusy);
        }
        if failing {
            if let Err(not_until) = self.attempts.check_key(&source) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(Refusal::SourceThrottled {
                    retry_after: wait.as_secs() + 1,
                });
            }
            if let Some(f) = st.logins.get(login) {
                if f.next_allowed > now && now.duration_since(f.first) < self.window {
                    return Err(Refusal::LoginThrottled {
                        retry_after: (f.next_allowed - now).as_secs() + 1,
                    });
                }
            }
        }
        if let Some(src) = st.sources.get_mut(&source) {
            src.in_flight += 1;
        }
        Ok(Ticket {
            limits: self,
            source,
            failing,
        })
    }

    /// A wrong password (or unknown login) from the ticket's source.
    /// `known`: the login names an account (only those are counted by name).
    pub fn failed(&self, ticket: &Ticket<'_>, login: &str, known: bool) {
        let now = Instant::now();
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        st.sources.entry(ticket.source).or_default().last_failure = Some(now);
        if !known {
            return;
        }
        let f = st.logins.entry(login.to_owned()).or_insert(LoginFailures {
            count: 0,
            first: now,
            next_allowed: now,
        });
        if now.duration_since(f.first) >= self.window {
            f.count = 0;
            f.first = now;
        }
        f.count += 1;
        if f.count >= self.free_failures {
            f.next_allowed = now + self.pause;
        }
    }

    /// A successful login: its failures are forgiven (the source's are not).
    pub fn succeeded(&self, login: &str) {
        if let Ok(mut st) = self.state.lock() {
            st.logins.remove(login);
        }
    }

    fn sweep(&self, st: &mut State, now: Instant) {
        let window = self.window;
        st.logins
            .retain(|_, f| now.duration_since(f.first) < window);
        st.sources.retain(|_, s| {
            s.in_flight > 0
                || s.last_failure
                    .is_some_and(|t| now.duration_since(t) < window)
        });
        self.attempts.retain_recent();
        self.attempts.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_clean_source_is_never_refused_for_a_guessed_login() {
        let limits = LoginLimits::new(&Limits::default());
        for _ in 0..10 {
            let t = match limits.admit("fy1.patel", ip(2)) {
                Ok(t) => t,
                Err(_) => break,
            };
            limits.failed(&t, "fy1.patel", true);
        }
        assert!(matches!(
            limits.admit("fy1.patel", ip(2)),
            Err(Refusal::LoginThrottled { .. })
        ));
        let t = limits
            .admit("fy1.patel", ip(3))
            .expect("clean source admitted");
        assert!(!t.failing);
        drop(t);
        assert!(limits.admit("sho.khan", ip(4)).is_ok());
    }

    #[test]
    fn a_source_has_a_bounded_number_of_checks_under_way() {
        let limits = LoginLimits::new(&Limits::default());
        let held: Vec<_> = (0..4)
            .map(|_| limits.admit("x", ip(2)).expect("admitted"))
            .collect();
        assert_eq!(limits.admit("x", ip(2)).err(), Some(Refusal::SourceBusy));
        drop(held);
        assert!(limits.admit("x", ip(2)).is_ok());
    }

    #[test]
    fn a_failing_source_that_sprays_is_slowed() {
        let limits = LoginLimits::new(&Limits {
            login_attempts_per_source_per_min: 3,
            ..Limits::default()
        });
        let mut refused = None;
        for i in 0..10 {
            match limits.admit(&format!("made-up-{i}"), ip(5)) {
                Ok(t) => limits.failed(&t, "", false),
                Err(r) => {
                    refused = Some(r);
                    break;
                }
            }
        }
        assert!(matches!(refused, Some(Refusal::SourceThrottled { .. })));
        assert!(limits.admit("fy1.patel", ip(6)).is_ok());
    }
}
