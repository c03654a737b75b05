//! The `WWW-Authenticate` value of a resource that takes DPoP-bound tokens, with or without
//! bearer tokens (RFC 9449 §7.1, §7.2).

use std::fmt;

use crate::dpop::DpopChallenge;
use crate::oauth::challenge::BearerChallenge;

/// The challenges of a refused request, one per scheme the resource takes: written as one
/// `WWW-Authenticate` value, `Bearer ...` then `DPoP ...` (RFC 9449 §7.2's form), which
/// [`BearerChallenge::parse`] and [`DpopChallenge::parse`] each read their part of.
///
/// Made by [`AccessTokenCheck::resource_challenge`](crate::resource_server::AccessTokenCheck::resource_challenge).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResourceChallenge {
    /// The `Bearer` challenge, when bearer tokens are taken.
    pub bearer: Option<BearerChallenge>,
    /// The `DPoP` challenge, when DPoP-bound tokens are taken.
    pub dpop: Option<DpopChallenge>,
}

impl fmt::Display for ResourceChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.bearer, &self.dpop) {
            (Some(bearer), Some(dpop)) => write!(f, "{bearer}, {dpop}"),
            (Some(bearer), None) => write!(f, "{bearer}"),
            (None, Some(dpop)) => write!(f, "{dpop}"),
            (None, None) => Ok(()),
        }
    }
}
