//! Keeping a JWKS current without doing HTTP: when a fetch is due, one at a time, and what a token
//! naming an unknown key may cause.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use url::Url;

use crate::jose::key_set::{KeySet, KeySetError};
use crate::oauth::clock::{due_at, interval_passed};

/// The current [`KeySet`] of an issuer and the rules for fetching it again, with the caller's clock
/// (every call takes `now`) and without I/O: it says when to fetch, hands out at most one fetch at
/// a time, and takes the answer or the failure. Share it behind a `Mutex` (each call is short and
/// never waits on the network) and validate with the `Arc<KeySet>` it hands out, outside the lock.
///
/// A fetch is due:
/// - at first, and after a failure with no set held, once per [`min_interval`](Self::min_interval);
/// - on a schedule, every [`refresh_interval`](Self::refresh_interval) after the last good fetch
///   began, so that a key the issuer withdraws stops being trusted;
/// - when a token names a key the set lacks ([`unknown_key`](Self::unknown_key)), at once for the
///   first such fetch, then at most once per `min_interval` since the last one began, whether it
///   worked or failed, so that made-up key IDs cannot make the app hammer the JWKS endpoint. The
///   start-up fetch and the scheduled ones do not count: a key the issuer adds just after start
///   is fetched with the first token that names it.
///
/// A failed fetch keeps the last good set serving. A fetch handed out and never finished (a driver
/// that lost it) stops blocking others after [`fetch_timeout`](Self::fetch_timeout). Its answer,
/// should it come late, is still taken if its fetch was handed out after the fetch of the set
/// held, even when another fetch has been handed out since: it is newer than what serves, and a
/// JWKS endpoint slower than the timeout still loads. An answer to a fetch handed out before the
/// set held is refused ([`KeyFetchError::Abandoned`]), so that an older set never replaces a
/// newer one. A set is dated from when its fetch was handed out, so a late answer brings the next
/// refresh no later.
///
/// The durations have bounds, and a setting beyond one is clamped to it rather than refused, as
/// the other durations of this crate are: `min_interval`, `refresh_interval` and `fetch_timeout`
/// are at least [`SHORTEST_INTERVAL`](Self::SHORTEST_INTERVAL), so that no setting lets failures
/// or tokens fetch in a loop, and `fetch_timeout` at most
/// [`LONGEST_FETCH_TIMEOUT`](Self::LONGEST_FETCH_TIMEOUT), so that a lost fetch cannot stop
/// fetching for ever.
///
/// `now` is a wall clock's time, which can be stepped backwards. A `now` behind a moment the cache
/// recorded by less than the interval at stake is taken as no time passed (readings of callers
/// racing for the lock arrive in any order); behind it by the interval or more, the clock was
/// stepped back, and the interval counts as passed: one fetch sooner than planned, rather than no
/// fetch, scheduled or for a new key, until the clock catches up with the step.
///
/// ```
/// use std::time::Duration;
/// use workos_connect::jose::{KeyCache, KeyRefetch};
/// use workos_connect::oauth::{Clock, SystemClock};
///
/// let jwks = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",
///     "x":"um5p5X2dN4geRSwNnR5YlrHqVJyiTPBhJMKDZ0AZshw","y":"GMuR_7RGCdQT7_Cpork0NBgwN56zGHRBk4ItZxbOUmU"}]}"#;
/// let start = SystemClock.now();
/// let mut cache = KeyCache::new("https://example.authkit.app/oauth2/jwks".parse()?);
/// // At start: one fetch is handed out, and no second one while it runs.
/// let fetch = cache.poll(start).expect("a first fetch is due");
/// assert!(cache.poll(start).is_none());
/// // GET `fetch.url()`, then hand over the answer.
/// cache.finish(fetch, 200, jwks, start)?;
/// assert_eq!(cache.keys().unwrap().len(), 1);
/// // A token naming an unknown key right after: one fetch at once, the next a minute later.
/// let KeyRefetch::Fetch(fetch) = cache.unknown_key(start + Duration::from_secs(1)) else {
///     panic!("the first unknown key fetches at once");
/// };
/// cache.finish(fetch, 200, jwks, start + Duration::from_secs(1))?;
/// assert!(matches!(cache.unknown_key(start + Duration::from_secs(2)), KeyRefetch::NotBefore(_)));
/// assert!(matches!(cache.unknown_key(start + Duration::from_secs(61)), KeyRefetch::Fetch(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct KeyCache {
    url: Url,
    keys: Option<Arc<KeySet>>,
    refresh_interval: Duration,
    min_interval: Duration,
    fetch_timeout: Duration,
    /// When the last fetch was handed out, whatever became of it.
    last_attempt: Option<SystemTime>,
    /// When the last fetch for a key the set lacked was handed out, whatever became of it.
    last_unknown_key_attempt: Option<SystemTime>,
    /// When the fetch of the last good set was handed out.
    last_success: Option<SystemTime>,
    /// The fetch under way: its number, and when it was handed out.
    in_flight: Option<(u64, SystemTime)>,
    /// The number of the last fetch handed out; numbers only grow.
    tickets: u64,
    /// The number of the fetch that brought the set held: an answer to an earlier one is older.
    set_ticket: Option<u64>,
    /// A token named a key the set lacks since the last good fetch.
    unknown_key_seen: bool,
    failures: u32,
}

