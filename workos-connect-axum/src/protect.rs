//! An API or MCP server that takes AuthKit access tokens: the core's [`RequestCheck`] driven
//! with the keys fetched here, and the RFC 9728 metadata route.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::Json;
use axum::routing::get;
use axum::Router;
use http::{HeaderMap, Method};
use url::Url;
use workos_connect::jose::KeyCache;
use workos_connect::resource_server::{
    AcceptedRequest, ProofToRecord, Refusal, ReplayRecord, RequestCheck, RequestDecision,
    ResourceRequest,
};

use crate::keys::{Keys, KeysError};
use crate::refused::Refused;
use crate::url_rules::{is_https_or_loopback, is_literal_route};

/// An API or MCP server protected by an issuer's access tokens: the core's [`RequestCheck`]
/// (what every request must carry, the resource's metadata, the origins taken) and the keys
/// that feed it. A cheap handle: clone it freely.
///
/// Made with [`ProtectedResource::new`] or [`ProtectedResource::builder`]; used through
/// [`layer`](Self::layer) (every request behind it needs a valid token),
/// [`metadata_router`](Self::metadata_router), or [`authenticate`](Self::authenticate) for a
/// handler of its own.
///
/// Which pages may call it is the check's
/// [`OriginPolicy`](workos_connect::resource_server::OriginPolicy):
///
/// | the check | made for | a request whose `Origin` is another site's |
/// | --- | --- | --- |
/// | [`RequestCheck::api`] | an API | checked as any other: an access token is no ambient credential, so a page of another site gets in only with a token it holds; which pages read the answers is the CORS layer's to say |
/// | [`RequestCheck::mcp_server`] | an MCP server | 403, unless [allowed](RequestCheck::allowed_origin): the MCP streamable HTTP transport requires servers to validate `Origin`, against DNS rebinding |
///
/// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) reaches the service inside
/// the layer either way, without claims, for a CORS layer there (tower-http's `CorsLayer`) to
/// answer. A CORS layer outside this one answers preflights before the check sees them, and puts
/// its headers on refusals too, so that a page can read why it was refused.
///
/// ```
/// use workos_connect::resource_server::{AccessTokenCheck, OriginPolicy, RequestCheck};
///
/// let tokens = AccessTokenCheck::new(
///     "https://example.authkit.app".parse()?,
///     "https://api.example.com/".parse()?,
/// );
/// // An API for browser apps: any origin; its CORS layer says which may read the answers.
/// assert!(RequestCheck::api(tokens.clone())?.takes_any_origin());
/// // An API that wants the MCP server's guard too, for the pages of one site only:
/// let guarded = RequestCheck::api(tokens.clone())?.origin_policy(OriginPolicy::AllowedOnly);
/// let guarded = guarded.allowed_origin("https://app.example.com")?;
/// assert_eq!(guarded.allowed_origins(), ["https://api.example.com", "https://app.example.com"]);
/// // An MCP server: its own origin only, unless others are allowed.
/// assert!(!RequestCheck::mcp_server(tokens)?.takes_any_origin());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ProtectedResource {
    shared: Arc<Shared>,
}

struct Shared {
    check: RequestCheck,
    keys: Keys,
    /// The memory of DPoP proofs shared by the resource's instances, and how long it may take to
    /// answer.
    #[cfg(feature = "redis")]
    replays: Option<(crate::RedisStore, Duration)>,
}

/// How long the shared replay memory may take to record a proof before the request is refused
/// (503), unless [`ProtectedResourceBuilder::replay_memory_timeout`] says otherwise.
#[cfg(feature = "redis")]
pub const DEFAULT_REPLAY_MEMORY_TIMEOUT: Duration = Duration::from_millis(500);

/// What [`ProtectedResource::authenticate`] lets pass.
#[derive(Debug)]
#[must_use = "pass the request on: with the claims, or a preflight without"]
pub enum Passed {
    /// The request's token (and its DPoP proof) passed: its claims.
    Accepted(AcceptedRequest),
    /// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), which browsers send
    /// without credentials: nothing was checked and no one is authenticated. Pass it on without
    /// claims, for the app's CORS layer to answer.
    Preflight,
}

/// How a [`ProtectedResource`] gets its keys, from [`ProtectedResource::builder`].
#[must_use = "call build() to get the ProtectedResource"]
pub struct ProtectedResourceBuilder {
    check: RequestCheck,
    jwks_uri: Option<Url>,
    refresh_interval: Option<Duration>,
    min_interval: Option<Duration>,
    keys: Option<Keys>,
    #[cfg(feature = "redis")]
    replays: Option<crate::RedisStore>,
    #[cfg(feature = "redis")]
    replay_timeout: Duration,
}

