//! An API or MCP server that takes AuthKit access tokens: the settings, the check of one request,
//! and the RFC 9728 metadata route.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use axum::Router;
use http::header::{AUTHORIZATION, ORIGIN, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use url::Url;
use workos_connect::dpop::{
    DpopNonce, DpopProofCheck, DpopProofError, DPOP_ALGORITHM, DPOP_HEADER, DPOP_NONCE_HEADER,
};
use workos_connect::oauth::{Issuer, Resource};
use workos_connect::{
    discovery::ProtectedResourceMetadata,
    resource_server::{
        authorization_token, AccessTokenCheck, AccessTokenClaims, AccessTokenError,
        BearerTokenError, ResourceChallenge, TokenScheme,
    },
};
use workos_connect::{jose::KeyCache, oauth::ScopeList};

use crate::keys::{Keys, KeysError};
use crate::layer::RequireAccessToken;
use crate::same_origin::{sole, Repeated};
use crate::url_rules::{is_https_or_loopback, is_literal_route};

/// An API or MCP server protected by an issuer's access tokens: what every request must carry, the
/// keys that check it, and the resource's metadata (RFC 9728). A cheap handle: clone it freely.
///
/// Made with [`ProtectedResource::builder`]; used through [`layer`](Self::layer) (every request
/// behind it needs a valid token), [`metadata_router`](Self::metadata_router), or
/// [`authenticate`](Self::authenticate) for a handler of its own.
#[derive(Clone)]
pub struct ProtectedResource {
    shared: Arc<Settings>,
}

struct Settings {
    check: AccessTokenCheck,
    metadata: ProtectedResourceMetadata,
    metadata_url: Url,
    keys: Keys,
    allowed_origins: Vec<String>,
    /// The resource's URL, whose origin DPoP proofs name.
    origin: Url,
}

/// The settings of a [`ProtectedResource`], from [`ProtectedResource::builder`].
#[must_use = "call build() to get the ProtectedResource"]
pub struct ProtectedResourceBuilder {
    issuer: Issuer,
    resource: Resource,
    scopes: ScopeList,
    permissions: Vec<String>,
    organization: Option<String>,
    remembered_tokens: usize,
    leeway: u64,
    allowed_origins: Vec<String>,
    jwks_uri: Option<Url>,
    refresh_interval: Option<Duration>,
    min_interval: Option<Duration>,
    keys: Option<Keys>,
    dpop: DpopTokens,
}

/// Which DPoP-bound tokens (RFC 9449) a resource takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DpopTokens {
    Refused,
    Accepted,
    Required,
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
    /// An allowed origin is not an origin (`scheme://host[:port]`, nothing after it).
    #[error("`{input}` is not an origin: write scheme://host[:port] with nothing after it")]
    NotOrigin {
        /// The origin as given.
        input: String,
    },
    /// The resource's path cannot be routed by axum, which reads `{`, `}` and segments starting with
    /// `:` or `*` as captures.
    #[error("the resource's metadata path `{0}` cannot be an axum route: a segment starts with `:` or `*`, or it holds `{{` or `}}`")]
    UnroutablePath(String),
    /// The keys could not be set up.
    #[error(transparent)]
    Keys(#[from] KeysError),
}

impl ProtectedResource {
    /// Tokens issued by `issuer` for `resource` (their `aud`); the keys are the issuer's
    /// `/oauth2/jwks`, as on every AuthKit domain, unless set with
    /// [`jwks_uri`](ProtectedResourceBuilder::jwks_uri).
    pub fn builder(issuer: Issuer, resource: Resource) -> ProtectedResourceBuilder {
        ProtectedResourceBuilder {
            issuer,
            resource,
            scopes: ScopeList::default(),
            permissions: Vec::new(),
            organization: None,
            remembered_tokens: ProtectedResourceBuilder::DEFAULT_REMEMBERED_TOKENS,
            leeway: 60,
            allowed_origins: Vec::new(),
            jwks_uri: None,
            refresh_interval: None,
            min_interval: None,
            keys: None,
            dpop: DpopTokens::Refused,
        }
    }

    /// The tower layer that lets a request through only with a valid access token, its claims in
    /// the request's extensions (read them with [`Authenticated`](crate::Authenticated)), and answers
    /// any other with the status and `WWW-Authenticate` challenge its fault calls for.
    pub fn layer(&self) -> RequireAccessToken {
        RequireAccessToken::new(self.clone())
    }

    /// The route serving the resource's metadata (RFC 9728) at its well-known URL, for any state;
    /// merge it outside the [`layer`](Self::layer), since clients read it before they have a token.
    pub fn metadata_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let body = Json(self.shared.metadata.clone());
        Router::new().route(
            self.shared.metadata_url.path(),
            get(move || async move { body.clone() }),
        )
    }

    /// Where the resource's metadata is served, as the challenges name it.
    pub fn metadata_url(&self) -> &Url {
        &self.shared.metadata_url
    }

    /// The resource's metadata.
    pub fn metadata(&self) -> &ProtectedResourceMetadata {
        &self.shared.metadata
    }

    /// The check every request gets.
    pub fn check(&self) -> &AccessTokenCheck {
        &self.shared.check
    }

    /// The keys tokens are checked with.
    pub fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// Checks one request: the `Origin` if any (see
    /// [`allowed_origin`](ProtectedResourceBuilder::allowed_origin)), then its token, and when
    /// the token names a key the set lacks, once more after the fetch the key cache allows. A
    /// DPoP-bound token's proof (see [`dpop`](ProtectedResourceBuilder::dpop)) must name `method`
    /// and the request's URL, which is the resource's origin followed by `path` (the request's
    /// path as the client sent it: axum's `OriginalUri` in a nested router), never the `Host`
    /// header, which the client chooses.
    pub async fn authenticate(
        &self,
        method: &Method,
        path: &str,
        headers: &HeaderMap,
    ) -> Result<AccessTokenClaims, Refusal> {
        self.check_origin(headers)?;
        let settings = &self.shared;
        let authorization = authorization_token(
            headers
                .get_all(AUTHORIZATION)
                .iter()
                .map(HeaderValue::as_bytes),
        )
        .map_err(|error| self.refuse_request(&error))?;
        let scheme = authorization.scheme();
        // Only a DPoP token has a proof to check, so a bearer request builds no URL.
        let proof_target = match scheme {
            TokenScheme::Dpop => {
                let proofs: Vec<&[u8]> = headers
                    .get_all(HeaderName::from_static(DPOP_HEADER))
                    .iter()
                    .map(HeaderValue::as_bytes)
                    .collect();
                let url = self.request_url(path).map_err(|error| {
                    self.refuse_token(AccessTokenError::DpopProof(error), scheme)
                })?;
                Some((proofs, url))
            }
            _ => None,
        };
        let keys = match settings.keys.current() {
            Some(keys) => keys,
            None => settings.keys.ready().await.map_err(|error| {
                tracing::error!(%error, "request refused: no key set to check its token with");
                Refusal::new(StatusCode::SERVICE_UNAVAILABLE, None, RefusalReason::NoKeys)
            })?,
        };
        let validate = |keys: &workos_connect::jose::KeySet| match &proof_target {
            Some((proofs, url)) => settings.check.validate_dpop(
                authorization.token(),
                keys,
                proofs.iter().copied(),
                method.as_str(),
                url,
            ),
            None => settings.check.validate(authorization.token(), keys),
        };
        match validate(&keys) {
            Ok(claims) => Ok(claims),
            // The proof was not looked at (nor remembered as used): the signature is checked first.
            Err(error) if error.names_unknown_key() => {
                match settings.keys.after_unknown_key().await {
                    Some(newer) if !Arc::ptr_eq(&newer, &keys) => {
                        validate(&newer).map_err(|error| self.refuse_token(error, scheme))
                    }
                    _ => Err(self.refuse_token(error, scheme)),
                }
            }
            Err(error) => Err(self.refuse_token(error, scheme)),
        }
    }

    /// The URL a DPoP proof's `htu` must name: the resource's own origin and the request's path.
    ///
    /// Refused when the URL would not keep the path as the router sees it: dot segments
    /// (`/admin/%2e%2e/mcp` becomes `/mcp`), which would let a proof made for one route serve a
    /// request routed to another, or characters a URL percent-encodes (a space, non-ASCII), which
    /// a client building its request from a URL never sends unencoded.
    fn request_url(&self, path: &str) -> Result<Url, DpopProofError> {
        let mut url = self.shared.origin.clone();
        url.set_path(path);
        if url.path() == path {
            Ok(url)
        } else {
            Err(DpopProofError::UrlMismatch {
                url: url.to_string(),
            })
        }
    }

    fn check_origin(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        // More than one Origin is refused, not the first taken: a browser sends one (RFC 6454
        // section 7.3), and a proxy or the app behind could read another copy.
        let origin = match sole(headers, ORIGIN) {
            Ok(None) => return Ok(()),
            Ok(Some(origin)) => origin,
            Err(Repeated) => {
                tracing::info!("request refused: it carries more than one Origin");
                return Err(Refusal::new(
                    StatusCode::FORBIDDEN,
                    None,
                    RefusalReason::Origin,
                ));
            }
        };
        let allowed = origin.to_str().is_ok_and(|origin| {
            self.shared
                .allowed_origins
                .iter()
                .any(|allowed| allowed == origin)
        });
        if allowed {
            Ok(())
        } else {
            tracing::info!(origin = ?origin, "request refused: its Origin is not allowed");
            Err(Refusal::new(
                StatusCode::FORBIDDEN,
                None,
                RefusalReason::Origin,
            ))
        }
    }

    fn refuse_request(&self, error: &BearerTokenError) -> Refusal {
        if !matches!(error, BearerTokenError::Missing) {
            tracing::info!(%error, "request refused");
        }
        let challenge = self
            .shared
            .check
            .resource_request_challenge(error, self.shared.metadata_url.clone());
        Refusal::new(
            status(error.status()),
            Some(challenge),
            RefusalReason::Request(error.clone()),
        )
    }

    fn refuse_token(&self, error: AccessTokenError, scheme: TokenScheme) -> Refusal {
        tracing::info!(%error, "request refused");
        let challenge = self.shared.check.resource_challenge(
            Some(&error),
            Some(scheme),
            self.shared.metadata_url.clone(),
        );
        let dpop_nonce = error.dpop_nonce().cloned();
        let mut refusal = Refusal::new(
            status(error.status()),
            Some(challenge),
            RefusalReason::Token(error),
        );
        refusal.0.dpop_nonce = dpop_nonce;
        refusal
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::UNAUTHORIZED)
}

