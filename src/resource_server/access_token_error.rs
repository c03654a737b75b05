//! Why an access token was refused, with the status and RFC 6750 error each refusal answers with.

#[cfg(feature = "dpop")]
use crate::dpop::{DpopErrorCode, DpopNonce, DpopProofError};
use crate::jose::jws::JwsError;
use crate::oauth::challenge::BearerError;
use crate::oauth::scope_list::ScopeList;

/// Why an access token was refused. Each maps to RFC 6750's `error` ([`bearer_error`](Self::bearer_error))
/// and HTTP status ([`status`](Self::status)): `insufficient_scope` and 403 when the token is good
/// but lacks scopes, `invalid_token` and 401 otherwise. No message quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AccessTokenError {
    /// Not a JWT: not three base64url parts, or a header or claims that are not the expected JSON
    /// (AuthKit's list claims, such as `permissions`, must be arrays of strings).
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    /// A signature algorithm this crate does not accept (`none`, HMAC, EdDSA, or unknown).
    #[error("the access token is signed with {alg:?}, which is not accepted; only RSA and ECDSA algorithms are")]
    UnsupportedAlgorithm {
        /// The algorithm named in the header.
        alg: String,
    },
    /// The header lists `crit` extensions (RFC 7515 section 4.1.11), which this crate does not
    /// understand.
    #[error(
        "the access token's header has `crit` extensions, which this crate does not understand"
    )]
    CriticalHeader,
    /// No key in the set has the token's `kid`. When `refetch` is true, fetch the JWKS again and
    /// check once more; when false, the set was fetched too recently to ask again.
    #[error(
        "no key in the JWKS matches the access token's key ID {kid:?}{}",
        if *refetch { "; fetch the JWKS again" } else { "" }
    )]
    UnknownKey {
        /// The key ID in the token's header.
        kid: Option<String>,
        /// Whether the set may be fetched again now.
        refetch: bool,
    },
    /// The header's `typ` is not an access token's (`JWT`, `at+jwt`).
    #[error("the token's `typ` is {typ:?}, not an access token's")]
    WrongType {
        /// The `typ` in the header.
        typ: String,
    },
    /// Keys with the token's `kid` exist, but none is for this algorithm.
    #[error("the JWKS key {kid:?} is not for {alg} signatures")]
    KeyMismatch {
        /// The key ID.
        kid: Option<String>,
        /// The algorithm in the token's header.
        alg: String,
    },
    /// The signature does not verify.
    #[error("the access token's signature does not verify")]
    BadSignature,
    /// A required claim is missing.
    #[error("the access token has no `{claim}` claim")]
    MissingClaim {
        /// The claim.
        claim: &'static str,
    },
    /// `iss` is not the expected issuer.
    #[error("the access token's issuer is not `{expected}`")]
    WrongIssuer {
        /// The issuer expected.
        expected: String,
    },
    /// `aud` does not name this resource: a token minted for another resource (RFC 8707's point),
    /// which must not be accepted here.
    #[error("the access token is not for this resource (`{expected}`)")]
    WrongAudience {
        /// The audience expected.
        expected: String,
    },
    /// `exp` has passed, beyond the leeway.
    #[error("the access token has expired")]
    Expired,
    /// `iat` or `nbf` lies in the future, beyond the leeway.
    #[error("the access token is not valid yet")]
    NotYetValid,
    /// An active introspection answer whose `token_type` is neither `Bearer` (RFC 7662 section 2.2)
    /// nor AuthKit's `access_token`: a refresh token (`refresh_token`), or a DPoP-bound token
    /// (`DPoP`), whose proof of possession this check does not verify. Neither may be accepted as a
    /// bearer access token.
    #[error("the introspected token is a {token_type:?} token, not a bearer access token")]
    NotBearer {
        /// The `token_type` the server gave: at most its first 64 characters, which the message
        /// shows escaped.
        token_type: String,
    },
    /// A good token without the scopes this request needs.
    #[error("the access token lacks the scopes `{missing}`")]
    InsufficientScope {
        /// The scopes required and not granted.
        missing: ScopeList,
    },
    /// A token bound to a key (a `cnf` claim: DPoP's `jkt`, RFC 9449 section 7.2, or mutual TLS's
    /// certificate) sent as a bearer token, without the proof of possession each use needs.
    #[error("the access token is bound to a key (`cnf`) and cannot be used as a bearer token")]
    BoundToKey,
    /// A good token whose `permissions` lack some this server requires
    /// ([`AccessTokenCheck::require_permissions`](crate::resource_server::AccessTokenCheck::require_permissions)).
    #[error("the access token lacks the permissions {missing:?}")]
    MissingPermissions {
        /// The permissions required and not granted.
        missing: Vec<String>,
    },
    /// The request's `DPoP` proof was refused (RFC 9449 §4.3, §7.1): missing, malformed, for
    /// another request, replayed, without the server's nonce, or by another key than the one the
    /// token is bound to.
    #[cfg(feature = "dpop")]
    #[error(transparent)]
    DpopProof(DpopProofError),
    /// A token sent with the `DPoP` scheme that is not bound to a key (no `cnf.jkt`): a bearer
    /// token, which a proof cannot turn into a DPoP-bound one (RFC 9449 §7.1).
    #[cfg(feature = "dpop")]
    #[error(
        "the access token was sent as a DPoP token but is not bound to a DPoP key (no `cnf.jkt`)"
    )]
    NotDpopBound,
    /// A bearer token sent to a resource that takes DPoP-bound tokens only
    /// ([`AccessTokenCheck::require_dpop`](crate::resource_server::AccessTokenCheck::require_dpop)).
    #[cfg(feature = "dpop")]
    #[error(
        "this resource takes DPoP-bound access tokens only, sent with the DPoP scheme and a proof"
    )]
    DpopRequired,
    /// A token sent with the `DPoP` scheme to a check that takes bearer tokens only
    /// ([`AccessTokenCheck::dpop`](crate::resource_server::AccessTokenCheck::dpop) not set).
    #[cfg(feature = "dpop")]
    #[error("this resource does not take DPoP-bound access tokens")]
    DpopNotAccepted,
    /// A good token for another organization than the one this server serves, or for none
    /// ([`AccessTokenCheck::require_organization`](crate::resource_server::AccessTokenCheck::require_organization)).
    #[error("the access token is not for the organization `{expected}`")]
    WrongOrganization {
        /// The organization required.
        expected: String,
    },
}

