//! The one door to the time: the [`Clock`] a caller chooses (the system clock unless told
//! otherwise), and the conversions to the whole Unix seconds that `created_at`, `exp` and `iat`
//! use. No other file of the crate, nor of its companions, reads the system clock.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
#[cfg(any(feature = "id-token", feature = "access-token", test))]
use std::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a check, a builder or a login takes "now" from: [`SystemClock`] by default, a
/// [`FixedClock`] in tests, or any clock of the caller's (one that a test moves forward, say).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use workos_connect::oauth::{Clock, FixedClock, SystemClock};
///
/// let fixed = FixedClock(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// assert_eq!(fixed.now(), fixed.0);
/// assert!(SystemClock.now() > fixed.now());
/// ```
pub trait Clock: Send + Sync + fmt::Debug {
    /// The time now.
    fn now(&self) -> SystemTime;
}

/// The system's wall clock, the default of every type that reads the time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stopped at one moment: what tests check with. Named, never a bare `SystemTime`, so
/// that stopping time is never mistaken for reading it: a check on a stopped clock takes an
/// expired token for as long as it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A clock shared by several owners: one test clock for a check and the driver that feeds it.
impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> SystemTime {
        (**self).now()
    }
}

/// The clock a type was given, or the system clock. A clone shares the clock, and the default
/// costs no allocation and no indirect call.
///
/// Asserted unwind-safe, so that the types holding one stay `UnwindSafe` and `RefUnwindSafe` as
/// they were before they had a clock: a clock is only read here, and being `Sync` its shared
/// state is behind a lock or in atomics, which a panic cannot leave half-written.
#[derive(Debug, Default)]
pub(crate) struct ClockHandle(Option<AssertUnwindSafe<Arc<dyn Clock>>>);

impl Clone for ClockHandle {
    fn clone(&self) -> Self {
        ClockHandle(
            self.0
                .as_ref()
                .map(|clock| AssertUnwindSafe(Arc::clone(clock))),
        )
    }
}

impl ClockHandle {
    pub(crate) fn new(clock: impl Clock + 'static) -> Self {
        ClockHandle(Some(AssertUnwindSafe(Arc::new(clock))))
    }

    /// The time now, by this clock.
    #[inline]
    pub(crate) fn now(&self) -> SystemTime {
        match &self.0 {
            Some(clock) => clock.now(),
            None => SystemClock.now(),
        }
    }

    /// The time now, in whole seconds since the Unix epoch.
    #[inline]
    pub(crate) fn now_secs(&self) -> u64 {
        unix_seconds(self.now())
    }
}

/// `at` in whole seconds since the Unix epoch; 0 for a moment before it (a clock set before 1970
/// makes every token look young, rather than stopping the program).
#[inline]
pub(crate) fn unix_seconds(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// The moment `unix_seconds` after the epoch; the latest moment the platform holds for a number
/// beyond it.
#[cfg(test)]
pub(crate) fn at_unix(unix_seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_seconds)
}

/// Whether `interval` has passed between `since` and `now`, by a wall clock that may have been
/// stepped backwards in between. A `now` earlier than `since` by less than `interval` is taken as
/// no time passed: readings taken at about the same moment by callers racing each other arrive in
/// any order, and must not count as a whole interval. Earlier by `interval` or more, the clock was
/// stepped back, and the interval counts as passed: waiting for the clock to catch up would wait
/// as long as the step (a day, say), while counting it passed costs one early action, after which
/// the new `since` is on the stepped clock.
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) fn interval_passed(since: SystemTime, interval: Duration, now: SystemTime) -> bool {
    match now.duration_since(since) {
        Ok(elapsed) => elapsed >= interval,
        Err(stepped_back) => stepped_back.duration() >= interval,
    }
}

/// The moment `interval` after `since`, as a caller at `now` should wait for it (see
/// [`interval_passed`]): `now` itself once the clock was stepped back by the interval or more.
/// `None` beyond the range of [`SystemTime`].
#[cfg(any(feature = "id-token", feature = "access-token"))]
pub(crate) fn due_at(since: SystemTime, interval: Duration, now: SystemTime) -> Option<SystemTime> {
    let due = since.checked_add(interval)?;
    if now < due && interval_passed(since, interval, now) {
        Some(now)
    } else {
        Some(due)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_holding_a_clock_stays_unwind_safe() {
        fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
        unwind_safe(&ClockHandle::new(FixedClock(at_unix(1))));
        unwind_safe(&crate::authkit::client::test_client().clock(FixedClock(at_unix(1))));
    }

    #[test]
    fn a_time_before_the_epoch_counts_as_zero_and_seconds_are_whole() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert_eq!(unix_seconds(at_unix(7) + Duration::from_millis(999)), 7);
        assert_eq!(ClockHandle::new(FixedClock(at_unix(42))).now_secs(), 42);
        assert_eq!(
            ClockHandle::new(Arc::new(FixedClock(at_unix(43)))).now_secs(),
            43
        );
        // The default reads the system clock, well after the epoch.
        assert!(ClockHandle::default().now_secs() > 1_700_000_000);
    }

    #[cfg(any(feature = "id-token", feature = "access-token"))]
    #[test]
    fn a_clock_stepped_back_by_the_interval_counts_it_passed_and_a_jitter_does_not() {
        let since = at_unix(10_000);
        let minute = Duration::from_secs(60);
        assert!(!interval_passed(since, minute, at_unix(10_059)));
        assert!(interval_passed(since, minute, at_unix(10_060)));
        // Readings racing each other: a second earlier is no time at all.
        assert!(!interval_passed(since, minute, at_unix(9_999)));
        assert_eq!(due_at(since, minute, at_unix(9_999)), Some(at_unix(10_060)));
        // A clock stepped back an hour: due at once, not an hour and a minute later.
        assert!(interval_passed(since, minute, at_unix(6_400)));
        assert_eq!(due_at(since, minute, at_unix(6_400)), Some(at_unix(6_400)));
        // An interval no clock reaches is never passed, whichever way the clock went.
        assert!(!interval_passed(since, Duration::MAX, at_unix(0)));
        assert_eq!(due_at(since, Duration::MAX, at_unix(0)), None);
    }
}
