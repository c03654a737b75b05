//! Sessions in Redis, for an app of several instances.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use fred::clients::Pool;
use fred::error::{Error as RedisError, ErrorKind};
use fred::interfaces::{ClientLike, KeysInterface, LuaInterface};
use fred::types::config::{Config, ConnectionConfig, PerformanceConfig, ReconnectPolicy};
use fred::types::{Expiration, SetOptions};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

/// The prefix of every key the store sets unless [`RedisStore::with_prefix`] sets another: a
/// session is `<prefix>session:<ID>`, a renewal's lock `<prefix>renewal:<session ID>`, a DPoP
/// proof's first use `<prefix>dpop-proof:<its replay key>`.
pub const DEFAULT_PREFIX: &str = "workos-connect:";

/// How long [`RedisStore::connect`]'s commands may take: a session that cannot be read in time is
/// an error answer, not a wait as long as the browser's.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// A `tower-sessions` store in Redis, so that every instance of an app sees each session: the
/// login begun on one instance ends on another, and a logout holds on all.
///
/// Each session is one key (`<prefix>session:<session ID>`) holding its record as JSON, expiring
/// with the session. A session is created only under an ID no other holds (`SET NX`), and saved
/// only while its key still exists (`SET XX`): a request that ends after the session's logout, on
/// any instance, cannot bring it back. Given to [`WebLogin::session_layer`](crate::WebLogin::session_layer),
/// it also makes the instances renew a session's tokens in turn: one redeems the refresh token
/// (under a lock `<prefix>renewal:<session ID>`, extended while it renews and expiring 15 seconds
/// after should its instance stop), the others wait and take its tokens, so that a provider
/// rotating refresh tokens never sees one redeemed twice and ends the grant. The lock is taken
/// only for this store given to `session_layer` itself, not for a store wrapping it.
///
/// Given to [`ProtectedResourceBuilder::shared_replay_memory`](crate::ProtectedResourceBuilder::shared_replay_memory),
/// it is the memory of DPoP proofs already used, shared by a resource's instances: one `SET NX`
/// per proof, keyed by a hash of the proof's key and `jti`, expiring with the proof's window.
///
/// Behind the `redis` feature, on the [`fred`] client this crate re-exports.
///
/// ```no_run
/// use workos_connect::{ConnectClient, Scopes};
/// use workos_connect_axum::{RedisStore, WebLogin};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// # let client = ConnectClient::new(
/// #     "https://example.authkit.app".parse()?,
/// #     "client_01HXYZ".parse()?,
/// #     "https://app.example.com/callback".parse()?,
/// # );
/// let login = WebLogin::builder(client).scopes(Scopes::ALL).build()?;
/// let sessions = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// let app: axum::Router = login.router().layer(login.session_layer(sessions));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    prefix: String,
}

/// Why [`RedisStore::connect`] could not reach Redis.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RedisStoreError {
    /// The URL is not a Redis URL: `redis://[user:password@]host[:port][/db]`, or `rediss://` for
    /// TLS.
    #[error("the Redis URL cannot be used: {0}")]
    Url(#[source] RedisError),
    /// Redis did not answer the first connection.
    #[error("Redis could not be reached: {0}")]
    Connect(#[source] RedisError),
}

impl RedisStore {
    /// A store on a pool the app has set up (its size, timeouts and reconnection), connected or
    /// not yet.
    pub fn new(pool: Pool) -> Self {
        RedisStore {
            pool,
            prefix: DEFAULT_PREFIX.to_owned(),
        }
    }

    /// Connects a pool of two connections to `url` (`redis://`, or `rediss://` for TLS with the
    /// system's root certificates), reconnecting with backoff after a drop, each
    /// command bounded to two seconds. Returns once connected, so that a wrong URL or a Redis that
    /// is down stops the app at start rather than at its first login.
    ///
    /// # Errors
    ///
    /// [`RedisStoreError::Url`] for a URL `fred` cannot use, [`RedisStoreError::Connect`] when
    /// Redis does not answer.
    pub async fn connect(url: &str) -> Result<Self, RedisStoreError> {
        // fred takes any scheme as plain TCP; an `http://` URL is a mistake to name, not to try.
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            let scheme = RedisError::new(ErrorKind::Config, "the scheme must be redis or rediss");
            return Err(RedisStoreError::Url(scheme));
        }
        let config = Config::from_url(url).map_err(RedisStoreError::Url)?;
        let performance = PerformanceConfig {
            default_command_timeout: COMMAND_TIMEOUT,
            ..PerformanceConfig::default()
        };
        let connection = ConnectionConfig {
            connection_timeout: COMMAND_TIMEOUT,
            ..ConnectionConfig::default()
        };
        let policy = ReconnectPolicy::new_exponential(0, 100, 5_000, 2);
        let pool = Pool::new(config, Some(performance), Some(connection), Some(policy), 2)
            .map_err(RedisStoreError::Url)?;
        pool.init().await.map_err(RedisStoreError::Connect)?;
        Ok(RedisStore::new(pool))
    }

    /// Puts the store's keys under `prefix` instead of [`DEFAULT_PREFIX`], for apps sharing one
    /// Redis database.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The pool the store sends its commands through.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    fn key(&self, id: &Id) -> String {
        format!("{}session:{id}", self.prefix)
    }

    /// Records a DPoP proof's first use across the instances sharing this Redis: sets its key if
    /// absent, to expire after `expires_in`; whether it was absent (the proof's first use).
    pub(crate) async fn record_first_use(
        &self,
        replay_key: &str,
        expires_in: Duration,
    ) -> Result<bool, RedisError> {
        let key = format!("{}dpop-proof:{replay_key}", self.prefix);
        let expires_ms = i64::try_from(expires_in.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        let set: Option<String> = self
            .pool
            .set(
                key,
                1,
                Some(Expiration::PX(expires_ms)),
                Some(SetOptions::NX),
                false,
            )
            .await?;
        Ok(set.is_some())
    }

    /// Writes `record` if `option` holds; whether it was written.
    async fn set(&self, record: &Record, option: SetOptions) -> session_store::Result<bool> {
        let value = serde_json::to_vec(record)
            .map_err(|error| session_store::Error::Encode(error.to_string()))?;
        let expiry = Expiration::EXAT(record.expiry_date.unix_timestamp());
        let written: Option<String> = self
            .pool
            .set(
                self.key(&record.id),
                value.as_slice(),
                Some(expiry),
                Some(option),
                false,
            )
            .await
            .map_err(backend)?;
        Ok(written.is_some())
    }
}

