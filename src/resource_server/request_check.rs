//! A resource server's whole decision on one request, without I/O: CORS preflights passed on, the
//! `Origin` guard, the token and its scheme, the DPoP proof's target, the keys, and the answer to a
//! refusal.

use std::time::{SystemTime, UNIX_EPOCH};

use url::Url;

use crate::discovery::resource_metadata::ProtectedResourceMetadata;
#[cfg(feature = "dpop")]
use crate::dpop::{DpopProofError, DPOP_ALGORITHM};
use crate::jose::key_set::KeySet;
use crate::oauth::identifier::Resource;
use crate::oauth::scope_list::ScopeList;
use crate::resource_server::access_token::AccessTokenCheck;
use crate::resource_server::access_token_claims::AccessTokenClaims;
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::allowed_origins::AllowedOrigins;
use crate::resource_server::bearer::{
    authorization_token, AuthorizationToken, BearerTokenError, TokenScheme,
};
use crate::resource_server::origin_policy::OriginPolicy;
#[cfg(feature = "dpop")]
use crate::resource_server::proof_target::proof_target;
use crate::resource_server::refusal::{Refusal, RefusalReason};
use crate::resource_server::request_decision::{
    AcceptedRequest, AwaitingKeys, ProofToRecord, ReplayRecord, RequestDecision,
};
use crate::resource_server::resource_request::ResourceRequest;

/// Everything a resource server decides about a request, made once and used for every request:
/// the token check ([`AccessTokenCheck`], which also says whether DPoP-bound tokens are taken or
/// required), the resource's metadata (RFC 9728) and its URL, which the challenges name, and the
/// web origins whose pages it takes ([`OriginPolicy`]). It does no I/O: the driver (a web
/// framework's layer or middleware) reads the request into a [`ResourceRequest`], hands over the
/// key set it holds and the time, and writes the answer.
///
/// | decision | the driver |
/// | --- | --- |
/// | [`RequestDecision::Accept`] | passes the request on, with the token's claims, and sends the accepted request's `DPoP-Nonce` (if any) with the answer |
/// | [`RequestDecision::Preflight`] | passes the request on, without claims, for the app's CORS layer to answer |
/// | [`RequestDecision::Refuse`] | answers with the refusal's status, `WWW-Authenticate`, `DPoP-Nonce` and JSON body |
/// | [`RequestDecision::FetchKeys`] | asks its `KeyCache` (`unknown_key`), fetches if told to, then calls [`resume`](Self::resume) with the newer set, or with `None` when there is none |
///
/// The checks, in order: a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`) is
/// passed on unchecked, since browsers send it without credentials. Under
/// [`OriginPolicy::AllowedOnly`] (an MCP server's, [`mcp_server`](Self::mcp_server)), the
/// `Origin`, when sent, must be the resource's own or one [allowed](Self::allowed_origin), and
/// sent once; under [`OriginPolicy::Any`] (an API's, [`api`](Self::api)) it is not looked at.
/// Then the `Authorization` header (one, `Bearer` or `DPoP`); for `DPoP`, the URL its proof must
/// name, the resource's origin and the request's path, never the `Host` header; then the token
/// against the keys; then the proof, which is recorded against replay only once the token has
/// passed.
///
/// ```
/// use workos_connect::{jose::KeySet, resource_server::{AccessTokenCheck, RequestCheck, RequestDecision, ResourceRequest}};
///
/// let tokens = AccessTokenCheck::new(
///     "https://example.authkit.app".parse()?,
///     "https://api.example.com/mcp".parse()?,
/// )
/// .require_scopes("mcp:tools".parse()?);
/// let check = RequestCheck::mcp_server(tokens)?.allowed_origin("https://app.example.com")?;
/// // Serve `check.metadata()` as JSON at `check.metadata_url()`'s path.
/// assert_eq!(
///     check.metadata_url().as_str(),
///     "https://api.example.com/.well-known/oauth-protected-resource/mcp"
/// );
/// let keys = KeySet::parse(br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",
///     "x":"um5p5X2dN4geRSwNnR5YlrHqVJyiTPBhJMKDZ0AZshw","y":"GMuR_7RGCdQT7_Cpork0NBgwN56zGHRBk4ItZxbOUmU"}]}"#)?;
///
/// // Per request:
/// let request = ResourceRequest::new("POST", "/mcp");
/// let RequestDecision::Refuse(refusal) = check.check(&request, Some(&keys), check.now()) else {
///     panic!("no token");
/// };
/// assert_eq!(refusal.status(), 401);
/// assert_eq!(
///     refusal.www_authenticate(),
///     Some(r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp", scope="mcp:tools""#)
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "call `check` for each request"]
pub struct RequestCheck {
    tokens: AccessTokenCheck,
    resource: Resource,
    metadata: ProtectedResourceMetadata,
    metadata_url: Url,
    origin_policy: OriginPolicy,
    allowed_origins: AllowedOrigins,
    /// Whether DPoP proofs are recorded by the driver in a memory shared by the instances, rather
    /// than in the token check's own.
    shared_replays: bool,
}