/// A fetch of the key set that [`KeyCache`] handed out: `GET` [`url`](Self::url) (no redirects, with
/// a timeout), then give the answer to [`KeyCache::finish`] or the failure to [`KeyCache::failed`].
#[derive(Debug)]
#[must_use = "fetch the URL and give the answer to KeyCache::finish, or the failure to KeyCache::failed"]
pub struct KeyFetch {
    ticket: u64,
    started: SystemTime,
    url: Url,
}

impl KeyFetch {
    /// The JWKS URL to `GET`.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// What a token naming a key the set lacks may cause, from [`KeyCache::unknown_key`].
#[derive(Debug)]
#[must_use]
pub enum KeyRefetch {
    /// Fetch the set now, then check the token again with the new set.
    Fetch(KeyFetch),
    /// A fetch is under way: wait for it to finish, then check the token again.
    InFlight,
    /// No fetch before this moment: refuse the token now.
    NotBefore(SystemTime),
}

/// Why a fetched key set was not taken; the set held before goes on serving.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFetchError {
    /// The JWKS endpoint answered another status than 200.
    #[error("the JWKS endpoint answered HTTP {status}")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The body is not a usable key set.
    #[error("the JWKS endpoint's answer: {0}")]
    KeySet(#[from] KeySetError),
    /// The fetch was handed out before the fetch of the set held (it outlived the fetch timeout,
    /// and a later one answered first); its older answer was not taken.
    #[error("the key set fetch was overtaken by a later one; its older answer was not taken")]
    Abandoned,
}

impl KeyCache {
    /// The scheduled refresh, unless set otherwise: five minutes.
    pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(5 * 60);
    /// The least time between two fetches not on the schedule, unless set otherwise: a minute.
    pub const DEFAULT_MIN_INTERVAL: Duration = KeySet::DEFAULT_REFETCH_INTERVAL;
    /// How long a fetch may stay unfinished before another may be handed out: 30 seconds.
    pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);
    /// The shortest `min_interval`, `refresh_interval` and `fetch_timeout` taken: a second.
    pub const SHORTEST_INTERVAL: Duration = Duration::from_secs(1);
    /// The longest `fetch_timeout` taken: five minutes, far beyond any HTTP client's timeout.
    pub const LONGEST_FETCH_TIMEOUT: Duration = Duration::from_secs(5 * 60);

    /// A cache of the key set at `jwks_uri`, empty until its first fetch.
    pub fn new(jwks_uri: Url) -> Self {
        KeyCache {
            url: jwks_uri,
            keys: None,
            refresh_interval: Self::DEFAULT_REFRESH_INTERVAL,
            min_interval: Self::DEFAULT_MIN_INTERVAL,
            fetch_timeout: Self::DEFAULT_FETCH_TIMEOUT,
            last_attempt: None,
            last_unknown_key_attempt: None,
            last_success: None,
            in_flight: None,
            tickets: 0,
            set_ticket: None,
            unknown_key_seen: false,
            failures: 0,
        }
    }

