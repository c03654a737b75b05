//! What a resource server's check decides about one request.

use std::fmt;

use url::Url;

use crate::resource_server::access_token_claims::AccessTokenClaims;
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::bearer::AuthorizationToken;
use crate::resource_server::refusal::Refusal;

/// What [`RequestCheck::check`](crate::resource_server::RequestCheck::check) decided about a
/// request.
#[derive(Debug)]
#[must_use = "answer the request: take it, pass a preflight on, refuse it, or fetch the keys and resume"]
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
}

impl AcceptedRequest {
    pub(super) fn new(claims: AccessTokenClaims, dpop_jkt: Option<String>) -> Self {
        AcceptedRequest { claims, dpop_jkt }
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
