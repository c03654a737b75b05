//! Access tokens already verified, so that the same token sent again costs a hash and a look-up
//! instead of a signature verification: an MCP client sends one token on every request for as long
//! as it lives.

use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::jose::jws::SignedBy;
use crate::jose::key_set::KeySet;
use crate::resource_server::access_token_claims::AccessTokenClaims;

/// A token whose signature, issuer and audience were checked, with what its later checks need
/// (cloned out of the cache for each use: its claims are one shared allocation).
#[derive(Clone)]
pub(super) struct Verified {
    pub(super) claims: AccessTokenClaims,
    pub(super) nbf: Option<u64>,
    signed_by: SignedBy,
}

/// A bounded, concurrent memory of verified tokens, shared by the clones of one check.
///
/// Keyed by the SHA-256 of the whole token, so that it holds no usable token; sharded, so that
/// concurrent requests do not wait on one lock. An entry is used only while the key set passed to
/// the check still holds the very key that verified it (its RFC 7638 thumbprint, algorithm and `kid`), and
/// is dropped when it is found expired or its key gone. The time checks and the check's own
/// requirements (scopes, permissions, organization) run on every call.
#[derive(Clone)]
pub(super) struct VerifiedTokens {
    cache: Arc<quick_cache::sync::Cache<[u8; 32], Verified>>,
}

impl VerifiedTokens {
    pub(super) fn new(max_tokens: usize) -> Self {
        VerifiedTokens {
            cache: Arc::new(quick_cache::sync::Cache::new(max_tokens)),
        }
    }

    /// The SHA-256 of the token: the key it is remembered by, and the bytes of the `ath` of a DPoP
    /// proof sent with it (RFC 9449 §4.2).
    pub(super) fn digest(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The token verified earlier, when `keys` still holds the key that verified it.
    pub(super) fn get(&self, digest: &[u8; 32], keys: &KeySet) -> Option<Verified> {
        let verified = self.cache.get(digest)?;
        if keys.holds(&verified.signed_by.key_identity) {
            Some(verified)
        } else {
            self.forget(digest);
            None
        }
    }

    pub(super) fn insert(
        &self,
        digest: [u8; 32],
        claims: AccessTokenClaims,
        nbf: Option<u64>,
        signed_by: SignedBy,
    ) {
        let verified = Verified {
            claims,
            nbf,
            signed_by,
        };
        self.cache.insert(digest, verified);
    }

    pub(super) fn forget(&self, digest: &[u8; 32]) {
        self.cache.remove(digest);
    }
}

impl fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedTokens")
            .field("len", &self.cache.len())
            .field("capacity", &self.cache.capacity())
            .finish()
    }
}
