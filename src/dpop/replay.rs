//! The proofs a check has accepted, so that none is accepted twice (RFC 9449 §11.1): remembered
//! for as long as their `iat` window is open, after which the `iat` check refuses them anyway.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use sha2::{Digest, Sha256};

/// A bounded memory of accepted proofs, shared by the clones of one check with its bounds: a hash
/// of each proof's key thumbprint and `jti`, with its `iat`.
///
/// Keyed by the key as well as the `jti`, so that one client's `jti` cannot collide with
/// another's. An entry leaves only once its window has closed, never to make room: a memory that
/// forgot open proofs would take them again. When every entry is still open, a new proof is
/// refused instead ([`Recorded::Full`]), so the capacity bounds the request rate, not the safety.
/// One key holds at most its quota of entries ([`Recorded::KeyFull`]), so that a single client
/// cannot bring the memory to that state for everyone.
#[derive(Clone)]
pub(super) struct SeenProofs {
    memory: Arc<Mutex<Memory>>,
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
    /// The proof's key holds its share of the memory, all of it open.
    KeyFull,
    /// The proof's window closed by the memory's clock, which is ahead of the caller's (a clock
    /// that stepped back, or a clone told another time): it may have been taken and forgotten.
    Closed {
        /// The memory's time, the latest any caller gave.
        now: u64,
    },
}

struct Memory {
    /// The most entries held.
    capacity: usize,
    /// The most entries of one key, when set; else a hundredth of the capacity.
    per_key: Option<usize>,
    /// The ids of the remembered proofs.
    ids: HashSet<u64>,
    /// The same entries with their `iat` and key, oldest first, so that closed ones leave without
    /// a scan.
    oldest: BinaryHeap<Reverse<(u64, u64, u64)>>,
    /// How many entries each key holds, by key id; a key holding none has no entry.
    per_key_held: HashMap<u64, usize>,
    /// The widest window any clone recorded with: an entry stays until it has closed for all.
    widest: u64,
    /// The latest time any clone recorded at: a clock that steps back reopens nothing.
    latest: u64,
}

impl SeenProofs {
    /// An empty memory of `capacity` entries (at least one), and `per_key` of one key if set.
    pub(super) fn new(capacity: usize, per_key: Option<usize>) -> SeenProofs {
        SeenProofs {
            memory: Arc::new(Mutex::new(Memory {
                capacity: capacity.max(1),
                per_key: per_key.map(|per_key| per_key.max(1)),
                ids: HashSet::new(),
                oldest: BinaryHeap::new(),
                per_key_held: HashMap::new(),
                widest: 0,
                latest: 0,
            })),
        }
    }

    /// Sets the most entries of one key (at least one), for every clone sharing the memory.
    pub(super) fn set_per_key(&self, per_key: usize) {
        self.lock().per_key = Some(per_key.max(1));
    }

    /// The quota per key set, if one was.
    pub(super) fn per_key_set(&self) -> Option<usize> {
        self.lock().per_key
    }