    /// How often the set is fetched on the schedule (at least
    /// [`SHORTEST_INTERVAL`](Self::SHORTEST_INTERVAL)).
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = interval.max(Self::SHORTEST_INTERVAL);
        self
    }

    /// The least time between two fetches that are not on the schedule: the retries of a set
    /// never fetched, and the fetches for unknown keys (at least
    /// [`SHORTEST_INTERVAL`](Self::SHORTEST_INTERVAL)).
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval.max(Self::SHORTEST_INTERVAL);
        self
    }

    /// How long a fetch may stay unfinished before another may be handed out (at least
    /// [`SHORTEST_INTERVAL`](Self::SHORTEST_INTERVAL), at most
    /// [`LONGEST_FETCH_TIMEOUT`](Self::LONGEST_FETCH_TIMEOUT)).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout.clamp(Self::SHORTEST_INTERVAL, Self::LONGEST_FETCH_TIMEOUT);
        self
    }

    /// The set to validate with, once one has been fetched.
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        self.keys.clone()
    }

    /// The JWKS URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// How many fetches in a row have failed.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The fetch that is due at `now`, if any and none is under way. Call it from a timer (see
    /// [`next_due`](Self::next_due)) and at start.
    pub fn poll(&mut self, now: SystemTime) -> Option<KeyFetch> {
        if self.fetch_running(now) {
            return None;
        }
        let due = self.fetch_due(now)?;
        Some(self.hand_out(now, due))
    }

    /// A token named a key the set lacks, at `now`: whether to fetch the set (handing out the
    /// fetch), wait for the one under way, or refuse the token.
    pub fn unknown_key(&mut self, now: SystemTime) -> KeyRefetch {
        self.unknown_key_seen = true;
        if self.fetch_running(now) {
            return KeyRefetch::InFlight;
        }
        match self.unknown_key_not_before(now) {
            Some(at) if now < at => KeyRefetch::NotBefore(at),
            // With no set held, the fetch is the start-up load (a caller waiting for the first
            // set asks this way too), which does not count against unknown keys.
            _ if self.last_success.is_none() => {
                KeyRefetch::Fetch(self.hand_out(now, Due::Scheduled))
            }
            _ => KeyRefetch::Fetch(self.hand_out(now, Due::UnknownKey)),
        }
    }

    /// When the next fetch falls due without any token asking for one, as seen at `now`: the
    /// schedule, or the retry of a set never fetched; `now` itself once the clock was stepped back
    /// by the interval or more. `None` before the first [`poll`](Self::poll), which is due at once,
    /// and while a fetch is under way.
    pub fn next_due(&self, now: SystemTime) -> Option<SystemTime> {
        if self.in_flight.is_some() {
            return None;
        }
        match self.last_success {
            None => self.not_before(now),
            Some(success) => {
                let scheduled = due_at(success, self.refresh_interval, now)?;
                let retry = self.scheduled_not_before(now);
                Some(retry.map_or(scheduled, |retry| scheduled.max(retry)))
            }
        }
    }

    /// The answer to `fetch`, received at `now`: its HTTP status and body. A usable set replaces
    /// the one held, dated from when `fetch` was handed out; anything else leaves that one
    /// serving. The answer to a fetch handed out before the one of the set held is refused
    /// ([`KeyFetchError::Abandoned`]).
    pub fn finish(
        &mut self,
        fetch: KeyFetch,
        status: u16,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Arc<KeySet>, KeyFetchError> {
        if !self.release(&fetch) {
            return Err(KeyFetchError::Abandoned);
        }
        let started = fetch.started;
        let parsed = if status == 200 {
            KeySet::parse_fetched_at(body, now)
                .map(|keys| keys.refetch_interval(self.min_interval))
                .map_err(KeyFetchError::from)
        } else {
            Err(KeyFetchError::Status { status })
        };
        match parsed {
            Ok(keys) => {
                let keys = Arc::new(keys);
                self.keys = Some(Arc::clone(&keys));
                self.set_ticket = Some(fetch.ticket);
                // The issuer's set as of the request, however late the answer came (and `now`
                // when the clock was stepped back since the request).
                self.last_success = Some(started.min(now));
                self.unknown_key_seen = false;
                self.failures = 0;
                Ok(keys)
            }
            Err(error) => {
                self.failures = self.failures.saturating_add(1);
                Err(error)
            }
        }
    }

    /// `fetch` failed before any answer (connection refused, timeout, ...); the set held goes on
    /// serving.
    pub fn failed(&mut self, fetch: KeyFetch) {
        if self.release(&fetch) {
            self.failures = self.failures.saturating_add(1);
        }
    }

    /// A new fetch, the latest: any other still out is superseded.
    fn hand_out(&mut self, now: SystemTime, due: Due) -> KeyFetch {
        self.tickets = self.tickets.wrapping_add(1);
        self.in_flight = Some((self.tickets, now));
        self.last_attempt = Some(now);
        if due == Due::UnknownKey {
            self.last_unknown_key_attempt = Some(now);
        }
        KeyFetch {
            ticket: self.tickets,
            started: now,
            url: self.url.clone(),
        }
    }

    /// Ends `fetch` if it is the one under way, and says whether its answer may be taken: it was
    /// handed out after the fetch of the set held, timed out or not. Whether a later fetch is
    /// still under way does not matter: until it answers, this one's set is the newest there is.
    fn release(&mut self, fetch: &KeyFetch) -> bool {
        if self
            .in_flight
            .is_some_and(|(ticket, _)| ticket == fetch.ticket)
        {
            self.in_flight = None;
        }
        self.set_ticket.is_none_or(|held| fetch.ticket > held)
    }

    /// Whether the fetch handed out last is still under way: its timeout has not passed. A clock
    /// stepped back by the timeout or more counts it passed: a lost fetch would otherwise block
    /// every other for as long as the step, and an answer to it is still taken (see
    /// [`release`](Self::release)).
    fn fetch_running(&self, now: SystemTime) -> bool {
        self.in_flight
            .is_some_and(|(_, started)| !interval_passed(started, self.fetch_timeout, now))
    }

    /// The earliest start of a fetch that is not on the schedule.
    fn not_before(&self, now: SystemTime) -> Option<SystemTime> {
        self.last_attempt
            .and_then(|attempt| due_at(attempt, self.min_interval, now))
    }

    /// The earliest start of a fetch for a key the set lacks: with a set held, `min_interval` after
    /// the last such fetch (none yet: at once); without one, at the pace of the first fetch's
    /// retries, which tokens do not hurry.
    fn unknown_key_not_before(&self, now: SystemTime) -> Option<SystemTime> {
        if self.last_success.is_none() {
            return self.not_before(now);
        }
        self.last_unknown_key_attempt
            .and_then(|attempt| due_at(attempt, self.min_interval, now))
    }

    /// The earliest start of a scheduled fetch after the last attempt: a refresh interval shorter
    /// than `min_interval` is kept, and a failed refresh is retried at that pace rather than
    /// waiting for the next schedule.
    fn scheduled_not_before(&self, now: SystemTime) -> Option<SystemTime> {
        let spacing = self.min_interval.min(self.refresh_interval);
        self.last_attempt
            .and_then(|attempt| due_at(attempt, spacing, now))
    }

    /// Why a fetch is due at `now`, if one is.
    fn fetch_due(&self, now: SystemTime) -> Option<Due> {
        let allowed = |at: Option<SystemTime>| at.is_none_or(|at| now >= at);
        match self.last_success {
            None => allowed(self.not_before(now)).then_some(Due::Scheduled),
            Some(success) => {
                let scheduled =
                    due_at(success, self.refresh_interval, now).is_some_and(|at| now >= at);
                if scheduled && allowed(self.scheduled_not_before(now)) {
                    Some(Due::Scheduled)
                } else if self.unknown_key_seen && allowed(self.unknown_key_not_before(now)) {
                    Some(Due::UnknownKey)
                } else {
                    None
                }
            }
        }
    }
}

