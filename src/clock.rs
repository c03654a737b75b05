//! The wall clock, read cheaply: a pending login records when it was made on every login's path.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
///
/// On Linux and Android this reads the coarse real-time clock (updated every few milliseconds), which
/// costs a few nanoseconds where a precise reading costs tens; second resolution is all a
/// pending login's age limit needs.
///
/// A sandbox that refuses the coarse clock (a seccomp filter, say) gets the precise one instead.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn unix_now() -> u64 {
    use rustix::time::{clock_gettime_dynamic, ClockId, DynamicClockId};
    match clock_gettime_dynamic(DynamicClockId::Known(ClockId::RealtimeCoarse)) {
        Ok(now) => u64::try_from(now.tv_sec).unwrap_or(0),
        Err(_) => seconds_since_epoch(SystemTime::now()),
    }
}

/// Seconds since the Unix epoch.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn unix_now() -> u64 {
    seconds_since_epoch(SystemTime::now())
}

/// `time` as seconds since the Unix epoch; 0 for a time before it.
pub(crate) fn seconds_since_epoch(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_the_precise_clock() {
        let precise = seconds_since_epoch(SystemTime::now());
        let coarse = unix_now();
        assert!(coarse.abs_diff(precise) <= 1, "{coarse} vs {precise}");
    }
}
