//! The proofs a check has accepted, so that none is accepted twice (RFC 9449 §11.1): remembered
//! for as long as their `iat` window is open, after which the `iat` check refuses them anyway.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use quick_cache::sync::GuardResult;
use sha2::{Digest, Sha256};

/// A bounded, sharded memory of accepted proofs, shared by the clones of one check: the SHA-256 of
/// each proof's key thumbprint and `jti`, with the time its window closes.
///
/// Keyed by the key as well as the `jti`, so that one client's `jti` cannot collide with
/// another's. When full, the least useful entries go first; a server that must refuse every
/// replay under a flood sizes it for its request rate times the window.
#[derive(Clone)]
pub(super) struct SeenProofs {
    cache: Arc<quick_cache::sync::Cache<[u8; 32], u64>>,
}

impl SeenProofs {
    pub(super) fn new(capacity: usize) -> SeenProofs {
        SeenProofs {
            cache: Arc::new(quick_cache::sync::Cache::new(capacity.max(1))),
        }
    }

    /// Records the proof, and says whether this is its first use: `false` when the same key and
    /// `jti` were accepted before and their window is still open, or are being recorded by
    /// another request at this very moment.
    pub(super) fn first_use(&self, jkt: &str, jti: &str, open_until: u64, now: u64) -> bool {
        let mut hasher = Sha256::new();
        hasher.update(jkt.as_bytes());
        // The thumbprint is base64url, so a NUL cannot be part of it: no two pairs hash alike.
        hasher.update([0u8]);
        hasher.update(jti.as_bytes());
        let digest: [u8; 32] = hasher.finalize().into();
        match self.cache.get_value_or_guard(&digest, Some(Duration::ZERO)) {
            GuardResult::Value(until) if until >= now => false,
            GuardResult::Value(_) => {
                // A window closed: the `jti` is free again, for a proof with a newer `iat`.
                self.cache.insert(digest, open_until);
                true
            }
            GuardResult::Guard(guard) => {
                // Err only when the entry was taken out meanwhile, which still leaves this proof the
                // first.
                let _ = guard.insert(open_until);
                true
            }
            GuardResult::Timeout => false,
        }
    }
}

impl fmt::Debug for SeenProofs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeenProofs")
            .field("len", &self.cache.len())
            .field("capacity", &self.cache.capacity())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_accepted_once_while_its_window_is_open() {
        let seen = SeenProofs::new(16);
        assert!(seen.first_use("key-a", "jti-1", 100, 50));
        assert!(!seen.first_use("key-a", "jti-1", 100, 60));
        assert!(seen.first_use("key-b", "jti-1", 100, 60));
        assert!(seen.first_use("key-a", "jti-2", 100, 60));
        // After the window: free again.
        assert!(seen.first_use("key-a", "jti-1", 200, 101));
        assert!(!seen.first_use("key-a", "jti-1", 200, 102));
        // Clones share the memory.
        assert!(!seen.clone().first_use("key-b", "jti-1", 100, 60));
    }
}