/// Why a [`RequestCheck`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestCheckError {
    /// The token check names an audience, not a resource: make it with [`AccessTokenCheck::new`].
    #[error("the access token check was made with_audience, so it names no resource to publish metadata for; make it with AccessTokenCheck::new")]
    NoResource,
    /// An allowed origin is not an origin (`scheme://host[:port]`, nothing after it).
    #[error("`{input}` is not an origin: write scheme://host[:port] with nothing after it")]
    NotOrigin {
        /// The origin as given.
        input: String,
    },
}

impl RequestCheck {
    /// How many verified tokens a request check remembers unless its token check was told how
    /// many ([`AccessTokenCheck::remember_verified`], `0` for none): a client sends one token
    /// until it expires, so a server checks each signature once.
    pub const DEFAULT_REMEMBERED_TOKENS: usize = 10_000;

    /// The check of requests to an API, the resource `tokens` checks tokens for, taking pages of
    /// any origin ([`OriginPolicy::Any`]: an access token is no ambient credential, and the app's
    /// CORS layer says which pages may read the answers); for an MCP server, take
    /// [`mcp_server`](Self::mcp_server). Its metadata: the resource, the issuer as its
    /// authorization server, the required scopes as `scopes_supported`, and, when `tokens` takes
    /// DPoP-bound tokens, `dpop_signing_alg_values_supported` (and
    /// `dpop_bound_access_tokens_required` when it requires them).
    pub fn api(tokens: AccessTokenCheck) -> Result<RequestCheck, RequestCheckError> {
        let resource = tokens
            .resource()
            .cloned()
            .ok_or(RequestCheckError::NoResource)?;
        let mut metadata =
            ProtectedResourceMetadata::new(resource.clone(), vec![tokens.issuer().clone()]);
        let scopes = tokens.required_scopes();
        if !scopes.is_empty() {
            metadata = metadata.scopes_supported(scopes.iter().map(|scope| scope.as_str()));
        }
        #[cfg(feature = "dpop")]
        if tokens.takes_dpop() {
            metadata = metadata.dpop_signing_alg_values_supported([DPOP_ALGORITHM]);
            if !tokens.takes_bearer() {
                metadata = metadata.dpop_bound_access_tokens_required(true);
            }
        }
        // A server sees each token many times; set `remember_verified` on the check to choose how
        // many are remembered.
        let tokens = if tokens.remember_chosen() {
            tokens
        } else {
            tokens.remember_verified(Self::DEFAULT_REMEMBERED_TOKENS)
        };
        Ok(RequestCheck {
            metadata_url: ProtectedResourceMetadata::well_known_url(&resource),
            origin_policy: OriginPolicy::Any,
            allowed_origins: AllowedOrigins::of(resource.url()),
            shared_replays: false,
            tokens,
            resource,
            metadata,
        })
    }

    /// The check of requests to an MCP server, the resource `tokens` checks tokens for: as
    /// [`api`](Self::api), taking pages of its own origin only ([`OriginPolicy::AllowedOnly`];
    /// [`allowed_origin`](Self::allowed_origin) adds others), as the MCP streamable HTTP transport
    /// requires of servers against DNS rebinding. Requests without `Origin` (an MCP client is not
    /// a browser page) are not affected.
    pub fn mcp_server(tokens: AccessTokenCheck) -> Result<RequestCheck, RequestCheckError> {
        Ok(RequestCheck::api(tokens)?.origin_policy(OriginPolicy::AllowedOnly))
    }

