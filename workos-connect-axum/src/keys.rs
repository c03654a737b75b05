//! The issuer's signing keys, fetched on tokio with reqwest and kept current by the core's
//! [`KeyCache`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use workos_connect::{
    jose::{KeyCache, KeyFetch, KeyRefetch, KeySet},
    oauth::{Clock, SystemClock},
    AuthKitDomain,
};

use crate::http_client::{body_within, default_client, HttpClientError};

/// The longest a request waits on another's fetch.
const WAIT_CEILING: Duration = Duration::from_secs(60);

/// The most of a JWKS answer read: a key set of a few dozen keys is a few tens of kilobytes.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// An issuer's key set, fetched in the background and on demand: a cheap handle (clone it freely)
/// over a [`KeyCache`] and an HTTP client.
///
/// [`spawn_refresh`](Self::spawn_refresh) starts the task that fetches on the cache's schedule; it
/// ends when the last handle is dropped. A token naming a key the set lacks calls
/// [`after_unknown_key`](Self::after_unknown_key): the cache decides whether that fetches (at most
/// once per interval, one fetch at a time, whatever the number of requests waiting on it).
///
/// ```no_run
/// use workos_connect_axum::Keys;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let keys = Keys::for_domain(&"https://example.authkit.app".parse()?)?;
/// keys.spawn_refresh()?;
/// let set = keys.ready().await?; // waits for the first fetch
/// assert!(!set.is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Keys {
    shared: Arc<Shared>,
}

struct Shared {
    cache: Mutex<KeyCache>,
    client: reqwest::Client,
    /// Woken whenever a fetch ends, well or not.
    fetch_ended: Notify,
    fetches: AtomicU64,
}

/// Why no key set could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    HttpClient(#[from] HttpClientError),
    /// [`Keys::spawn_refresh`] was called outside a tokio runtime.
    #[error("the key refresh needs a tokio runtime: call spawn_refresh inside one (for instance in #[tokio::main])")]
    NoRuntime,
    /// No key set was fetched yet, and the fetches so far failed (the log says why).
    #[error(
        "no key set could be fetched from {url} ({failures} failed attempts; the log says why)"
    )]
    Unavailable {
        /// The JWKS URL.
        url: String,
        /// Failed attempts so far.
        failures: u32,
    },
}

impl Keys {
    /// Keys kept by `cache`, fetched with this crate's default client (rustls, timeouts, no
    /// redirects).
    pub fn new(cache: KeyCache) -> Result<Keys, KeysError> {
        Ok(Keys::with_client(cache, default_client()?))
    }

    /// The keys of an AuthKit domain (its `/oauth2/jwks`), with the cache's default intervals.
    pub fn for_domain(domain: &AuthKitDomain) -> Result<Keys, KeysError> {
        Keys::new(KeyCache::new(domain.jwks_endpoint()))
    }