/// Why a [`ProtectedResource`] could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The JWKS URL is neither https nor on loopback.
    #[error("the JWKS URL must be https (or http on loopback): {0}")]
    InsecureJwksUri(Url),
    /// The issuer has no JWKS URL this crate can guess; give it with `jwks_uri`.
    #[error("no JWKS URL follows from the issuer {0}; give it with jwks_uri")]
    NoJwksUri(String),
    /// The resource's path cannot be routed by axum, which reads `{`, `}` and segments starting with
    /// `:` or `*` as captures.
    #[error("the resource's metadata path `{0}` cannot be an axum route: a segment starts with `:` or `*`, or it holds `{{` or `}}`")]
    UnroutablePath(String),
    /// The check leaves DPoP proofs to a replay memory shared by the instances
    /// ([`RequestCheck::shared_replay_memory`]), and none was given.
    #[error("the RequestCheck leaves DPoP proofs to a shared replay memory, and none was given: call ProtectedResourceBuilder::shared_replay_memory with a RedisStore (feature `redis`)")]
    NoReplayMemory,
    /// The keys could not be set up.
    #[error(transparent)]
    Keys(#[from] KeysError),
}

impl ProtectedResource {
    /// The resource `check` decides for, its keys the issuer's `/oauth2/jwks` (as on every AuthKit
    /// domain) with the key cache's default intervals, their refresh started: call it inside a
    /// tokio runtime. The first fetch runs in the background; a request arriving before it ends
    /// waits for it.
    pub fn new(check: RequestCheck) -> Result<ProtectedResource, SetupError> {
        ProtectedResource::builder(check).build()
    }

    /// The resource `check` decides for, with keys set otherwise: another JWKS URL, other
    /// intervals, or [`Keys`] of your own making.
    pub fn builder(check: RequestCheck) -> ProtectedResourceBuilder {
        ProtectedResourceBuilder {
            check,
            jwks_uri: None,
            refresh_interval: None,
            min_interval: None,
            keys: None,
            #[cfg(feature = "redis")]
            replays: None,
            #[cfg(feature = "redis")]
            replay_timeout: DEFAULT_REPLAY_MEMORY_TIMEOUT,
        }
    }

    /// The route serving the resource's metadata (RFC 9728) at its well-known URL, for any state;
    /// merge it outside the [`layer`](Self::layer), since clients read it before they have a token.
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let body = Json(self.shared.check.metadata().clone());
        Router::new().route(
            self.shared.check.metadata_url().path(),
            get(move || async move { body.clone() }),
        )
    }

    /// The check every request gets, with the resource's metadata and its URL.
    pub fn check(&self) -> &RequestCheck {
        &self.shared.check
    }

    /// The keys tokens are checked with.
    pub fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// Checks one request of `method` for `target` (its path and query as the client sent them:
    /// axum's `OriginalUri` in a nested router) with `headers`, as [`RequestCheck::check`]
    /// decides, fetching the keys first when it asks for them (as often as the key cache allows):
    /// the token's claims, or [`Passed::Preflight`] for a CORS preflight, which carries none.
    /// A refusal is logged through `tracing`, never with the token.
    pub async fn authenticate(
        &self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
    ) -> Result<Passed, Refused> {
        match self.decide(method, target, headers) {
            Decided::Now(passed) => passed,
            Decided::Record(proof) => self.record_then_decide(proof).await,
            Decided::Keys => self.fetch_keys_then_decide(method, target, headers).await,
        }
    }

    /// The decision on a request as far as it goes without waiting: a request whose token was
    /// seen before, or is refused, is decided at once; one needing newer keys or its proof
    /// recorded in the shared memory says so.
    pub(crate) fn decide(&self, method: &Method, target: &str, headers: &HeaderMap) -> Decided {
        let Shared { check, keys, .. } = &*self.shared;
        let request = ResourceRequest::from_http(method, target, headers);
        let held = keys.current();
        match check.check(&request, held.as_deref(), check.now()) {
            RequestDecision::Accept(accepted) => Decided::Now(Ok(Passed::Accepted(accepted))),
            RequestDecision::Preflight => Decided::Now(Ok(Passed::Preflight)),
            RequestDecision::Refuse(refusal) => Decided::Now(Err(refused(refusal))),
            RequestDecision::RecordProof(proof) => Decided::Record(proof),
            // Decided again once the keys are in: nothing costly was done before the check
            // stopped for them (no signature checked, no proof recorded).
            RequestDecision::FetchKeys(_) => Decided::Keys,
        }
    }

    /// The decision on a request whose proof awaits its record in the shared memory.
    pub(crate) async fn record_then_decide(&self, proof: ProofToRecord) -> Result<Passed, Refused> {
        let record = self.record(proof.key(), proof.expires_in()).await;
        self.shared
            .check
            .recorded(proof, record)
            .map(Passed::Accepted)
            .map_err(refused)
    }

    /// The decision on a request that awaits newer keys: checked again with the set held, and
    /// resumed with a newer one.
    pub(crate) async fn fetch_keys_then_decide(
        &self,
        method: &Method,
        target: &str,
        headers: &HeaderMap,
    ) -> Result<Passed, Refused> {
        let Shared { check, keys, .. } = &*self.shared;
        let request = ResourceRequest::from_http(method, target, headers);
        let held = keys.current();
        let mut decision = check.check(&request, held.as_deref(), check.now());
        loop {
            decision = match decision {
                // `resume` never asks for keys again, so this fetches once.
                RequestDecision::FetchKeys(awaiting) => {
                    let newer = keys.newer_than(held.as_ref()).await;
                    check.resume(awaiting, newer.as_deref(), check.now())
                }
                RequestDecision::Accept(accepted) => return Ok(Passed::Accepted(accepted)),
                RequestDecision::Preflight => return Ok(Passed::Preflight),
                RequestDecision::Refuse(refusal) => return Err(refused(refusal)),
                RequestDecision::RecordProof(proof) => return self.record_then_decide(proof).await,
            };
        }
    }
}