/// Why a fetch is handed out: the rate of fetches for unknown keys is counted apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// The start-up fetch, its retries, and the schedule.
    Scheduled,
    /// A token named a key the set lacks.
    UnknownKey,
}

impl fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyCache")
            .field("url", &self.url.as_str())
            .field("keys", &self.keys)
            .field("refresh_interval", &self.refresh_interval)
            .field("min_interval", &self.min_interval)
            .field("in_flight", &self.in_flight.is_some())
            .field("failures", &self.failures)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clock::at_unix;

    const JWKS: &[u8] = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",
        "x":"um5p5X2dN4geRSwNnR5YlrHqVJyiTPBhJMKDZ0AZshw","y":"GMuR_7RGCdQT7_Cpork0NBgwN56zGHRBk4ItZxbOUmU"}]}"#;

    fn cache() -> KeyCache {
        KeyCache::new("https://as.example/jwks".parse().unwrap())
    }

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_refresh_interval_shorter_than_the_min_interval_is_kept() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache()
            .refresh_interval(Duration::from_secs(1))
            .min_interval(Duration::from_secs(60));
        let fetch = cache.poll(start).unwrap();
        cache.finish(fetch, 200, JWKS, start).unwrap();
        let second = start + Duration::from_secs(1);
        assert_eq!(cache.next_due(start), Some(second));
        let fetch = cache.poll(second).expect("the schedule, not the minute");
        // A failed scheduled refresh is tried again at the schedule's pace.
        cache.failed(fetch);
        assert_eq!(cache.next_due(second), Some(start + Duration::from_secs(2)));
        assert!(cache.poll(second + Duration::from_millis(500)).is_none());
        assert!(cache.poll(start + Duration::from_secs(2)).is_some());
        // Unknown keys are still held to the minute.
        assert!(matches!(
            cache.unknown_key(start + Duration::from_secs(30)),
            KeyRefetch::InFlight | KeyRefetch::NotBefore(_)
        ));
    }

    #[test]
    fn one_fetch_at_a_time_for_any_number_of_unknown_keys() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache();
        let first = cache.poll(start).unwrap();
        cache.finish(first, 200, JWKS, start).unwrap();
        // Eight requests naming a new key at once, past the interval: one fetch, seven waits.
        let later = start + secs(120);
        let answers: Vec<KeyRefetch> = (0..8).map(|_| cache.unknown_key(later)).collect();
        let fetches: Vec<&KeyRefetch> = answers
            .iter()
            .filter(|answer| matches!(answer, KeyRefetch::Fetch(_)))
            .collect();
        assert_eq!(fetches.len(), 1);
        assert_eq!(
            answers
                .iter()
                .filter(|answer| matches!(answer, KeyRefetch::InFlight))
                .count(),
            7
        );
        assert!(cache.poll(later).is_none());
    }

    #[test]
    fn a_failed_fetch_is_not_retried_within_the_interval_and_the_held_keys_serve() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache();
        let first = cache.poll(start).unwrap();
        cache.finish(first, 200, JWKS, start).unwrap();
        let at = start + secs(100);
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(at) else {
            panic!("a fetch is due");
        };
        assert_eq!(
            cache.finish(fetch, 503, b"", at).unwrap_err(),
            KeyFetchError::Status { status: 503 }
        );
        assert_eq!(cache.keys().unwrap().len(), 1);
        assert_eq!(cache.failures(), 1);
        // Every later unknown key within the minute waits; none is handed a fetch.
        for offset in [0, 1, 30, 59] {
            assert!(matches!(
                cache.unknown_key(at + secs(offset)),
                KeyRefetch::NotBefore(when) if when == at + secs(60)
            ));
            assert!(cache.poll(at + secs(offset)).is_none());
        }
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(at + secs(60)) else {
            panic!("a fetch is due again");
        };
        cache.failed(fetch);
        assert_eq!(cache.failures(), 2);
        assert!(cache.keys().is_some());
    }

    #[test]
    fn the_schedule_replaces_the_set_so_a_withdrawn_key_stops_being_trusted() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().refresh_interval(secs(300));
        let first = cache.poll(start).unwrap();
        let held = cache.finish(first, 200, JWKS, start).unwrap();
        assert!(cache.poll(start + secs(299)).is_none());
        assert_eq!(cache.next_due(start + secs(299)), Some(start + secs(300)));
        let scheduled = cache.poll(start + secs(300)).unwrap();
        let rotated = std::str::from_utf8(JWKS)
            .unwrap()
            .replace("\"k1\"", "\"k2\"");
        let fresh = cache
            .finish(scheduled, 200, rotated.as_bytes(), start + secs(300))
            .unwrap();
        assert!(!Arc::ptr_eq(&held, &fresh));
        assert!(Arc::ptr_eq(&cache.keys().unwrap(), &fresh));
    }

    #[test]
    fn a_set_never_fetched_is_retried_once_per_interval() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().min_interval(secs(10));
        let first = cache.poll(start).unwrap();
        cache.failed(first);
        assert!(cache.keys().is_none());
        assert!(cache.poll(start + secs(9)).is_none());
        assert_eq!(cache.next_due(start + secs(9)), Some(start + secs(10)));
        let retry = cache.poll(start + secs(10)).unwrap();
        assert!(matches!(
            cache.finish(retry, 200, b"{}", start + secs(10)),
            Err(KeyFetchError::KeySet(KeySetError::Malformed))
        ));
    }

    #[test]
    fn a_lost_fetch_stops_blocking_after_the_timeout_and_its_answer_after_a_newer_one_is_not_taken()
    {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().fetch_timeout(secs(30));
        let lost = cache.poll(start).unwrap();
        assert!(cache.poll(start + secs(29)).is_none());
        assert!(matches!(
            cache.unknown_key(start + secs(29)),
            KeyRefetch::InFlight
        ));
        let second = cache.poll(start + secs(60)).unwrap();
        cache.finish(second, 200, JWKS, start + secs(61)).unwrap();
        assert_eq!(
            cache.finish(lost, 200, JWKS, start + secs(62)).unwrap_err(),
            KeyFetchError::Abandoned
        );
        assert!(cache.keys().is_some());
    }

    #[test]
    fn a_jwks_endpoint_slower_than_the_fetch_timeout_still_loads() {
        let start = at_unix(1_700_000_000);
        let ms = Duration::from_millis;
        // No timeout at all asked for: it is a second, so a second fetch is not handed out at once.
        let mut cache = cache()
            .fetch_timeout(Duration::ZERO)
            .min_interval(Duration::ZERO);
        let first = cache.poll(start).unwrap();
        assert!(cache.poll(start + ms(999)).is_none());
        assert!(matches!(
            cache.unknown_key(start + ms(999)),
            KeyRefetch::InFlight
        ));
        // An endpoint answering in 2.5 s, and a token naming an unknown key every second: each
        // second a new fetch is handed out, and each answer is still taken, as it is newer than
        // the set held.
        let KeyRefetch::Fetch(second) = cache.unknown_key(start + secs(1)) else {
            panic!("the first fetch timed out");
        };
        let KeyRefetch::Fetch(third) = cache.unknown_key(start + secs(2)) else {
            panic!("the second fetch timed out");
        };
        cache.finish(first, 200, JWKS, start + ms(2_500)).unwrap();
        assert!(cache.keys().is_some());
        cache.finish(second, 200, JWKS, start + ms(3_500)).unwrap();
        cache.finish(third, 200, JWKS, start + ms(4_500)).unwrap();
        assert_eq!(cache.failures(), 0);
        // The set is dated from the last fetch's start.
        assert_eq!(
            cache.next_due(start + ms(4_500)),
            Some(start + secs(2) + KeyCache::DEFAULT_REFRESH_INTERVAL)
        );
    }

    #[test]
    fn a_scheduled_refresh_that_fails_is_not_retried_at_once() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().refresh_interval(secs(300)).min_interval(secs(60));
        let first = cache.poll(start).unwrap();
        cache.finish(first, 200, JWKS, start).unwrap();
        let due = cache.poll(start + secs(300)).unwrap();
        cache.failed(due);
        assert!(cache.poll(start + secs(301)).is_none());
        assert_eq!(cache.next_due(start + secs(301)), Some(start + secs(360)));
        assert!(cache.poll(start + secs(360)).is_some());
    }

    #[test]
    fn intervals_have_a_floor_and_the_fetch_timeout_a_ceiling() {
        let start = at_unix(1_700_000_000);
        // `min_interval(0)`: a failing start-up fetch is still tried at most once a second.
        let mut failing = cache().min_interval(Duration::ZERO);
        let first = failing.poll(start).unwrap();
        failing.failed(first);
        assert!(failing.poll(start).is_none());
        assert!(failing.poll(start + Duration::from_millis(999)).is_none());
        let second = failing.poll(start + secs(1)).unwrap();
        failing.finish(second, 200, JWKS, start + secs(1)).unwrap();
        // And unknown keys fetch at most once a second.
        assert!(matches!(
            failing.unknown_key(start + secs(1)),
            KeyRefetch::Fetch(_)
        ));
        // `refresh_interval(0)`: the schedule is once a second at most, not a loop.
        let mut scheduled = cache().refresh_interval(Duration::ZERO);
        let first = scheduled.poll(start).unwrap();
        scheduled.finish(first, 200, JWKS, start).unwrap();
        assert!(scheduled.poll(start).is_none());
        assert_eq!(scheduled.next_due(start), Some(start + secs(1)));
        // `fetch_timeout(MAX)`: a lost fetch blocks for five minutes, not for ever.
        let mut lost = cache().fetch_timeout(Duration::MAX);
        let _never_answered = lost.poll(start).unwrap();
        assert!(lost.poll(start + secs(299)).is_none());
        assert!(lost.poll(start + KeyCache::LONGEST_FETCH_TIMEOUT).is_some());
    }

    #[test]
    fn a_late_answer_is_taken_only_if_newer_than_the_set_and_dated_from_its_start() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().fetch_timeout(secs(30)).refresh_interval(secs(300));
        let slow = cache.poll(start).unwrap();
        // Timed out, but no other fetch was handed out: its answer is the newest there is.
        assert!(cache.poll(start + secs(40)).is_none());
        let late = cache.finish(slow, 200, JWKS, start + secs(100));
        assert!(late.is_ok());
        // The set is as old as the request: the schedule runs from the start, not the answer.
        assert_eq!(cache.next_due(start + secs(100)), Some(start + secs(300)));
        // Once a newer fetch has answered, the older one's answer is refused.
        let older = cache.poll(start + secs(300)).unwrap();
        let newer = cache.poll(start + secs(360)).unwrap();
        cache.finish(newer, 200, JWKS, start + secs(361)).unwrap();
        assert_eq!(
            cache
                .finish(older, 200, JWKS, start + secs(362))
                .unwrap_err(),
            KeyFetchError::Abandoned
        );
        assert_eq!(cache.next_due(start + secs(362)), Some(start + secs(660)));
    }

    #[test]
    fn the_first_unknown_key_after_start_up_fetches_at_once_and_the_next_waits() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache().refresh_interval(secs(300));
        let first = cache.poll(start).unwrap();
        cache.finish(first, 200, JWKS, start).unwrap();
        // A key the issuer added just after start: fetched with the first token naming it.
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(start + secs(1)) else {
            panic!("the start-up fetch does not count against unknown keys");
        };
        cache.finish(fetch, 200, JWKS, start + secs(1)).unwrap();
        // The same when the start-up fetch was asked for as for an unknown key, as a caller
        // waiting for the first set does.
        let mut waited = KeyCache::new("https://as.example/jwks".parse().unwrap());
        let KeyRefetch::Fetch(first) = waited.unknown_key(start) else {
            panic!("no set yet: the first fetch");
        };
        waited.finish(first, 200, JWKS, start).unwrap();
        assert!(matches!(
            waited.unknown_key(start + secs(1)),
            KeyRefetch::Fetch(_)
        ));
        // A flood of made-up keys: nothing more within the minute, by poll or by token.
        for offset in [1, 2, 30, 60] {
            assert!(matches!(
                cache.unknown_key(start + secs(offset)),
                KeyRefetch::NotBefore(at) if at == start + secs(61)
            ));
            assert!(cache.poll(start + secs(offset)).is_none());
        }
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(start + secs(61)) else {
            panic!("a minute after the last fetch for an unknown key");
        };
        cache.failed(fetch);
        // A scheduled refresh does not count either, but the last unknown-key fetch still does.
        let scheduled = cache.poll(start + secs(301)).unwrap();
        cache
            .finish(scheduled, 200, JWKS, start + secs(301))
            .unwrap();
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(start + secs(302)) else {
            panic!("the scheduled refresh does not count against unknown keys");
        };
        cache.failed(fetch);
        assert!(matches!(
            cache.unknown_key(start + secs(303)),
            KeyRefetch::NotBefore(at) if at == start + secs(362)
        ));
    }

    #[test]
    fn readings_racing_each_other_a_second_apart_still_make_one_fetch() {
        let start = at_unix(1_700_000_000);
        let mut cache = cache();
        let first = cache.poll(start).unwrap();
        // A caller that read the clock just before the one handed the fetch: still under way.
        assert!(cache.poll(start - secs(1)).is_none());
        assert!(matches!(
            cache.unknown_key(start - secs(1)),
            KeyRefetch::InFlight
        ));
        cache.finish(first, 200, JWKS, start).unwrap();
        let later = start + secs(120);
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(later) else {
            panic!("the first unknown key fetches");
        };
        cache.finish(fetch, 200, JWKS, later).unwrap();
        // Behind the last fetch by less than the interval: no time passed, the minute still runs.
        assert!(matches!(
            cache.unknown_key(later - secs(5)),
            KeyRefetch::NotBefore(at) if at == later + secs(60)
        ));
        assert!(cache.poll(later - secs(5)).is_none());
        assert_eq!(
            cache.next_due(later - secs(5)),
            Some(later + KeyCache::DEFAULT_REFRESH_INTERVAL)
        );
    }

    #[test]
    fn a_clock_stepped_back_a_day_fetches_once_and_then_keeps_the_pace_of_the_new_time() {
        let start = at_unix(1_700_000_000);
        let day = secs(24 * 3600);
        let mut cache = cache().refresh_interval(secs(300));
        let first = cache.poll(start).unwrap();
        cache.finish(first, 200, JWKS, start).unwrap();
        let KeyRefetch::Fetch(fetch) = cache.unknown_key(start + secs(10)) else {
            panic!("the first unknown key fetches");
        };
        cache.finish(fetch, 200, JWKS, start + secs(10)).unwrap();
        // The clock goes back a day. Waiting for it to catch up would keep a withdrawn key trusted,
        // and every new key out, for that day: the schedule is due at once instead.
        let back = start - day;
        assert_eq!(cache.next_due(back), Some(back));
        let scheduled = cache.poll(back).expect("the schedule, at once");
        assert!(cache.poll(back).is_none(), "one fetch at a time still");
        cache.finish(scheduled, 200, JWKS, back).unwrap();
        // From then on the intervals run on the new time.
        assert_eq!(cache.next_due(back), Some(back + secs(300)));
        assert!(cache.poll(back + secs(299)).is_none());
        assert!(cache.poll(back + secs(300)).is_some());
        // An unknown key too: the last fetch for one is a day ahead, so one fetch at once, then
        // the minute counts from it.
        let mut unknown = KeyCache::new("https://as.example/jwks".parse().unwrap());
        let first = unknown.poll(start).unwrap();
        unknown.finish(first, 200, JWKS, start).unwrap();
        let KeyRefetch::Fetch(fetch) = unknown.unknown_key(start + secs(1)) else {
            panic!("the first unknown key fetches");
        };
        unknown.failed(fetch);
        let KeyRefetch::Fetch(fetch) = unknown.unknown_key(back) else {
            panic!("a clock stepped back a day does not wait a day");
        };
        unknown.failed(fetch);
        assert!(matches!(
            unknown.unknown_key(back + secs(1)),
            KeyRefetch::NotBefore(at) if at == back + secs(60)
        ));
        // A fetch handed out before the step and never answered does not block for a day either.
        let mut lost = KeyCache::new("https://as.example/jwks".parse().unwrap());
        let _never_answered = lost.poll(start).unwrap();
        assert!(lost.poll(start + secs(29)).is_none());
        assert!(lost.poll(back).is_some());
    }
}