/// Deletes a renewal's lock only if it still holds the value its holder set: a holder whose lock
/// expired (a renewal slower than the lock) must not release the next holder's.
const RELEASE: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// The shortest and longest pause between two tries at a renewal's lock held elsewhere.
const LOCK_POLL: (Duration, Duration) = (Duration::from_millis(10), Duration::from_millis(200));

/// A session's renewal lock, held by this instance until [`release`](RenewalLock::release)d or
/// expired.
pub(crate) struct RenewalLock {
    pool: Pool,
    key: String,
    holder: String,
    /// How long the lock lives past its last extension.
    hold: Duration,
}

/// Extends a renewal's lock only if it still holds the value its holder set.
const EXTEND: &str = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";

impl RedisStore {
    /// Takes session `id`'s renewal lock, for at most `hold` (its holder crashing frees it then),
    /// waiting up to `wait` for another instance's renewal to end; `None` when it did not.
    pub(crate) async fn renewal_lock(
        &self,
        id: &Id,
        hold: Duration,
        wait: Duration,
    ) -> Result<Option<RenewalLock>, RedisError> {
        let key = format!("{}renewal:{id}", self.prefix);
        // Any value unguessable and unique to this holder: a session ID is one.
        let holder = Id::default().to_string();
        let hold_ms = millis(hold);
        let take = async {
            let mut pause = LOCK_POLL.0;
            loop {
                let taken: Option<String> = self
                    .pool
                    .set(
                        key.as_str(),
                        holder.as_str(),
                        Some(Expiration::PX(hold_ms)),
                        Some(SetOptions::NX),
                        false,
                    )
                    .await?;
                if taken.is_some() {
                    return Ok::<_, RedisError>(());
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LOCK_POLL.1);
            }
        };
        match tokio::time::timeout(wait, take).await {
            Ok(taken) => taken.map(|()| {
                let pool = self.pool.clone();
                Some(RenewalLock {
                    pool,
                    key,
                    holder,
                    hold,
                })
            }),
            Err(_) => Ok(None),
        }
    }
}

impl RenewalLock {
    /// Runs `work` under the lock, extending it every third of its hold for as long as `work`
    /// runs: a renewal slower than the hold (a slow token endpoint, then a key fetch) keeps the
    /// others waiting, while an instance that stops frees the lock a hold after it stopped.
    pub(crate) async fn held_while<F: std::future::Future>(&self, work: F) -> F::Output {
        let mut work = std::pin::pin!(work);
        loop {
            match tokio::time::timeout(self.hold / 3, &mut work).await {
                Ok(output) => return output,
                Err(_) => {
                    // A lock lost meanwhile cannot be taken back; the renewal goes on.
                    let hold_ms = millis(self.hold);
                    let extended: Result<i64, RedisError> = self
                        .pool
                        .eval(
                            EXTEND,
                            self.key.as_str(),
                            vec![self.holder.clone(), hold_ms.to_string()],
                        )
                        .await;
                    if !matches!(extended, Ok(1)) {
                        tracing::warn!("a session's renewal lock could not be extended");
                    }
                }
            }
        }
    }

    /// Frees the lock, if this holder still has it.
    pub(crate) async fn release(self) -> Result<(), RedisError> {
        let _: i64 = self.pool.eval(RELEASE, self.key, self.holder).await?;
        Ok(())
    }
}

/// A duration as Redis takes it: whole milliseconds, at least one, at most a day (a longer one
/// is a mistake, and Redis refuses one past its own bound).
fn millis(duration: Duration) -> i64 {
    let day = 24 * 60 * 60 * 1000;
    i64::try_from(duration.as_millis())
        .unwrap_or(day)
        .clamp(1, day)
}

/// The error's kind and message: `fred` puts neither the URL nor a command's values in them.
fn backend(error: RedisError) -> session_store::Error {
    session_store::Error::Backend(format!("redis: {error}"))
}

/// A Redis error met outside the store's own calls, as the session's error.
pub(crate) fn session_error(error: RedisError) -> tower_sessions::session::Error {
    tower_sessions::session::Error::Store(backend(error))
}

#[async_trait]
impl SessionStore for RedisStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh ID another session holds is all but impossible (128 random bits); should it
        // happen, the record takes another rather than the other session's key.
        while !self.set(record, SetOptions::NX).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.set(record, SetOptions::XX).await?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let value: Option<Vec<u8>> = self.pool.get(self.key(id)).await.map_err(backend)?;
        value
            .map(|value| {
                serde_json::from_slice(&value)
                    .map_err(|error| session_store::Error::Decode(error.to_string()))
            })
            .transpose()
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let _: i64 = self.pool.del(self.key(id)).await.map_err(backend)?;
        Ok(())
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the pool: its configuration holds the URL, and the URL may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