    /// Keys kept by `cache`, fetched with `client`. Build it without redirects: keys are the
    /// issuer's only at the URL it published.
    pub fn with_client(cache: KeyCache, client: reqwest::Client) -> Keys {
        Keys {
            shared: Arc::new(Shared {
                cache: Mutex::new(cache),
                client,
                fetch_ended: Notify::new(),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// Keys kept by `cache`, with the default client, and their refresh started: what the settings
    /// builders make when given no keys.
    pub(crate) fn started(cache: KeyCache) -> Result<Keys, KeysError> {
        let keys = Keys::new(cache)?;
        keys.spawn_refresh()?;
        Ok(keys)
    }

    /// The set held now, if one was fetched.
    pub fn current(&self) -> Option<Arc<KeySet>> {
        self.cache().keys()
    }

    /// How many fetches were sent so far.
    pub fn fetches(&self) -> u64 {
        self.shared.fetches.load(Ordering::Relaxed)
    }

    /// Starts the task that fetches the set at once and then on the cache's schedule. It holds no
    /// handle: it ends when every [`Keys`] is dropped.
    pub fn spawn_refresh(&self) -> Result<(), KeysError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| KeysError::NoRuntime)?;
        runtime.spawn(refresh(Arc::downgrade(&self.shared)));
        Ok(())
    }

    /// The set, waiting for the first fetch if none is held yet (as long as that fetch takes, and
    /// at most the cache's fetch timeout).
    pub async fn ready(&self) -> Result<Arc<KeySet>, KeysError> {
        if let Some(keys) = self.current() {
            return Ok(keys);
        }
        self.after_unknown_key()
            .await
            .ok_or_else(|| self.unavailable())
    }

    /// A token named a key the set lacks: fetches the set if the cache allows it now, or waits for
    /// the fetch under way, and gives the set to check the token with again: the newest held, which
    /// is the one checked before when no fetch was allowed or it failed (then refuse the token).
    /// `None` while no set was ever fetched.
    pub async fn after_unknown_key(&self) -> Option<Arc<KeySet>> {
        // Registered before the cache is asked, so that a fetch ending in between still wakes us.
        let ended = self.shared.fetch_ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        let decision = self.cache().unknown_key(SystemClock.now());
        match decision {
            KeyRefetch::Fetch(fetch) => {
                // On a task of its own, so that a request given up half-way (its client gone)
                // does not take the fetch with it and leave the others waiting on it.
                let shared = Arc::clone(&self.shared);
                tokio::spawn(async move { shared.fetch(fetch).await })
                    .await
                    .ok()
                    .flatten()
            }
            KeyRefetch::InFlight => {
                // The fetch under way ends within the client's timeout; the ceiling only guards
                // against a client built without one.
                let _ = tokio::time::timeout(WAIT_CEILING, ended).await;
                self.current()
            }
            // Another request's fetch may have brought a newer set since this token was checked;
            // the caller compares it with the set it checked against.
            KeyRefetch::NotBefore(_) => self.current(),
        }
    }

    /// A set newer than `held` (the set a token was checked with, `None` if there was none), after
    /// [`after_unknown_key`](Self::after_unknown_key): `None` when the cache gave no other.
    pub(crate) async fn newer_than(&self, held: Option<&Arc<KeySet>>) -> Option<Arc<KeySet>> {
        self.after_unknown_key()
            .await
            .filter(|newer| held.is_none_or(|held| !Arc::ptr_eq(newer, held)))
    }

    fn cache(&self) -> MutexGuard<'_, KeyCache> {
        self.shared.cache()
    }

    fn unavailable(&self) -> KeysError {
        let cache = self.cache();
        KeysError::Unavailable {
            url: cache.url().to_string(),
            failures: cache.failures(),
        }
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("cache", &*self.cache())
            .field("fetches", &self.fetches())
            .finish()
    }
}

impl Shared {
    fn cache(&self) -> MutexGuard<'_, KeyCache> {
        // Every critical section is a few field updates that cannot leave the cache half-changed,
        // so a panic elsewhere while holding the lock does not make it unusable.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `fetch` and hands its outcome to the cache; the new set if it was taken.
    async fn fetch(&self, fetch: KeyFetch) -> Option<Arc<KeySet>> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let url = fetch.url().clone();
        let outcome = get(&self.client, &url).await;
        let taken = {
            let mut cache = self.cache();
            match outcome {
                Ok((status, body)) => match cache.finish(fetch, status, &body, SystemClock.now()) {
                    Ok(keys) => Some(keys),
                    Err(error) => {
                        tracing::warn!(%url, %error, "key set not taken; the last good set goes on serving");
                        None
                    }
                },
                Err(error) => {
                    cache.failed(fetch);
                    tracing::warn!(%url, %error, "key set fetch failed; the last good set goes on serving");
                    None
                }
            }
        };
        self.fetch_ended.notify_waiters();
        taken
    }
}

/// The refresh task: fetches when the cache says one is due, then sleeps until the next is.
async fn refresh(shared: Weak<Shared>) {
    loop {
        let wait = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let due = shared.cache().poll(SystemClock.now());
            if let Some(fetch) = due {
                shared.fetch(fetch).await;
            }
            let now = SystemClock.now();
            let next = shared.cache().next_due(now);
            // No due time while someone else's fetch runs: look again after a short while.
            next.map_or(Duration::from_secs(1), |due| {
                due.duration_since(now).unwrap_or(Duration::ZERO)
            })
        };
        tokio::time::sleep(wait).await;
    }
}

/// `GET url`: the status and at most [`MAX_JWKS_BYTES`] of the body.
async fn get(client: &reqwest::Client, url: &url::Url) -> Result<(u16, Vec<u8>), FetchError> {
    let response = client.get(url.as_str()).send().await?;
    let status = response.status().as_u16();
    let body = body_within(response, MAX_JWKS_BYTES)
        .await?
        .ok_or(FetchError::TooLarge)?;
    Ok((status, body))
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("the answer is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
}