impl From<JwsError> for AccessTokenError {
    fn from(error: JwsError) -> Self {
        match error {
            JwsError::Malformed => AccessTokenError::Malformed,
            JwsError::UnsupportedAlgorithm { alg } => {
                AccessTokenError::UnsupportedAlgorithm { alg }
            }
            JwsError::CriticalHeader => AccessTokenError::CriticalHeader,
            JwsError::UnknownKey { kid, refetch } => AccessTokenError::UnknownKey { kid, refetch },
            JwsError::WrongType { typ } => AccessTokenError::WrongType { typ },
            JwsError::KeyMismatch { kid, alg } => AccessTokenError::KeyMismatch { kid, alg },
            JwsError::BadSignature => AccessTokenError::BadSignature,
            JwsError::Expired => AccessTokenError::Expired,
            JwsError::NotYetValid => AccessTokenError::NotYetValid,
        }
    }
}

impl AccessTokenError {
    /// RFC 6750's `error` for the challenge: `insufficient_scope` for a good token that does not
    /// grant enough (scopes, permissions, organization), `invalid_token` otherwise.
    pub fn bearer_error(&self) -> BearerError {
        match self {
            AccessTokenError::InsufficientScope { .. }
            | AccessTokenError::MissingPermissions { .. }
            | AccessTokenError::WrongOrganization { .. } => BearerError::InsufficientScope,
            _ => BearerError::InvalidToken,
        }
    }

