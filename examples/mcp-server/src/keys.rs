//! The AuthKit domain's signing keys: fetched at start-up, refreshed on a schedule (so that a key
//! AuthKit withdraws stops being trusted), and fetched again when a token names a key the set
//! lacks, at most once per interval whatever the number of such tokens and whether the fetch works.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use url::Url;
use workos_connect::resource_server::{KeySet, KeySetError};

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("fetching the JWKS: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the JWKS: {0}")]
    Keys(#[from] KeySetError),
}

pub struct Keys {
    url: Url,
    http: reqwest::Client,
    refetch_interval: Duration,
    current: RwLock<Arc<KeySet>>,
    /// Held while fetching, so that concurrent requests make one fetch; holds when the last fetch
    /// was tried, so that a failing endpoint is not asked again before the interval.
    fetching: Mutex<Instant>,
}

impl Keys {
    /// Fetches the set once; a server that cannot read its keys should not start.
    pub async fn fetch_first(url: Url, refetch_interval: Duration) -> Result<Keys, KeysError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            // The keys decide which tokens pass: take them only from the URL configured.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let keys = fetch(&http, &url, refetch_interval).await?;
        Ok(Keys {
            url,
            http,
            refetch_interval,
            current: RwLock::new(Arc::new(keys)),
            fetching: Mutex::new(Instant::now()),
        })
    }

    pub fn current(&self) -> Arc<KeySet> {
        match self.current.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The set to check a token again with, after `seen` lacked its key: the one another request
    /// fetched meanwhile, or a new fetch if the last was long enough ago; `None` if neither.
    pub async fn after_unknown_key(&self, seen: &Arc<KeySet>) -> Option<Arc<KeySet>> {
        let mut last_try = self.fetching.lock().await;
        let current = self.current();
        if !Arc::ptr_eq(&current, seen) {
            return Some(current);
        }
        if last_try.elapsed() < self.refetch_interval {
            return None;
        }
        self.fetch_now(&mut last_try).await
    }

    /// Fetches the set every `period`, for the life of the server.
    pub async fn refresh_every(self: Arc<Self>, period: Duration) {
        loop {
            tokio::time::sleep(period).await;
            let mut last_try = self.fetching.lock().await;
            self.fetch_now(&mut last_try).await;
        }
    }

    async fn fetch_now(&self, last_try: &mut Instant) -> Option<Arc<KeySet>> {
        *last_try = Instant::now();
        match fetch(&self.http, &self.url, self.refetch_interval).await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                match self.current.write() {
                    Ok(mut held) => *held = Arc::clone(&keys),
                    Err(poisoned) => *poisoned.into_inner() = Arc::clone(&keys),
                }
                Some(keys)
            }
            Err(error) => {
                // The set held goes on serving; the next try waits for the interval.
                eprintln!("keeping the keys held: {error}");
                None
            }
        }
    }
}

async fn fetch(
    http: &reqwest::Client,
    url: &Url,
    refetch_interval: Duration,
) -> Result<KeySet, KeysError> {
    let body = http
        .get(url.clone())
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(KeySet::parse(&body)?.refetch_interval(refetch_interval))
}