    /// The check as 0.2 made it: [`mcp_server`](Self::mcp_server)'s, which refuses pages of
    /// other origins. Name the use instead, so that an API does not refuse its own front end's
    /// pages and an MCP server keeps its guard against DNS rebinding.
    #[deprecated(
        since = "0.3.0",
        note = "say which resource this is: RequestCheck::api (pages of any origin) or RequestCheck::mcp_server (its own origin only, as 0.2's `new`)"
    )]
    pub fn new(tokens: AccessTokenCheck) -> Result<RequestCheck, RequestCheckError> {
        RequestCheck::mcp_server(tokens)
    }

    /// Which requests carrying an `Origin` the check takes, in place of the one it was made with
    /// ([`api`](Self::api): any; [`mcp_server`](Self::mcp_server): the allowed ones). The origins
    /// allowed so far are kept either way.
    ///
    /// ```
    /// use workos_connect::resource_server::{AccessTokenCheck, OriginPolicy, RequestCheck, RequestDecision, ResourceRequest};
    ///
    /// let tokens = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/".parse()?,
    /// );
    /// let page = ResourceRequest::new("GET", "/things").header("Origin", b"https://app.example.org");
    ///
    /// // An API takes pages of any origin: without a token, this one is asked for one (401).
    /// let api = RequestCheck::api(tokens.clone())?;
    /// assert!(api.takes_any_origin());
    /// let RequestDecision::Refuse(refusal) = api.check(&page, None, api.now()) else { panic!() };
    /// assert_eq!(refusal.status(), 401);
    ///
    /// // The same API guarding origins as an MCP server does: 403, before the token is looked at.
    /// let guarded = RequestCheck::api(tokens)?.origin_policy(OriginPolicy::AllowedOnly);
    /// let RequestDecision::Refuse(refusal) = guarded.check(&page, None, guarded.now()) else { panic!() };
    /// assert_eq!(refusal.status(), 403);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin_policy = policy;
        self
    }

    /// A web origin whose pages may call the resource, as `scheme://host[:port]`, besides the
    /// resource's own; the check then takes only those ([`OriginPolicy::AllowedOnly`]), since
    /// naming the origins allowed says the others are not. A request carrying an `Origin` header
    /// is refused with 403 unless it is one of them; requests without `Origin` (not from a browser
    /// page) are not affected.
    pub fn allowed_origin(mut self, origin: &str) -> Result<Self, RequestCheckError> {
        self.allowed_origins
            .allow(origin)
            .ok_or_else(|| RequestCheckError::NotOrigin {
                input: origin.to_owned(),
            })?;
        Ok(self.origin_policy(OriginPolicy::AllowedOnly))
    }

    /// Leaves the record of each DPoP proof's first use to the driver, in a replay memory shared by
    /// every instance of the resource (Redis, say), rather than in this check's own, which only
    /// this process sees: behind a load balancer, a proof accepted by one instance and replayed to
    /// another is then refused too (RFC 9449 §11.1). A DPoP-bound request that passes every other
    /// check is then [`RequestDecision::RecordProof`]: the driver sets its key if absent and
    /// calls [`recorded`](Self::recorded) with the answer; a memory that does not answer refuses
    /// the request (503), never takes it unchecked. Bearer tokens are not affected.
    ///
    /// ```
    /// use workos_connect::resource_server::{AccessTokenCheck, ReplayRecord, RequestCheck};
    ///
    /// let tokens = AccessTokenCheck::new(
    ///     "https://example.authkit.app".parse()?,
    ///     "https://api.example.com/".parse()?,
    /// )
    /// .dpop(workos_connect::dpop::DpopProofCheck::new());
    /// let check = RequestCheck::api(tokens)?.shared_replay_memory();
    /// assert!(check.records_proofs_elsewhere());
    /// // Per request, on `RequestDecision::RecordProof(proof)`: `SET <prefix><proof.key()> 1 NX PX
    /// // <proof.expires_in()>`, then `check.recorded(proof, ReplayRecord::First)` if it was set,
    /// // `ReplayRecord::Again` if not, `ReplayRecord::Unavailable` if Redis did not answer in time.
    /// # let _ = ReplayRecord::First;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "dpop")]
    pub fn shared_replay_memory(mut self) -> Self {
        self.shared_replays = true;
        self
    }

    /// Whether the driver records DPoP proofs in a shared memory
    /// ([`shared_replay_memory`](Self::shared_replay_memory)).
    pub fn records_proofs_elsewhere(&self) -> bool {
        self.shared_replays
    }

    /// Whether a request's `Origin` is left unlooked at ([`OriginPolicy::Any`]), rather than
    /// checked against [`allowed_origins`](Self::allowed_origins).
    pub fn takes_any_origin(&self) -> bool {
        self.origin_policy == OriginPolicy::Any
    }

    /// The time by the token check's clock ([`AccessTokenCheck::clock`], the system clock
    /// unless told otherwise): the `now` a driver passes to [`check`](Self::check) and
    /// [`resume`](Self::resume), so that the clock chosen once is the one every request is judged
    /// by.
    pub fn now(&self) -> SystemTime {
        self.tokens.now()
    }

    /// The check of each token.
    pub fn tokens(&self) -> &AccessTokenCheck {
        &self.tokens
    }

    /// The resource.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The resource's metadata, to serve as JSON at [`metadata_url`](Self::metadata_url).
    pub fn metadata(&self) -> &ProtectedResourceMetadata {
        &self.metadata
    }

    /// Where the metadata is served (RFC 9728 section 3.1), as the challenges name it.
    pub fn metadata_url(&self) -> &Url {
        &self.metadata_url
    }

    /// The origins a request's `Origin` may name under [`OriginPolicy::AllowedOnly`], the
    /// resource's first.
    pub fn allowed_origins(&self) -> &[String] {
        self.allowed_origins.as_slice()
    }

    /// Whether the token of a request this check accepted also grants `scopes`, which one
    /// operation needs beyond what every request does (an MCP tool, say): `Ok` if it grants them
    /// all, otherwise the refusal to answer with, 403 `insufficient_scope`, whose challenge names
    /// every scope the operation needs (the ones required of every request, then `scopes`), so
    /// that the client asks for them all when it authorizes again (RFC 6750 section 3.1, the MCP
    /// authorization spec's step-up). The challenge is in the scheme the token came in.
    ///
    /// ```
    /// use workos_connect::oauth::ScopeList;
    /// use workos_connect::resource_server::{AccessTokenClaims, Refusal, RequestCheck};
    ///
    /// /// Before running the tool `delete`, with the claims of the request the check accepted.
    /// fn may_delete(check: &RequestCheck, claims: &AccessTokenClaims) -> Result<(), Refusal> {
    ///     // A token for `mcp:tools` alone is answered 403 with `scope="mcp:tools mcp:admin"`.
    ///     let admin: ScopeList = "mcp:admin".parse().expect("a scope");
    ///     check.check_scopes(claims, &admin)
    /// }
    /// ```
    pub fn check_scopes(
        &self,
        claims: &AccessTokenClaims,
        scopes: &ScopeList,
    ) -> Result<(), Refusal> {
        let mut needed = self.tokens.required_scopes().clone();
        needed.extend(scopes.iter().cloned());
        let missing: ScopeList = needed
            .iter()
            .filter(|scope| !claims.scope().contains(scope.as_str()))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        // A token bound to a key is taken only with its proof, so it came as `DPoP`.
        let scheme = if claims.cnf().is_some() {
            TokenScheme::Dpop
        } else {
            TokenScheme::Bearer
        };
        let wider = RequestCheck {
            tokens: self.tokens.clone().require_scopes(needed),
            ..self.clone()
        };
        Err(wider.refuse_token(AccessTokenError::InsufficientScope { missing }, scheme))
    }

    /// Decides on `request` with `keys`, the set held (`None` before the first fetch), at `now`
    /// (a driver passes [`now`](Self::now)): the token and its proof are judged at that moment,
    /// whatever the clocks of the checks.
    /// A token naming a key the set lacks, or any token while no set is held, stops the check
    /// before any signature is checked or proof recorded: [`RequestDecision::FetchKeys`]. A CORS
    /// preflight is [`RequestDecision::Preflight`], whatever it carries.
    pub fn check<'a>(
        &self,
        request: &ResourceRequest<'a>,
        keys: Option<&KeySet>,
        now: SystemTime,
    ) -> RequestDecision<'a> {
        // Browsers send a preflight without credentials (Fetch standard, CORS-preflight request),
        // so refusing it for want of a token, or for its origin, would only keep the app's CORS
        // layer from answering it; it reaches no handler as an authenticated request.
        if request.is_cors_preflight() {
            return RequestDecision::Preflight;
        }
        if self.origin_policy == OriginPolicy::AllowedOnly
            && !self.allowed_origins.admit(&request.origin)
        {
            return RequestDecision::Refuse(Refusal::origin());
        }
        let authorization = match self.read_authorization(request) {
            Ok(authorization) => authorization,
            Err(error) => return RequestDecision::Refuse(self.refuse_request(error)),
        };
        let proof = match self.proof_of(&authorization, request) {
            Ok(proof) => proof,
            Err(error) => {
                return RequestDecision::Refuse(self.refuse_token(error, authorization.scheme()))
            }
        };
        let awaiting = |unknown_key| {
            RequestDecision::FetchKeys(AwaitingKeys {
                proof: proof
                    .as_ref()
                    .map(|url| (request.dpop.clone(), url.clone())),
                authorization: authorization.clone(),
                method: request.method(),
                unknown_key,
            })
        };
        let Some(keys) = keys else {
            return awaiting(None);
        };
        let proof = proof.as_ref().map(|url| (request.dpop.as_slice(), url));
        match self.validate(&authorization, request.method(), proof, keys, now) {
            Ok(decision) => decision,
            Err(error) if error.names_unknown_key() => awaiting(Some(error)),
            Err(error) => RequestDecision::Refuse(self.refuse_token(error, authorization.scheme())),
        }
    }

    /// Decides on a request that awaited keys, with `keys`, the newer set the key cache gave, or
    /// `None` when it gave none (no fetch allowed yet, or the fetch failed): then the request is
    /// refused as the set it was checked with refused it, or with 503 when it had none. The
    /// decision is never [`RequestDecision::FetchKeys`] again: a token whose key the newer set
    /// lacks too is refused.
    pub fn resume(
        &self,
        awaiting: AwaitingKeys<'_>,
        keys: Option<&KeySet>,
        now: SystemTime,
    ) -> RequestDecision<'static> {
        let scheme = awaiting.authorization.scheme();
        let Some(keys) = keys else {
            return RequestDecision::Refuse(match awaiting.unknown_key {
                Some(error) => self.refuse_token(error, scheme),
                None => Refusal::no_keys(),
            });
        };
        let proof = awaiting
            .proof
            .as_ref()
            .map(|(dpop, url)| (dpop.as_slice(), url));
        self.validate(&awaiting.authorization, awaiting.method, proof, keys, now)
            .unwrap_or_else(|error| RequestDecision::Refuse(self.refuse_token(error, scheme)))
    }

    /// Decides on a request whose DPoP proof awaited its record in the replay memory shared by
    /// the instances ([`RequestDecision::RecordProof`]), with the memory's answer: taken on the
    /// proof's first use, refused as a replay (401, `invalid_dpop_proof`) if it was used before,
    /// and refused with 503 if the memory did not answer.
    pub fn recorded(
        &self,
        proof: ProofToRecord,
        record: ReplayRecord,
    ) -> Result<AcceptedRequest, Refusal> {
        match record {
            ReplayRecord::First => Ok(proof.accepted),
            #[cfg(feature = "dpop")]
            ReplayRecord::Again => Err(self.refuse_token(
                AccessTokenError::DpopProof(DpopProofError::Replayed),
                TokenScheme::Dpop,
            )),
            // Without DPoP no proof is ever left to record; refused, should one be.
            #[cfg(not(feature = "dpop"))]
            ReplayRecord::Again => Err(Refusal::replay_memory_unavailable()),
            ReplayRecord::Unavailable => Err(Refusal::replay_memory_unavailable()),
        }
    }

    /// The token of the `Authorization` header, by a scheme this build takes.
    fn read_authorization(
        &self,
        request: &ResourceRequest<'_>,
    ) -> Result<AuthorizationToken, BearerTokenError> {
        let authorization = authorization_token(request.authorization.iter().copied())?;
        // Without DPoP support, a DPoP token is a credential of another scheme, as for
        // `bearer_token`.
        if cfg!(not(feature = "dpop")) && authorization.scheme() == TokenScheme::Dpop {
            return Err(BearerTokenError::OtherScheme);
        }
        Ok(authorization)
    }

    /// The URL the DPoP proof must name, for a DPoP token; built before any key is looked at, so
    /// a request whose path a URL would rewrite is refused at once.
    #[cfg(feature = "dpop")]
    fn proof_of(
        &self,
        authorization: &AuthorizationToken,
        request: &ResourceRequest<'_>,
    ) -> Result<Option<Url>, AccessTokenError> {
        match authorization.scheme() {
            TokenScheme::Dpop => proof_target(self.resource.url(), request.target())
                .map(Some)
                .map_err(AccessTokenError::DpopProof),
            TokenScheme::Bearer => Ok(None),
        }
    }

    #[cfg(not(feature = "dpop"))]
    fn proof_of(
        &self,
        _: &AuthorizationToken,
        _: &ResourceRequest<'_>,
    ) -> Result<Option<Url>, AccessTokenError> {
        Ok(None)
    }

    /// The token, and its proof for a DPoP token, at `now`.
    #[cfg_attr(not(feature = "dpop"), allow(unused_variables))]
    fn validate(
        &self,
        authorization: &AuthorizationToken,
        method: &str,
        proof: Option<(&[&[u8]], &Url)>,
        keys: &KeySet,
        now: SystemTime,
    ) -> Result<RequestDecision<'static>, AccessTokenError> {
        let now = unix_seconds(now);
        let token = authorization.token();
        match proof {
            #[cfg(feature = "dpop")]
            Some((dpop, url)) if self.shared_replays => {
                let (claims, proof) = self.tokens.validate_dpop_unrecorded_at(
                    token,
                    keys,
                    dpop.iter().copied(),
                    method,
                    url,
                    now,
                )?;
                let (key, expires_in) = (proof.replay_key(), proof.replay_window());
                // Taken only once the record says so: `recorded` hands it over then.
                let proof = proof.recorded_elsewhere();
                let accepted = AcceptedRequest::new(claims, Some(proof.jkt().to_owned()))
                    .with_dpop_nonce(proof.dpop_nonce().cloned());
                Ok(RequestDecision::RecordProof(ProofToRecord {
                    key,
                    expires_in,
                    accepted,
                }))
            }
            #[cfg(feature = "dpop")]
            Some((dpop, url)) => {
                let (claims, proof) = self.tokens.validate_dpop_at(
                    token,
                    keys,
                    dpop.iter().copied(),
                    method,
                    url,
                    now,
                )?;
                let nonce = proof.dpop_nonce().cloned();
                let accepted =
                    AcceptedRequest::new(claims, Some(proof.into_jkt())).with_dpop_nonce(nonce);
                Ok(RequestDecision::Accept(accepted))
            }
            _ => {
                let claims = self.tokens.validate_at(token, keys, now)?;
                Ok(RequestDecision::Accept(AcceptedRequest::new(claims, None)))
            }
        }
    }

    /// The answer to a request whose `Authorization` header could not be read.
    fn refuse_request(&self, error: BearerTokenError) -> Refusal {
        let metadata_url = self.metadata_url.clone();
        #[cfg(feature = "dpop")]
        let challenge = self
            .tokens
            .resource_request_challenge(&error, metadata_url)
            .to_string();
        #[cfg(not(feature = "dpop"))]
        let challenge = self
            .tokens
            .request_challenge(&error, metadata_url)
            .to_string();
        let (code, description) = match (error.bearer_error(), error.description()) {
            (Some(code), Some(description)) => (code.as_str().to_owned(), description),
            _ => (
                "unauthorized".to_owned(),
                "the request carries no access token; send one in the Authorization header",
            ),
        };
        Refusal::new(
            error.status(),
            Some(challenge),
            code,
            description,
            RefusalReason::Request(error),
        )
    }

    /// The answer to a request whose token, or its proof, was refused.
    fn refuse_token(&self, error: AccessTokenError, scheme: TokenScheme) -> Refusal {
        let metadata_url = self.metadata_url.clone();
        #[cfg(feature = "dpop")]
        let refusal = {
            let challenge =
                self.tokens
                    .resource_challenge(Some(&error), Some(scheme), metadata_url);
            // The code of the challenge the error went in: the DPoP one for a DPoP token, or
            // where bearer tokens are not taken.
            let code = if scheme == TokenScheme::Dpop || !self.tokens.takes_bearer() {
                error.dpop_error().as_str().to_owned()
            } else {
                error.bearer_error().as_str().to_owned()
            };
            let nonce = error.dpop_nonce().cloned();
            Refusal::new(
                error.status(),
                Some(challenge.to_string()),
                code,
                error.description(),
                RefusalReason::Token(error),
            )
            .with_dpop_nonce(nonce)
        };
        #[cfg(not(feature = "dpop"))]
        let refusal = {
            let _ = scheme;
            let challenge = self.tokens.challenge(Some(&error), metadata_url);
            Refusal::new(
                error.status(),
                Some(challenge.to_string()),
                error.bearer_error().as_str().to_owned(),
                error.description(),
                RefusalReason::Token(error),
            )
        };
        refusal
    }
}

