//! A request a resource server refuses: what to answer, and why.

use std::fmt;

use serde::Serialize;

#[cfg(feature = "dpop")]
use crate::dpop::DpopNonce;
use crate::resource_server::access_token_error::AccessTokenError;
use crate::resource_server::bearer::BearerTokenError;

/// A request refused, with the whole answer to send: [`status`](Self::status), the
/// `WWW-Authenticate` challenges ([`www_authenticate`](Self::www_authenticate)), the `DPoP-Nonce`
/// when the proof lacked the nonce required ([`dpop_nonce`](Self::dpop_nonce)), and a small JSON
/// body ([`json_body`](Self::json_body)). Nothing in it quotes the request's token or proof;
/// [`reason`](Self::reason) says why, for the log.
#[derive(Debug, Clone)]
pub struct Refusal(Box<RefusalParts>);

#[derive(Debug, Clone)]
struct RefusalParts {
    status: u16,
    www_authenticate: Option<String>,
    #[cfg(feature = "dpop")]
    dpop_nonce: Option<DpopNonce>,
    error: String,
    error_description: &'static str,
    reason: RefusalReason,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusalReason {
    /// The `Authorization` header: missing, another scheme, malformed or repeated.
    Request(BearerTokenError),
    /// The token or its DPoP proof: signature, issuer, audience, times, scopes, binding.
    Token(AccessTokenError),
    /// The `Origin` is neither the resource's nor an allowed one, or is repeated (403), under
    /// [`OriginPolicy::AllowedOnly`](crate::resource_server::OriginPolicy::AllowedOnly).
    Origin,
    /// No key set could be had to check the token with (503).
    NoKeys,
    /// The replay memory shared by the instances did not answer, so the DPoP proof's first use
    /// could not be recorded (503).
    ReplayMemoryUnavailable,
}

/// Why a page's `Origin` was refused, and how its server allows it.
const ORIGIN_REFUSED: &str = "the request's Origin is not allowed to call this resource: its server allows a web origin with RequestCheck::allowed_origin, or every one with RequestCheck::origin_policy(OriginPolicy::Any) when it is not an MCP server";

/// The body of a refusal, as OAuth error responses write it.
#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl Refusal {
    /// A refusal answered with `status`, `www_authenticate` if any, and `error` with its
    /// description in the body.
    pub(super) fn new(
        status: u16,
        www_authenticate: Option<String>,
        error: impl Into<String>,
        error_description: &'static str,
        reason: RefusalReason,
    ) -> Self {
        Refusal(Box::new(RefusalParts {
            status,
            www_authenticate,
            #[cfg(feature = "dpop")]
            dpop_nonce: None,
            error: error.into(),
            error_description,
            reason,
        }))
    }

    /// A request whose `Origin` is not allowed: 403, no challenge (no token would help). The body
    /// names the setting that allows it, for whoever runs the page; the origin itself is not
    /// echoed, since the page that sent it knows it.
    pub(super) fn origin() -> Self {
        Refusal::new(
            403,
            None,
            "forbidden",
            ORIGIN_REFUSED,
            RefusalReason::Origin,
        )
    }

    /// A request that could not be checked for want of keys: 503, no challenge (the token may be
    /// good).
    pub(super) fn no_keys() -> Self {
        Refusal::new(
            503,
            None,
            "temporarily_unavailable",
            "the keys that check access tokens could not be fetched yet; try again later",
            RefusalReason::NoKeys,
        )
    }

    /// A DPoP-bound request whose proof's first use the shared replay memory could not record.
    pub(super) fn replay_memory_unavailable() -> Self {
        Refusal::new(
            503,
            None,
            "temporarily_unavailable",
            "the memory of DPoP proofs already used did not answer, so this proof could not be checked for a replay; try again later",
            RefusalReason::ReplayMemoryUnavailable,
        )
    }

    /// With `nonce` to send as `DPoP-Nonce`.
    #[cfg(feature = "dpop")]
    pub(super) fn with_dpop_nonce(mut self, nonce: Option<DpopNonce>) -> Self {
        self.0.dpop_nonce = nonce;
        self
    }

    /// The HTTP status to answer with: 400, 401, 403, 429 or 503.
    pub fn status(&self) -> u16 {
        self.0.status
    }

    /// The `WWW-Authenticate` value: a `Bearer` challenge, and a `DPoP` one where DPoP-bound
    /// tokens are taken (RFC 6750 section 3, RFC 9449 section 7.1, with RFC 9728's
    /// `resource_metadata`). None for a refused `Origin` or when no keys could be had.
    pub fn www_authenticate(&self) -> Option<&str> {
        self.0.www_authenticate.as_deref()
    }

    /// The nonce to send as `DPoP-Nonce`, when the proof lacked the one the resource requires.
    #[cfg(feature = "dpop")]
    pub fn dpop_nonce(&self) -> Option<&DpopNonce> {
        self.0.dpop_nonce.as_ref()
    }

    /// The body's `error`: the challenge's error code (`invalid_request`, `invalid_token`,
    /// `insufficient_scope`, `invalid_dpop_proof`, `use_dpop_nonce`), or `unauthorized` for a
    /// request without a token, `forbidden` for a refused `Origin`, `temporarily_unavailable`
    /// without keys.
    pub fn error(&self) -> &str {
        &self.0.error
    }

    /// The body's `error_description`: fixed text saying what to fix.
    pub fn error_description(&self) -> &'static str {
        self.0.error_description
    }

    /// The body to send, as `application/json`:
    /// `{"error": ..., "error_description": ...}`.
    pub fn json_body(&self) -> String {
        let body = Body {
            error: &self.0.error,
            error_description: self.0.error_description,
        };
        // Two strings always serialise.
        serde_json::to_string(&body).unwrap_or_default()
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
            RefusalReason::Origin => f.write_str(ORIGIN_REFUSED),
            RefusalReason::NoKeys => f.write_str("no key set is available to check the token"),
            RefusalReason::ReplayMemoryUnavailable => {
                f.write_str("the shared memory of DPoP proofs already used did not answer")
            }
        }
    }
}

impl std::error::Error for Refusal {}