    /// Records the proof of the key whose RFC 7638 thumbprint is `jkt`, issued at `iat` and taken
    /// for `window` seconds after, unless the same key and `jti` are remembered, its window has
    /// closed by the memory's clock, or the memory holds `capacity` open windows, or its quota of
    /// this key.
    pub(super) fn record(
        &self,
        jkt: &[u8; 32],
        jti: &str,
        iat: u64,
        window: u64,
        now: u64,
    ) -> Recorded {
        let id = proof_id(jkt, jti);
        let key = key_id(jkt);
        let mut memory = self.lock();
        memory.widest = memory.widest.max(window);
        memory.latest = memory.latest.max(now);
        let now = memory.latest;
        memory.forget_closed();
        if iat.saturating_add(memory.widest) < now {
            return Recorded::Closed { now };
        }
        if memory.ids.contains(&id) {
            return Recorded::Again;
        }
        if memory.ids.len() >= memory.capacity {
            return Recorded::Full;
        }
        let held = memory.per_key_held.get(&key).copied().unwrap_or(0);
        if held >= memory.quota() {
            return Recorded::KeyFull;
        }
        memory.ids.insert(id);
        memory.oldest.push(Reverse((iat, id, key)));
        memory.per_key_held.insert(key, held.saturating_add(1));
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
    /// The most entries of one key: as set, else a hundredth of the capacity, so that it takes a
    /// hundred keys to fill the memory whatever its size.
    fn quota(&self) -> usize {
        self.per_key
            .unwrap_or_else(|| self.capacity.checked_div(100).unwrap_or(0).max(1))
    }

    fn forget_closed(&mut self) {
        while let Some(&Reverse((iat, id, key))) = self.oldest.peek() {
            if iat.saturating_add(self.widest) >= self.latest {
                break;
            }
            self.oldest.pop();
            self.ids.remove(&id);
            if let Some(held) = self.per_key_held.get_mut(&key) {
                *held = held.saturating_sub(1);
                if *held == 0 {
                    self.per_key_held.remove(&key);
                }
            }
        }
    }
}

/// The first 8 bytes of the thumbprint, itself a SHA-256: keys whose ids collide, at odds of one
/// in 2^64, share one quota.
fn key_id(jkt: &[u8; 32]) -> u64 {
    let (id, _) = jkt.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_be_bytes(*id)
}

/// The first 8 bytes of the SHA-256 of the thumbprint and the `jti`. A collision, at odds of one in
/// 2^64 for each proof remembered, would refuse a proof, never take a replay.
fn proof_id(jkt: &[u8; 32], jti: &str) -> u64 {
    let mut hasher = Sha256::new();
    // The thumbprint has a fixed length: no two pairs hash alike.
    hasher.update(jkt);
    hasher.update(jti.as_bytes());
    let digest: [u8; 32] = hasher.finalize().into();
    let (id, _) = digest.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_be_bytes(*id)
}

impl fmt::Debug for SeenProofs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let memory = self.lock();
        f.debug_struct("SeenProofs")
            .field("len", &memory.ids.len())
            .field("capacity", &memory.capacity)
            .field("per_key", &memory.quota())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A thumbprint for a key named in the tests.
    fn k(name: &str) -> [u8; 32] {
        Sha256::digest(name.as_bytes()).into()
    }