impl fmt::Debug for ProtectedResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtectedResource")
            .field("check", &self.shared.check)
            .field("metadata_url", &self.shared.metadata_url.as_str())
            .field("allowed_origins", &self.shared.allowed_origins)
            .finish_non_exhaustive()
    }
}

impl ProtectedResourceBuilder {
    /// How many verified tokens are remembered unless set otherwise: at a kilobyte or two each,
    /// ten to twenty megabytes at most.
    pub const DEFAULT_REMEMBERED_TOKENS: usize = 10_000;

    /// Scopes every request needs; a token lacking one gets 403 `insufficient_scope` naming them.
    /// They are also the metadata's `scopes_supported`.
    pub fn require_scopes(mut self, scopes: ScopeList) -> Self {
        self.scopes = scopes;
        self
    }

    /// Permissions every request's token must carry (AuthKit's `permissions` claim, from the user's
    /// roles); a token lacking one gets 403 `insufficient_scope`.
    pub fn require_permissions<I, P>(mut self, permissions: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.permissions = permissions.into_iter().map(Into::into).collect();
        self
    }

    /// The organization every request's token must be for (its `org_id`); a token for another or
    /// for none gets 403 `insufficient_scope`.
    pub fn require_organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization = Some(organization_id.into());
        self
    }

    /// How many verified tokens to remember, so that a client sending the same token again is not
    /// verified again (default [`DEFAULT_REMEMBERED_TOKENS`](Self::DEFAULT_REMEMBERED_TOKENS); `0`
    /// remembers none). See [`AccessTokenCheck::remember_verified`].
    pub fn remember_verified(mut self, max_tokens: usize) -> Self {
        self.remembered_tokens = max_tokens;
        self
    }

    /// Seconds of clock difference allowed when checking a token's times (default 60).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// A web origin whose pages may call the server, as `scheme://host[:port]`. A request carrying
    /// an `Origin` header is refused with 403 unless it is the resource's own origin or one allowed
    /// here: the guard the MCP streamable HTTP transport requires against DNS rebinding. Requests
    /// without `Origin` (not from a browser page) are not affected; requests with more than one
    /// are refused.
    pub fn allowed_origin(mut self, origin: &str) -> Self {
        self.allowed_origins.push(origin.to_owned());
        self
    }

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

    /// Takes DPoP-bound access tokens (RFC 9449: `Authorization: DPoP` with a `DPoP` proof
    /// header) besides bearer tokens: the proof must name the request's method and URL, carry the
    /// token's hash, be signed by the key the token's `cnf.jkt` names, be fresh and used once
    /// (across every clone of the resource). The metadata then lists
    /// `dpop_signing_alg_values_supported`.
    pub fn dpop(mut self) -> Self {
        if self.dpop == DpopTokens::Refused {
            self.dpop = DpopTokens::Accepted;
        }
        self
    }

    /// Takes DPoP-bound access tokens only: a bearer token is refused, the challenges name only
    /// `DPoP`, and the metadata says `dpop_bound_access_tokens_required`.
    pub fn require_dpop(mut self) -> Self {
        self.dpop = DpopTokens::Required;
        self
    }

    /// Keys of your own making (another HTTP client, other intervals); their refresh must already
    /// run. Without it the builder makes them and starts their refresh.
    pub fn keys(mut self, keys: Keys) -> Self {
        self.keys = Some(keys);
        self
    }

    /// Checks the settings, and unless [`keys`](Self::keys) were given, makes the keys and starts
    /// their refresh (so call it inside a tokio runtime). The first fetch runs in the background: a
    /// request arriving before it ends waits for it.
    pub fn build(self) -> Result<ProtectedResource, SetupError> {
        let metadata_url = ProtectedResourceMetadata::well_known_url(&self.resource);
        if !is_literal_route(metadata_url.path()) {
            return Err(SetupError::UnroutablePath(metadata_url.path().to_owned()));
        }
        let mut allowed_origins = vec![origin_of(self.resource.url())];
        for input in self.allowed_origins {
            allowed_origins.push(parse_origin(&input).ok_or(SetupError::NotOrigin { input })?);
        }
        let keys = match self.keys {
            Some(keys) => keys,
            None => {
                let url = match self.jwks_uri {
                    Some(url) => url,
                    None => self
                        .issuer
                        .url()
                        .join("/oauth2/jwks")
                        .map_err(|_| SetupError::NoJwksUri(self.issuer.to_string()))?,
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
        let mut metadata =
            ProtectedResourceMetadata::new(self.resource.clone(), vec![self.issuer.clone()]);
        if !self.scopes.is_empty() {
            metadata = metadata.scopes_supported(self.scopes.iter().map(|scope| scope.as_str()));
        }
        let origin = self.resource.url().clone();
        let mut check = AccessTokenCheck::new(self.issuer, self.resource)
            .require_scopes(self.scopes)
            .require_permissions(self.permissions)
            .remember_verified(self.remembered_tokens)
            .leeway(self.leeway);
        if let Some(organization) = self.organization {
            check = check.require_organization(organization);
        }
        match self.dpop {
            DpopTokens::Refused => {}
            DpopTokens::Accepted => {
                check = check.dpop(DpopProofCheck::new());
                metadata = metadata.dpop_signing_alg_values_supported([DPOP_ALGORITHM]);
            }
            DpopTokens::Required => {
                check = check.require_dpop();
                metadata = metadata
                    .dpop_signing_alg_values_supported([DPOP_ALGORITHM])
                    .dpop_bound_access_tokens_required(true);
            }
        }
        Ok(ProtectedResource {
            shared: Arc::new(Settings {
                check,
                metadata,
                metadata_url,
                keys,
                allowed_origins,
                origin,
            }),
        })
    }
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The origin `input` names, serialised as browsers send it; `None` unless it is only an origin.
fn parse_origin(input: &str) -> Option<String> {
    let url = Url::parse(input).ok()?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !input.trim_end_matches('/').ends_with('?');
    let origin = url.origin();
    (bare && origin.is_tuple()).then(|| origin.ascii_serialization())
}

/// A request refused: its status, its `WWW-Authenticate` challenge (none for a refused `Origin` or
/// when no keys are available), and why. As a response it carries the status and challenge only;
/// the reason is for the log, and [`authenticate`](ProtectedResource::authenticate) logs it.
#[derive(Debug)]
pub struct Refusal(Box<RefusalParts>);

#[derive(Debug)]
struct RefusalParts {
    status: StatusCode,
    challenge: Option<ResourceChallenge>,
    dpop_nonce: Option<DpopNonce>,
    reason: RefusalReason,
}

/// Why a request was refused.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The `Authorization` header: missing, another scheme, malformed or repeated.
    Request(BearerTokenError),
    /// The token: its signature, issuer, audience, times or scopes.
    Token(AccessTokenError),
    /// The `Origin` is neither the resource's nor an allowed one (403).
    Origin,
    /// No key set could be fetched yet (503).
    NoKeys,
}

impl Refusal {
    fn new(
        status: StatusCode,
        challenge: Option<ResourceChallenge>,
        reason: RefusalReason,
    ) -> Self {
        Refusal(Box::new(RefusalParts {
            status,
            challenge,
            dpop_nonce: None,
            reason,
        }))
    }

    /// The status to answer with: 400, 401, 403, 429 or 503.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The `WWW-Authenticate` challenges (`Bearer`, and `DPoP` where DPoP-bound tokens are taken),
    /// if the refusal has them.
    pub fn challenge(&self) -> Option<&ResourceChallenge> {
        self.0.challenge.as_ref()
    }

    /// The nonce sent as `DPoP-Nonce`, when the proof lacked the one the server requires.
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        self.0.dpop_nonce.as_ref()
    }

    /// Why the request was refused.
    pub fn reason(&self) -> &RefusalReason {
        &self.0.reason
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.reason {
            RefusalReason::Request(error) => write!(f, "{error}"),
            RefusalReason::Token(error) => write!(f, "{error}"),
            RefusalReason::Origin => f.write_str("the request's Origin is not allowed"),
            RefusalReason::NoKeys => f.write_str("no key set is available to check the token"),
        }
    }
}

impl std::error::Error for Refusal {}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = self.0.status.into_response();
        if let Some(challenge) = &self.0.challenge {
            // A challenge writes only printable ASCII, always a valid header value.
            if let Ok(value) = HeaderValue::from_str(&challenge.to_string()) {
                response.headers_mut().insert(WWW_AUTHENTICATE, value);
            }
        }
        if let Some(nonce) = &self.0.dpop_nonce {
            if let Ok(value) = HeaderValue::from_str(nonce.as_str()) {
                response
                    .headers_mut()
                    .insert(HeaderName::from_static(DPOP_NONCE_HEADER), value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
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
    async fn a_resource_axum_cannot_route_is_refused_at_setup() {
        let refused = ProtectedResource::builder(
            "https://example.authkit.app".parse().unwrap(),
            "https://api.example.com/v1/:tenant".parse().unwrap(),
        )
        .build();
        assert!(
            matches!(refused, Err(SetupError::UnroutablePath(_))),
            "{refused:?}"
        );
    }

    #[test]
    fn origins_are_only_origins() {
        assert_eq!(
            parse_origin("https://App.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            parse_origin("http://127.0.0.1:6274/").as_deref(),
            Some("http://127.0.0.1:6274")
        );
        for bad in [
            "https://app.example.com/path",
            "https://app.example.com?x",
            "https://user@app.example.com",
            "null",
            "file:///tmp",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