/// `now` in Unix seconds; a time before 1970 counts as 1970, which no token is valid at.
fn unix_seconds(now: SystemTime) -> u64 {
    now.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource_server::access_token_claims::{Claims, Confirmation};

    fn tokens() -> AccessTokenCheck {
        AccessTokenCheck::new(
            "https://example.authkit.app".parse().unwrap(),
            "https://api.example.com/".parse().unwrap(),
        )
    }

    fn claims(scope: &str, cnf: Option<Confirmation>) -> AccessTokenClaims {
        AccessTokenClaims::new(Claims {
            iss: "https://example.authkit.app".to_owned(),
            sub: "user_01".to_owned(),
            aud: vec!["https://api.example.com/".to_owned()],
            client_id: None,
            org_id: None,
            sid: None,
            scope: scope.parse().unwrap(),
            jti: None,
            exp: 1,
            iat: None,
            role: None,
            roles: Vec::new(),
            permissions: Vec::new(),
            entitlements: Vec::new(),
            feature_flags: Vec::new(),
            act: None,
            cnf,
            other: Default::default(),
        })
    }

    #[test]
    fn an_operation_needing_more_scopes_names_them_all_in_its_challenge() {
        let check = RequestCheck::mcp_server(tokens().require_scopes("mcp:tools".parse().unwrap()))
            .unwrap();
        let admin: ScopeList = "mcp:admin".parse().unwrap();
        let refusal = check
            .check_scopes(&claims("mcp:tools", None), &admin)
            .unwrap_err();
        assert_eq!(refusal.status(), 403);
        assert_eq!(refusal.error(), "insufficient_scope");
        assert_eq!(
            refusal.www_authenticate(),
            Some(
                r#"Bearer resource_metadata="https://api.example.com/.well-known/oauth-protected-resource", scope="mcp:tools mcp:admin", error="insufficient_scope", error_description="the access token lacks a required scope""#
            )
        );
        assert!(matches!(
            refusal.reason(),
            RefusalReason::Token(AccessTokenError::InsufficientScope { missing })
                if missing.to_string() == "mcp:admin"
        ));
        assert!(check
            .check_scopes(&claims("mcp:admin mcp:tools", None), &admin)
            .is_ok());
        // The check itself still asks only for what every request needs.
        assert_eq!(check.tokens().required_scopes().to_string(), "mcp:tools");
    }

    #[cfg(feature = "dpop")]
    #[test]
    fn a_dpop_bound_token_lacking_scopes_is_challenged_in_dpop() {
        let check =
            RequestCheck::mcp_server(tokens().dpop(crate::dpop::DpopProofCheck::new())).unwrap();
        let cnf: Confirmation = serde_json::from_str(r#"{"jkt":"abc"}"#).unwrap();
        let refusal = check
            .check_scopes(&claims("", Some(cnf)), &"mcp:admin".parse().unwrap())
            .unwrap_err();
        assert_eq!(refusal.status(), 403);
        let header = refusal.www_authenticate().unwrap();
        assert!(
            header.contains(r#"DPoP resource_metadata="#)
                && header.contains(r#"error="insufficient_scope""#),
            "{header}"
        );
    }

    #[test]
    fn verified_tokens_are_remembered_unless_the_check_chose_otherwise() {
        let remembers = |check: RequestCheck| check.tokens().remembers_any();
        assert!(remembers(RequestCheck::api(tokens()).unwrap()));
        assert!(!remembers(
            RequestCheck::api(tokens().remember_verified(0)).unwrap()
        ));
        assert!(remembers(
            RequestCheck::api(tokens().remember_verified(5)).unwrap()
        ));
    }
}