/// A refusal, logged.
fn refused(refusal: Refusal) -> Refused {
    tracing::info!(status = refusal.status(), %refusal, "request refused");
    Refused(refusal)
}

/// What [`ProtectedResource::decide`] decided, or what the decision waits for.
pub(crate) enum Decided {
    /// Decided.
    Now(Result<Passed, Refused>),
    /// Taken once the shared memory records the proof's first use.
    Record(ProofToRecord),
    /// Waits for newer keys.
    Keys,
}

impl ProtectedResource {
    /// Records a DPoP proof's first use in the shared replay memory, within its bound of time.
    #[cfg(feature = "redis")]
    async fn record(&self, key: &str, expires_in: Duration) -> ReplayRecord {
        let Some((store, timeout)) = &self.shared.replays else {
            return ReplayRecord::Unavailable;
        };
        match tokio::time::timeout(*timeout, store.record_first_use(key, expires_in)).await {
            Ok(Ok(true)) => ReplayRecord::First,
            Ok(Ok(false)) => ReplayRecord::Again,
            Ok(Err(error)) => {
                tracing::warn!(%error, "the shared replay memory failed");
                ReplayRecord::Unavailable
            }
            Err(_) => {
                tracing::warn!(?timeout, "the shared replay memory did not answer in time");
                ReplayRecord::Unavailable
            }
        }
    }

    /// Without a shared replay memory, which [`ProtectedResourceBuilder::build`] made sure the
    /// check does not ask for: refused, never taken unchecked.
    #[cfg(not(feature = "redis"))]
    async fn record(&self, _: &str, _: Duration) -> ReplayRecord {
        ReplayRecord::Unavailable
    }
}

impl fmt::Debug for ProtectedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedResource")
            .field("check", &self.shared.check)
            .field("keys", &self.shared.keys)
            .finish()
    }
}

impl ProtectedResourceBuilder {
    /// The JWKS URL, when it is not the issuer's `/oauth2/jwks`.
    pub fn jwks_uri(mut self, url: Url) -> Self {
        self.jwks_uri = Some(url);
        self
    }

