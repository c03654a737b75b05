//! What a resource server's check decides about one request.

use std::fmt;

use url::Url;

#[cfg(feature = "dpop")]
use crate::dpop::DpopNonce;
use crate::resource_server::access_token_claims::AccessTokenClaims;
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::bearer::AuthorizationToken;
use crate::resource_server::refusal::Refusal;

/// What [`RequestCheck::check`](crate::resource_server::RequestCheck::check) decided about a
/// request.
#[derive(Debug)]
#[must_use = "answer the request: take it, pass a preflight on, refuse it, fetch the keys and resume, or record the proof"]
pub enum RequestDecision<'a> {
    /// Take the request: its token and, if DPoP-bound, its proof passed.
    Accept(AcceptedRequest),
    /// A CORS preflight (`OPTIONS` with `Access-Control-Request-Method`): pass it on without
    /// claims, for the app's CORS layer to answer. Browsers send it before a cross-origin request
    /// that carries a token, and never with credentials, so nothing of it was checked: it
    /// authenticates no one, and a handler expecting claims must find none.
    Preflight,
    /// Refuse it with the answer the refusal carries.
    Refuse(Refusal),
    /// The token and its DPoP proof passed every check but the proof's first use, which a replay
    /// memory shared by the instances must record, under a check made with
    /// [`RequestCheck::shared_replay_memory`](crate::resource_server::RequestCheck::shared_replay_memory):
    /// set [`ProofToRecord::key`] if absent, to expire after [`ProofToRecord::expires_in`]
    /// (Redis: `SET key 1 NX PX <ms>`, within a bound of time), then call
    /// [`RequestCheck::recorded`](crate::resource_server::RequestCheck::recorded) with the answer.
    /// (Never decided in a build without DPoP, which has the variant all the same, so that a
    /// driver's `match` holds whatever features other crates of the build turn on.)
    RecordProof(ProofToRecord),
    /// The token names a key the set lacks, or no set was given: ask the key cache for a newer
    /// set (`KeyCache::unknown_key`, fetching if it says so), then call
    /// [`RequestCheck::resume`](crate::resource_server::RequestCheck::resume) with it. Nothing was
    /// recorded and no signature checked, so resuming is the request's one validation.
    FetchKeys(AwaitingKeys<'a>),
}

/// A request taken: the claims of its token, and the key the token is bound to when it came with
/// a DPoP proof.
#[derive(Debug, Clone)]
pub struct AcceptedRequest {
    claims: AccessTokenClaims,
    dpop_jkt: Option<String>,
    #[cfg(feature = "dpop")]
    dpop_nonce: Option<DpopNonce>,
}

impl AcceptedRequest {
    pub(super) fn new(claims: AccessTokenClaims, dpop_jkt: Option<String>) -> Self {
        AcceptedRequest {
            claims,
            dpop_jkt,
            #[cfg(feature = "dpop")]
            dpop_nonce: None,
        }
    }

    /// With `nonce` to send as `DPoP-Nonce`.
    #[cfg(feature = "dpop")]
    pub(super) fn with_dpop_nonce(mut self, nonce: Option<DpopNonce>) -> Self {
        self.dpop_nonce = nonce;
        self
    }

    /// The token's checked claims.
    pub fn claims(&self) -> &AccessTokenClaims {
        &self.claims
    }

    /// The claims, taken out.
    pub fn into_claims(self) -> AccessTokenClaims {
        self.claims
    }

    /// The RFC 7638 thumbprint of the key whose DPoP proof came with the token (its `cnf.jkt`),
    /// for a DPoP-bound token; `None` for a bearer token.
    pub fn dpop_jkt(&self) -> Option<&str> {
        self.dpop_jkt.as_deref()
    }

    /// The nonce to send as `DPoP-Nonce` with the answer, when the resource requires nonces and
    /// the proof's is past half its lifetime
    /// ([`VerifiedDpopProof::dpop_nonce`](crate::dpop::VerifiedDpopProof::dpop_nonce)): the
    /// client signs its next proofs with it, and is not refused when its old one expires.
    #[cfg(feature = "dpop")]
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        self.dpop_nonce.as_ref()
    }
}

/// A request whose DPoP proof awaits its record in a replay memory shared by the instances: what
/// to record, and the request taken once the record says it is the proof's first use.
#[derive(Debug)]
#[must_use = "record the proof, then call RequestCheck::recorded: until then it may be a replay"]
pub struct ProofToRecord {
    pub(super) accepted: AcceptedRequest,
    pub(super) key: String,
    pub(super) expires_in: std::time::Duration,
}

impl ProofToRecord {
    /// The proof's name in the shared memory: the SHA-256 of its key's thumbprint and its `jti`,
    /// base64url, holding no token ([`UnrecordedDpopProof::replay_key`](crate::dpop::UnrecordedDpopProof::replay_key)).
    /// Put the app's own prefix before it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// How long the memory must keep it: until the proof's window closes (at least a second).
    pub fn expires_in(&self) -> std::time::Duration {
        self.expires_in
    }
}

/// What a replay memory shared by the instances answered when asked to record a proof: for
/// [`RequestCheck::recorded`](crate::resource_server::RequestCheck::recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRecord {
    /// The key was absent, and is now set: the proof's first use, on any instance.
    First,
    /// The key was set already: the proof was used before, here or on another instance.
    Again,
    /// The memory did not answer, or not within the driver's bound: the request is refused (503),
    /// never taken unchecked.
    Unavailable,
}

/// A request whose token can be checked only with a newer key set: what the check read of it,
/// kept for [`RequestCheck::resume`](crate::resource_server::RequestCheck::resume).
pub struct AwaitingKeys<'a> {
    pub(super) authorization: AuthorizationToken,
    pub(super) method: &'a str,
    /// The `DPoP` header values and the URL the proof must name, for a DPoP token.
    pub(super) proof: Option<(Vec<&'a [u8]>, Url)>,
    /// The refusal of the token by the set given: `None` when none was.
    pub(super) unknown_key: Option<AccessTokenError>,
}

impl AwaitingKeys<'_> {
    /// Whether a key set was given at all: `false` when the first one is still to be fetched.
    pub fn had_keys(&self) -> bool {
        self.unknown_key.is_some()
    }
}

impl fmt::Debug for AwaitingKeys<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwaitingKeys")
            .field("scheme", &self.authorization.scheme())
            .field("method", &self.method)
            .field("unknown_key", &self.unknown_key)
            .finish_non_exhaustive()
    }
}