    /// The HTTP status to answer with: 403 for a good token that does not grant enough, 503 when
    /// a DPoP check cannot remember another proof ([`DpopProofError::ReplayMemoryFull`]), 429
    /// when one key sent more than its share ([`DpopProofError::KeyReplayQuota`]), 401
    /// otherwise.
    pub fn status(&self) -> u16 {
        match self {
            #[cfg(feature = "dpop")]
            AccessTokenError::DpopProof(error) => error.status(),
            _ => self.bearer_error().status(),
        }
    }

    /// The `error` of a `DPoP` challenge (RFC 9449 §7.1): the proof's own code
    /// (`invalid_dpop_proof`, `use_dpop_nonce`, or `invalid_token` for a key that is not the
    /// token's), `insufficient_scope` for a good token that does not grant enough,
    /// `invalid_token` otherwise.
    #[cfg(feature = "dpop")]
    pub fn dpop_error(&self) -> DpopErrorCode {
        match self {
            AccessTokenError::DpopProof(error) => error.error_code(),
            _ => match self.bearer_error() {
                BearerError::InsufficientScope => DpopErrorCode::InsufficientScope,
                _ => DpopErrorCode::InvalidToken,
            },
        }
    }

    /// The nonce to send in the `DPoP-Nonce` response header, when the proof lacked the one the
    /// server requires (RFC 9449 §9).
    #[cfg(feature = "dpop")]
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        match self {
            AccessTokenError::DpopProof(error) => error.dpop_nonce(),
            _ => None,
        }
    }

    /// The `error_description` sent to the client: fixed text, never the token's own values (its
    /// `kid`, `alg` or `typ`, which a caller chooses and would lengthen the answer) nor this
    /// server's settings. Log the error's `Display` on the server instead.
    pub fn description(&self) -> &'static str {
        match self {
            AccessTokenError::Expired => "the access token has expired",
            AccessTokenError::NotYetValid => "the access token is not valid yet",
            AccessTokenError::InsufficientScope { .. } => "the access token lacks a required scope",
            AccessTokenError::MissingPermissions { .. } => {
                "the access token lacks a required permission"
            }
            AccessTokenError::WrongOrganization { .. } => {
                "the access token is not for this organization"
            }
            AccessTokenError::WrongAudience { .. } => "the access token is not for this resource",
            AccessTokenError::Malformed => "the access token is malformed",
            AccessTokenError::NotBearer { .. } => "the token is not a bearer access token",
            AccessTokenError::BoundToKey => "the access token is bound to a key",
            #[cfg(feature = "dpop")]
            AccessTokenError::DpopProof(error) => error.description(),
            #[cfg(feature = "dpop")]
            AccessTokenError::NotDpopBound => "the access token is not bound to a DPoP key",
            #[cfg(feature = "dpop")]
            AccessTokenError::DpopRequired => "this resource takes DPoP-bound access tokens only",
            #[cfg(feature = "dpop")]
            AccessTokenError::DpopNotAccepted => {
                "this resource does not take DPoP-bound access tokens"
            }
            _ => "the access token is invalid",
        }
    }

    /// Whether the token names a key the set lacks: ask your [`KeyCache`](crate::jose::KeyCache)
    /// ([`unknown_key`](crate::jose::KeyCache::unknown_key)) whether to fetch the set again, and check the
    /// token once more with the new set. The cache is what limits those fetches.
    pub fn names_unknown_key(&self) -> bool {
        matches!(self, AccessTokenError::UnknownKey { .. })
    }

    /// Whether the token names a key the set lacks and the set itself is older than its
    /// [refetch interval](crate::jose::KeySet::refetch_interval).
    ///
    /// This is worked out from the set's own age alone: after a failed fetch it stays true for
    /// every later token naming an unknown key, and concurrent requests all see it at once. It
    /// does not limit fetches; [`KeyCache`](crate::jose::KeyCache) does (with
    /// [`names_unknown_key`](Self::names_unknown_key)).
    pub fn should_refetch_keys(&self) -> bool {
        matches!(self, AccessTokenError::UnknownKey { refetch: true, .. })
    }
}
