//! The wall clock, read cheaply: a pending login records when it was made on every login's path.

#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
///
/// On Linux and Android this reads the coarse real-time clock (updated every few milliseconds), which
/// costs a few nanoseconds where a precise reading costs tens; second resolution is all a
/// pending login's age limit needs.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn unix_now() -> u64 {
    let now = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
    u64::try_from(now.tv_sec).unwrap_or(0)
}

/// Seconds since the Unix epoch.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn unix_now() -> u64 {
    seconds_since_epoch(SystemTime::now())
}

/// `time` as seconds since the Unix epoch; 0 for a time before it.
#[cfg(any(test, not(any(target_os = "linux", target_os = "android"))))]
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