    #[test]
    fn a_proof_is_accepted_once_while_its_window_is_open() {
        let seen = SeenProofs::new(16, Some(16));
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 0, 100, 50),
            Recorded::First
        );
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 0, 100, 60),
            Recorded::Again
        );
        assert_eq!(
            seen.record(&k("key-b"), "jti-1", 0, 100, 60),
            Recorded::First
        );
        assert_eq!(
            seen.record(&k("key-a"), "jti-2", 0, 100, 60),
            Recorded::First
        );
        // Clones share the memory.
        assert_eq!(
            seen.clone().record(&k("key-b"), "jti-1", 0, 100, 60),
            Recorded::Again
        );
        // Still open at the last second of the window.
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 0, 100, 100),
            Recorded::Again
        );
        // After the window: closed, and a newer proof with the same `jti` is taken, once.
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 0, 100, 101),
            Recorded::Closed { now: 101 }
        );
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 100, 100, 101),
            Recorded::First
        );
        assert_eq!(
            seen.record(&k("key-a"), "jti-1", 100, 100, 102),
            Recorded::Again
        );
    }

    #[test]
    fn a_full_memory_refuses_new_proofs_and_forgets_none_that_is_open() {
        let seen = SeenProofs::new(1_000, Some(1_000));
        // The first proof, then many more than the memory holds, all with open windows.
        assert_eq!(
            seen.record(&k("victim"), "jti", 10, 490, 10),
            Recorded::First
        );
        let mut full = 0;
        for n in 0..5_000 {
            match seen.record(&k("flood"), &n.to_string(), 10, 490, 10) {
                Recorded::First => {}
                Recorded::Full => full += 1,
                other => panic!("proof {n} was never sent before: {other:?}"),
            }
        }
        assert_eq!(full, 5_000 - 999);
        // The first proof is still remembered, and so is every flood proof that was taken.
        assert_eq!(
            seen.record(&k("victim"), "jti", 10, 490, 400),
            Recorded::Again
        );
        assert_eq!(
            seen.record(&k("flood"), "998", 10, 490, 400),
            Recorded::Again
        );
        // Once their windows close, room comes back.
        assert_eq!(
            seen.record(&k("next"), "jti", 501, 490, 501),
            Recorded::First
        );
        assert_eq!(seen.lock().ids.len(), 1);
        assert_eq!(seen.lock().oldest.len(), 1);
    }

    #[test]
    fn one_key_holds_at_most_its_share_and_gets_it_back_as_windows_close() {
        let seen = SeenProofs::new(10, Some(3));
        for jti in ["1", "2", "3"] {
            assert_eq!(seen.record(&k("flood"), jti, 0, 100, 0), Recorded::First);
        }
        assert_eq!(
            seen.record(&k("flood"), "4", 50, 100, 50),
            Recorded::KeyFull
        );
        // Fail closed: its proofs are remembered, and other keys are served.
        assert_eq!(seen.record(&k("flood"), "1", 0, 100, 50), Recorded::Again);
        assert_eq!(seen.record(&k("other"), "1", 50, 100, 50), Recorded::First);
        // The first three close after 100: the key has its share back, and nothing is left over.
        assert_eq!(seen.record(&k("flood"), "4", 50, 100, 101), Recorded::First);
        let memory = seen.lock();
        assert_eq!(memory.per_key_held.len(), 2);
        assert_eq!(
            memory.per_key_held.values().sum::<usize>(),
            memory.ids.len()
        );
    }

    #[test]
    fn closed_windows_leave_oldest_first() {
        let seen = SeenProofs::new(3, Some(3));
        assert_eq!(seen.record(&k("k"), "late", 100, 100, 100), Recorded::First);
        assert_eq!(seen.record(&k("k"), "early", 0, 100, 100), Recorded::First);
        assert_eq!(
            seen.record(&k("k"), "middle", 50, 100, 100),
            Recorded::First
        );
        assert_eq!(
            seen.record(&k("k"), "one more", 120, 100, 120),
            Recorded::First
        );
        // `early` left; `middle` and `late` are open at 120.
        assert_eq!(
            seen.record(&k("k"), "middle", 50, 100, 120),
            Recorded::Again
        );
        assert_eq!(seen.record(&k("k"), "late", 100, 100, 120), Recorded::Again);
        assert_eq!(seen.record(&k("k"), "other", 120, 100, 120), Recorded::Full);
    }

    #[test]
    fn a_clock_stepping_back_or_a_wider_clone_reopens_nothing() {
        let seen = SeenProofs::new(16, Some(16));
        assert_eq!(seen.record(&k("k"), "a", 0, 100, 50), Recorded::First);
        // Forgotten at 200, when its window is closed...
        assert_eq!(seen.record(&k("k"), "b", 150, 100, 200), Recorded::First);
        // ...and at 90 by a clock that stepped back, where its window would be open: refused.
        assert_eq!(
            seen.record(&k("k"), "a", 0, 100, 90),
            Recorded::Closed { now: 200 }
        );
        // A clone with a window of 1,000 keeps `b` (iat 150) open until 1,150 for every clone,
        // the narrow ones included.
        assert_eq!(seen.record(&k("k"), "c", 900, 1_000, 900), Recorded::First);
        assert_eq!(seen.record(&k("k"), "b", 150, 100, 1_100), Recorded::Again);
        assert_eq!(
            seen.record(&k("k"), "b", 150, 100, 1_151),
            Recorded::Closed { now: 1_151 }
        );
    }
}
