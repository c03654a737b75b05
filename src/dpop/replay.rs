//! The proofs a check has accepted, so that none is accepted twice (RFC 9449 §11.1): remembered
//! for as long as their `iat` window is open, after which the `iat` check refuses them anyway.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

/// A bounded memory of accepted proofs, shared by the clones of one check: a hash of each proof's
/// key thumbprint and `jti`, with the time its window closes.
///
/// Keyed by the key as well as the `jti`, so that one client's `jti` cannot collide with
/// another's. An entry leaves only once its window has closed, never to make room: a memory that
/// forgot open proofs would take them again. When every entry is still open, a new proof is
/// refused instead ([`Recorded::Full`]), so the capacity bounds the request rate, not the safety.
#[derive(Clone)]
pub(super) struct SeenProofs {
    memory: Arc<Mutex<Memory>>,
    capacity: usize,
}

/// The outcome of recording a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Recorded {
    /// Not seen while its window is open: the proof may be taken.
    First,
    /// The same key and `jti` were taken before, and their window is still open.
    Again,
    /// Every entry's window is still open: the proof cannot be told apart from a replay.
    Full,
}

#[derive(Default)]
struct Memory {
    /// When each remembered proof's window closes.
    open_until: HashMap<u64, u64>,
    /// The same entries, soonest closing first, so that closed ones leave without a scan.
    closing: BinaryHeap<Reverse<(u64, u64)>>,
}

impl SeenProofs {
    pub(super) fn new(capacity: usize) -> SeenProofs {
        SeenProofs {
            memory: Arc::default(),
            capacity: capacity.max(1),
        }
    }

    /// Records the proof unless the same key and `jti` are remembered with their window open at
    /// `now`, or the memory holds `capacity` open windows.
    pub(super) fn record(&self, jkt: &str, jti: &str, open_until: u64, now: u64) -> Recorded {
        let id = proof_id(jkt, jti);
        let mut memory = self.lock();
        memory.forget_closed(now);
        if memory.open_until.contains_key(&id) {
            return Recorded::Again;
        }
        if memory.open_until.len() >= self.capacity {
            return Recorded::Full;
        }
        memory.open_until.insert(id, open_until);
        memory.closing.push(Reverse((open_until, id)));
        Recorded::First
    }

    fn lock(&self) -> MutexGuard<'_, Memory> {
        // The memory is consistent between statements: a panic elsewhere leaves nothing half-done.
        self.memory
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Memory {
    fn forget_closed(&mut self, now: u64) {
        while let Some(&Reverse((until, id))) = self.closing.peek() {
            if until >= now {
                break;
            }
            self.closing.pop();
            self.open_until.remove(&id);
        }
    }
}

/// The first 8 bytes of the SHA-256 of the thumbprint and the `jti`. A collision, at odds of one in
/// 2^64 for each proof remembered, would refuse a proof, never take a replay.
fn proof_id(jkt: &str, jti: &str) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(jkt.as_bytes());
    // The thumbprint is base64url, so a NUL cannot be part of it: no two pairs hash alike.
    hasher.update([0u8]);
    hasher.update(jti.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    let (id, _) = digest.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_be_bytes(*id)
}

impl fmt::Debug for SeenProofs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeenProofs")
            .field("len", &self.lock().open_until.len())
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_is_accepted_once_while_its_window_is_open() {
        let seen = SeenProofs::new(16);
        assert_eq!(seen.record("key-a", "jti-1", 100, 50), Recorded::First);
        assert_eq!(seen.record("key-a", "jti-1", 100, 60), Recorded::Again);
        assert_eq!(seen.record("key-b", "jti-1", 100, 60), Recorded::First);
        assert_eq!(seen.record("key-a", "jti-2", 100, 60), Recorded::First);
        // Clones share the memory.
        assert_eq!(
            seen.clone().record("key-b", "jti-1", 100, 60),
            Recorded::Again
        );
        // Still open at the last second of the window.
        assert_eq!(seen.record("key-a", "jti-1", 200, 100), Recorded::Again);
        // After the window: free again, and remembered anew.
        assert_eq!(seen.record("key-a", "jti-1", 200, 101), Recorded::First);
        assert_eq!(seen.record("key-a", "jti-1", 200, 102), Recorded::Again);
    }

    #[test]
    fn a_full_memory_refuses_new_proofs_and_forgets_none_that_is_open() {
        let seen = SeenProofs::new(1_000);
        // The first proof, then many more than the memory holds, all with open windows.
        assert_eq!(seen.record("victim", "jti", 500, 10), Recorded::First);
        let mut full = 0;
        for n in 0..5_000 {
            match seen.record("flood", &n.to_string(), 500, 10) {
                Recorded::First => {}
                Recorded::Full => full += 1,
                Recorded::Again => panic!("proof {n} was never sent before"),
            }
        }
        assert_eq!(full, 5_000 - 999);
        // The first proof is still remembered, and so is every flood proof that was taken.
        assert_eq!(seen.record("victim", "jti", 500, 400), Recorded::Again);
        assert_eq!(seen.record("flood", "998", 500, 400), Recorded::Again);
        // Once their windows close, room comes back.
        assert_eq!(seen.record("next", "jti", 900, 501), Recorded::First);
        assert_eq!(seen.lock().open_until.len(), 1);
        assert_eq!(seen.lock().closing.len(), 1);
    }

    #[test]
    fn closed_windows_leave_in_order_of_closing() {
        let seen = SeenProofs::new(3);
        assert_eq!(seen.record("k", "late", 300, 0), Recorded::First);
        assert_eq!(seen.record("k", "early", 100, 0), Recorded::First);
        assert_eq!(seen.record("k", "middle", 200, 0), Recorded::First);
        assert_eq!(seen.record("k", "one more", 400, 150), Recorded::First);
        // `early` left; `middle` and `late` are open at 150.
        assert_eq!(seen.record("k", "middle", 400, 150), Recorded::Again);
        assert_eq!(seen.record("k", "late", 400, 150), Recorded::Again);
        assert_eq!(seen.record("k", "early", 400, 150), Recorded::Full);
    }
}