    /// How often the keys are fetched on schedule (default
    /// [`KeyCache::DEFAULT_REFRESH_INTERVAL`], five minutes): a key the issuer withdraws stops
    /// validating within this time.
    pub fn keys_refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh_interval = Some(interval);
        self
    }

    /// The least time between two fetches that tokens naming an unknown key may cause (default
    /// [`KeyCache::DEFAULT_MIN_INTERVAL`], a minute).
    pub fn keys_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = Some(interval);
        self
    }

    /// Keys of your own making (another HTTP client, other intervals); their refresh must already
    /// run. Without it the builder makes them and starts their refresh.
    pub fn keys(mut self, keys: Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Records each DPoP proof's first use in `store`, shared by every instance of the resource,
    /// rather than in this process's memory alone: behind a load balancer, a proof accepted by
    /// one instance and replayed to another is refused too. Sets
    /// [`RequestCheck::shared_replay_memory`] on the check. Each DPoP-bound request costs one
    /// `SET NX` with an expiry; when Redis does not answer within
    /// [`replay_memory_timeout`](Self::replay_memory_timeout) the request is refused with 503,
    /// never taken unchecked. Bearer requests never reach Redis.
    #[cfg(feature = "redis")]
    pub fn shared_replay_memory(mut self, store: crate::RedisStore) -> Self {
        self.check = self.check.shared_replay_memory();
        self.replays = Some(store);
        self
    }

    /// How long the shared replay memory may take to answer (default
    /// [`DEFAULT_REPLAY_MEMORY_TIMEOUT`], half a second).
    #[cfg(feature = "redis")]
    pub fn replay_memory_timeout(mut self, timeout: Duration) -> Self {
        self.replay_timeout = timeout;
        self
    }

    /// Checks the settings, and unless [`keys`](Self::keys) were given, makes the keys and starts
    /// their refresh (so call it inside a tokio runtime). The first fetch runs in the background: a
    /// request arriving before it ends waits for it.
    pub fn build(self) -> Result<ProtectedResource, SetupError> {
        #[cfg(feature = "redis")]
        let missing_memory = self.replays.is_none();
        #[cfg(not(feature = "redis"))]
        let missing_memory = true;
        if self.check.records_proofs_elsewhere() && missing_memory {
            return Err(SetupError::NoReplayMemory);
        }
        let metadata_path = self.check.metadata_url().path();
        if !is_literal_route(metadata_path) {
            return Err(SetupError::UnroutablePath(metadata_path.to_owned()));
        }
        let keys = match self.keys {
            Some(keys) => keys,
            None => {
                let issuer = self.check.tokens().issuer();
                let url = match self.jwks_uri {
                    Some(url) => url,
                    None => issuer
                        .url()
                        .join("/oauth2/jwks")
                        .map_err(|_| SetupError::NoJwksUri(issuer.to_string()))?,
                };
                if !is_https_or_loopback(&url) {
                    return Err(SetupError::InsecureJwksUri(url));
                }
                let mut cache = KeyCache::new(url);
                if let Some(interval) = self.refresh_interval {
                    cache = cache.refresh_interval(interval);
                }
                if let Some(interval) = self.min_interval {
                    cache = cache.min_interval(interval);
                }
                Keys::started(cache)?
            }
        };
        Ok(ProtectedResource {
            shared: Arc::new(Shared {
                check: self.check,
                keys,
                #[cfg(feature = "redis")]
                replays: self.replays.map(|store| (store, self.replay_timeout)),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use workos_connect::resource_server::AccessTokenCheck;

    use super::*;

    #[test]
    fn paths_axum_would_take_for_captures_are_refused() {
        assert!(is_literal_route(
            "/.well-known/oauth-protected-resource/mcp"
        ));
        assert!(is_literal_route(
            "/.well-known/oauth-protected-resource/a:b*c"
        ));
        for bad in ["/x/:id", "/x/*rest", "/x/%7B/{y}"] {
            assert!(!is_literal_route(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_check_leaving_proofs_to_a_shared_memory_needs_one() {
        let tokens = AccessTokenCheck::new(
            "https://example.authkit.app".parse().unwrap(),
            "https://api.example.com/".parse().unwrap(),
        )
        .require_dpop();
        let check = RequestCheck::api(tokens).unwrap().shared_replay_memory();
        let refused = ProtectedResource::new(check);
        assert!(
            matches!(refused, Err(SetupError::NoReplayMemory)),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_resource_axum_cannot_route_is_refused_at_setup() {
        let tokens = AccessTokenCheck::new(
            "https://example.authkit.app".parse().unwrap(),
            "https://api.example.com/v1/:tenant".parse().unwrap(),
        );
        let refused = ProtectedResource::new(RequestCheck::api(tokens).unwrap());
        assert!(
            matches!(refused, Err(SetupError::UnroutablePath(_))),
            "{refused:?}"
        );
    }

    #[tokio::test]
    async fn a_jwks_url_in_the_clear_is_refused_at_setup() {
        let tokens = AccessTokenCheck::new(
            "https://example.authkit.app".parse().unwrap(),
            "https://api.example.com/mcp".parse().unwrap(),
        );
        let refused = ProtectedResource::builder(RequestCheck::api(tokens).unwrap())
            .jwks_uri("http://keys.example.com/jwks".parse().unwrap())
            .build();
        assert!(
            matches!(refused, Err(SetupError::InsecureJwksUri(_))),
            "{refused:?}"
        );
    }
}
